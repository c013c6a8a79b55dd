/**
 * The run-event bus across processes (scale-out): two RunServices stand for two server processes sharing one
 * relational database and one Redis, each with its own RedisRunEventBus (its own connections and instance id). A follower
 * of "process B" sees every event of a run executing in "process A" live, in order, once; a stop sent to B cancels the
 * run in A; a late follower catches up from the database; with Redis unreachable following degrades to the database.
 * Skipped (with the reason) when REDIS_URL is unset. test/scale-out.test.ts does the same with two real `netra serve`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DbHandle } from '../src/db/client.js';
import { parseConfig } from '../src/config.js';
import { workspaces } from '../src/db/schema.js';
import { ConversationsRepository, type ConversationScope } from '../src/chat/conversations-repository.js';
import { RunService, type RunEvent } from '../src/chat/run-service.js';
import { LocalRunEventBus, RedisRunEventBus } from '../src/chat/run-event-bus.js';
import type { RunEventDraft, RunExecutor, RunRequest, RunResult } from '../src/agents/types.js';

const REDIS_URL = process.env.REDIS_URL;

/** Emits agent_started, then one partial_result per `next()` call, until `finish()`; stops promptly when aborted. */
class SteppedExecutor implements RunExecutor {
  private wake: (() => void) | null = null;
  private pending = 0;
  private finishing = false;
  private onStart: () => void = () => undefined;
  readonly started = new Promise<void>((res) => {
    this.onStart = res;
  });
  next(n = 1): void {
    this.pending += n;
    this.wake?.();
  }
  finish(): void {
    this.finishing = true;
    this.wake?.();
  }
  async execute(req: RunRequest, emit: (e: RunEventDraft) => Promise<void>, signal: AbortSignal): Promise<RunResult> {
    await emit({ type: 'agent_started', payload: { request: req.request } });
    this.onStart();
    let step = 0;
    for (;;) {
      if (signal.aborted) return { status: 'cancelled', content: '' };
      if (this.pending > 0) {
        this.pending--;
        await emit({ type: 'partial_result', payload: { step: ++step } });
        continue;
      }
      if (this.finishing) break;
      await new Promise<void>((res) => {
        this.wake = res;
        signal.addEventListener('abort', () => res(), { once: true });
      });
    }
    await emit({ type: 'final_report', payload: { content: `done after ${step} steps` } });
    await emit({ type: 'agent_completed', payload: {} });
    return { status: 'completed', content: `done after ${step} steps` };
  }
}

/** Collects a follower's events; `until(type)` resolves when one of that type arrives. */
function collector() {
  const events: RunEvent[] = [];
  const waiters: { type: string; res: () => void }[] = [];
  return {
    events,
    on: (e: RunEvent) => {
      events.push(e);
      for (const w of waiters.filter((x) => x.type === e.type)) w.res();
    },
    until: (type: string, ms = 5_000) =>
      new Promise<void>((res, rej) => {
        if (events.some((e) => e.type === type)) return res();
        const t = setTimeout(() => rej(new Error(`no ${type} within ${ms} ms; got ${events.map((e) => e.type).join(',')}`)), ms);
        waiters.push({
          type,
          res: () => {
            clearTimeout(t);
            res();
          },
        });
      }),
  };
}

const waitFor = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.skipIf(!REDIS_URL)('run events across processes through Redis', () => {
  const prefix = `netra-test-bus-${randomUUID()}:`;
  const alice: ConversationScope = { workspace: 'bus-ws', userId: 'alice' };
  const mallory: ConversationScope = { workspace: 'bus-ws', userId: 'mallory' };
  let handle: DbHandle;
  let repo: ConversationsRepository;
  let busA: RedisRunEventBus;
  let busB: RedisRunEventBus;
  let exec: SteppedExecutor;
  let a: RunService;
  let b: RunService;

  beforeAll(async () => {
    handle = await openDatabase(parseConfig({}), undefined, { pgliteDir: 'memory://' });
    await handle.db.insert(workspaces).values({ name: 'bus-ws' });
    repo = new ConversationsRepository(handle.db);
    busA = new RedisRunEventBus({ url: REDIS_URL!, prefix });
    busB = new RedisRunEventBus({ url: REDIS_URL!, prefix });
    await Promise.all([busA.connect(), busB.connect()]);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await busA?.close();
    await busB?.close();
    await handle?.close();
  });

  const fresh = () => {
    exec = new SteppedExecutor();
    a = new RunService({ repo, executor: exec, bus: busA });
    b = new RunService({ repo, executor: new SteppedExecutor(), bus: busB });
  };

  it('a follower in process B receives every event of a run executing in A, live, in order, once', async () => {
    fresh();
    const t = (await repo.createThread(alice, 'scale'))!;
    const { run, done } = await a.start(alice, { thread_id: t.id, request: 'where does my money go?' });
    await exec.started;
    exec.next(2);
    for (let i = 0; i < 500 && (await a.eventsAfter(alice, run.id, 0)).length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const c = collector();
    const f = await b.follow(alice, run.id, 0, c.on);
    expect(busB.remoteSubscriptions).toBe(1);
    // these are emitted after B subscribed: they can only reach B through Redis
    exec.next(3);
    await waitFor(() => c.events.length >= 6);
    exec.finish();
    await c.until('agent_completed');
    await f.ended;
    await done;
    expect(c.events.map((e) => e.event_id)).toEqual(c.events.map((_, i) => i + 1));
    expect(c.events.map((e) => e.type)).toEqual(['agent_started', ...Array(5).fill('partial_result'), 'final_report', 'agent_completed']);
    expect(c.events.every((e) => e.run_id === run.id && e.thread_id === t.id)).toBe(true);
    const persisted = await a.eventsAfter(alice, run.id, 0);
    expect(c.events).toEqual(persisted);
    await waitFor(() => busB.remoteSubscriptions === 0); // unsubscribed once the run ended
  });

  it("a stop sent to process B cancels the run executing in A, and B's follower sees agent_stopped", async () => {
    fresh();
    const t = (await repo.createThread(alice, 'stop'))!;
    const { run, done } = await a.start(alice, { thread_id: t.id, request: 'long analysis' });
    await exec.started;
    const c = collector();
    await b.follow(alice, run.id, 0, c.on);
    expect(await b.stop(mallory, run.id)).toBeNull(); // not mallory's run
    const t0 = performance.now();
    const stopped = await b.stop(alice, run.id);
    const ms = performance.now() - t0;
    expect(stopped?.status).toBe('cancelled');
    expect(ms).toBeLessThan(1_000);
    await c.until('agent_stopped');
    expect((await done)?.status).toBe('cancelled');
    expect(c.events.at(-1)!.type).toBe('agent_stopped');
    expect(await b.stop(alice, run.id)).toBeNull(); // already over
  });

  it('a follower arriving after the run ended gets the persisted events and ends at once; an outsider gets nothing', async () => {
    fresh();
    const t = (await repo.createThread(alice, 'late'))!;
    const { run, done } = await a.start(alice, { thread_id: t.id, request: 'short' });
    await exec.started;
    exec.finish();
    await done;
    const c = collector();
    const f = await b.follow(alice, run.id, 1, c.on);
    await f.ended;
    expect(c.events.map((e) => e.event_id)).toEqual([2, 3]);
    const outsider = collector();
    const g = await b.follow(mallory, run.id, 0, outsider.on);
    await g.ended;
    expect(outsider.events).toEqual([]);
    expect(busB.remoteSubscriptions).toBe(0);
  });

  it('without a shared bus, or with Redis unreachable, following falls back to the persisted events', async () => {
    const t = (await repo.createThread(alice, 'degraded'))!;
    const e1 = new SteppedExecutor();
    const local = new RunService({ repo, executor: e1, bus: new LocalRunEventBus() });
    const { run, done } = await local.start(alice, { thread_id: t.id, request: 'x' });
    await e1.started;
    // another process without Redis: sees what is persisted, cannot follow live, cannot stop
    const other = new RunService({ repo, executor: new SteppedExecutor(), bus: new LocalRunEventBus() });
    const c = collector();
    const f = await other.follow(alice, run.id, 0, c.on);
    await f.ended;
    expect(c.events.map((e) => e.type)).toEqual(['agent_started']);
    expect(await other.stop(alice, run.id)).toBeNull();
    // a Redis bus that cannot connect: follow still answers from the database within the subscribe timeout
    const dead = new RedisRunEventBus({ url: 'redis://127.0.0.1:1', prefix, subscribeTimeoutMs: 300 });
    await dead.connect();
    const viaDead = new RunService({ repo, executor: new SteppedExecutor(), bus: dead });
    const d = collector();
    const g = await viaDead.follow(alice, run.id, 0, d.on);
    expect(d.events.map((e) => e.type)).toEqual(['agent_started']);
    g.close();
    await dead.close();
    e1.finish();
    await done;
    await local.close();
  });
});
