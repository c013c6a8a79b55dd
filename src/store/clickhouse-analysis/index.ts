/**
 * ClickHouse implementation of the analysis port (src/optimize/ports): one file per area, each a port of the
 * DuckDB SQL in src/store/duckdb-analysis/ with the same semantics (test/analysis-parity.test.ts compares them on a
 * generated workload). `createClickHouseAnalysis(run)` binds them to the store's read path.
 *
 * Translation rules used throughout:
 * - `x FILTER (WHERE c)` → the -If combinator (`countIf`, `sumKahanIf`, `groupArrayIf`, ...);
 * - fsum → sumKahan; quantile_cont / median → quantilesCont (clickhouse-queries.ts: DuckDB's interpolation, bit
 *   for bit; quantileExactInclusive has the same definition but differs in the last bits);
 *   quantile_disc (nearest rank) → the ceil(q·n)-th smallest value of the sorted group array;
 * - arg_min/arg_max(x, by, n) → groupArraySorted(n)((by or -by, x)) (ties broken by x: DuckDB leaves them open);
 * - no output alias repeats a column name: ClickHouse aliases are visible in WHERE and would shadow the column;
 * - ClickHouse aggregates of nothing are 0 / nan where DuckDB gives NULL: nan reaches JS as null (JSON output),
 *   and places where NULL matters use the -OrNull combinator or an explicit count check.
 */
import { clickHouseBreakdownQueries } from '../analysis-breakdown/index.js';
import { clickHouseBatchScheduleQueries } from '../analysis-batch-schedule/index.js';
import type { AnalysisQueries } from '../../optimize/ports/index.js';
import { clickHouseCacheQueries } from './cache.js';
import { clickHousePerformanceQueries } from './performance.js';
import { clickHouseReplayQueries } from './replay.js';
import { clickHouseUsageQueries } from './usage.js';

import type { ChRunRead } from './sql.js';

export type { ChRunRead } from './sql.js';

export function createClickHouseAnalysis(run: ChRunRead): AnalysisQueries {
  return {
    ...clickHouseBatchScheduleQueries(run),
    ...clickHouseBreakdownQueries(run),
    ...clickHouseCacheQueries(run),
    ...clickHouseReplayQueries(run),
    ...clickHouseUsageQueries(run),
    ...clickHousePerformanceQueries(run),
  };
}
