/** Exact latency and TTFT percentiles over the whole window (not merged from buckets). */
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import type { WindowPercentiles } from '../../../optimize/ports/performance.js';
import { num, pct, selectRows, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

export const WINDOW_PERCENTILES_SQL: EngineSql = {
  duckdb: ({ where, t, d }) =>
    `SELECT count(*)::DOUBLE AS n_events, ${d.quantiles('latency_ms', [0.5, 0.95, 0.99])} AS lat, ${d.quantiles('ttft_ms', [0.5, 0.95])} AS ttft FROM ${t} WHERE ${where}`,
  clickhouse: ({ where, t, d }) => `SELECT toFloat64(count()) AS n_events, ${d.quantiles('latency_ms', [0.5, 0.95, 0.99])} AS lat,
             ${d.quantiles('ttft_ms', [0.5, 0.95])} AS ttft
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
