/**
 * Group commit of the chat's writes: concurrent turns, events, messages and status changes go to the database together
 * (fewer statements than writes), each resolves after its commit with the same result the single-row path gives, ownership
 * is checked per write, two writes to one thread never share a statement (the second sees the first), and one bad write in
 * a batch fails alone while the others commit. On PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, DbHandle } from '../src/db/client.js';
import { workspaces } from '../src/db/schema.js';
import { GroupCommit } from '../src/db/group-commit.js';
import { ConversationsRepository, type ConversationScope } from '../src/chat/conversations-repository.js';
import { testDatabases } from './helpers/databases.js';

/** The database, counting the raw statements the repository sends (the batched and single-row writes use execute). */
function counting(db: Database): { db: Database; executes: () => number } {
  let n = 0;
  const wrapped = new Proxy(db, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'execute' && typeof v === 'function')
        return (...args: unknown[]) => {
          n++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { db: wrapped, executes: () => n };
}

/** A committer that upper-cases its writes and records each statement's batch (3 rows at most, one per first letter). */
function upperCasing(window?: 'turn') {
  const batches: string[][] = [];
  const gc = new GroupCommit<string, string>(
    async (items) => {
      batches.push(items);
      return items.map((i) => i.toUpperCase());
    },
    async (item) => {
      batches.push([item]);
      return item.toUpperCase();
    },
    { maxRows: 3, key: (i) => i[0]!, ...(window ? { window } : {}) },
  );
  return { gc, batches };
}

describe('GroupCommit', () => {
  it('sends the first write at once, the ones that follow in the same turn together, never two of one key in a batch', async () => {
    const { gc, batches } = upperCasing();
    const out = await Promise.all(['a1', 'b1', 'a2', 'c1', 'd1', 'e1'].map((i) => gc.submit(i)));
    expect(out).toEqual(['A1', 'B1', 'A2', 'C1', 'D1', 'E1']);
    expect(batches[0]).toEqual(['a1']);
    // a2 waits while a1 (same key) is in flight; at most 3 per batch; order of submission kept otherwise
    expect(batches.flat().sort()).toEqual(['a1', 'a2', 'b1', 'c1', 'd1', 'e1']);
    expect(batches.every((b) => b.length <= 3 && new Set(b.map((i) => i[0])).size === b.length)).toBe(true);
    expect(batches.flat().indexOf('a2')).toBeGreaterThan(batches.flat().indexOf('a1'));
    expect(batches.length).toBeLessThan(6);
  });

  it('with the turn window, sends the writes of one turn together at its end, never two of one key in a batch', async () => {
    const { gc, batches } = upperCasing('turn');
    const out = await Promise.all(['a1', 'b1', 'a2', 'c1', 'd1', 'e1'].map((i) => gc.submit(i)));
    expect(out).toEqual(['A1', 'B1', 'A2', 'C1', 'D1', 'E1']);
    // nothing goes alone: at most 3 per batch, a2 waits for the batch holding a1 (same key), order kept otherwise
    expect(batches).toEqual([
      ['a1', 'b1', 'c1'],
      ['a2', 'd1', 'e1'],
    ]);
  });

  it('with the turn window, sends the writes that arrive while a batch commits in the next batch, as soon as that one ends', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const held = new Promise<void>((res) => {
      release = res;
    });
    const gc = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await held;
        return items;
      },
      async (item) => {
        batches.push([item]);
        if (batches.length === 1) await held;
        return item;
      },
      { maxRows: 10, window: 'turn' },
    );
    const first = gc.submit(1);
    await new Promise<void>((res) => setImmediate(res));
    expect(batches).toEqual([[1]]); // a turn with one write: a batch of one
    const later = [2, 3, 4].map((i) => gc.submit(i));
    await new Promise<void>((res) => setImmediate(res));
    expect(batches).toEqual([[1]]); // waiting for the statement in flight
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('retries the writes of a failed batch one by one: only the bad one fails', async () => {
    const gc = new GroupCommit<number, number>(
      async (items) => {
        if (items.includes(13)) throw new Error('batch refused');
        return items;
      },
      async (item) => {
        if (item === 13) throw new Error(`bad ${item}`);
        return item * 10;
      },
      { maxRows: 100 },
    );
    const settled = await Promise.allSettled([1, 2, 13, 4].map((i) => gc.submit(i)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([10, 20, 'bad 13', 40]);
  });
});

for (const target of testDatabases()) {
  describe(`chat group commit on ${target.name}`, () => {
    let handle: DbHandle;
    let repo: ConversationsRepository;
    let executes: () => number;
    const alice: ConversationScope = { workspace: 'gc-a', userId: 'alice' };
    const bob: ConversationScope = { workspace: 'gc-a', userId: 'bob' };

    beforeAll(async () => {
      handle = await target.open();
      await handle.db.insert(workspaces).values([{ name: 'gc-a' }]);
      const c = counting(handle.db);
      executes = c.executes;
      repo = new ConversationsRepository(c.db, { groupCommitMaxRows: 64 });
    });
    afterAll(async () => {
      await handle?.close();
      await target.drop();
    });

    it('opens 40 concurrent turns in a few statements, each with its own history and previous report, scoped to its owner', async () => {
      const threads = await Promise.all(Array.from({ length: 40 }, (_, i) => repo.createThread(alice, `t${i}`)));
      const bobs = (await repo.createThread(bob, 'bob'))!;
      // one earlier turn in thread 0, with a final report
      const first = (await repo.openRun(alice, threads[0]!.id, { request: 'earlier', historyLimit: 50 }))!;
      await repo.appendEvent(alice, first.run.id, { seq: 1, type: 'final_report', payload: { text: 'before' }, ts: new Date() });
      await repo.addMessage(alice, threads[0]!.id, { role: 'assistant', content: 'answer before', runId: first.run.id });

      const before = executes();
      const opened = await Promise.all([
        ...threads.map((t, i) => repo.openRun(alice, t!.id, { request: `q${i}`, goal: 'cost', owner: 'proc-1', historyLimit: 50 })),
        repo.openRun(alice, bobs.id, { request: 'not mine', historyLimit: 50 }), // alice does not own bob's thread
        repo.openRun(alice, threads[1]!.id, { request: 'q1 again', historyLimit: 50 }), // same thread: the next statement
      ]);
      const statements = executes() - before;
      // 42 writes: the 41 distinct threads in one statement, the second turn of thread 1 after it
      expect(statements).toBe(2);
      expect(opened[40]).toBeNull();
      for (let i = 0; i < 40; i++) {
        const o = opened[i]!;
        expect(o.run.threadId).toBe(threads[i]!.id);
        expect(o.run.request).toBe(`q${i}`);
        expect(o.run.status).toBe('queued');
        expect(o.run.goal).toBe('cost');
        expect(o.run.owner).toBe('proc-1');
        expect(o.run.heartbeatAt).toBeInstanceOf(Date);
        expect(o.run.createdAt).toBeInstanceOf(Date);
      }
      expect(opened[0]!.history.map((m) => [m.role, m.content])).toEqual([
        ['user', 'earlier'],
        ['assistant', 'answer before'],
      ]);
      expect(opened[0]!.previousReport).toEqual({ text: 'before' });
      expect(opened[2]!.history).toEqual([]);
      expect(opened[2]!.previousReport).toBeNull();
      // the second turn of thread 1 went after the first committed: it sees that turn's message
      expect(opened[41]!.history.map((m) => m.content)).toEqual(['q1']);
      expect((await repo.listMessages(alice, threads[5]!.id))!.map((m) => [m.role, m.content, m.runId])).toEqual([
        ['user', 'q5', opened[5]!.run.id],
      ]);
      expect(await repo.listMessages(bob, bobs.id)).toEqual([]);
    });

    it('persists concurrent events, messages and status changes together; a bad or foreign write fails alone', async () => {
      const threads = await Promise.all(Array.from({ length: 20 }, (_, i) => repo.createThread(alice, `e${i}`)));
      const runs = (await Promise.all(threads.map((t) => repo.openRun(alice, t!.id, { request: 'r', historyLimit: 5 })))).map(
        (o) => o!.run,
      );
      const bobThread = (await repo.createThread(bob, 'b'))!;
      const bobRun = (await repo.openRun(bob, bobThread.id, { request: 'b', historyLimit: 5 }))!.run;
      await repo.appendEvent(alice, runs[3]!.id, { seq: 1, type: 'x', payload: {}, ts: new Date() });

      const appended = await Promise.allSettled([
        ...runs.map((r, i) =>
          repo.appendEvent(alice, r.id, {
            seq: 1,
            type: 'agent_started',
            payload: { i, nested: { ok: true } },
            ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
          }),
        ),
        repo.appendEvent(alice, bobRun.id, { seq: 1, type: 'agent_started', payload: {}, ts: new Date() }),
      ]);
      // run 3 already has event 1 (primary key): that write fails, the others commit; bob's run is not alice's
      expect(appended.map((s) => (s.status === 'fulfilled' ? s.value : 'error'))).toEqual([
        ...runs.map((_, i) => (i === 3 ? 'error' : true)),
        false,
      ]);
      const ev = await repo.eventsAfter(alice, runs[7]!.id);
      expect(ev.map((e) => [e.seq, e.type, e.payload, e.ts.toISOString()])).toEqual([
        [1, 'agent_started', { i: 7, nested: { ok: true } }, '2026-01-01T00:00:07.000Z'],
      ]);
      expect(await repo.eventsAfter(bob, bobRun.id)).toEqual([]);

      const started = new Date('2026-02-02T10:00:00.000Z');
      const claimed = await Promise.all([
        ...runs.map((r) => repo.updateRun(alice, r.id, { status: 'running', startedAt: started }, { whileStatus: ['queued'] })),
        repo.updateRun(alice, bobRun.id, { status: 'running' }),
      ]);
      expect(
        claimed
          .slice(0, 20)
          .every(
            (r, i) => r?.id === runs[i]!.id && r.status === 'running' && r.startedAt?.getTime() === started.getTime() && r.error === null,
          ),
      ).toBe(true);
      expect(claimed[20]).toBeNull();
      // only while queued: a second claim finds them running
      const again = await Promise.all(runs.map((r) => repo.updateRun(alice, r.id, { status: 'running' }, { whileStatus: ['queued'] })));
      expect(again.every((r) => r === null)).toBe(true);

      const before = executes();
      const answered = await Promise.all(
        runs.map((r, i) => repo.addMessage(alice, r.threadId, { role: 'assistant', content: `a${i}`, runId: r.id })),
      );
      expect(answered.map((m) => m?.content)).toEqual(runs.map((_, i) => `a${i}`));
      expect(executes() - before).toBeLessThan(5); // 20 messages: one at once, then one batch
      const finished = await Promise.all(
        runs.map((r, i) =>
          repo.updateRun(
            alice,
            r.id,
            { status: i % 2 ? 'completed' : 'failed', finishedAt: new Date(), error: i % 2 ? null : 'boom' },
            { whileStatus: ['queued', 'running'] },
          ),
        ),
      );
      expect(finished.map((r) => [r?.status, r?.error, r?.startedAt?.toISOString()])).toEqual(
        runs.map((_, i) => [i % 2 ? 'completed' : 'failed', i % 2 ? null : 'boom', started.toISOString()]),
      );
      expect((await repo.getRun(bob, bobRun.id))!.status).toBe('queued');
    });
  });
}
