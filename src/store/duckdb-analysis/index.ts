/**
 * DuckDB implementation of the analysis port (src/optimize/ports): one file per area, each a set of functions over a
 * connection. `createDuckDbAnalysis(run)` binds them to the store's read queue (pending appends are committed first).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckDbBreakdownQueries } from '../analysis-breakdown/index.js';
import { duckDbBatchScheduleQueries } from '../analysis-batch-schedule/index.js';
import type { AnalysisQueries } from '../../optimize/ports/index.js';
import { duckDbCacheQueries } from './cache.js';
import { duckDbPerformanceQueries } from './performance.js';
import { duckDbReplayQueries } from './replay.js';
import { duckDbUsageQueries } from './usage.js';

export type RunRead = <T>(kind: string, fn: (conn: DuckDBConnection) => Promise<T>) => Promise<T>;

export function createDuckDbAnalysis(run: RunRead): AnalysisQueries {
  return {
    ...duckDbBatchScheduleQueries(run),
    ...duckDbBreakdownQueries(run),
    ...duckDbCacheQueries(run),
    ...duckDbReplayQueries(run),
    ...duckDbUsageQueries(run),
    ...duckDbPerformanceQueries(run),
  };
}
