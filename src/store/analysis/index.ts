/**
 * The analysis port (src/optimize/ports) for both analytics stores, organised by query: one folder per area
 * (usage/, cache/, replay/, performance/), one file per query holding its DuckDB and ClickHouse SQL side by side, its
 * parameters and one row converter. The per-engine fragments they share are in dialect.ts; how a store runs them is
 * an AnalysisEngine (engine.ts; duckdb-engine.ts, clickhouse-engine.ts). test/analysis-parity.test.ts runs every
 * query on both engines over the same generated workload and requires the same rows.
 *
 * Adding a query: a file in its area folder (copy a neighbour: SQL pair, converter, function), its method in the
 * port (src/optimize/ports/<area>.ts), one line in the area's index.ts, and a case in the parity test.
 */
import type { AnalysisQueries } from '../../optimize/ports/index.js';
import { cacheQueries } from './cache/index.js';
import type { RunAnalysis } from './engine.js';
import { gatewayQueries } from './gateway/index.js';
import { performanceQueries } from './performance/index.js';
import { replayQueries } from './replay/index.js';
import { usageQueries } from './usage/index.js';

export type { AnalysisEngine, RunAnalysis } from './engine.js';
export { duckDbEngine } from './duckdb-engine.js';
export { clickHouseEngine } from './clickhouse-engine.js';

/** The queries of these areas; the breakdown and scheduled-traffic areas (store/analysis-breakdown/, analysis-batch-schedule/) are composed beside them by each store. */
export type CoreAnalysisQueries = Omit<AnalysisQueries, 'breakdown' | 'topValues' | 'scheduledTraffic'>;

export function createAnalysis(run: RunAnalysis): CoreAnalysisQueries {
  return {
    ...cacheQueries(run),
    ...replayQueries(run),
    ...usageQueries(run),
    ...performanceQueries(run),
    ...gatewayQueries(run),
  };
}
