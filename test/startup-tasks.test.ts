/**
 * Startup tasks: the scheduler with succeeding, failing and hanging tasks (short configured delays, synchronised on the
 * scheduler's events), the default 60 s / 90 s / 5 min figures with fake timers, no timers left after close(), and the
 * real maintenance tasks inside the app (store maintenance, reprice after a catalog change, cache warm-up) with a
 * failure showing as 'degraded' readiness.
 */
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config.js';
import { CATALOG_APPLIED_FILE } from '../src/jobs/maintenance-tasks.js';
import { StartupTaskScheduler, StartupTimeoutError, type StartupTask } from '../src/jobs/startup-tasks.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const FAST = { delayMs: 5, timeoutMs: 200, retryBackoffMs: 10, maxAttempts: 3 };
const schedulers: StartupTaskScheduler[] = [];
function scheduler(tasks: StartupTask[], opts: Partial<typeof FAST> = {}) {
  const s = new StartupTaskScheduler(tasks, { ...FAST, ...opts });
  schedulers.push(s);
  return s;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(schedulers.splice(0).map((s) => s.close()));
});

/** Resolves with the arguments of the next `event` of task `name`. */
function next(s: StartupTaskScheduler, event: 'task-start' | 'task-success' | 'task-failure', name: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    const on = (...args: unknown[]) => {
      if (args[0] !== name) return;
      s.off(event, on);
      resolve(args);
    };
    s.on(event, on);
  });
}

describe('startup task scheduler', () => {
  it('start() returns at once; a succeeding task runs after the delay and keeps its result', async () => {
    const s = scheduler([{ name: 'ok', run: async () => ({ done: 1 }) }]);
    const started = next(s, 'task-start', 'ok');
    s.start();
    expect(s.status()[0]).toMatchObject({ state: 'pending', attempts: 0 });
    expect(s.status()[0]!.next_attempt_at).not.toBeNull();
    await started;
    const [, attempt, result] = await next(s, 'task-success', 'ok');
    expect(attempt).toBe(1);
    expect(result).toEqual({ done: 1 });
    expect(s.status()[0]).toMatchObject({ state: 'succeeded', attempts: 1, last_error: null, result: { done: 1 } });
    expect(s.degraded()).toBe(false);
  });

  it('a failing task makes health degraded, is retried after the backoff up to maxAttempts, then left failed', async () => {
    let calls = 0;
    const s = scheduler(
      [
        {
          name: 'bad',
          run: async () => {
            calls++;
            throw new Error(`disk full #${calls}`);
          },
        },
      ],
      { maxAttempts: 2 },
    );
    s.start();
    const [, a1, err1, info1] = await next(s, 'task-failure', 'bad');
    expect(a1).toBe(1);
    expect((err1 as Error).message).toBe('disk full #1');
    expect(info1).toMatchObject({ timedOut: false });
    expect((info1 as { retryAt: string }).retryAt).not.toBeNull();
    expect(s.degraded()).toBe(true);
    expect(s.status()[0]).toMatchObject({ state: 'failed', attempts: 1, last_error: 'disk full #1' });
    expect(s.activeTimers()).toBe(1); // the retry
    const [, a2, , info2] = await next(s, 'task-failure', 'bad');
    expect(a2).toBe(2);
    expect(info2).toMatchObject({ retryAt: null });
    expect(s.activeTimers()).toBe(0);
    expect(calls).toBe(2);
    expect(s.status()[0]).toMatchObject({ state: 'failed', attempts: 2, last_error: 'disk full #2', next_attempt_at: null });
  });

  it('a retry that succeeds clears the degraded state', async () => {
    let calls = 0;
    const s = scheduler([
      {
        name: 'flaky',
        run: async () => {
          if (++calls === 1) throw new Error('not yet');
          return 'ok';
        },
      },
    ]);
    s.start();
    await next(s, 'task-failure', 'flaky');
    expect(s.degraded()).toBe(true);
    await next(s, 'task-success', 'flaky');
    expect(s.degraded()).toBe(false);
    expect(s.status()[0]).toMatchObject({ state: 'succeeded', attempts: 2 });
  });

  it('a hanging task times out (its signal aborts), a retry is scheduled, and the next task still runs', async () => {
    let signal: AbortSignal | undefined;
    const s = scheduler(
      [
        {
          name: 'hang',
          run: (sig) => {
            signal = sig;
            return new Promise(() => {});
          },
        },
        { name: 'after', run: async () => 'ran' },
      ],
      { timeoutMs: 30, retryBackoffMs: 60_000 },
    );
    s.start();
    const [, , err, info] = await next(s, 'task-failure', 'hang');
    expect(err).toBeInstanceOf(StartupTimeoutError);
    expect((err as Error).message).toMatch(/'hang' timed out after 30 ms/);
    expect(info).toMatchObject({ timedOut: true });
    expect(signal!.aborted).toBe(true);
    expect(s.status().find((t) => t.name === 'hang')!.next_attempt_at).not.toBeNull();
    await next(s, 'task-success', 'after');
    expect(s.activeTimers()).toBe(1); // the 60 s retry of 'hang'
    await s.close();
    expect(s.activeTimers()).toBe(0);
  });

  it('runs one task at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    const task = (name: string): StartupTask => ({
      name,
      async run() {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setImmediate(r));
        running--;
      },
    });
    const s = scheduler([task('a'), task('b'), task('c')]);
    const idle = once(s, 'idle');
    s.start();
    await idle;
    expect(maxRunning).toBe(1);
    expect(s.status().map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('close() during a hanging attempt aborts it, clears every timer and resolves', async () => {
    const s = scheduler([{ name: 'hang', run: () => new Promise(() => {}) }], { timeoutMs: 60_000 });
    const started = next(s, 'task-start', 'hang');
    s.start();
    await started;
    expect(s.activeTimers()).toBe(1); // the timeout
    await s.close();
    expect(s.activeTimers()).toBe(0);
    s.start(); // closed: arms nothing
    expect(s.activeTimers()).toBe(0);
  });

  it('uses the configured defaults: start 60 s after boot, time out at 90 s, retry after 5 min (fake timers)', async () => {
    vi.useFakeTimers();
    const cfg = parseConfig({}).startup;
    expect(cfg).toMatchObject({ delayMs: 60_000, timeoutMs: 90_000, retryBackoffMs: 300_000 });
    const starts: number[] = [];
    const failures: boolean[] = [];
    const s = scheduler(
      [
        {
          name: 'hang',
          run: () => {
            starts.push(Date.now());
            return new Promise(() => {});
          },
        },
      ],
      cfg,
    );
    s.on('task-failure', (_n, _a, _e, info: { timedOut: boolean }) => failures.push(info.timedOut));
    const t0 = Date.now();
    s.start();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(starts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([t0 + 60_000]);
    await vi.advanceTimersByTimeAsync(89_999);
    expect(failures).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(failures).toEqual([true]);
    await vi.advanceTimersByTimeAsync(299_999);
    expect(starts.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([t0 + 60_000, t0 + 60_000 + 90_000 + 300_000]);
  });
});

describe('startup tasks in the app', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const quick = { startup: { delayMs: 0, timeoutMs: 60_000, retryBackoffMs: 600_000, warmWorkspaces: 2 } };

  it('never block start-up: createApp returns before any task ran, and close() leaves no scheduler timer', async () => {
    t = await startTestApp({ startup: { delayMs: 60_000 } });
    await t.app.listen();
    expect(t.app.startupTasks.status().every((s) => s.state === 'pending')).toBe(true);
    expect(t.app.startupTasks.activeTimers()).toBe(1);
    await t.app.close();
    expect(t.app.startupTasks.activeTimers()).toBe(0);
  });

  it('maintains the store, reprices workspaces priced by another catalog version, and warms the cache', async () => {
    t = await startTestApp(quick);
    const end = Date.UTC(2026, 10, 20);
    await t.app.generate({ preset: 'chat-support', events: 300, days: 1, seed: 1, workspace: 'w1', end });
    await t.app.generate({ preset: 'chat-support', events: 200, days: 1, seed: 2, workspace: 'w2', end: end - 86_400_000 });
    await t.app.generate({ preset: 'chat-support', events: 100, days: 1, seed: 3, workspace: 'w3', end: end - 2 * 86_400_000 });
    const version = t.app.catalog().version;
    writeFileSync(join(t.dir, CATALOG_APPLIED_FILE), JSON.stringify({ w1: version, w2: 'an-older-catalog' }));
    const idle = once(t.app.startupTasks, 'idle');
    await t.app.listen();
    await idle;
    const byName = Object.fromEntries(t.app.startupTasks.status().map((s) => [s.name, s]));
    expect(byName['store-maintenance']).toMatchObject({ state: 'succeeded', result: { engine: 'duckdb' } });
    expect(byName['reprice-after-catalog-change']!.state).toBe('succeeded');
    const repriced = (byName['reprice-after-catalog-change']!.result as { repriced: Record<string, unknown> }).repriced;
    expect(Object.keys(repriced).sort()).toEqual(['w2', 'w3']); // w1 already had this version
    expect(JSON.parse(readFileSync(join(t.dir, CATALOG_APPLIED_FILE), 'utf8'))).toEqual({ w1: version, w2: version, w3: version });
    // generated prompts are all under the providers' cacheable minimum: nothing to derive, recorded complete without a job
    expect(byName['prefix-block-backfill']).toMatchObject({ state: 'succeeded', result: { submitted: [] } });
    expect((byName['prefix-block-backfill']!.result as { completed: string[] }).completed.sort()).toEqual(['w1', 'w2', 'w3']);
    expect(byName['cache-warm-up']).toMatchObject({ state: 'succeeded', result: { warmed: ['w1', 'w2'] } });
    // the warm-up left the analysis of the most recent workspace in the cache
    const hits = t.app.cache!.stats().hits;
    await t.app.analysis.analyze({ workspace: 'w1' });
    expect(t.app.cache!.stats().hits).toBe(hits + 1);
    const ready = await t.app.server.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', degraded: [] });
  });

  it('a failing task shows as degraded readiness (still 200) until it succeeds; close() clears its retry', async () => {
    t = await startTestApp(quick);
    await t.app.generate({ preset: 'chat-support', events: 50, days: 1, seed: 1, workspace: 'w1' });
    mkdirSync(join(t.dir, CATALOG_APPLIED_FILE)); // a directory where the file should be: reading it fails
    const failed = next(t.app.startupTasks, 'task-failure', 'reprice-after-catalog-change');
    const idle = once(t.app.startupTasks, 'idle');
    await t.app.listen();
    await failed;
    await idle;
    const ready = await t.app.server.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    const body = ready.json();
    expect(body.status).toBe('degraded');
    expect(body.degraded).toEqual([expect.stringMatching(/^startup task 'reprice-after-catalog-change' failed: .*EISDIR/)]);
    expect(body.startup_tasks.find((s: { name: string }) => s.name === 'cache-warm-up').state).toBe('succeeded');
    expect(t.logs.some((l) => l.includes('startup task failed'))).toBe(true);
    expect(t.app.startupTasks.activeTimers()).toBe(1); // the retry in 10 min
    await t.app.close();
    expect(t.app.startupTasks.activeTimers()).toBe(0);
  });
});
