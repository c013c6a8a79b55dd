/**
 * ClickHouse SQL for the performance area, ported from src/store/duckdb-analysis/performance.ts: per (bucket, model,
 * app) aggregates with percentiles, and exact window percentiles. Workspace and range are bound parameters.
 */
import type { BucketResult, PerformanceQueries, WindowPercentiles } from '../../optimize/ports/performance.js';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import type { BucketRow } from '../../optimize/performance.js';
import { NetraError } from '../../errors.js';
import type { Row } from '../clickhouse-executor.js';
import { num, numOrNull, pct, quantilesCont, scopeSql } from '../clickhouse-queries.js';
import type { ChRunRead } from './sql.js';

const TPS_COND = 'latency_ms > ttft_ms AND completion_tokens > 0';

const BUCKET_SQL = (t: string, where: string) => `
SELECT intDiv(toUnixTimestamp64Milli("timestamp"), {bucket_ms:Int64}) * {bucket_ms:Int64} AS bucket_start, model, app,
  toFloat64(count()) AS n_events,
  toFloat64(countIf(status = 'error')) AS n_errors,
  sum(cost_usd) AS spend,
  toFloat64(sum(prompt_tokens)) AS prompt_sum,
  toFloat64(sum(completion_tokens)) AS completion_sum,
  ${quantilesCont('latency_ms', [0.5, 0.95, 0.99])} AS lat,
  ${quantilesCont('ttft_ms', [0.5, 0.95, 0.99])} AS ttft,
  ${quantilesCont('completion_tokens / ((latency_ms - ttft_ms) / 1000.0)', [0.5], TPS_COND)}[1] AS tps
FROM ${t} WHERE ${where}
GROUP BY bucket_start, model, app ORDER BY bucket_start, model, app`;

export function clickHousePerformanceQueries(run: ChRunRead): PerformanceQueries {
  return {
    performanceBuckets(scope: AnalysisScope, bucketMs: number): Promise<BucketResult> {
      if (!Number.isInteger(bucketMs) || bucketMs < 60_000) throw new NetraError('VALIDATION', 'bucket must be a whole number of minutes (>= 60000 ms)', { field: 'bucket_ms' });
      return run('performance_buckets', async (ex, t) => {
        const { where, params } = scopeSql(scope);
        const sql = BUCKET_SQL(t, where);
        const rows = await ex.query<Row>(sql, { ...params, bucket_ms: bucketMs });
        return {
          query: sql.trim(),
          rows: rows.map((r): BucketRow => ({
            bucket_start: num(r.bucket_start), model: String(r.model), app: String(r.app),
            events: num(r.n_events), errors: num(r.n_errors), spend_usd: num(r.spend),
            prompt_tokens: num(r.prompt_sum), completion_tokens: num(r.completion_sum),
            latency_p50_ms: pct(r.lat, 0), latency_p95_ms: pct(r.lat, 1), latency_p99_ms: pct(r.lat, 2),
            ttft_p50_ms: pct(r.ttft, 0), ttft_p95_ms: pct(r.ttft, 1), ttft_p99_ms: pct(r.ttft, 2),
            tokens_per_s_p50: numOrNull(r.tps),
          })),
        };
      });
    },
    windowPercentiles(scope: AnalysisScope): Promise<WindowPercentiles> {
      return run('window_percentiles', async (ex, t) => {
        const { where, params } = scopeSql(scope);
        const [r] = await ex.query<Row>(
          `SELECT toFloat64(count()) AS n_events, ${quantilesCont('latency_ms', [0.5, 0.95, 0.99])} AS lat,
             ${quantilesCont('ttft_ms', [0.5, 0.95])} AS ttft
           FROM ${t} WHERE ${where}`,
          params,
        );
        return {
          events: num(r?.n_events),
          latency_p50_ms: pct(r?.lat, 0), latency_p95_ms: pct(r?.lat, 1), latency_p99_ms: pct(r?.lat, 2),
          ttft_p50_ms: pct(r?.ttft, 0), ttft_p95_ms: pct(r?.ttft, 1),
        };
      });
    },
  };
}
