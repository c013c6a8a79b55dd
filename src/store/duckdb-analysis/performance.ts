/**
 * DuckDB SQL for the performance area: per (bucket, model, app) aggregates with percentiles, and exact window
 * percentiles. Workspace and range are bound parameters (scopeSql).
 */
import type { BucketResult, PerformanceQueries, WindowPercentiles } from '../../optimize/ports/performance.js';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import type { BucketRow } from '../../optimize/performance.js';
import type { JS } from '@duckdb/node-api';
import { NetraError } from '../../errors.js';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects, toNumber, toNumberOrNull } from '../duckdb-rows.js';
import type { RunRead } from './index.js';

const BUCKET_SQL = (where: string) => `
SELECT (epoch_ms("timestamp") // $bucket_ms) * $bucket_ms AS bucket_start, model, app,
  count(*)::DOUBLE AS events,
  count(*) FILTER (WHERE status = 'error')::DOUBLE AS errors,
  sum(cost_usd) AS spend_usd,
  sum(prompt_tokens)::DOUBLE AS prompt_tokens,
  sum(completion_tokens)::DOUBLE AS completion_tokens,
  quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS lat,
  quantile_cont(ttft_ms, [0.5, 0.95, 0.99]) AS ttft,
  median(completion_tokens / ((latency_ms - ttft_ms) / 1000.0)) FILTER (WHERE latency_ms > ttft_ms AND completion_tokens > 0) AS tps
FROM events WHERE ${where}
GROUP BY ALL ORDER BY bucket_start, model, app`;

const pct = (list: JS | undefined, i: number): number | null => (Array.isArray(list) ? toNumberOrNull(list[i]) : null);

export function duckDbPerformanceQueries(run: RunRead): PerformanceQueries {
  return {
    performanceBuckets(scope: AnalysisScope, bucketMs: number): Promise<BucketResult> {
      if (!Number.isInteger(bucketMs) || bucketMs < 60_000) throw new NetraError('VALIDATION', 'bucket must be a whole number of minutes (>= 60000 ms)', { field: 'bucket_ms' });
      return run('performance_buckets', async (conn) => {
        const { where, params } = scopeSql(scope);
        const sql = BUCKET_SQL(where);
        const rows = readObjects(await conn.runAndReadAll(sql, { ...params, bucket_ms: bucketMs }));
        return {
          query: sql.trim(),
          rows: rows.map((r): BucketRow => ({
            bucket_start: toNumber(r.bucket_start), model: String(r.model), app: String(r.app),
            events: toNumber(r.events), errors: toNumber(r.errors), spend_usd: toNumber(r.spend_usd),
            prompt_tokens: toNumber(r.prompt_tokens), completion_tokens: toNumber(r.completion_tokens),
            latency_p50_ms: pct(r.lat, 0), latency_p95_ms: pct(r.lat, 1), latency_p99_ms: pct(r.lat, 2),
            ttft_p50_ms: pct(r.ttft, 0), ttft_p95_ms: pct(r.ttft, 1), ttft_p99_ms: pct(r.ttft, 2),
            tokens_per_s_p50: toNumberOrNull(r.tps),
          })),
        };
      });
    },
    windowPercentiles(scope: AnalysisScope): Promise<WindowPercentiles> {
      return run('window_percentiles', async (conn) => {
        const { where, params } = scopeSql(scope);
        const [r] = readObjects(await conn.runAndReadAll(`SELECT count(*)::DOUBLE AS events, quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS lat, quantile_cont(ttft_ms, [0.5, 0.95]) AS ttft FROM events WHERE ${where}`, params));
        return {
          events: toNumber(r!.events),
          latency_p50_ms: pct(r!.lat, 0), latency_p95_ms: pct(r!.lat, 1), latency_p99_ms: pct(r!.lat, 2),
          ttft_p50_ms: pct(r!.ttft, 0), ttft_p95_ms: pct(r!.ttft, 1),
        };
      });
    },
  };
}
