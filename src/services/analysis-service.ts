/**
 * The analysis service: resolves a workspace's window and totals, builds the analysis context from the catalog with
 * the workspace's overrides, and runs the optimisation engine (analysis, replay, policy) over the store's port.
 * With a query cache, analyses, replays and stats are served from it (keyed by workspace + kind + parameters,
 * invalidated by ingest; an analysis is cached once for every goal and re-ranked per request); the store-health part
 * of an analysis (query timings, cache hit rate) is always current. Every call takes cache options: the analysis
 * precompute (analysis-precompute.ts) stores its entries with a longer TTL. Concurrent calls with the same key share
 * one computation (the cache's single-flight), so a chat turn asking for an analysis the precompute is running awaits it.
 *
 * Stale-while-revalidate, for the chat only: a call with `{ allowStale: turn }` (the supervisor passes one StaleTurn per
 * chat turn; the REST API never does) over the default whole-history window may be answered from the workspace's last
 * completed precompute (an AnalysisSnapshot, kept by analysis-precompute.ts, which attaches itself with useSnapshots())
 * when the workspace's current cache generation has no analysis entry yet and the snapshot is younger than the bound
 * (NETRA_PRECOMPUTE_STALE_MAX_MS). The first such call of a turn decides for the whole turn, so a turn's figures all come
 * from one generation: the snapshot's, or the current one's (an exact entry, when present, always wins).
 */
import { NetraError } from '../errors.js';
import { analyzeWorkspace, type FullAnalysis } from '../optimize/analyze.js';
import { analysisContext } from '../optimize/catalog-context.js';
import type { AnalysisParams } from '../optimize/context.js';
import { policyFromRecommendations } from '../optimize/policy-from-recommendations.js';
import { isEmptyPolicy, validatePolicy, type PolicyInput } from '../optimize/policy.js';
import { projectedSavings } from '../optimize/projection.js';
import { GOALS, rankRecommendations, type Goal } from '../optimize/ranking.js';
import { replayPolicy, type ReplayResult } from '../optimize/replay.js';
import type { AnalyticsStore, Scope, WorkspaceStats } from '../store/types.js';
import {
  checkBreakdownQuery,
  MAX_BREAKDOWN_GROUPS,
  NAME_DIMENSIONS,
  type BreakdownQuery,
  type BreakdownResult,
} from '../optimize/ports/breakdown.js';
import { stableStringify, type CacheEntryOptions, type QueryCache } from '../cache/query-cache.js';
import { storeHealthReport, type CacheStats } from '../optimize/store-health.js';
import type { PriceCatalog } from '../workload/price-catalog.js';

export interface WindowRequest {
  workspace: string;
  /** epoch ms; default: the workspace's first event */
  from?: number;
  /** epoch ms, exclusive; default: just after the workspace's last event */
  to?: number;
}

/** What the precompute keeps of a workspace's last completed run: the values it put in the cache, and when. */
export interface AnalysisSnapshot {
  workspace: string;
  /** the workspace's cache generation the values were computed at */
  generation: number;
  /** completion time (epoch ms) */
  completed_at: number;
  /** the price catalog version the values were computed with */
  catalog_version: string;
  /** stats of the whole history (its events / last_event are the workspace's at that moment) */
  stats: WorkspaceStats;
  /** the analysis of the whole history, ranked 'balanced' (as cached) */
  analysis: FullAnalysis;
  /** the replay of each distinct recommended policy, by stableStringify(policy); `{ failed }`: the replay's error */
  replays: Record<string, ReplayResult | { failed: string }>;
}

/** The precompute's snapshots, as the analysis service reads them. */
export interface SnapshotSource {
  /** the workspace's last completed snapshot when it is younger than the bound, else null */
  latest(workspace: string): AnalysisSnapshot | null;
  /** the workspace's current event count (a count, not an analysis query); null when unknown */
  eventsNow(workspace: string): Promise<number | null>;
}

/** One chat turn's choice between the snapshot and current figures, made by its first allowStale call. */
export interface StaleTurn {
  decided: boolean;
  snapshot: AnalysisSnapshot | null;
  source: SnapshotSource | null;
}

export const staleTurn = (): StaleTurn => ({ decided: false, snapshot: null, source: null });

/** What a stale result says about itself: completion time of its snapshot and its age now. */
export interface StaleInfo {
  as_of: string;
  age_ms: number;
}

export function staleInfo(turn: StaleTurn | undefined, now = Date.now()): StaleInfo | null {
  const s = turn?.snapshot;
  return s ? { as_of: new Date(s.completed_at).toISOString(), age_ms: Math.max(0, now - s.completed_at) } : null;
}

/** For the report: the stale info plus how many events arrived after the snapshot (null when the count is unknown). */
export async function staleSummary(
  turn: StaleTurn | undefined,
  now = Date.now(),
): Promise<(StaleInfo & { events_since: number | null }) | null> {
  const info = staleInfo(turn, now);
  if (!info || !turn?.snapshot || !turn.source) return null;
  const current = await turn.source.eventsNow(turn.snapshot.workspace).catch(() => null);
  return { ...info, events_since: current === null ? null : Math.max(0, current - turn.snapshot.stats.events) };
}

/** `opts` of every call: how the results it computes are cached (e.g. `{ ttlMs }` of the precompute); the chat's turn. */
export interface AnalysisCallOptions extends CacheEntryOptions {
  /** the chat only: this turn may be answered from the last completed precompute (see the file comment) */
  allowStale?: StaleTurn;
}

export interface WorkspaceNames {
  apps: string[];
  tasks: string[];
  environments: string[];
}

export interface AnalysisService {
  analyze(req: WindowRequest & { goal?: string; params?: Partial<AnalysisParams> }, opts?: AnalysisCallOptions): Promise<FullAnalysis>;
  /**
   * The analysis when it is at hand without computing it: the cached one of the current data, or (allowStale) the last
   * precompute's; null otherwise (nothing is started). For answers that only use it when it is there.
   */
  analysisIfReady(req: WindowRequest & { goal?: string }, opts?: AnalysisCallOptions): Promise<FullAnalysis | null>;
  simulate(req: WindowRequest & { policy: unknown }, opts?: AnalysisCallOptions): Promise<ReplayResult>;
  /** The policy the analysis recommends (for replay and gateway exports): the one policyFromRecommendations builds. */
  recommendedPolicy(req: WindowRequest & { goal?: string }, opts?: AnalysisCallOptions): Promise<PolicyInput>;
  /**
   * Any metric by any dimension over a window (default: the whole history), through the query cache; the window it
   * resolved is returned beside the result so an answer can name it.
   */
  breakdown(
    req: WindowRequest & { query: BreakdownQuery },
    opts?: AnalysisCallOptions,
  ): Promise<BreakdownResult & { from: number; to: number }>;
  /**
   * The names the workspace's events carry over the whole history (apps, tasks, environments; the most frequent
   * MAX_BREAKDOWN_GROUPS of each, in text order), through the query cache: the chat reads them to plan a question.
   */
  names(workspace: string, opts?: AnalysisCallOptions): Promise<WorkspaceNames>;
  /** The store's stats for a scope, through the query cache. */
  stats(scope: Scope, opts?: AnalysisCallOptions): Promise<WorkspaceStats>;
  /** The precompute attaches its snapshots (null detaches); without them allowStale has no effect. */
  useSnapshots?(source: SnapshotSource | null): void;
  /** The version of the price catalog the results are computed with (a snapshot of another version is never served). */
  catalogVersion?(): string;
}

export function parseGoal(goal: string | undefined): Goal {
  const g = goal ?? 'balanced';
  if (!(GOALS as readonly string[]).includes(g)) {
    throw new NetraError('VALIDATION', `unknown goal '${g}'; choose one of ${GOALS.join(', ')}`, { field: 'goal' });
  }
  return g as Goal;
}

/** The cache options of a call without its turn: what a computation passes on. */
const cacheOnly = (opts?: AnalysisCallOptions): CacheEntryOptions | undefined =>
  opts?.ttlMs === undefined ? undefined : { ttlMs: opts.ttlMs };

export function createAnalysisService(deps: {
  store: AnalyticsStore;
  catalog: () => PriceCatalog;
  cache?: QueryCache | null;
}): AnalysisService {
  const cached = <T>(
    workspace: string,
    kind: string,
    params: unknown,
    compute: () => Promise<T>,
    opts?: AnalysisCallOptions,
  ): Promise<T> => (deps.cache ? deps.cache.getOrCompute(workspace, kind, params, compute, cacheOnly(opts)) : compute());
  let snapshots: SnapshotSource | null = null;
  /** the key of the whole-history analysis (what the precompute caches) */
  const analysisKey = (req: { from?: number; to?: number; params?: Partial<AnalysisParams> }) => ({
    from: req.from,
    to: req.to,
    params: req.params,
    catalog: deps.catalog().version,
  });
  /** The snapshot this call may be answered from: only for the default window, decided once per turn. */
  const snapshotFor = async (workspace: string, defaultWindow: boolean, turn: StaleTurn | undefined): Promise<AnalysisSnapshot | null> => {
    if (!turn || !defaultWindow) return null;
    if (!turn.decided) {
      turn.decided = true;
      const snap = snapshots?.latest(workspace) ?? null;
      if (!snap || !deps.cache || snap.workspace !== workspace || snap.catalog_version !== deps.catalog().version) return null;
      // the current generation is the snapshot's (its entries are exact), or has its own analysis: current figures win
      if ((await deps.cache.generation(workspace)) === snap.generation) return null;
      if ((await deps.cache.peek(workspace, 'analysis', analysisKey({}))) !== undefined) return null;
      turn.snapshot = snap;
      turn.source = snapshots;
    }
    return turn.snapshot?.workspace === workspace ? turn.snapshot : null;
  };
  const cacheCounters = (): CacheStats | undefined => {
    const s = deps.cache?.stats();
    return s ? { hits: s.hits, misses: s.misses } : undefined;
  };
  const stats = async (scope: Scope, opts?: AnalysisCallOptions): Promise<WorkspaceStats> => {
    const snap = await snapshotFor(scope.workspace, scope.from === undefined && scope.to === undefined, opts?.allowStale);
    if (snap) return structuredClone(snap.stats);
    return cached(scope.workspace, 'stats', { from: scope.from, to: scope.to }, () => deps.store.stats(scope), opts);
  };

  /**
   * The whole history's first and last event of the current data: from the cached stats when they are there, else
   * from the store's per-workspace counts (a min/max, ~30 ms over 1M events, where the stats scan takes ~0.4 s).
   */
  const historyBounds = async (workspace: string): Promise<{ first: number | null; last: number | null }> => {
    const known = deps.cache ? await deps.cache.peek<WorkspaceStats>(workspace, 'stats', { from: undefined, to: undefined }) : undefined;
    if (known) return { first: known.first_event, last: known.last_event };
    const info = (await deps.store.workspaces()).find((w) => w.workspace === workspace);
    return { first: info?.first_event ?? null, last: info?.last_event ?? null };
  };

  /** A breakdown's window: the one asked, completed with the whole history's bounds. */
  const windowScope = async (req: WindowRequest) => {
    if (req.from !== undefined && req.to !== undefined && req.from >= req.to)
      throw new NetraError('VALIDATION', 'from must be before to', { field: 'from' });
    let { from, to } = req;
    if (from === undefined || to === undefined) {
      const all = await historyBounds(req.workspace);
      from ??= all.first ?? 0;
      to ??= (all.last ?? from) + 1;
    }
    return { workspace: req.workspace, from, to };
  };

  const context = async (req: WindowRequest, params?: Partial<AnalysisParams>, opts?: CacheEntryOptions) => {
    // (the cache options only: a computation is always of the current data)
    if (req.from !== undefined && req.to !== undefined && req.from >= req.to) {
      throw new NetraError('VALIDATION', 'from must be before to', { field: 'from' });
    }
    let { from, to } = req;
    let all: Awaited<ReturnType<typeof stats>> | null = null;
    if (from === undefined || to === undefined) {
      all = await stats({ workspace: req.workspace }, opts);
      if (all.events === 0)
        throw new NetraError(
          'NOT_FOUND',
          `workspace '${req.workspace}' has no events; send some (POST /api/v1/events) or generate a workload (netra generate)`,
          { field: 'workspace' },
        );
      from ??= all.first_event!;
      to ??= all.last_event! + 1;
    }
    // the default window is the whole workspace: its totals are the ones just read
    const totals = req.from === undefined && req.to === undefined && all ? all : await stats({ workspace: req.workspace, from, to }, opts);
    // the window's real length: a requested window is clipped to the events it holds (a "this month" that ends in the
    // future, or starts before the first event, would otherwise dilute every monthly figure)
    if (totals.first_event !== null && totals.last_event !== null) {
      from = Math.max(from, totals.first_event);
      to = Math.min(to, totals.last_event + 1);
    }
    const data_quality = {
      estimated_token_events: totals.estimated_token_events,
      estimated_token_share: totals.estimated_token_share,
      unpriced_events: totals.unpriced_events,
    };
    return analysisContext({
      catalog: deps.catalog(),
      workspace: req.workspace,
      from,
      to,
      total_events: totals.events,
      total_spend_usd: totals.spend_usd,
      data_quality,
      params,
    });
  };

  const analyze: AnalysisService['analyze'] = async (req, opts) => {
    const goal = parseGoal(req.goal);
    // The goal only orders the recommendations: one cached analysis (ranked 'balanced') serves every goal, re-ranked here.
    const snap = await snapshotFor(
      req.workspace,
      req.from === undefined && req.to === undefined && req.params === undefined,
      opts?.allowStale,
    );
    const a = snap
      ? structuredClone(snap.analysis)
      : await cached(
          req.workspace,
          'analysis',
          analysisKey(req),
          async () => {
            const ctx = await context(req, req.params, cacheOnly(opts));
            const full = await deps.store.analysisSnapshot((q) =>
              analyzeWorkspace(q, ctx, { goal: 'balanced', storeTimings: deps.store.queryTimings(), cache: cacheCounters() }),
            );
            // the one projected-savings figure: the replay of the combined policy (the chat's simulate of the same policy
            // and window is then a cache hit, so both state one figure)
            const policy = policyFromRecommendations(full.recommendations);
            const replay = isEmptyPolicy(validatePolicy(policy))
              ? null
              : await simulate({ workspace: req.workspace, from: req.from, to: req.to, policy }, cacheOnly(opts)).catch((err: unknown) => ({
                  failed: (err as Error).message,
                }));
            full.summary.projected_savings = projectedSavings(full.recommendations, full.summary.monthly_spend_usd, replay);
            return full;
          },
          opts,
        );
    return served(a, goal);
  };

  /** An analysis as served: ranked for the goal, with the store's and the cache's health as of now (a cached one too). */
  const served = (a: FullAnalysis, goal: Goal): FullAnalysis => {
    if (a.summary.goal !== goal) {
      a.recommendations = rankRecommendations(a.recommendations, goal, a.summary.latency_p95_ms);
      a.summary.goal = goal;
    }
    a.performance.store_health = storeHealthReport(deps.store.queryTimings(), cacheCounters());
    return a;
  };

  const analysisIfReady: AnalysisService['analysisIfReady'] = async (req, opts) => {
    const goal = parseGoal(req.goal);
    const snap = await snapshotFor(req.workspace, req.from === undefined && req.to === undefined, opts?.allowStale);
    if (snap) return served(structuredClone(snap.analysis), goal);
    const a = deps.cache ? await deps.cache.peek<FullAnalysis>(req.workspace, 'analysis', analysisKey(req)) : undefined;
    return a === undefined ? null : served(a, goal);
  };

  const simulate: AnalysisService['simulate'] = async (req, opts) => {
    const snap = await snapshotFor(req.workspace, req.from === undefined && req.to === undefined, opts?.allowStale);
    const replayed = snap?.replays[stableStringify(req.policy)];
    if (replayed) {
      if ('failed' in replayed) throw new Error(replayed.failed);
      return structuredClone(replayed);
    }
    // not replayed by the precompute (or a current turn): the replay of the current data
    const key = { from: req.from, to: req.to, policy: req.policy, catalog: deps.catalog().version };
    return cached(
      req.workspace,
      'simulation',
      key,
      async () => {
        const ctx = await context(req, undefined, cacheOnly(opts));
        return deps.store.analysisSnapshot((q) => replayPolicy(q, ctx, req.policy));
      },
      opts,
    );
  };

  return {
    analyze,
    analysisIfReady,
    simulate,
    async breakdown(req, opts) {
      checkBreakdownQuery(req.query);
      const scope = await windowScope(req);
      const r = await cached(
        req.workspace,
        'breakdown',
        { from: scope.from, to: scope.to, query: req.query },
        () => deps.store.analysis.breakdown(scope, req.query),
        opts,
      );
      return { ...r, from: scope.from, to: scope.to };
    },
    async names(workspace, opts) {
      // the whole history without bounds: no stats scan first (after an ingest the stats are not cached yet)
      return cached(
        workspace,
        'names',
        {},
        async () => {
          const [apps, tasks, environments] = await deps.store.analysis.topValues({ workspace }, NAME_DIMENSIONS, MAX_BREAKDOWN_GROUPS);
          return { apps: apps!, tasks: tasks!, environments: environments! };
        },
        opts,
      );
    },
    catalogVersion: () => deps.catalog().version,
    useSnapshots(source) {
      snapshots = source;
    },
    stats,
    async recommendedPolicy(req, opts) {
      const a = await analyze(req, opts);
      return policyFromRecommendations(a.recommendations);
    },
  };
}
