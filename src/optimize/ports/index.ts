/**
 * The analysis port: every aggregated query the optimisation engine needs from an analytics store. Each area defines
 * its rows and methods in its own file (usage.ts, cache.ts, replay.ts, performance.ts); stores implement all of them
 * (both engines: src/store/analysis/, one file per query). Every method is scoped to one workspace and a [from, to) range.
 */
import type { Scope } from '../../workload/scope.js';
import type { CacheQueries } from './cache.js';
import type { PerformanceQueries } from './performance.js';
import type { ReplayQueries } from './replay.js';
import type { UsageQueries } from './usage.js';
import type { BreakdownQueries } from './breakdown.js';
import type { BatchScheduleQueries } from './batch-schedule.js';
import type { GatewayQueries } from './gateway.js';

export type { Scope };

export type { AnalysisScope } from './scope.js';

export interface AnalysisQueries
  extends UsageQueries,
    CacheQueries,
    ReplayQueries,
    PerformanceQueries,
    BreakdownQueries,
    BatchScheduleQueries,
    GatewayQueries {}
