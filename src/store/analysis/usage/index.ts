/**
 * The usage area of the analysis port (src/optimize/ports/usage.ts): one file per query, each with its DuckDB and
 * ClickHouse SQL side by side and one row converter. Each method is timed under its own kind.
 */
import type { UsageQueries } from '../../../optimize/ports/usage.js';
import type { RunAnalysis } from '../engine.js';
import { batchCandidates } from './batch-candidates.js';
import { contextGrowth } from './context-growth.js';
import { latencyByAppModel } from './latency.js';
import { maxTokensGroups } from './max-tokens.js';
import { rateLimitBursts } from './rate-limit-bursts.js';
import { retryWaste } from './retry-waste.js';
import { routingSegments } from './routing-segments.js';

export function usageQueries(run: RunAnalysis): UsageQueries {
  return {
    routingSegments: (scope) => run('analysis.routing_segments', (e) => routingSegments(e, scope)),
    batchCandidates: (scope) => run('analysis.batch_candidates', (e) => batchCandidates(e, scope)),
    maxTokensGroups: (scope) => run('analysis.max_tokens_groups', (e) => maxTokensGroups(e, scope)),
    retryWaste: (scope) => run('analysis.retry_waste', (e) => retryWaste(e, scope)),
    rateLimitBursts: (scope) => run('analysis.rate_limit_bursts', (e) => rateLimitBursts(e, scope)),
    contextGrowth: (scope, opts) => run('analysis.context_growth', (e) => contextGrowth(e, scope, opts)),
    latencyByAppModel: (scope, opts) => run('analysis.latency_slo', (e) => latencyByAppModel(e, scope, opts)),
  };
}
