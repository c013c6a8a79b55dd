/**
 * The full analysis of a workspace and window: performance, every recommendation kind, ranking by goal.
 * Receives the store's analysis port (src/optimize/ports) and the analysis context; does no I/O of its own.
 *
 * Output: `{ summary, performance, recommendations, skipped }`, every recommendation ranked (the API and the CLI show it
 * through presentation.ts: the top ten, findings, minor items grouped).
 */
import type { AnalysisContext } from './context.js';
import type { AnalysisQueries, AnalysisScope } from './ports/index.js';
import { analyzePerformance, type PerformanceAnalysis, type CacheStats, type StoreQueryTiming } from './performance.js';
import {
  extrapolationFactor,
  monthly,
  share,
  shortWindowWarning,
  type KindResult,
  type Recommendation,
  type SkippedKind,
} from './recommendation.js';
import { mergeRecommendations } from './merge.js';
import type { ProjectedSavings } from './projection.js';
import type { BatchCandidateRow, LatencyRow } from './ports/usage.js';
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
  /** length of the window the monthly figures scale from (ms), and 30 days / that length */
  window_ms: number;
  extrapolation_factor: number;
  /**
   * The one projected-savings figure: the replay of the combined policy of every recommendation (overlaps counted
   * once), filled by the analysis service (projection.ts); null until then. Each recommendation's own
   * monthly_savings_usd is what it saves standalone.
   */
  projected_savings: ProjectedSavings | null;
  /** the window's true latency percentiles over every event with a latency (not the performance buckets' means) */
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
  /** what the reader must know before trusting the monthly figures (a window under a day, ...) */
  warnings: string[];
  /** facts the recommendations infer rather than read (e.g. "no end user, so nobody waits"), one line each */
  assumptions: string[];
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
    timed('latency', () => q.latencyByAppModel(scope, { scope_events: ctx.total_events })),
    timed('exact_cache', () => q.exactCacheGroups(scope, exactCacheQueryOptions(ctx))),
    timed('prompt_caching', () => loadPromptCaching(q, scope, ctx)),
    timed('batch_schedule', () => q.scheduledTraffic(scope)),
  ]);
  // After the queries, not beside them: tried on 1M events (bench/analysis.ts, 2 cores, load 2-4), the JS pass running
  // while DuckDB answered them slowed the SQL stages from 2.3 s to 5.5 s and made the whole analysis no faster.
  const semantic = await timed('semantic_cache', () => analyzeSemanticCache(q, scope, ctx));

  const t0 = performance.now();
  const batchRows = withScheduled(batch, scheduled.rows, ctx);
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
    recommendBatchApi(batchRows, ctx),
    recommendMaxTokens(maxTok, ctx),
    recommendRetryWaste({ failures, rateLimits }, ctx),
    recommendContextGrowth(growth, ctx),
    recommendLatencySlo(latency, ctx),
  ];
  const found: Recommendation[] = results.flatMap((r) => r.recommendations);
  const recs = mergeRecommendations(withoutBatchLatency(found, batchRows, latency.rows));
  const skipped = results.flatMap((r) => (r.skipped ? [r.skipped] : []));
  const ranked = rankRecommendations(recs, opts.goal, pct.latency_p95_ms);
  timings.domain = Math.round((performance.now() - t0) * 10) / 10;

  const monthlySpend = monthly(ctx.total_spend_usd, windowMs);
  const errors = perf.overall.errors;
  const warning = shortWindowWarning(windowMs);
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
      window_ms: windowMs,
      extrapolation_factor: extrapolationFactor(windowMs),
      projected_savings: null,
      latency_p50_ms: pct.latency_p50_ms,
      latency_p95_ms: pct.latency_p95_ms,
      latency_p99_ms: pct.latency_p99_ms,
      error_rate: share(errors, ctx.total_events),
      estimated_token_events: ctx.data_quality?.estimated_token_events ?? 0,
      estimated_token_share: ctx.data_quality?.estimated_token_share ?? 0,
      unpriced_events: ctx.data_quality?.unpriced_events ?? 0,
      recommendations: ranked.length,
      warnings: warning ? [warning] : [],
      assumptions: [...new Set(ranked.flatMap((r) => r.assumptions ?? []))],
      note: "Each recommendation's monthly_savings_usd is what it saves standalone; kinds overlap (a cached call is also a routable call), so they are not added up. The projected savings are the replay of all recommendations together (overlaps counted once).",
      timings_ms: timings,
    },
    performance: perf,
    recommendations: ranked,
    skipped,
  };
}

/** Share of an app's or a model's latency-bearing calls that are batch candidates above which it gets no latency advice. */
const BATCH_DOMINATED = 0.5;

/**
 * A job nobody waits for is not told to get faster: latency_slo items of an app (or a model) whose measured calls are
 * mostly batch candidates (no end user, no session; tagged offline, bulk, or on a schedule) are dropped. Traffic tagged
 * offline is already left out of the latency figures; this covers the inferred candidates.
 */
export function withoutBatchLatency(
  recs: readonly Recommendation[],
  batch: { rows: readonly BatchCandidateRow[] },
  latency: readonly LatencyRow[],
): Recommendation[] {
  const batchApps = new Set(recs.filter((r) => r.kind === 'batch_api').map((r) => r.scope.app));
  const by = { app: new Map<string, number>(), model: new Map<string, number>() };
  for (const b of batch.rows) {
    if (b.basis === 'offline_tag' || !batchApps.has(b.app)) continue;
    by.app.set(b.app, (by.app.get(b.app) ?? 0) + b.events);
    by.model.set(b.model, (by.model.get(b.model) ?? 0) + b.events);
  }
  const measured = new Map(latency.map((l) => [`${l.dimension}\u0000${l.key}`, l.events]));
  return recs.filter((r) => {
    if (r.kind !== 'latency_slo') return true;
    const dim = r.scope.app ? 'app' : 'model';
    const key = (r.scope.app ?? r.scope.model)!;
    const n = measured.get(`${dim}\u0000${key}`) ?? 0;
    return !(n > 0 && (by[dim].get(key) ?? 0) >= BATCH_DOMINATED * n);
  });
}
