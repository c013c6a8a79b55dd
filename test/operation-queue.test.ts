/**
 * The embedded store's operation queue (src/store/operation-queue.ts): one operation at a time, in order, urgent ones
 * before the normal ones still waiting; and over a real DuckDB store, a breakdown asked while an analysis's queries
 * are queued runs right after the one running instead of after all of them.
 */
import { describe, expect, it } from 'vitest';
import { OperationQueue } from '../src/store/operation-queue.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { makeEvent } from './store.suite.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('operation queue', () => {
  it('runs one operation at a time in arrival order; an urgent one goes after the running one, before the waiting ones', async () => {
    const q = new OperationQueue();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const op = (name: string) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await tick();
      await tick();
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const all = [q.run(op('a')), q.run(op('b')), q.run(op('c')), q.run(op('u'), true), q.run(op('v'), true)];
    expect(q.waiting).toBe(4);
    expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'u', 'v']);
    expect(most).toBe(1);
    expect(log.filter((l) => l.startsWith('start')).map((l) => l.slice(6))).toEqual(['a', 'u', 'v', 'b', 'c']);
  });

  it('a failing operation (thrown or rejected) fails only its own caller; the queue goes on', async () => {
    const q = new OperationQueue();
    const thrown = q.run(() => {
      throw new Error('sync');
    });
    const rejected = q.run(async () => {
      throw new Error('async');
    });
    const ok = q.run(async () => 7);
    await expect(thrown).rejects.toThrow('sync');
    await expect(rejected).rejects.toThrow('async');
    expect(await ok).toBe(7);
    expect(q.waiting).toBe(0);
  });

  it('DuckDB store: a breakdown asked behind a queued analysis completes before the analysis queries still waiting', async () => {
    const store = createDuckDbStore({ path: ':memory:' });
    await store.init();
    try {
      const t0 = Date.UTC(2026, 0, 1);
      await store.append(
        Array.from({ length: 2000 }, (_, i) =>
          makeEvent({ event_id: `e${i}`, workspace: 'q', timestamp: t0 + i * 1000, app: `app${i % 5}`, latency_ms: 100 + (i % 50) }),
        ),
      );
      const scope = { workspace: 'q', from: t0, to: t0 + 2000 * 1000 };
      const done: string[] = [];
      const track = (name: string, p: Promise<unknown>) => p.then(() => done.push(name));
      const analysis = [
        track('routing', store.analysis.routingSegments(scope)),
        track('batch', store.analysis.batchCandidates(scope)),
        track('max_tokens', store.analysis.maxTokensGroups(scope)),
        track('retry', store.analysis.retryWaste(scope)),
      ];
      const figure = track(
        'breakdown',
        store.analysis.breakdown(scope, { dimension: 'app', granularity: null, filters: [], rank_by: 'spend', top: 10 }),
      );
      await Promise.all([...analysis, figure]);
      // at most the first analysis query (already running or about to) before it; in arrival order it would be last
      expect(done.indexOf('breakdown')).toBeLessThanOrEqual(1);
      expect(done).toHaveLength(5);
    } finally {
      await store.close();
    }
  });
});
