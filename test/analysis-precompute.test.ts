/**
 * The analysis precompute (src/services/analysis-precompute.ts): scheduling (debounce, max wait under continuous
 * ingest, one workspace at a time, close, failures logged not thrown) over a recording analysis service with fake
 * timers; then over the real app: after a precompute the supervisor's turns for the default questions are served from
 * the query cache without a single miss, and a turn that asks while the precompute computes awaits that computation
 * (single-flight) instead of running the analysis a second time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSupervisor } from '../src/agents/index.js';
import type { RunRequest } from '../src/agents/types.js';
import { MemoryQueryCache } from '../src/cache/query-cache.js';
import type { PolicyInput } from '../src/optimize/policy.js';
import type { AnalysisQueries } from '../src/optimize/ports/index.js';
import { createAnalysisPrecompute, type PrecomputeOptions } from '../src/services/analysis-precompute.js';
import { createAnalysisService, type AnalysisService } from '../src/services/analysis-service.js';
import type { AnalyticsStore, WorkspaceStats } from '../src/store/types.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const OPTS: PrecomputeOptions = {
  enabled: true,
  debounceMs: 5_000,
  maxWaitMs: 60_000,
  ttlMs: 86_400_000,
  goals: ['balanced', 'cost', 'latency', 'quality'],
  startupWorkspaces: 3,
};

/** An analysis service that records its calls; each call waits for `gate` when one is set. */
function recordingAnalysis() {
  const calls: { at: number; call: string; workspace: string; ttlMs?: number }[] = [];
  let gate: Promise<void> | null = null;
  let fail: string | null = null;
  const rec = async (call: string, workspace: string, o?: { ttlMs?: number }) => {
    calls.push({ at: Date.now(), call, workspace, ttlMs: o?.ttlMs });
    if (gate) await gate;
    if (fail === call) throw new Error(`${call} broke`);
  };
  const analysis = {
    async stats(scope, o) {
      await rec('stats', scope.workspace, o);
      return { events: scope.workspace === 'empty' ? 0 : 10 } as WorkspaceStats;
    },
    async analyze(req, o) {
      await rec('analyze', req.workspace, o);
      return {} as never;
    },
    // goals cost and latency order the recommendations alike here: three distinct policies of four goals
    async recommendedPolicy(req, o) {
      await rec(`policy:${req.goal}`, req.workspace, o);
      return { name: req.goal === 'latency' ? 'cost' : req.goal } as PolicyInput;
    },
    async simulate(req, o) {
      await rec(`simulate:${(req.policy as PolicyInput).name}`, req.workspace, o);
      return {} as never;
    },
    async breakdown(req, o) {
      await rec('breakdown', req.workspace, o);
      return {} as never;
    },
    async names(workspace, o) {
      await rec('names', workspace, o);
      return {} as never;
    },
    async analysisIfReady(req, o) {
      await rec('analysisIfReady', req.workspace, o);
      return null;
    },
  } satisfies AnalysisService;
  return {
    analysis,
    calls,
    setGate(g: Promise<void> | null) {
      gate = g;
    },
    setFail(c: string | null) {
      fail = c;
    },
  };
}

const cache = new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 100 });
const store = (workspaces: { workspace: string; events: number; last_event: number | null }[] = []) =>
  ({ workspaces: async () => workspaces.map((w) => ({ ...w, first_event: w.last_event })) }) satisfies Pick<AnalyticsStore, 'workspaces'>;

describe('precompute scheduling', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const fake = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 });

  it("runs the turn's calls once, 5 s after the last of a burst of touches, with the long TTL; distinct policies only", async () => {
    fake();
    const r = recordingAnalysis();
    const p = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache }, OPTS);
    p.touch('ws'); // before start(): remembered, not armed (a CLI command never starts the precompute)
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.calls).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    p.start(); // at 60 s
    await vi.advanceTimersByTimeAsync(3_000);
    p.touch('ws');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(r.calls).toEqual([]);
    expect(p.status().pending).toEqual(['ws']);
    await vi.advanceTimersByTimeAsync(1);
    await p.whenIdle();
    expect(r.calls.map((c) => c.call)).toEqual([
      'stats',
      'names',
      'breakdown',
      'analyze',
      'policy:balanced',
      'policy:cost',
      'policy:latency',
      'policy:quality',
      'simulate:balanced',
      'simulate:cost',
      'simulate:quality',
    ]);
    expect(r.calls.every((c) => c.at === 68_000 && c.workspace === 'ws' && c.ttlMs === 86_400_000)).toBe(true);
    expect(p.status()).toMatchObject({
      pending: [],
      running: null,
      runs: { ok: 1, failed: 0 },
      last: { workspace: 'ws', outcome: 'ok', replays: 3 },
    });
    await p.close();
  });

  it('under continuous ingest runs at most maxWait after the first touch', async () => {
    fake();
    const r = recordingAnalysis();
    const p = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache }, OPTS);
    p.start();
    for (let t = 0; t < 70_000; t += 2_000) {
      p.touch('ws');
      await vi.advanceTimersByTimeAsync(2_000);
    }
    expect(r.calls.filter((c) => c.call === 'stats').map((c) => c.at)).toEqual([60_000]);
    await p.close();
  });

  it('one workspace at a time, in the order they became due; a touch during a run queues another run', async () => {
    fake();
    const r = recordingAnalysis();
    let release!: () => void;
    r.setGate(
      new Promise((res) => {
        release = res;
      }),
    );
    const p = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache }, { ...OPTS, debounceMs: 0 });
    p.start();
    p.touch('a');
    p.touch('b');
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls.map((c) => `${c.workspace}:${c.call}`)).toEqual(['a:stats']);
    expect(p.status()).toMatchObject({ running: 'a', pending: ['b'] });
    p.touch('a'); // events landed in a while it runs
    await vi.advanceTimersByTimeAsync(0);
    release();
    r.setGate(null);
    await p.whenIdle();
    const stats = r.calls.filter((c) => c.call === 'stats').map((c) => c.workspace);
    expect(stats).toEqual(['a', 'b', 'a']);
    expect(p.status().runs.ok).toBe(3);
    await p.close();
  });

  it('logs failures and skips empty workspaces, never throws; disabled does nothing; close() clears timers and cancels', async () => {
    fake();
    const r = recordingAnalysis();
    const warnings: unknown[] = [];
    const log = { warn: (o: unknown) => warnings.push(o), info: () => undefined, debug: () => undefined } as never;
    const p = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache, log }, { ...OPTS, debounceMs: 0 });
    p.start();
    r.setFail('analyze');
    expect(() => p.touch('ws')).not.toThrow();
    await vi.advanceTimersByTimeAsync(0);
    await p.whenIdle();
    expect(p.status().last).toMatchObject({ outcome: 'failed', reason: 'analyze broke' });
    expect(warnings).toEqual([expect.objectContaining({ workspace: 'ws', err: 'analyze broke' })]);
    r.setFail(null);
    expect(await p.run('empty')).toMatchObject({ outcome: 'skipped', reason: 'no events' });

    const off = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache }, { ...OPTS, enabled: false });
    const before = r.calls.length;
    off.touch('ws');
    off.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.calls.length).toBe(before);
    expect(await off.run('ws')).toMatchObject({ outcome: 'ok' }); // an explicit run (the startup warm-up) still works

    const closing = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache }, OPTS);
    closing.start();
    closing.touch('x');
    expect(vi.getTimerCount()).toBe(1);
    await closing.close();
    expect(vi.getTimerCount()).toBe(0);
    await closing.whenIdle();
    closing.touch('x');
    expect(vi.getTimerCount()).toBe(0);
    expect(await closing.run('x')).toMatchObject({ outcome: 'cancelled' });
    await p.close();
  });

  it('close() during a run stops it between steps and waits for the step in progress', async () => {
    fake();
    const r = recordingAnalysis();
    let release!: () => void;
    r.setGate(
      new Promise((res) => {
        release = res;
      }),
    );
    const p = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache }, OPTS);
    const result = p.run('ws');
    await vi.advanceTimersByTimeAsync(0);
    let closed = false;
    const c = p.close().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false); // the stats call is still running
    release();
    await c;
    expect(await result).toMatchObject({ outcome: 'cancelled' });
    expect(r.calls.map((x) => x.call)).toEqual(['stats']);
  });

  it('run() of a workspace that is running or queued joins that run instead of queueing another', async () => {
    fake();
    const r = recordingAnalysis();
    let release!: () => void;
    r.setGate(
      new Promise((res) => {
        release = res;
      }),
    );
    const p = createAnalysisPrecompute({ analysis: r.analysis, store: store(), cache }, { ...OPTS, debounceMs: 0 });
    p.start();
    p.touch('a');
    p.touch('b');
    await vi.advanceTimersByTimeAsync(0);
    const [ra, rb] = [p.run('a'), p.run('b')]; // a is running, b is queued
    expect(p.status()).toMatchObject({ running: 'a', pending: ['b'] });
    release();
    r.setGate(null);
    expect(await ra).toMatchObject({ workspace: 'a', outcome: 'ok' });
    expect(await rb).toMatchObject({ workspace: 'b', outcome: 'ok' });
    await p.whenIdle();
    expect(r.calls.filter((c) => c.call === 'stats').map((c) => c.workspace)).toEqual(['a', 'b']);
    await p.close();
  });

  it('start() touches the most recently active workspaces that have events', async () => {
    fake();
    const r = recordingAnalysis();
    const s = store([
      { workspace: 'old', events: 5, last_event: 1_000 },
      { workspace: 'none', events: 0, last_event: null },
      { workspace: 'new', events: 5, last_event: 3_000 },
      { workspace: 'mid', events: 5, last_event: 2_000 },
    ]);
    const p = createAnalysisPrecompute({ analysis: r.analysis, store: s, cache }, { ...OPTS, startupWorkspaces: 2 });
    p.start();
    await vi.advanceTimersByTimeAsync(5_000);
    await p.whenIdle();
    expect(r.calls.filter((c) => c.call === 'stats').map((c) => c.workspace)).toEqual(['new', 'mid']);
    await p.close();
  });
});

const END = Date.UTC(2026, 10, 20);
const request = (text: string): RunRequest => ({
  run_id: 'r1',
  thread_id: 't1',
  workspace: 'gen',
  user_id: 'u1',
  request: text,
  history: [],
});

describe('precompute over the real app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.generate({ preset: 'chat-support', events: 6000, days: 7, seed: 3, workspace: 'gen', end: END });
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('after a precompute, turns for the default questions (every goal) make no cache miss', async () => {
    const p = createAnalysisPrecompute(
      { analysis: t.app.analysis, store: t.app.store, cache: t.app.cache },
      { ...OPTS, debounceMs: 0, startupWorkspaces: 0 },
    );
    p.start();
    p.touch('gen');
    await p.whenIdle();
    expect(p.status().last).toMatchObject({ workspace: 'gen', outcome: 'ok' });
    expect(p.status().last!.replays).toBeGreaterThan(0);
    const sup = createSupervisor({ analysis: t.app.analysis, llm: t.app.llm, catalog: () => t.app.catalog() });
    for (const q of [
      'Where does my money go?',
      'Reduce latency by 3x',
      'What happens if my traffic grows 5x?',
      'Reduce costs but keep quality',
      'Which model should I use for quality?',
    ]) {
      const before = t.app.cache!.stats();
      const events: { type: string; payload: Record<string, unknown> }[] = [];
      const r = await sup.execute(
        request(q),
        async (e) => {
          events.push(e);
        },
        new AbortController().signal,
      );
      expect(r.status).toBe('completed');
      // advice replays the recommended policy; a figure question answers from its breakdown
      expect({
        q,
        tool: events.some(
          (e) => e.type === 'tool_completed' && e.payload.tool === (q === 'Where does my money go?' ? 'breakdown' : 'simulate'),
        ),
      }).toEqual({ q, tool: true });
      const after = t.app.cache!.stats();
      expect({ q, misses: after.misses - before.misses }).toEqual({ q, misses: 0 });
      expect(after.hits).toBeGreaterThan(before.hits);
    }
    // a new ingest retires the entries: the next precompute computes again
    await t.app.generate({ preset: 'chat-support', events: 100, days: 1, seed: 4, workspace: 'gen', end: END });
    const misses = t.app.cache!.stats().misses;
    expect(await p.run('gen')).toMatchObject({ outcome: 'ok' });
    expect(t.app.cache!.stats().misses).toBeGreaterThan(misses);
    await p.close();
  });

  it('single-flight: an advice turn asking while the precompute computes the analysis awaits it (a figure question does not); the store runs it once', async () => {
    // the real store behind an analysis service that counts one of the analysis queries
    let routing = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const counted = (queries: AnalysisQueries) =>
      new Proxy(queries, {
        get(target, prop, recv) {
          const v = Reflect.get(target, prop, recv);
          if (prop === 'routingSegments' && typeof v === 'function')
            return async (...args: unknown[]) => {
              routing++;
              await gate;
              return v.apply(target, args);
            };
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    // the queries of the store and of each snapshot the analysis takes
    const s = new Proxy(t.app.store, {
      get(target, prop, recv) {
        if (prop === 'analysis') return counted(target.analysis);
        if (prop === 'analysisSnapshot')
          return <T>(fn: (q: AnalysisQueries) => Promise<T>) => target.analysisSnapshot((q) => fn(counted(q)));
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const qc = new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 100 });
    const analysis = createAnalysisService({ store: s, catalog: () => t.app.catalog(), cache: qc });
    const p = createAnalysisPrecompute({ analysis, store: s, cache: qc }, OPTS);
    const until = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setImmediate(r));
    };
    const running = p.run('gen');
    // the precompute is inside the analysis (held at one of its store queries)
    await until(() => routing === 1);
    expect(qc.stats()).toMatchObject({ hits: 1, misses: 4 }); // stats, names and the money breakdown computed, the analysis' own stats read, the analysis computing
    const sup = createSupervisor({ analysis, llm: t.app.llm, catalog: () => t.app.catalog() });
    // a figure question does not wait for it: it completes while the analysis is still held
    const figure = await sup.execute(request('Where does my money go?'), async () => undefined, new AbortController().signal);
    expect(figure.status).toBe('completed');
    expect(routing).toBe(1);
    const missesBefore = qc.stats().misses;
    const turn = sup.execute(request('Reduce my costs'), async () => undefined, new AbortController().signal);
    // the turn's stats hit; its analysis lookup missed and joined the running computation
    await until(() => qc.stats().misses === missesBefore + 1);
    expect(qc.inflightCount()).toBe(1);
    release();
    const r = await turn;
    expect(r.status).toBe('completed');
    expect(await running).toMatchObject({ outcome: 'ok' });
    expect(routing).toBe(1);
    await p.close();
    await qc.close();
  });
});
