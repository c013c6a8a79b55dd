/**
 * Conversations: the repository keeps every thread, message, run and event private to its workspace and owner;
 * the run service numbers and persists each event before publishing it, records status and timings, stores the final
 * answer, stops a run within 200 ms and lets a late follower catch up with exactly the events it missed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandle } from '../src/db/client.js';
import { workspaces } from '../src/db/schema.js';
import { ConversationsRepository, type ConversationScope } from '../src/chat/conversations-repository.js';
import { RunService, type RunEvent } from '../src/chat/run-service.js';
import type { RunEventDraft, RunExecutor, RunRequest, RunResult } from '../src/agents/types.js';
import { testDatabases } from './helpers/databases.js';

/** Test double of the agents' contract: emits `steps` events (awaiting each), then answers; loops until aborted if `steps` is Infinity. */
class ScriptedExecutor implements RunExecutor {
  requests: RunRequest[] = [];
  gate: Promise<void> = Promise.resolve();
  constructor(
    private readonly steps: number,
    private readonly fail = false,
  ) {}
  async execute(req: RunRequest, emit: (e: RunEventDraft) => Promise<void>, signal: AbortSignal): Promise<RunResult> {
    this.requests.push(req);
    await emit({ type: 'agent_started', payload: { request: req.request } });
    for (let i = 1; i <= this.steps; i++) {
      if (signal.aborted) return { content: '', status: 'cancelled' };
      await this.gate;
      await new Promise<void>((res) => setImmediate(res));
      if (this.fail && i === 2) throw new Error('tool exploded');
      await emit({ type: 'partial_result', payload: { step: i } });
    }
    await emit({ type: 'final_report', payload: { text: `answer to ${req.request}` } });
    await emit({ type: 'agent_completed', payload: {} });
    return { content: `answer to ${req.request}`, status: 'completed' };
  }
}

for (const target of testDatabases()) {
  describe(`conversations on ${target.name}`, () => {
    let handle: DbHandle;
    let repo: ConversationsRepository;
    const alice: ConversationScope = { workspace: 'ws-a', userId: 'alice' };
    const bob: ConversationScope = { workspace: 'ws-a', userId: 'bob' };
    const aliceB: ConversationScope = { workspace: 'ws-b', userId: 'alice' };

    beforeAll(async () => {
      handle = await target.open();
      await handle.db.insert(workspaces).values([{ name: 'ws-a' }, { name: 'ws-b' }]);
      repo = new ConversationsRepository(handle.db);
    });
    afterAll(async () => {
      await handle?.close();
      await target.drop();
    });

    it('keeps threads, messages, runs and events private to their workspace and owner', async () => {
      expect(await repo.createThread({ workspace: 'nope', userId: 'alice' }, 't')).toBeNull();
      const t = (await repo.createThread(alice, 'costs'))!;
      const other = (await repo.createThread(bob, 'bob thread'))!;
      await repo.createThread(aliceB, 'in b');
      expect((await repo.listThreads(alice)).map((x) => x.id)).toEqual([t.id]);
      expect((await repo.listThreads(bob)).map((x) => x.id)).toEqual([other.id]);
      expect((await repo.listThreads(aliceB)).map((x) => x.title)).toEqual(['in b']);
      for (const s of [bob, aliceB]) {
        expect(await repo.getThread(s, t.id)).toBeNull();
        expect(await repo.renameThread(s, t.id, 'hijacked')).toBeNull();
        expect(await repo.addMessage(s, t.id, { role: 'user', content: 'x' })).toBeNull();
        expect(await repo.listMessages(s, t.id)).toBeNull();
        expect(await repo.createRun(s, t.id, { request: 'x' })).toBeNull();
        expect(await repo.deleteThread(s, t.id)).toBe(false);
      }
      expect(await repo.getThread(alice, 'not-a-uuid')).toBeNull();
      expect((await repo.renameThread(alice, t.id, 'renamed'))!.title).toBe('renamed');
      await repo.addMessage(alice, t.id, { role: 'user', content: 'hello' });
      const run = (await repo.createRun(alice, t.id, { request: 'hello', goal: 'cost' }))!;
      expect(run.status).toBe('queued');
      expect(await repo.appendEvent(bob, run.id, { seq: 1, type: 'agent_started', payload: {}, ts: new Date() })).toBe(false);
      expect(await repo.appendEvent(alice, run.id, { seq: 1, type: 'agent_started', payload: { a: 1 }, ts: new Date() })).toBe(true);
      await expect(repo.appendEvent(alice, run.id, { seq: 1, type: 'again', payload: {}, ts: new Date() })).rejects.toThrow();
      expect(await repo.getRun(bob, run.id)).toBeNull();
      expect(await repo.updateRun(bob, run.id, { status: 'failed' })).toBeNull();
      expect(await repo.eventsAfter(bob, run.id, 0)).toEqual([]);
      expect((await repo.eventsAfter(alice, run.id, 0)).map((e) => [e.seq, e.type, e.payload])).toEqual([[1, 'agent_started', { a: 1 }]]);
      expect((await repo.getRun(alice, run.id))!.status).toBe('queued');
      expect((await repo.listMessages(alice, t.id))!.map((m) => m.content)).toEqual(['hello']);
      expect(await repo.deleteThread(alice, t.id)).toBe(true);
      expect(await repo.getRun(alice, run.id)).toBeNull(); // cascade
      expect(await repo.getThread(bob, other.id)).not.toBeNull();
    });

    it('runs an executor: events numbered and persisted before they are published, answer stored, timings recorded', async () => {
      const exec = new ScriptedExecutor(3);
      const svc = new RunService({ repo, executor: exec });
      const t = (await repo.createThread(alice, 'run'))!;
      await repo.addMessage(alice, t.id, { role: 'assistant', content: 'earlier answer' });
      const { run, done } = await svc.start(alice, { thread_id: t.id, request: 'Where does my money go?', goal: 'cost' });
      const seen: RunEvent[] = [];
      const persistedAtPublish: boolean[] = [];
      const checks: Promise<void>[] = [];
      const f = await svc.follow(alice, run.id, 0, (e) => {
        seen.push(e);
        checks.push(
          repo.eventsAfter(alice, run.id, e.event_id - 1).then((rows) => {
            persistedAtPublish.push(rows[0]?.seq === e.event_id);
          }),
        );
      });
      await f.ended;
      const final = (await done)!;
      await Promise.all(checks);
      expect(seen.map((e) => e.type)).toEqual([
        'agent_started',
        'partial_result',
        'partial_result',
        'partial_result',
        'final_report',
        'agent_completed',
      ]);
      expect(seen.map((e) => e.event_id)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(seen.every((e) => e.run_id === run.id && e.thread_id === t.id)).toBe(true);
      expect(persistedAtPublish).toEqual(seen.map(() => true));
      expect(final.status).toBe('completed');
      expect(final.startedAt!.getTime()).toBeLessThanOrEqual(final.finishedAt!.getTime());
      expect(final.goal).toBe('cost');
      expect(exec.requests[0]!.history).toEqual([{ role: 'assistant', content: 'earlier answer' }]);
      expect(exec.requests[0]!.goal).toBe('cost');
      const msgs = (await repo.listMessages(alice, t.id))!;
      expect(msgs.map((m) => [m.role, m.content])).toEqual([
        ['assistant', 'earlier answer'],
        ['user', 'Where does my money go?'],
        ['assistant', 'answer to Where does my money go?'],
      ]);
      expect(msgs[2]!.runId).toBe(run.id);
      expect((await svc.eventsAfter(alice, run.id, 4)).map((e) => e.event_id)).toEqual([5, 6]);
      expect(await svc.eventsAfter(bob, run.id, 0)).toEqual([]);
      expect(svc.isActive(run.id)).toBe(false);
    });

    it('refuses a thread the caller does not own', async () => {
      const svc = new RunService({ repo, executor: new ScriptedExecutor(1) });
      const t = (await repo.createThread(alice, 'mine'))!;
      await expect(svc.start(bob, { thread_id: t.id, request: 'x' })).rejects.toMatchObject({ code: 'NETRA_E_NOT_FOUND' });
    });

    it('stops a run within 200 ms, records it cancelled with agent_stopped last, and nothing after', async () => {
      const exec = new ScriptedExecutor(Infinity);
      const svc = new RunService({ repo, executor: exec });
      const t = (await repo.createThread(alice, 'stop'))!;
      const { run, done } = await svc.start(alice, { thread_id: t.id, request: 'loop' });
      let firstPartial!: () => void;
      const partial = new Promise<void>((res) => {
        firstPartial = res;
      });
      await svc.follow(alice, run.id, 0, (e) => {
        if (e.type === 'partial_result') firstPartial();
      });
      await partial;
      expect(await svc.stop(bob, run.id)).toBeNull(); // not bob's
      const t0 = performance.now();
      const stopped = (await svc.stop(alice, run.id))!;
      expect(performance.now() - t0).toBeLessThan(200);
      expect(stopped.status).toBe('cancelled');
      expect((await done)!.status).toBe('cancelled');
      const events = await svc.eventsAfter(alice, run.id, 0);
      expect(events.at(-1)!.type).toBe('agent_stopped');
      expect(events.map((e) => e.event_id)).toEqual(events.map((_, i) => i + 1));
      expect((await repo.getRun(alice, run.id))!.status).toBe('cancelled');
      expect((await repo.listMessages(alice, t.id))!.map((m) => m.role)).toEqual(['user']);
      expect(await svc.stop(alice, run.id)).toBeNull(); // already finished
    });

    it('records a failing executor as failed with an agent_error event', async () => {
      const svc = new RunService({ repo, executor: new ScriptedExecutor(3, true) });
      const t = (await repo.createThread(alice, 'fail'))!;
      const { run, done } = await svc.start(alice, { thread_id: t.id, request: 'boom' });
      const final = (await done)!;
      expect(final.status).toBe('failed');
      expect(final.error).toBe('tool exploded');
      expect((await svc.eventsAfter(alice, run.id, 0)).map((e) => e.type)).toEqual(['agent_started', 'partial_result', 'agent_error']);
    });

    it('a follower joining mid-run gets exactly the events after its resume point, each once', async () => {
      const exec = new ScriptedExecutor(6);
      let open!: () => void;
      exec.gate = new Promise<void>((res) => {
        open = res;
      });
      const svc = new RunService({ repo, executor: exec });
      const t = (await repo.createThread(alice, 'resume'))!;
      const { run, done } = await svc.start(alice, { thread_id: t.id, request: 'resume me' });
      const first: RunEvent[] = [];
      let gotFirst!: () => void;
      const started = new Promise<void>((res) => {
        gotFirst = res;
      });
      const a = await svc.follow(alice, run.id, 0, (e) => {
        first.push(e);
        gotFirst();
      });
      await started;
      a.close(); // the client disconnects after event 1
      open(); // the run goes on while nobody listens
      let resumed: RunEvent[] = [];
      const b = await svc.follow(alice, run.id, first.at(-1)!.event_id, (e) => resumed.push(e));
      await b.ended;
      await done;
      const all = await svc.eventsAfter(alice, run.id, 0);
      expect(first.map((e) => e.event_id)).toEqual([1]);
      expect(resumed.map((e) => e.event_id)).toEqual(all.slice(1).map((e) => e.event_id));
      expect(all.length).toBe(9);
      // a follower after the end reads from the database alone
      resumed = [];
      const c = await svc.follow(alice, run.id, 7, (e) => resumed.push(e));
      await c.ended;
      expect(resumed.map((e) => e.type)).toEqual(['final_report', 'agent_completed']);
    });

    it("hands the previous run's final_report to the next run of the thread (pending approvals), and recovers orphaned runs", async () => {
      const exec = new ScriptedExecutor(0);
      const svc = new RunService({ repo, executor: exec });
      const t = (await repo.createThread(alice, 'approvals'))!;
      await (await svc.start(alice, { thread_id: t.id, request: 'first' })).done;
      await (await svc.start(alice, { thread_id: t.id, request: 'second' })).done;
      expect(exec.requests[0]!.previous_report).toBeNull();
      expect(exec.requests[1]!.previous_report).toEqual({ text: 'answer to first' });
      expect(await repo.lastRunReport(bob, t.id)).toBeNull(); // scoped
      // a run a dead process left running: only an exclusive (embedded) database may record it failed
      const orphan = (await repo.createRun(alice, t.id, { request: 'orphan' }))!;
      await repo.updateRun(alice, orphan.id, { status: 'running', startedAt: new Date() });
      expect(await svc.recover(false)).toBe(0);
      expect((await repo.getRun(alice, orphan.id))!.status).toBe('running');
      expect(await svc.recover(true)).toBeGreaterThanOrEqual(1);
      const after = (await repo.getRun(alice, orphan.id))!;
      expect(after.status).toBe('failed');
      expect(after.error).toBe('interrupted: the server stopped while the run was executing');
      // a resume shows how it ended: an agent_error numbered after its last event
      expect((await svc.eventsAfter(alice, orphan.id, 0)).map((e) => [e.event_id, e.type, e.payload])).toEqual([
        [1, 'agent_error', { code: 'NETRA_E_INTERRUPTED', message: 'interrupted: the server stopped while the run was executing' }],
      ]);
      await svc.close();
    });

    it("hands a run the thread's newest messages as history, oldest first, without the message being answered", async () => {
      const exec = new ScriptedExecutor(0);
      const svc = new RunService({ repo, executor: exec, historyMessages: 3 });
      const t = (await repo.createThread(alice, 'long thread'))!;
      for (let i = 1; i <= 5; i++) await repo.addMessage(alice, t.id, { role: i % 2 ? 'user' : 'assistant', content: `m${i}` });
      expect(await repo.addMessage(bob, t.id, { role: 'user', content: 'not yours' })).toBeNull();
      await (await svc.start(alice, { thread_id: t.id, request: 'now' })).done;
      expect(exec.requests[0]!.history.map((m) => m.content)).toEqual(['m3', 'm4', 'm5']);
      const all = (await repo.listMessages(alice, t.id))!.map((m) => m.content);
      expect(all).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'now', 'answer to now']);
      expect((await repo.getThread(alice, t.id))!.updatedAt.getTime()).toBeGreaterThanOrEqual(t.updatedAt.getTime());
    });
  });
}
