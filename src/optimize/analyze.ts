/**
 * The full analysis of a workspace and window: performance, every recommendation kind, ranking by goal.
 * Receives the store's analysis port (src/optimize/ports) and the analysis context; does no I/O of its own.
 *
 * Output shape (what `GET /api/v1/analysis` and `netra analyze --json` print):
 * `{ summary, performance, recommendations, skipped }`.
 */
import type { AnalysisContext } from './context.js';
import type { AnalysisQueries, AnalysisScope } from './ports/index.js';
import { analyzePerformance, type PerformanceAnalysis, type CacheStats, type StoreQueryTiming } from './performance.js';
import { monthly, share, type KindResult, type Recommendation, type SkippedKind } from './recommendation.js';
import { rankRecommendations, type Goal, type RankedRecommendation } from './ranking.js';
import { recommendBatchApi, withScheduled } from './recommend/batch-api.js';
import { recommendContextGrowth } from './recommend/context-growth.js';
import { exactCacheQueryOptions, recommendExactCache } from './recommend/exact-cache.js';
import { recommendLatencySlo } from './recommend/latency-slo.js';
import { recommendMaxTokens } from './recommend/max-tokens.js';
import { recommendModelRouting } from './recommend/model-routing.js';
import { loadPromptCaching, recommendPromptCaching } from './recommend/prompt-caching.js';
import { recommendRetryWaste } from './recommend/retry-waste.js';
import { analyzeSemanticCache } from './recommend/semantic-cache.js';

export interface AnalysisSummary {
  workspace: string;
  from: string;
  to: string;
  goal: Goal;
  events: number;
  spend_usd: number;
  /** spend scaled to 30 days from the window */
  monthly_spend_usd: number;
  annual_spend_usd: number;
  /** sum of the recommendations' monthly savings, capped at the monthly spend (kinds can overlap: see note) */
  monthly_savings_usd: number;
  projected_monthly_spend_usd: number;
  savings_share: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  error_rate: number;
  /** events whose tokens were estimated from their text, and the estimated share of all tokens (figures rest on them) */
  estimated_token_events: number;
  estimated_token_share: number;
  /** events of models with no price: their spend is counted as $0 until a price override reprices them */
  unpriced_events: number;
  recommendations: number;
  note: string;
  /** time the analysis took, per stage (ms) */
  timings_ms: Record<string, number>;
}

export interface FullAnalysis {
  summary: AnalysisSummary;
  performance: PerformanceAnalysis;
  recommendations: RankedRecommendation[];
  skipped: SkippedKind[];
}

export interface AnalyzeOptions {
  goal: Goal;
  /** bucket width for the performance series (default: 1 h for windows up to 31 days, else 1 day) */
  bucketMs?: number;
  mode?: 'analysis' | 'monitoring';
  storeTimings?: readonly StoreQueryTiming[];
  cache?: CacheStats;
}

export async function analyzeWorkspace(q: AnalysisQueries, ctx: AnalysisContext, opts: AnalyzeOptions): Promise<FullAnalysis> {
  const scope: AnalysisScope = { workspace: ctx.workspace, from: ctx.from, to: ctx.to };
  const windowMs = ctx.to - ctx.from;
  const bucketMs = opts.bucketMs ?? (windowMs <= 31 * 86_400_000 ? 3_600_000 : 86_400_000);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round((performance.now() - t0) * 10) / 10;
    }
  };

  // The store serialises its reads; issuing them together keeps the queue full without extra round trips.
  const [buckets, pct, routing, batch, maxTok, failures, rateLimits, growth, latency, exact, prefix, scheduled] = await Promise.all([
    timed('performance_buckets', () => q.performanceBuckets(scope, bucketMs)),
    timed('window_percentiles', () => q.windowPercentiles(scope)),
    timed('routing', () => q.routingSegments(scope)),
    timed('batch', () => q.batchCandidates(scope)),
    timed('max_tokens', () => q.maxTokensGroups(scope)),
    timed('retry_waste', () => q.retryWaste(scope)),
    timed('rate_limits', () => q.rateLimitBursts(scope)),
    timed('context_growth', () => q.contextGrowth(scope)),
    timed('latency', () => q.latencyByAppModel(scope)),
    timed('exact_cache', () => q.exactCacheGroups(scope, exactCacheQueryOptions(ctx))),
    timed('prompt_caching', () => loadPromptCaching(q, scope, ctx)),
    timed('batch_schedule', () => q.scheduledTraffic(scope)),
  ]);
  // After the queries, not beside them: tried on 1M events (bench/analysis.ts, 2 cores, load 2-4), the JS pass running
  // while DuckDB answered them slowed the SQL stages from 2.3 s to 5.5 s and made the whole analysis no faster.
  const semantic = await timed('semantic_cache', () => analyzeSemanticCache(q, scope, ctx));

  const t0 = performance.now();
  const perf = analyzePerformance({
    buckets: buckets.rows,
    bucketMs,
    mode: opts.mode ?? 'analysis',
    storeTimings: opts.storeTimings,
    cache: opts.cache,
  });
  const results: KindResult[] = [
    recommendModelRouting(routing, ctx),
    recommendExactCache(exact, ctx),
    semantic,
    recommendPromptCaching(prefix, ctx),
    recommendBatchApi(withScheduled(batch, scheduled.rows, ctx), ctx),
    recommendMaxTokens(maxTok, ctx),
    recommendRetryWaste({ failures, rateLimits }, ctx),
    recommendContextGrowth(growth, ctx),
    recommendLatencySlo(latency, ctx),
  ];
  const recs: Recommendation[] = results.flatMap((r) => r.recommendations);
  const skipped = results.flatMap((r) => (r.skipped ? [r.skipped] : []));
  const ranked = rankRecommendations(recs, opts.goal, pct.latency_p95_ms);
  timings.domain = Math.round((performance.now() - t0) * 10) / 10;

  const monthlySpend = monthly(ctx.total_spend_usd, windowMs);
  const rawSavings = recs.reduce((s, r) => s + r.monthly_savings_usd, 0);
  const savings = Math.min(rawSavings, monthlySpend);
  const errors = perf.overall.errors;
  return {
    summary: {
      workspace: ctx.workspace,
      from: new Date(ctx.from).toISOString(),
      to: new Date(ctx.to).toISOString(),
      goal: opts.goal,
      events: ctx.total_events,
      spend_usd: ctx.total_spend_usd,
      monthly_spend_usd: monthlySpend,
      annual_spend_usd: monthlySpend * 12,
      monthly_savings_usd: savings,
      projected_monthly_spend_usd: monthlySpend - savings,
      savings_share: share(savings, monthlySpend),
      latency_p50_ms: pct.latency_p50_ms,
      latency_p95_ms: pct.latency_p95_ms,
      latency_p99_ms: pct.latency_p99_ms,
      error_rate: share(errors, ctx.total_events),
      estimated_token_events: ctx.data_quality?.estimated_token_events ?? 0,
      estimated_token_share: ctx.data_quality?.estimated_token_share ?? 0,
      unpriced_events: ctx.data_quality?.unpriced_events ?? 0,
      recommendations: ranked.length,
      note: 'Savings of different kinds can overlap (a cached call is also a routable call); the total is their sum capped at the spend. Use a what-if replay (POST /api/v1/simulations) for the combined effect of a policy.',
      timings_ms: timings,
    },
    performance: perf,
    recommendations: ranked,
    skipped,
  };
}
