/**
 * The analysis service: resolves a workspace's window and totals, builds the analysis context from the catalog with
 * the workspace's overrides, and runs the optimisation engine (analysis, replay, policy) over the store's port.
 * With a query cache, analyses, replays and stats are served from it (keyed by workspace + kind + parameters,
 * invalidated by ingest; an analysis is cached once for every goal and re-ranked per request); the store-health part
 * of an analysis (query timings, cache hit rate) is always current. Every call takes cache options: the analysis
 * precompute (analysis-precompute.ts) stores its entries with a longer TTL. Concurrent calls with the same key share
 * one computation (the cache's single-flight), so a chat turn asking for an analysis the precompute is running awaits it.
 */
import { NetraError } from '../errors.js';
import { analyzeWorkspace, type FullAnalysis } from '../optimize/analyze.js';
import { analysisContext } from '../optimize/catalog-context.js';
import type { AnalysisParams } from '../optimize/context.js';
import { policyFromRecommendations } from '../optimize/policy-from-recommendations.js';
import type { PolicyInput } from '../optimize/policy.js';
import { GOALS, rankRecommendations, type Goal } from '../optimize/ranking.js';
import { replayPolicy, type ReplayResult } from '../optimize/replay.js';
import type { AnalyticsStore, Scope, WorkspaceStats } from '../store/types.js';
import type { CacheEntryOptions, QueryCache } from '../cache/query-cache.js';
import { storeHealthReport, type CacheStats } from '../optimize/store-health.js';
import type { PriceCatalog } from '../workload/price-catalog.js';

export interface WindowRequest {
  workspace: string;
  /** epoch ms; default: the workspace's first event */
  from?: number;
  /** epoch ms, exclusive; default: just after the workspace's last event */
  to?: number;
}

/** `opts` of every call: how the results it computes are cached (e.g. `{ ttlMs }` of the precompute). */
export interface AnalysisService {
  analyze(req: WindowRequest & { goal?: string; params?: Partial<AnalysisParams> }, opts?: CacheEntryOptions): Promise<FullAnalysis>;
  simulate(req: WindowRequest & { policy: unknown }, opts?: CacheEntryOptions): Promise<ReplayResult>;
  /** The policy the analysis recommends (for replay and gateway exports): the one policyFromRecommendations builds. */
  recommendedPolicy(req: WindowRequest & { goal?: string }, opts?: CacheEntryOptions): Promise<PolicyInput>;
  /** The store's stats for a scope, through the query cache. */
  stats(scope: Scope, opts?: CacheEntryOptions): Promise<WorkspaceStats>;
}

export function parseGoal(goal: string | undefined): Goal {
  const g = goal ?? 'balanced';
  if (!(GOALS as readonly string[]).includes(g)) {
    throw new NetraError('VALIDATION', `unknown goal '${g}'; choose one of ${GOALS.join(', ')}`, { field: 'goal' });
  }
  return g as Goal;
}

export function createAnalysisService(deps: { store: AnalyticsStore; catalog: () => PriceCatalog; cache?: QueryCache | null }): AnalysisService {
  const cached = <T>(workspace: string, kind: string, params: unknown, compute: () => Promise<T>, opts?: CacheEntryOptions): Promise<T> =>
    (deps.cache ? deps.cache.getOrCompute(workspace, kind, params, compute, opts) : compute());
  const cacheCounters = (): CacheStats | undefined => {
    const s = deps.cache?.stats();
    return s ? { hits: s.hits, misses: s.misses } : undefined;
  };
  const stats = (scope: Scope, opts?: CacheEntryOptions) =>
    cached(scope.workspace, 'stats', { from: scope.from, to: scope.to }, () => deps.store.stats(scope), opts);

  const context = async (req: WindowRequest, params?: Partial<AnalysisParams>, opts?: CacheEntryOptions) => {
    if (req.from !== undefined && req.to !== undefined && req.from >= req.to) {
      throw new NetraError('VALIDATION', 'from must be before to', { field: 'from' });
    }
    let { from, to } = req;
    let all: Awaited<ReturnType<typeof stats>> | null = null;
    if (from === undefined || to === undefined) {
      all = await stats({ workspace: req.workspace }, opts);
      if (all.events === 0) throw new NetraError('NOT_FOUND', `workspace '${req.workspace}' has no events; send some (POST /api/v1/events) or generate a workload (netra generate)`, { field: 'workspace' });
      from ??= all.first_event!;
      to ??= all.last_event! + 1;
    }
    // the default window is the whole workspace: its totals are the ones just read
    const totals = req.from === undefined && req.to === undefined && all ? all : await stats({ workspace: req.workspace, from, to }, opts);
    return analysisContext({ catalog: deps.catalog(), workspace: req.workspace, from, to, total_events: totals.events, total_spend_usd: totals.spend_usd, params });
  };

  const analyze: AnalysisService['analyze'] = async (req, opts) => {
    const goal = parseGoal(req.goal);
    // The goal only orders the recommendations: one cached analysis (ranked 'balanced') serves every goal, re-ranked here.
    const key = { from: req.from, to: req.to, params: req.params, catalog: deps.catalog().version };
    const a = await cached(req.workspace, 'analysis', key, async () => {
      const ctx = await context(req, req.params, opts);
      return analyzeWorkspace(deps.store.analysis, ctx, { goal: 'balanced', storeTimings: deps.store.queryTimings(), cache: cacheCounters() });
    }, opts);
    if (a.summary.goal !== goal) {
      a.recommendations = rankRecommendations(a.recommendations, goal, a.summary.latency_p95_ms);
      a.summary.goal = goal;
    }
    // a cached analysis still reports the store's and the cache's health as of now
    a.performance.store_health = storeHealthReport(deps.store.queryTimings(), cacheCounters());
    return a;
  };

  return {
    analyze,
    async simulate(req, opts) {
      const key = { from: req.from, to: req.to, policy: req.policy, catalog: deps.catalog().version };
      return cached(req.workspace, 'simulation', key, async () => replayPolicy(deps.store.analysis, await context(req, undefined, opts), req.policy), opts);
    },
    stats,
    async recommendedPolicy(req, opts) {
      const a = await analyze(req, opts);
      return policyFromRecommendations(a.recommendations);
    },
  };
}
