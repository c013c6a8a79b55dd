/** Exact latency and TTFT percentiles over the whole window (not merged from buckets). */
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import type { WindowPercentiles } from '../../../optimize/ports/performance.js';
import { quantilesFromCounts } from '../exact-quantiles.js';
import { num, pct, selectRows, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

const LAT = [0.5, 0.95, 0.99];
const TTFT = [0.5, 0.95];

export const WINDOW_PERCENTILES_SQL: EngineSql = {
  /** From value counts (exact-quantiles.ts): one scan counts each distinct latency and each distinct TTFT. */
  duckdb: ({ where, t }) => `WITH v AS (
  SELECT grouping(latency_ms) AS of_ttft, latency_ms, ttft_ms, count(*) AS c FROM ${t} WHERE ${where}
  GROUP BY GROUPING SETS ((latency_ms), (ttft_ms))
)
SELECT coalesce((SELECT sum(c) FROM v WHERE of_ttft = 0), 0)::DOUBLE AS n_events,
  (SELECT lat FROM (${quantilesFromCounts('SELECT latency_ms AS x, c FROM v WHERE of_ttft = 0 AND latency_ms IS NOT NULL', [], LAT, 'lat')})) AS lat,
  (SELECT ttft FROM (${quantilesFromCounts('SELECT ttft_ms AS x, c FROM v WHERE of_ttft = 1 AND ttft_ms IS NOT NULL', [], TTFT, 'ttft')})) AS ttft`,
  clickhouse: ({ where, t, d }) => `SELECT toFloat64(count()) AS n_events, ${d.quantiles('latency_ms', LAT)} AS lat,
             ${d.quantiles('ttft_ms', TTFT)} AS ttft
           FROM ${t} WHERE ${where}`,
};

const toRow = (r: Row | undefined): WindowPercentiles => ({
  events: num(r?.n_events),
  latency_p50_ms: pct(r?.lat, 0),
  latency_p95_ms: pct(r?.lat, 1),
  latency_p99_ms: pct(r?.lat, 2),
  ttft_p50_ms: pct(r?.ttft, 0),
  ttft_p95_ms: pct(r?.ttft, 1),
});

export async function windowPercentiles(engine: AnalysisEngine, scope: AnalysisScope): Promise<WindowPercentiles> {
  const { rows } = await selectRows(engine, scope, WINDOW_PERCENTILES_SQL, undefined, {}, (r) => r);
  return toRow(rows[0]);
}
