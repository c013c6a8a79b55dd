/** One row per (time bucket, model, app) over the scope: sums and per-row percentiles (the performance analysis). */
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import type { BucketResult } from '../../../optimize/ports/performance.js';
import type { BucketRow } from '../../../optimize/performance.js';
import { NetraError } from '../../../errors.js';
import { num, numOrNull, pct, selectRows, str, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

const TPS_ROWS = 'latency_ms > ttft_ms AND completion_tokens > 0';
const TPS = 'completion_tokens / ((latency_ms - ttft_ms) / 1000.0)';

export const BUCKET_SQL: EngineSql = {
  duckdb: ({ where, t, d }) => `
SELECT (epoch_ms("timestamp") // $bucket_ms) * $bucket_ms AS bucket_start, model, app,
  count(*)::DOUBLE AS n_events,
  count(*) FILTER (WHERE status = 'error')::DOUBLE AS n_errors,
  sum(cost_usd) AS spend,
  sum(prompt_tokens)::DOUBLE AS prompt_sum,
  sum(completion_tokens)::DOUBLE AS completion_sum,
  ${d.quantiles('latency_ms', [0.5, 0.95, 0.99])} AS lat,
  ${d.quantiles('ttft_ms', [0.5, 0.95, 0.99])} AS ttft,
  median(${TPS}) FILTER (WHERE ${TPS_ROWS}) AS tps
FROM ${t} WHERE ${where}
GROUP BY ALL ORDER BY bucket_start, model, app`,
  clickhouse: ({ where, t, d }) => `
SELECT intDiv(toUnixTimestamp64Milli("timestamp"), {bucket_ms:Int64}) * {bucket_ms:Int64} AS bucket_start, model, app,
  toFloat64(count()) AS n_events,
  toFloat64(countIf(status = 'error')) AS n_errors,
  sum(cost_usd) AS spend,
  toFloat64(sum(prompt_tokens)) AS prompt_sum,
  toFloat64(sum(completion_tokens)) AS completion_sum,
  ${d.quantiles('latency_ms', [0.5, 0.95, 0.99])} AS lat,
  ${d.quantiles('ttft_ms', [0.5, 0.95, 0.99])} AS ttft,
  ${d.quantiles(TPS, [0.5], TPS_ROWS)}[1] AS tps
FROM ${t} WHERE ${where}
GROUP BY bucket_start, model, app ORDER BY bucket_start, model, app`,
};

const toRow = (r: Row): BucketRow => ({
  bucket_start: num(r.bucket_start),
  model: str(r.model),
  app: str(r.app),
  events: num(r.n_events),
  errors: num(r.n_errors),
  spend_usd: num(r.spend),
  prompt_tokens: num(r.prompt_sum),
  completion_tokens: num(r.completion_sum),
  latency_p50_ms: pct(r.lat, 0),
  latency_p95_ms: pct(r.lat, 1),
  latency_p99_ms: pct(r.lat, 2),
  ttft_p50_ms: pct(r.ttft, 0),
  ttft_p95_ms: pct(r.ttft, 1),
  ttft_p99_ms: pct(r.ttft, 2),
  tokens_per_s_p50: numOrNull(r.tps),
});

/**
 * Events one DuckDB bucket query takes at most (about): its quantile_cont and median states keep every latency, TTFT
 * and tokens-per-second value of a bucket in vectors outside DuckDB's memory limit, ~24 bytes an event over all the
 * buckets of a query (10M events at once: the process's peak RSS). Value counts (exact-quantiles.ts) would bound
 * them too, but cost 8-9x the CPU on these many small groups; slices keep quantile_cont and its cost.
 */
export const SLICE_EVENTS = 1_000_000;

/**
 * [from, to) ranges in epoch ms, on bucket boundaries, that cut the buckets between the first and the last event into
 * slices of about `sliceEvents` events each (assuming an even spread over time); one range when the events fit.
 */
export function bucketSlices(events: number, firstMs: number, lastMs: number, bucketMs: number, sliceEvents: number): [number, number][] {
  const b0 = Math.floor(firstMs / bucketMs);
  const buckets = Math.floor(lastMs / bucketMs) - b0 + 1;
  const slices = Math.min(buckets, Math.ceil(events / sliceEvents));
  if (!(slices > 1)) return [[b0 * bucketMs, (b0 + buckets) * bucketMs]];
  const per = Math.ceil(buckets / slices);
  const out: [number, number][] = [];
  for (let b = b0; b < b0 + buckets; b += per) out.push([b * bucketMs, Math.min(b + per, b0 + buckets) * bucketMs]);
  return out;
}

/**
 * The rows of the buckets in scope. DuckDB (this process's memory) runs one query per slice of buckets, in time order,
 * so the rows come out in the same order and every bucket is computed from all its events in one query, as before;
 * ClickHouse runs one query (its states live in the server).
 */
export async function performanceBuckets(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  bucketMs: number,
  sliceEvents = SLICE_EVENTS,
): Promise<BucketResult> {
  const params = { bucket_ms: bucketMs };
  const slices = engine.dialect.name === 'duckdb' ? await timeSlices(engine, scope, bucketMs, sliceEvents) : [];
  if (slices.length <= 1) {
    const { rows, sql } = await selectRows(engine, scope, BUCKET_SQL, undefined, params, toRow);
    return { rows, query: sql.trim() };
  }
  const rows: BucketRow[] = [];
  let query = '';
  for (const [lo, hi] of slices) {
    const part = { ...scope, from: Math.max(scope.from, lo), to: Math.min(scope.to, hi) };
    const r = await selectRows(engine, part, BUCKET_SQL, undefined, params, toRow);
    for (const row of r.rows) rows.push(row);
    query = r.sql.trim();
  }
  return { rows, query };
}

async function timeSlices(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  bucketMs: number,
  sliceEvents: number,
): Promise<[number, number][]> {
  const { where, params } = engine.scope(scope);
  const [r] = await engine.query(
    `SELECT count(*) AS n, min(epoch_ms("timestamp")) AS lo, max(epoch_ms("timestamp")) AS hi FROM ${engine.table} WHERE ${where}`,
    params,
  );
  const n = num(r?.n);
  return n > sliceEvents ? bucketSlices(n, num(r!.lo), num(r!.hi), bucketMs, sliceEvents) : [];
}

/** Validated before the read is queued (a bad bucket never waits behind other reads). */
export function checkBucketMs(bucketMs: number): void {
  if (!Number.isInteger(bucketMs) || bucketMs < 60_000)
    throw new NetraError('VALIDATION', 'bucket must be a whole number of minutes (>= 60000 ms)', { field: 'bucket_ms' });
}
