/**
 * Chat runs on a shared PostgreSQL survive a dead process: two or three RunServices stand for server processes,
 * each over its own connection pool to one database. A run carries its executing process's instance id (`owner`) and a
 * heartbeat; another process's sweeps leave a live run alone, and record failed (with the reason and an `agent_error`
 * event) a run whose owner stopped heartbeating, publishing its end so followers end. The bus is Redis when REDIS_URL is
 * set (a follower in a third process), else one in-process LocalRunEventBus both services share (the follower on the
 * owner's service). Skipped (with the reason) when DATABASE_URL is unset; the config checks always run.
 */
import { randomUUID } from 'node:crypto';
import { sharedPostgres } from './helpers/databases.js';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../src/config.js';
import type { DbHandle } from '../src/db/client.js';
import { workspaces } from '../src/db/schema.js';
import { ConversationsRepository, type ConversationScope } from '../src/chat/conversations-repository.js';
import { RunService, runInterruptedNoHeartbeat, type RunEvent, type RunServiceDeps } from '../src/chat/run-service.js';
import { LocalRunEventBus, RedisRunEventBus, type RunEventBus } from '../src/chat/run-event-bus.js';
import type { RunEventDraft, RunExecutor, RunRequest, RunResult } from '../src/agents/types.js';

const pgUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;

/** Emits agent_started, then holds the run until released (completes) or aborted (cancelled). */
class HeldExecutor implements RunExecutor {
  aborted = false;
  private release: () => void = () => undefined;
  private onStart: () => void = () => undefined;
  readonly started = new Promise<void>((res) => {
    this.onStart = res;
  });
  finish(): void {
    this.release();
  }
  async execute(req: RunRequest, emit: (e: RunEventDraft) => Promise<void>, signal: AbortSignal): Promise<RunResult> {
    await emit({ type: 'agent_started', payload: { request: req.request } });
    this.onStart();
    await new Promise<void>((res) => {
      this.release = res;
      signal.addEventListener(
        'abort',
        () => {
          this.aborted = true;
          res();
        },
        { once: true },
      );
    });
    if (signal.aborted) return { status: 'cancelled', content: '' };
    await emit({ type: 'agent_completed', payload: {} });
    return { status: 'completed', content: 'held answer' };
  }
}

/** Polls `cond` until it holds; fails after `ms` (no sleeps as synchronisation). */
async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** `p`, or a clear failure after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what} not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('runs config: heartbeat and staleness', () => {
  it('reads NETRA_RUNS_HEARTBEAT_MS and NETRA_RUNS_STALE_AFTER_MS, defaults 10 s / 60 s, and refuses a staleness under two heartbeats', () => {
    expect(configFromEnv({}).runs).toEqual({ heartbeatIntervalMs: 10_000, staleAfterMs: 60_000, groupCommitMaxRows: 256 });
    expect(
      configFromEnv({ NETRA_RUNS_HEARTBEAT_MS: '500', NETRA_RUNS_STALE_AFTER_MS: '2000', NETRA_RUNS_GROUP_COMMIT_MAX_ROWS: '8' }).runs,
    ).toEqual({ heartbeatIntervalMs: 500, staleAfterMs: 2000, groupCommitMaxRows: 8 });
    const bad = (() => {
      try {
        configFromEnv({ NETRA_RUNS_HEARTBEAT_MS: '10000', NETRA_RUNS_STALE_AFTER_MS: '15000' });
      } catch (e) {
        return e;
      }
    })() as { field?: string; message: string };
    expect(bad?.field).toBe('runs.staleAfterMs');
    expect(bad.message).toMatch(/at least twice.*NETRA_RUNS_HEARTBEAT_MS/);
    const zero = (() => {
      try {
        configFromEnv({ NETRA_RUNS_HEARTBEAT_MS: '0' });
      } catch (e) {
        return e;
      }
    })() as { field?: string };
    expect(zero?.field).toBe('runs.heartbeatIntervalMs');
    expect(runInterruptedNoHeartbeat(60_000)).toBe('interrupted: the process executing it stopped (no heartbeat for 60 s)');
  });
});

describe.skipIf(!pgUrl)(`runs ownership on a shared PostgreSQL${pgUrl ? '' : ' (skipped: DATABASE_URL is not set)'}`, () => {
  const shared = sharedPostgres(pgUrl!, 'runs');
  const prefix = `netra-test-runs-${randomUUID()}:`;
  const alice: ConversationScope = { workspace: 'runs-hb', userId: 'alice' };
  const buses: RunEventBus[] = [];
  const services: RunService[] = [];
  let dbA: DbHandle;
  let dbB: DbHandle;
  let repoA: ConversationsRepository;
  let repoB: ConversationsRepository;
  /** without Redis, every "process" shares this one in-process bus */
  const localBus = new LocalRunEventBus();

  /** another process's view of the same database: its own pool */
  const openProcessDb = shared.open;
  /** a process's bus: its own Redis connections and instance id, or the shared in-process one */
  const processBus = async (): Promise<RunEventBus> => {
    if (!redisUrl) return localBus;
    const b = new RedisRunEventBus({ url: redisUrl, prefix });
    await b.connect();
    buses.push(b);
    return b;
  };
  const service = (repo: ConversationsRepository, bus: RunEventBus, executor: RunExecutor, o: Partial<RunServiceDeps>) => {
    const s = new RunService({ repo, bus, executor, ...o });
    services.push(s);
    return s;
  };
  const runRow = async (db: DbHandle, id: string) => {
    const res = await db.db.execute(sql`select status, owner, error, finished_at, heartbeat_at, created_at,
      (extract(epoch from (heartbeat_at - created_at)) * 1000)::float8 as alive_ms from runs where id = ${id}`);
    return (res as unknown as { rows: Record<string, unknown>[] }).rows[0] as {
      status: string;
      owner: string | null;
      error: string | null;
      finished_at: Date | null;
      alive_ms: number | null;
    };
  };

  beforeAll(async () => {
    await shared.create();
    dbA = await openProcessDb();
    dbB = await openProcessDb();
    await dbA.db.insert(workspaces).values({ name: 'runs-hb' });
    repoA = new ConversationsRepository(dbA.db);
    repoB = new ConversationsRepository(dbB.db);
  }, 30_000);

  // each test's "processes" stop with it, so their timers never sweep the next test's rows
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
  });

  afterAll(async () => {
    for (const b of buses) await b.close();
    await shared.drop();
  }, 30_000);

  it("another process's start-up and sweeps never touch a live process's running run", async () => {
    const exec = new HeldExecutor();
    const a = service(repoA, await processBus(), exec, { heartbeatIntervalMs: 50, staleAfterMs: 300 });
    const b = service(repoB, await processBus(), new HeldExecutor(), { heartbeatIntervalMs: 50, staleAfterMs: 300 });
    expect(a.owner).not.toBe(b.owner);
    const t = (await repoA.createThread(alice, 'live'))!;
    const { run, done } = await a.start(alice, { thread_id: t.id, request: 'long analysis' });
    await exec.started;
    expect(await b.recover(false)).toBe(0); // B starts while A executes the run; its timer then sweeps every 50 ms
    // A's heartbeat keeps the run alive for three times the staleness while B sweeps
    await waitFor(async () => ((await runRow(dbB, run.id)).alive_ms ?? 0) > 900, 10_000, 'heartbeat past 3x staleness');
    expect(await b.sweep()).toBe(0);
    const r = await runRow(dbB, run.id);
    expect([r.status, r.owner, r.error]).toEqual(['running', a.owner, null]);
    exec.finish();
    expect((await done)?.status).toBe('completed');
    expect((await repoB.eventsAfter(alice, run.id)).map((e) => e.type)).toEqual(['agent_started', 'agent_completed']);
  }, 30_000);

  it('records failed, with the reason and an agent_error event, a run whose process stopped heartbeating; its follower ends', async () => {
    const exec = new HeldExecutor();
    // A stops heartbeating (its interval outlasts the test): to B it is a process that died mid-run
    const a = service(repoA, await processBus(), exec, { heartbeatIntervalMs: 60_000, staleAfterMs: 120_000 });
    const t = (await repoA.createThread(alice, 'dead owner'))!;
    const { run, done } = await a.start(alice, { thread_id: t.id, request: 'analysis' });
    await exec.started;
    // the follower: in a third process over Redis, or (one in-process bus) on the owner's service
    const follower = redisUrl
      ? service(new ConversationsRepository((await openProcessDb()).db), await processBus(), new HeldExecutor(), {
          heartbeatIntervalMs: 60_000,
          staleAfterMs: 3_600_000,
        })
      : a;
    const seen: RunEvent[] = [];
    const f = await follower.follow(alice, run.id, 0, (e) => seen.push(e));
    expect(seen.map((e) => e.type)).toEqual(['agent_started']);
    let ended = false;
    void f.ended.then(() => {
      ended = true;
    });

    const b = service(repoB, await processBus(), new HeldExecutor(), { heartbeatIntervalMs: 50, staleAfterMs: 300 });
    await b.recover(false); // starts B's timer: its sweeps find the run once A's heartbeat is 300 ms old
    await waitFor(() => ended, 10_000, 'follower end');

    const reason = runInterruptedNoHeartbeat(300);
    expect(reason).toBe('interrupted: the process executing it stopped (no heartbeat for 0.3 s)');
    expect(seen.map((e) => [e.event_id, e.type])).toEqual([
      [1, 'agent_started'],
      [2, 'agent_error'],
    ]);
    expect(seen[1]!.payload).toEqual({ code: 'NETRA_E_INTERRUPTED', message: reason });
    expect(seen[1]!.thread_id).toBe(t.id);
    const r = await runRow(dbB, run.id);
    expect([r.status, r.owner, r.error]).toEqual(['failed', a.owner, reason]);
    expect(r.finished_at).not.toBeNull();
    // a resume (any process) shows how it ended
    expect((await b.eventsAfter(alice, run.id, 0)).map((e) => e.type)).toEqual(['agent_started', 'agent_error']);
    expect(await b.stop(alice, run.id)).toBeNull(); // over: nothing to stop, no 2 s wait

    // the "dead" owner shuts down late: its run is aborted, and the failed record and events stand
    await a.close();
    expect(exec.aborted).toBe(true);
    expect((await done)?.status).toBe('failed');
    expect((await runRow(dbB, run.id)).status).toBe('failed');
    expect((await b.eventsAfter(alice, run.id, 0)).map((e) => e.type)).toEqual(['agent_started', 'agent_error']);
  }, 30_000);

  it('sweeps rows without an owner or heartbeat by their age, and never its own runs', async () => {
    const exec = new HeldExecutor();
    const b = service(repoB, await processBus(), exec, { heartbeatIntervalMs: 60_000, staleAfterMs: 300 });
    const t = (await repoB.createThread(alice, 'legacy'))!;
    const old = (await repoB.createRun(alice, t.id, { request: 'from an older version' }))!;
    const fresh = (await repoB.createRun(alice, t.id, { request: 'just created' }))!;
    await dbB.db.execute(sql`update runs set created_at = now() - interval '1 hour' where id = ${old.id}`);
    const { run: mine, done } = await b.start(alice, { thread_id: t.id, request: 'mine' });
    await exec.started;
    // B's own run with an old heartbeat (say the database was unreachable for a while): B never fails its own runs
    await dbB.db.execute(sql`update runs set heartbeat_at = now() - interval '1 hour' where id = ${mine.id}`);
    expect(await b.sweep()).toBe(1);
    expect((await runRow(dbB, old.id)).status).toBe('failed');
    expect((await repoB.eventsAfter(alice, old.id)).map((e) => [e.seq, e.type])).toEqual([[1, 'agent_error']]);
    expect((await runRow(dbB, fresh.id)).status).toBe('queued');
    expect((await runRow(dbB, mine.id)).status).toBe('running');
    exec.finish();
    expect((await done)?.status).toBe('completed');
    // `fresh` stays queued: removed with its thread, so the next test's sweeps count only that test's runs
    expect(await repoB.deleteThread(alice, t.id)).toBe(true);
  }, 30_000);

  it('an owner whose run was recorded failed while it could not heartbeat stops executing it and keeps that record', async () => {
    const exec = new HeldExecutor();
    const a = service(repoA, await processBus(), exec, { heartbeatIntervalMs: 50, staleAfterMs: 300 });
    const b = service(repoB, await processBus(), new HeldExecutor(), { heartbeatIntervalMs: 60_000, staleAfterMs: 300 });
    const t = (await repoA.createThread(alice, 'taken'))!;
    const { run, done } = await a.start(alice, { thread_id: t.id, request: 'analysis' });
    await exec.started;
    // A's heartbeat "could not be written" for an hour: B's sweep takes A for dead (A's own tick may refresh it first: retry)
    await waitFor(
      async () => {
        await dbB.db.execute(sql`update runs set heartbeat_at = now() - interval '1 hour' where id = ${run.id} and status = 'running'`);
        return (await b.sweep()) === 1;
      },
      10_000,
      "B sweeping A's run",
    );
    // A's next heartbeat finds the run no longer its own: it aborts the executor and keeps B's record
    const final = await within(done, 10_000, 'the owner noticing its run was taken');
    expect(exec.aborted).toBe(true);
    expect([final?.status, final?.error]).toEqual(['failed', runInterruptedNoHeartbeat(300)]);
    expect(a.isActive(run.id)).toBe(false);
    expect((await repoA.eventsAfter(alice, run.id)).map((e) => e.type)).toEqual(['agent_started', 'agent_error']);
    expect((await repoA.listMessages(alice, t.id))!.map((m) => m.role)).toEqual(['user']);
  }, 30_000);

  it.skipIf(!redisUrl)(
    'a stop sent from another process to a run whose process died ends it at once after the stop timeout',
    async () => {
      const exec = new HeldExecutor();
      const busA = await processBus();
      const a = service(repoA, busA, exec, { heartbeatIntervalMs: 60_000, staleAfterMs: 120_000 });
      const b = service(repoB, await processBus(), new HeldExecutor(), {
        heartbeatIntervalMs: 60_000,
        staleAfterMs: 300,
        remoteStopTimeoutMs: 200,
      });
      const t = (await repoA.createThread(alice, 'stop dead'))!;
      const { run } = await a.start(alice, { thread_id: t.id, request: 'analysis' });
      await exec.started;
      await busA.close(); // A's process is gone from Redis: no one answers the stop request
      await waitFor(
        async () =>
          (
            (await dbB.db.execute(
              sql`select 1 from runs where id = ${run.id} and heartbeat_at < now() - interval '300 milliseconds'`,
            )) as unknown as { rows: unknown[] }
          ).rows.length === 1,
        10_000,
        'heartbeat older than the staleness',
      );
      const t0 = performance.now();
      expect(await b.stop(alice, run.id)).toBeNull(); // not cancelled: recorded failed by B's sweep after the 200 ms wait
      expect(performance.now() - t0).toBeLessThan(2_000);
      const r = await runRow(dbB, run.id);
      expect([r.status, r.error]).toEqual(['failed', runInterruptedNoHeartbeat(300)]);
    },
    30_000,
  );
});
