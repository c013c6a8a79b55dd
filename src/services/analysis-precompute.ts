/**
 * The analysis precompute: after events land in a workspace, compute what a chat turn about it will
 * ask for, before anyone asks, so the turn is served from the query cache. The calls are exactly the supervisor's for a
 * question over the whole history (src/agents/supervisor.ts, specialists.ts): stats of the workspace, its analysis
 * (one cached analysis serves every goal), the recommended policy per goal (the goal orders the recommendations, so the
 * policies can differ) and the replay of each distinct policy. Entries are stored with a long TTL (config, 24 h): the
 * cache's generation counter retires them at the workspace's next ingest or reprice anyway.
 *
 * Scheduling: `touch(workspace)` (src/services/workspace-changes.ts calls it after every change of the workspace's data) arms a
 * debounce timer (5 s after the last touch, at most 60 s after the first under continuous ingest); due workspaces run
 * one at a time, in the order they became due. Nothing runs before `start()` (a serving process calls it in listen();
 * a CLI command never does): touches before it are remembered, and start() arms them together with the most recently
 * active workspaces that have events (at boot). `run(workspace)` queues one now and resolves with its result (the startup warm-up task uses it). Timers are
 * unref'd; `close()` clears them, stops between steps and waits for the step in progress (a store query cannot be
 * interrupted). Failures are logged and counted, never thrown from `touch`/`start`.
 *
 * A turn that arrives while the precompute is computing a result it needs awaits that computation (the query cache's
 * single-flight: same key, same promise); a turn that arrives before the debounce fired computes it itself, and the
 * precompute then finds the entries cached.
 *
 * Stale answers for the chat (staleMaxMs > 0): the precompute keeps in memory, per workspace, the values of its last
 * completed run (an AnalysisSnapshot: stats, analysis and replays, the generation and catalog they were computed at,
 * the completion time) and attaches them to the analysis service (useSnapshots), which answers a chat turn from them
 * while the current generation has no analysis yet and the snapshot is younger than staleMaxMs. A run is kept only when
 * its stats and its analysis count the same events (an ingest between the two: the previous snapshot stays).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueryCache } from '../cache/query-cache.js';
import { WHERE_MONEY_GOES } from '../optimize/ports/breakdown.js';
import { stableStringify } from '../cache/query-cache.js';
import type { Logger } from '../logger.js';
import type { PolicyInput } from '../optimize/policy.js';
import type { Goal } from '../optimize/ranking.js';
import type { AnalyticsStore } from '../store/types.js';
import type { AnalysisService, AnalysisSnapshot } from './analysis-service.js';
import type { ReplayResult } from '../optimize/replay.js';

export interface PrecomputeOptions {
  /** false: touch() and start() do nothing (run() still works) */
  enabled: boolean;
  debounceMs: number;
  maxWaitMs: number;
  /** TTL of the entries the precompute stores */
  ttlMs: number;
  /** goals whose recommended policy is replayed (distinct policies only) */
  goals: readonly Goal[];
  /** start(): how many of the most recently active workspaces are precomputed at boot */
  startupWorkspaces: number;
  /** the chat may answer from a workspace's last completed run this long (ms); 0 or absent: never */
  staleMaxMs?: number;
}

export type PrecomputeOutcome = 'ok' | 'skipped' | 'failed' | 'cancelled';

export interface PrecomputeResult {
  workspace: string;
  outcome: PrecomputeOutcome;
  duration_ms: number;
  /** distinct recommended policies replayed (of `goals`) */
  replays: number;
  /** replays that failed (e.g. a policy with no rule the replay can apply: the turn reports it as skipped too) */
  replay_failures: number;
  reason?: string;
  finished_at: string;
}

export interface PrecomputeStatus {
  enabled: boolean;
  /** workspaces waiting for their debounce, or due and queued */
  pending: string[];
  running: string | null;
  runs: Record<PrecomputeOutcome, number>;
  last: PrecomputeResult | null;
}

export interface AnalysisPrecompute {
  /** Events landed in (or were repriced in) the workspace: precompute it after the debounce (once started). Never throws. */
  touch(workspace: string): void;
  /** A serving process starts: arm the touches so far, and touch the most recently active workspaces with events. Never throws. */
  start(): void;
  /** Precompute the workspace now (after the one running, if any; joins its run when it is running or queued already);
   * resolves with the result, never rejects. */
  run(workspace: string): Promise<PrecomputeResult>;
  /** Resolves when nothing is waiting, queued or running (benchmarks and tests). */
  whenIdle(): Promise<void>;
  status(): PrecomputeStatus;
  /** Prometheus instruments on the app's registry: runs by outcome, last duration, workspaces pending. */
  registerMetrics(registry: Registry): void;
  /** The workspace's last completed run's values (kept when staleMaxMs > 0; dropped when a turn finds it too old); null when none. */
  snapshot(workspace: string): AnalysisSnapshot | null;
  /** Events were deleted or repriced: the workspace's snapshot no longer counts a prefix of its data, so it is never served again. */
  dropSnapshot(workspace: string): void;
  close(): Promise<void>;
}

export interface PrecomputeDeps {
  analysis: AnalysisService;
  store: Pick<AnalyticsStore, 'workspaces'>;
  /** without a query cache there is nothing to precompute into: every run is skipped */
  cache: QueryCache | null;
  log?: Logger;
}

class Cancelled extends Error {}

export function createAnalysisPrecompute(deps: PrecomputeDeps, opts: PrecomputeOptions): AnalysisPrecompute {
  const cacheOpts = { ttlMs: opts.ttlMs };
  /** debounced: the time of the first touch not yet run, and the timer */
  const waiting = new Map<string, { first: number; timer: NodeJS.Timeout }>();
  /** due, in order */
  const queue: string[] = [];
  /** callers of run() per workspace, resolved by its next run */
  const callers = new Map<string, ((r: PrecomputeResult) => void)[]>();
  let running: { workspace: string; done: Promise<void> } | null = null;
  let idleWaiters: (() => void)[] = [];
  const controller = new AbortController();
  let closed = false;
  let started = false;
  /** touched before start() */
  const early = new Set<string>();
  const runs: Record<PrecomputeOutcome, number> = { ok: 0, skipped: 0, failed: 0, cancelled: 0 };
  let last: PrecomputeResult | null = null;
  const staleMaxMs = opts.staleMaxMs ?? 0;
  /** the last completed run of each workspace (staleMaxMs > 0) */
  const snapshots = new Map<string, AnalysisSnapshot>();
  if (staleMaxMs > 0 && deps.cache) {
    deps.analysis.useSnapshots?.({
      latest(workspace) {
        const s = snapshots.get(workspace);
        if (!s) return null;
        if (Date.now() - s.completed_at <= staleMaxMs) return s;
        snapshots.delete(workspace); // too old to be served again
        return null;
      },
      async eventsNow(workspace) {
        return (await deps.analysis.stats({ workspace })).events; // scoped to the workspace (and cached for this generation)
      },
    });
  }

  const idle = () => waiting.size === 0 && queue.length === 0 && running === null;
  const notifyIdle = () => {
    if (!idle()) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };

  const due = (workspace: string) => {
    waiting.delete(workspace);
    if (!queue.includes(workspace)) queue.push(workspace);
    drain();
  };

  const drain = () => {
    if (running || closed) return notifyIdle();
    const workspace = queue.shift();
    if (workspace === undefined) return notifyIdle();
    const done = precompute(workspace)
      .then((r) => {
        runs[r.outcome]++;
        last = r;
        const waiters = callers.get(workspace) ?? [];
        callers.delete(workspace);
        for (const f of waiters) f(r);
      })
      .finally(() => {
        running = null;
        drain();
      });
    running = { workspace, done };
  };

  const check = () => {
    if (controller.signal.aborted) throw new Cancelled();
  };

  async function precompute(workspace: string): Promise<PrecomputeResult> {
    const t0 = performance.now();
    const result = (outcome: PrecomputeOutcome, extra: Partial<PrecomputeResult> = {}): PrecomputeResult => ({
      workspace,
      outcome,
      duration_ms: Math.round(performance.now() - t0),
      replays: 0,
      replay_failures: 0,
      ...extra,
      finished_at: new Date().toISOString(),
    });
    const cache = deps.cache;
    if (!cache) return result('skipped', { reason: 'the query cache is disabled' });
    try {
      check();
      const keep = staleMaxMs > 0;
      const catalogVersion = deps.analysis.catalogVersion?.() ?? null;
      // the supervisor's triage and data agents: stats of the whole history
      let stats = await deps.analysis.stats({ workspace }, cacheOpts);
      if (stats.events === 0) return result('skipped', { reason: 'no events' });
      check();
      // the generation the analysis is computed at (a later ingest only makes the snapshot stale sooner)
      const generation = keep ? await cache.generation(workspace) : 0;
      // the triage's names and the most asked breakdown ("Where does my money go?") first: a turn during the precompute
      // reads them from current data (a figure is never answered from the snapshot), and behind the analysis they would
      // wait seconds in the store's read queue; ahead of it they take a few hundred ms over 1M events
      await deps.analysis.names(workspace, cacheOpts);
      await deps.analysis.breakdown({ workspace, query: WHERE_MONEY_GOES }, cacheOpts);
      check();
      // the triage probe and the optimization agent: one cached analysis, re-ranked per goal on read
      const analysis = await deps.analysis.analyze({ workspace }, cacheOpts);
      // the optimization agent: the recommended policy of the turn's goal, then its replay
      const policies = new Map<string, PolicyInput>();
      for (const goal of opts.goals) {
        check();
        const p = await deps.analysis.recommendedPolicy({ workspace, goal }, cacheOpts);
        policies.set(stableStringify(p), p);
      }
      let replayFailures = 0;
      const replays: Record<string, ReplayResult | { failed: string }> = {};
      for (const [key, policy] of policies) {
        check();
        replays[key] = await deps.analysis.simulate({ workspace, policy }, cacheOpts).catch((err: unknown) => {
          replayFailures++;
          deps.log?.debug({ workspace, err: (err as Error).message }, 'precompute: the recommended policy could not be replayed');
          return { failed: (err as Error).message };
        });
      }
      const r = result('ok', { replays: policies.size - replayFailures, replay_failures: replayFailures });
      if (keep && catalogVersion !== null) {
        // stats and analysis of the same data (an ingest between them: the stats the analysis used, if still cached)
        if (stats.events !== analysis.summary.events) stats = await deps.analysis.stats({ workspace }, cacheOpts);
        if (stats.events === analysis.summary.events && deps.analysis.catalogVersion?.() === catalogVersion) {
          snapshots.set(workspace, {
            workspace,
            generation,
            completed_at: Date.now(),
            catalog_version: catalogVersion,
            stats,
            analysis,
            replays,
          });
        }
      }
      deps.log?.info({ workspace, duration_ms: r.duration_ms, replays: r.replays, events: stats.events }, 'analysis precomputed');
      return r;
    } catch (err) {
      if (err instanceof Cancelled) return result('cancelled');
      const r = result('failed', { reason: (err as Error).message });
      deps.log?.warn({ workspace, err: r.reason, duration_ms: r.duration_ms }, 'analysis precompute failed');
      return r;
    }
  }

  const touch = (workspace: string) => {
    if (!opts.enabled || closed) return;
    if (!started) {
      early.add(workspace);
      return;
    }
    const now = Date.now();
    const w = waiting.get(workspace);
    const first = w?.first ?? now;
    if (w) clearTimeout(w.timer);
    const delay = Math.max(0, Math.min(opts.debounceMs, first + opts.maxWaitMs - now));
    const timer = setTimeout(() => due(workspace), delay);
    timer.unref();
    waiting.set(workspace, { first, timer });
  };

  return {
    touch,
    start() {
      if (!opts.enabled || closed || started) return;
      started = true;
      for (const w of early) touch(w);
      early.clear();
      if (opts.startupWorkspaces <= 0) return;
      deps.store
        .workspaces()
        .then((all) => {
          const recent = all
            .filter((w) => w.events > 0 && w.last_event !== null)
            .sort((a, b) => b.last_event! - a.last_event!)
            .slice(0, opts.startupWorkspaces);
          for (const w of recent) touch(w.workspace);
        })
        .catch((err: unknown) => deps.log?.warn({ err: (err as Error).message }, 'analysis precompute: listing workspaces failed'));
    },
    run(workspace) {
      if (closed)
        return Promise.resolve({
          workspace,
          outcome: 'cancelled',
          duration_ms: 0,
          replays: 0,
          replay_failures: 0,
          finished_at: new Date().toISOString(),
        });
      const p = new Promise<PrecomputeResult>((res) => callers.set(workspace, [...(callers.get(workspace) ?? []), res]));
      // running or queued already: that run answers (any later ingest has touched it again)
      if (running?.workspace === workspace || queue.includes(workspace)) return p;
      const w = waiting.get(workspace);
      if (w) clearTimeout(w.timer);
      due(workspace);
      return p;
    },
    whenIdle() {
      return idle() || closed ? Promise.resolve() : new Promise<void>((res) => idleWaiters.push(res));
    },
    snapshot(workspace) {
      return snapshots.get(workspace) ?? null;
    },
    dropSnapshot(workspace) {
      snapshots.delete(workspace);
    },
    status() {
      return {
        enabled: opts.enabled,
        pending: [...waiting.keys(), ...queue],
        running: running?.workspace ?? null,
        runs: { ...runs },
        last,
      };
    },
    registerMetrics(registry) {
      const registers = [registry];
      const seen: Record<PrecomputeOutcome, number> = { ok: 0, skipped: 0, failed: 0, cancelled: 0 };
      new Counter({
        name: 'netra_precompute_runs_total',
        help: 'Analysis precompute runs by outcome (ok, skipped, failed, cancelled)',
        labelNames: ['outcome'],
        registers,
        collect() {
          for (const o of Object.keys(runs) as PrecomputeOutcome[]) {
            if (runs[o] > seen[o]) this.inc({ outcome: o }, runs[o] - seen[o]);
            seen[o] = runs[o];
          }
        },
      });
      new Gauge({
        name: 'netra_precompute_last_duration_seconds',
        help: 'Duration of the last analysis precompute run',
        registers,
        collect() {
          if (last) this.set(last.duration_ms / 1000);
        },
      });
      new Gauge({
        name: 'netra_precompute_pending',
        help: 'Workspaces waiting for (or running) their analysis precompute',
        registers,
        collect() {
          this.set(waiting.size + queue.length + (running ? 1 : 0));
        },
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      controller.abort();
      for (const w of waiting.values()) clearTimeout(w.timer);
      waiting.clear();
      queue.length = 0;
      await running?.done;
      const now = new Date().toISOString();
      for (const [workspace, fs] of callers)
        for (const f of fs) f({ workspace, outcome: 'cancelled', duration_ms: 0, replays: 0, replay_failures: 0, finished_at: now });
      callers.clear();
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    },
  };
}
