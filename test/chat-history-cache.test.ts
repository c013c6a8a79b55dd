/**
 * The thread history a process remembers (src/chat/history-cache.ts): a turn's statement reads the history only when the
 * thread's message count is not the remembered one; a message written by another process (another repository over the same
 * database) is seen; a deleted thread, a thread that changed owner, and another caller's thread are refused whatever is
 * remembered. On PGlite, and on PostgreSQL when DATABASE_URL is set. And the batch statements as prepared statements
 * (src/db/prepared.ts: PGlite's session, PostgreSQL's pooled connections): the same answers, whatever the text carries.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandle } from '../src/db/client.js';
import { threads, workspaces } from '../src/db/schema.js';
import { openRuns } from '../src/chat/conversation-batches.js';
import { direct, dollarQuoted, preparedStatements } from '../src/db/prepared.js';
import { ConversationsRepository, type ConversationScope } from '../src/chat/conversations-repository.js';
import { ThreadHistoryCache, type HistoryMessage } from '../src/chat/history-cache.js';
import { testDatabases } from './helpers/databases.js';

const msg = (id: string, createdUs: number, content = id): HistoryMessage => ({
  row: { id, threadId: 't', role: 'user', content, runId: null, createdAt: new Date(createdUs / 1000) },
  createdUs,
});

describe('ThreadHistoryCache', () => {
  it('moves an entry forward only with the next message in history order, and keeps the newest `cap`', () => {
    const c = new ThreadHistoryCache(1 << 20);
    c.set('t', 2, 2, [msg('a', 10), msg('b', 20)]);
    expect(c.get('t', 2)).toEqual({ count: 2, messages: [msg('a', 10).row, msg('b', 20).row] });
    expect(c.get('t', 3)).toBeNull(); // holds 2 at most: cannot answer for 3
    expect(c.get('t', 1)!.messages.map((m) => m.id)).toEqual(['b']);

    c.appended('t', 4, msg('x', 30)); // not the next write (count 3 is missing): unchanged
    expect(c.get('t', 2)!.count).toBe(2);
    c.appended('t', 3, msg('c', 15)); // sorts before the newest remembered one: unchanged
    expect(c.get('t', 2)!.count).toBe(2);
    c.appended('t', 3, msg('c', 30));
    expect(c.get('t', 2)).toEqual({ count: 3, messages: [msg('b', 20).row, msg('c', 30).row] });
    // the same microsecond: id decides, as in the history read
    c.appended('t', 4, msg('a0', 30));
    expect(c.get('t', 2)!.count).toBe(3);
    c.appended('t', 4, msg('d', 30));
    expect(c.get('t', 2)!.messages.map((m) => m.id)).toEqual(['c', 'd']);

    c.set('t', 1, 2, [msg('old', 1)]); // older than what is remembered: ignored
    expect(c.get('t', 2)!.count).toBe(4);
    c.drop('t');
    expect(c.get('t', 2)).toBeNull();
  });

  it('forgets the least recently used threads beyond its size', () => {
    const c = new ThreadHistoryCache(10_000);
    for (let i = 0; i < 50; i++) c.set(`t${i}`, 1, 5, [msg(`m${i}`, i, 'x'.repeat(1000))]);
    expect(c.size).toBeLessThan(10);
    expect(c.get('t49', 5)).not.toBeNull();
    expect(c.get('t0', 5)).toBeNull();
  });
});

for (const target of testDatabases()) {
  describe(`remembered thread history on ${target.name}`, () => {
    let handle: DbHandle;
    let here: ConversationsRepository; // this process
    let elsewhere: ConversationsRepository; // another process on the same database
    const alice: ConversationScope = { workspace: 'hc-a', userId: 'alice' };
    const bob: ConversationScope = { workspace: 'hc-a', userId: 'bob' };

    beforeAll(async () => {
      handle = await target.open();
      await handle.db.insert(workspaces).values([{ name: 'hc-a' }]);
      here = new ConversationsRepository(handle.db);
      elsewhere = new ConversationsRepository(handle.db);
    });
    afterAll(async () => {
      await handle?.close();
      await target.drop();
    });

    /** the history a repository that remembers nothing gives (the reference) */
    async function freshHistory(scope: ConversationScope, threadId: string, limit: number): Promise<string[]> {
      const cold = new ConversationsRepository(handle.db, { historyCacheBytes: 0 });
      const msgs = (await cold.listMessages(scope, threadId))!;
      return msgs.slice(Math.max(0, msgs.length - limit)).map((m) => `${m.role}:${m.content}`);
    }

    it('reads the history only when the thread changed since, and sees messages written elsewhere', async () => {
      const t = (await here.createThread(alice, 'h'))!;
      const seen: string[][] = [];
      const turn = async (repo: ConversationsRepository, q: string) => {
        const before = await freshHistory(alice, t.id, 3);
        const o = (await repo.openRun(alice, t.id, { request: q, historyLimit: 3 }))!;
        expect(o.history.map((m) => `${m.role}:${m.content}`)).toEqual(before);
        seen.push(before);
        await repo.addMessage(alice, t.id, { role: 'assistant', content: `a-${q}`, runId: o.run.id });
      };
      await turn(here, 'q1');
      await turn(here, 'q2');
      await turn(elsewhere, 'q3'); // the other process's turn: this one's memory is out of date
      await turn(here, 'q4');
      await elsewhere.addMessage(alice, t.id, { role: 'assistant', content: 'late note' });
      await turn(here, 'q5');
      expect(seen.at(-1)).toEqual(['user:q4', 'assistant:a-q4', 'assistant:late note']);

      // the statement skips the read when told the count it has, and reads when the count moved
      const [a] = await openRuns(direct(handle.db), [
        { scope: alice, threadId: t.id, request: 'probe', goal: null, owner: null, historyLimit: 3, knownCount: null },
      ]);
      expect(a!.history!.map((m) => m.row.content)).toEqual(['late note', 'q5', 'a-q5']);
      expect(a!.countAfter).toBe(a!.countBefore + 1);
      const [b] = await openRuns(direct(handle.db), [
        { scope: alice, threadId: t.id, request: 'probe 2', goal: null, owner: null, historyLimit: 3, knownCount: a!.countAfter },
      ]);
      expect(b!.history).toBeNull();
      const [c] = await openRuns(direct(handle.db), [
        { scope: alice, threadId: t.id, request: 'probe 3', goal: null, owner: null, historyLimit: 3, knownCount: a!.countBefore },
      ]);
      expect(c!.history!.map((m) => m.row.content)).toEqual(['a-q5', 'probe', 'probe 2']);
    });

    it('refuses a deleted thread, a thread that changed owner, and another caller, whatever it remembers', async () => {
      const t = (await here.createThread(alice, 'gone'))!;
      const o = (await here.openRun(alice, t.id, { request: 'q', historyLimit: 5 }))!;
      await here.addMessage(alice, t.id, { role: 'assistant', content: 'a', runId: o.run.id });
      // bob never sees alice's thread, though its history is remembered here
      expect(await here.openRun(bob, t.id, { request: 'mine?', historyLimit: 5 })).toBeNull();
      expect(await here.addMessage(bob, t.id, { role: 'user', content: 'mine?' })).toBeNull();
      // the thread moves to bob (no API does this today; ownership is read at each use)
      await handle.db.update(threads).set({ userId: 'bob' }).where(eq(threads.id, t.id));
      expect(await here.openRun(alice, t.id, { request: 'still mine?', historyLimit: 5 })).toBeNull();
      const bobs = (await here.openRun(bob, t.id, { request: 'now mine', historyLimit: 5 }))!;
      expect(bobs.history.map((m) => m.content)).toEqual(['q', 'a']);
      // deleted by the other process: refused here although remembered
      expect(await elsewhere.deleteThread(bob, t.id)).toBe(true);
      expect(await here.openRun(bob, t.id, { request: 'after delete', historyLimit: 5 })).toBeNull();
      // deleted here: forgotten too
      const u = (await here.createThread(alice, 'gone too'))!;
      await here.openRun(alice, u.id, { request: 'q', historyLimit: 5 });
      expect(await here.deleteThread(alice, u.id)).toBe(true);
      expect(await here.openRun(alice, u.id, { request: 'after delete', historyLimit: 5 })).toBeNull();
    });
  });

  describe(`prepared batch statements on ${target.name}`, () => {
    let handle: DbHandle;
    const carol: ConversationScope = { workspace: 'hc-p', userId: 'carol' };
    beforeAll(async () => {
      handle = await target.open();
      await handle.db.insert(workspaces).values([{ name: 'hc-p' }]);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('passes any text through the dollar-quoted literal unchanged', async () => {
      for (const text of ["it's", '$v$', 'ends with $v', '$$ and $v0$', 'back\\slash \\n', '\u00e9\u{1F600}', '']) {
        const lit = dollarQuoted(text);
        const rows = (await handle.db.execute(sql.raw(`select ${lit}::text as t`))) as unknown as { rows: { t: string }[] };
        expect(rows.rows[0]!.t).toBe(text);
      }
    });

    it('gives the answers of the plain statements, batch after batch', async () => {
      const repo = new ConversationsRepository(handle.db, { statements: preparedStatements(handle) });
      const plain = new ConversationsRepository(handle.db, { historyCacheBytes: 0 });
      const ts = await Promise.all([0, 1, 2].map((i) => repo.createThread(carol, `p${i}`)));
      const tricky = ["q'1", 'q $v$ 2', 'q $$ 3 $v'];
      for (let turn = 0; turn < 7; turn++) {
        const opened = await Promise.all(
          ts.map((t, i) => repo.openRun(carol, t!.id, { request: `${tricky[i]}#${turn}`, historyLimit: 4 })),
        );
        for (const [i, o] of opened.entries()) {
          const all = (await plain.listMessages(carol, ts[i]!.id))!;
          expect(o!.history.map((m) => m.content)).toEqual(all.slice(Math.max(0, all.length - 5), -1).map((m) => m.content));
          expect(o!.run.request).toBe(`${tricky[i]}#${turn}`);
        }
        await Promise.all(
          opened.map((o, i) => repo.addMessage(carol, ts[i]!.id, { role: 'assistant', content: `a'$v$${turn}`, runId: o!.run.id })),
        );
        await Promise.all(
          opened.map((o) =>
            repo.appendEvent(carol, o!.run.id, { seq: 1, type: 'agent_completed', payload: { s: "'$v$" }, ts: new Date() }),
          ),
        );
        const done = await Promise.all(
          opened.map((o) => repo.updateRun(carol, o!.run.id, { status: 'completed' }, { whileStatus: ['queued'] })),
        );
        expect(done.map((r) => r?.status)).toEqual(['completed', 'completed', 'completed']);
      }
      expect((await plain.eventsAfter(carol, (await plain.listRuns(carol, ts[0]!.id))[0]!.id))[0]!.payload).toEqual({ s: "'$v$" });
      // another caller's thread stays refused through the prepared statement
      expect(await repo.openRun({ workspace: 'hc-p', userId: 'mallory' }, ts[0]!.id, { request: 'x', historyLimit: 4 })).toBeNull();
      // the rows read back as the plain statements give them
      const last = (await repo.openRun(carol, ts[1]!.id, { request: 'last', historyLimit: 4 }))!;
      expect(last.run).toEqual(await plain.getRun(carol, last.run.id));
      expect(last.previousReport).toBeNull();
    });

    if (target.name === 'postgres')
      it('prepares the batch statements on the pooled connections, each text under one name', async () => {
        const pool = handle.pool!;
        const held = await Promise.all(Array.from({ length: pool.idleCount }, () => pool.connect()));
        const names = new Map<string, string>();
        try {
          for (const c of held) {
            const { rows } = await c.query<{ name: string; statement: string }>(
              "select name, statement from pg_prepared_statements where name like 'netra_stmt_%'",
            );
            for (const r of rows) {
              expect(names.get(r.name) ?? r.statement).toBe(r.statement);
              names.set(r.name, r.statement);
            }
          }
        } finally {
          for (const c of held) c.release();
        }
        // opening a turn, a message, an event and a status change: four texts, four names
        expect(names.size).toBe(4);
        expect(new Set(names.values()).size).toBe(4);
      });
  });
}
