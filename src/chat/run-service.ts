// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * Runs agents for conversations. Starting a run stores the user's message and a queued run, then executes it
 * with the injected RunExecutor in the background. Every event the executor emits gets the run's next sequence number
 * (`event_id`) and is persisted BEFORE it is published on the run-event bus (src/chat/run-event-bus.ts), so a follower
 * that subscribes, then reads the persisted events, misses nothing. With Redis the bus spans processes: a client of
 * process B follows (and stops) a run executing in process A. `stop` aborts the executor, records
 * `agent_stopped` and the run as cancelled.
 *
 * Ownership: each service has an instance id (`owner`), stamped on the runs it executes; one unref'd timer
 * refreshes their heartbeat (database clock) every `heartbeatIntervalMs` and sweeps: queued/running runs of OTHER owners
 * whose heartbeat is older than `staleAfterMs` (their process died) are recorded failed, "interrupted: the process
 * executing it stopped (no heartbeat for N s)", with an `agent_error` event numbered after their last one, and their end is
 * published on the bus, so followers everywhere end and a resume shows how the run ended. An owner that finds one of its
 * own runs recorded so (it was alive but could not heartbeat) aborts it and leaves the record as it is.
 */
import { repairString } from '../workload/text-repair.js';
import { NetraError } from '../errors.js';
import { HeartbeatTimer, newOwnerId } from '../heartbeat-timer.js';
import type { Logger } from '../logger.js';
import type { Goal } from '../optimize/ranking.js';
import type { RunEventDraft, RunExecutor, RunResult } from '../agents/types.js';
import {
  RUN_INTERRUPTED_CODE,
  type ConversationScope,
  type ConversationsRepository,
  type InterruptedRun,
  type RunEventRow,
  type RunRow,
} from './conversations-repository.js';
import { LocalRunEventBus, type BusMessage, type RunEvent, type RunEventBus, type StopRequest } from './run-event-bus.js';

export type { RunEvent } from './run-event-bus.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const UNFINISHED = ['queued', 'running'] as const;

/** The reason recorded on runs an embedded database's previous process left unfinished (start-up, `recover(true)`). */
export const RUN_INTERRUPTED_BY_RESTART = 'interrupted: the server stopped while the run was executing';

/** The reason recorded on a run whose owner stopped heartbeating. */
export function runInterruptedNoHeartbeat(staleAfterMs: number): string {
  return `interrupted: the process executing it stopped (no heartbeat for ${Number((staleAfterMs / 1000).toFixed(3))} s)`;
}

export interface StartRunInput {
  thread_id: string;
  request: string;
  goal?: Goal;
}

interface ActiveRun {
  scope: ConversationScope;
  threadId: string;
  controller: AbortController;
  /** persists events one after another (executor events and the `agent_stopped` of stop()) */
  chain: Promise<void>;
  seq: number;
  finished: boolean;
  finish: Promise<RunRow | null> | null;
  done: Promise<RunRow | null>;
}

export interface RunServiceDeps {
  repo: ConversationsRepository;
  executor: RunExecutor;
  /** default: in-process delivery only */
  bus?: RunEventBus;
  /** how long a stop of a run executing in another process waits for that run to end (default 2 s) */
  remoteStopTimeoutMs?: number;
  /** how many of the thread's latest messages a run receives as history (default 50) */
  historyMessages?: number;
  /** this process's instance id, stamped on the runs it executes; default `<host>:<pid>:<random>` */
  owner?: string;
  /** heartbeat of this service's runs, and the stale-run sweep, run this often (default 10 s; NETRA_RUNS_HEARTBEAT_MS) */
  heartbeatIntervalMs?: number;
  /** another owner's unfinished run whose heartbeat is older than this is recorded failed (default 60 s; NETRA_RUNS_STALE_AFTER_MS) */
  staleAfterMs?: number;
  log?: Logger;
}

export class RunService {
  /** this service's instance id, stamped on the rows of the runs it executes */
  readonly owner: string;
  private readonly active = new Map<string, ActiveRun>();
  private readonly bus: RunEventBus;
  private readonly staleAfterMs: number;
  private readonly heartbeat: HeartbeatTimer;

  constructor(private readonly deps: RunServiceDeps) {
    this.bus = deps.bus ?? new LocalRunEventBus();
    this.owner = deps.owner ?? newOwnerId();
    this.staleAfterMs = deps.staleAfterMs ?? 60_000;
    this.heartbeat = new HeartbeatTimer(deps.heartbeatIntervalMs ?? 10_000, () => this.tick());
    // a stop asked in another process (or through the bus here) for a run executing in this one
    this.bus.onStopRequest((req: StopRequest) => {
      const entry = this.active.get(req.run_id);
      if (entry && entry.scope.workspace === req.workspace && entry.scope.userId === req.user_id) {
        void this.stop(entry.scope, req.run_id);
      }
    });
  }

  /** Stores the user's message and a queued run, starts executing it, and returns the run at once. */
  async start(scope: ConversationScope, input: StartRunInput): Promise<{ run: RunRow; done: Promise<RunRow | null> }> {
    // chat text is made valid like event text: a lone surrogate cannot be stored in PostgreSQL's jsonb
    input = { ...input, request: repairString(input.request) };
    const opened = await this.deps.repo.openRun(scope, input.thread_id, {
      request: input.request,
      goal: input.goal ?? null,
      owner: this.owner,
      historyLimit: this.deps.historyMessages ?? 50,
    });
    if (!opened)
      throw new NetraError('NOT_FOUND', `no thread ${input.thread_id.slice(0, 40)} in workspace ${scope.workspace}`, {
        field: 'thread_id',
      });
    this.heartbeat.start();
    const { run, previousReport } = opened;
    const entry: ActiveRun = {
      scope,
      threadId: input.thread_id,
      controller: new AbortController(),
      chain: Promise.resolve(),
      seq: 0,
      finished: false,
      finish: null,
      done: Promise.resolve(null),
    };
    this.active.set(run.id, entry);
    const history = opened.history.map((m) => ({ role: m.role, content: m.content }));
    entry.done = this.execute(run, entry, input, history, previousReport);
    return { run, done: entry.done };
  }

  /**
   * Call once at start-up; starts the heartbeat timer. `exclusive` (an embedded database only this process opens): every
   * run a previous process left queued or running is recorded failed, "interrupted: the server stopped while the run was
   * executing". Otherwise (a shared PostgreSQL) only the runs of other owners whose heartbeat is stale (see `sweep()`); a
   * live process's runs are left alone. Either way each gets an `agent_error` event and its end is published. Returns how many.
   */
  async recover(exclusive: boolean): Promise<number> {
    try {
      if (!exclusive) return await this.sweep();
      const ended = await this.deps.repo.interruptRuns({ reason: RUN_INTERRUPTED_BY_RESTART, exceptOwner: this.owner });
      this.announce(ended, RUN_INTERRUPTED_BY_RESTART);
      if (ended.length > 0) this.deps.log?.warn({ runs: ended.length }, 'runs left unfinished by a previous process recorded as failed');
      return ended.length;
    } finally {
      this.heartbeat.start(); // after the start-up sweep, so the first tick does not race it
    }
  }

  /**
   * Records failed the queued/running runs of other owners whose heartbeat is older than `staleAfterMs` (their process
   * stopped without recording them), appends their `agent_error` and publishes their end; returns how many. Runs on every
   * heartbeat tick.
   */
  async sweep(): Promise<number> {
    const reason = runInterruptedNoHeartbeat(this.staleAfterMs);
    const ended = await this.deps.repo.interruptRuns({ reason, exceptOwner: this.owner, staleAfterMs: this.staleAfterMs });
    this.announce(ended, reason);
    if (ended.length > 0) {
      const owners = [...new Set(ended.map((r) => r.owner ?? '(none)'))];
      this.deps.log?.warn(
        { runs: ended.length, ids: ended.slice(0, 20).map((r) => r.id), owners, staleAfterMs: this.staleAfterMs },
        'runs whose process stopped heartbeating recorded as failed',
      );
    }
    return ended.length;
  }

  /** True while the run executes in this process. */
  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Resolves with the final run row once the run in this process has finished (null when it is not running here). */
  whenDone(runId: string): Promise<RunRow | null> {
    return this.active.get(runId)?.done ?? Promise.resolve(null);
  }

  /**
   * Cancels a running run `scope` owns: aborts the executor, records `agent_stopped` and status cancelled. A run executing
   * in another process (shared bus) is asked to stop through the bus; this resolves once it has ended there (or after
   * `remoteStopTimeoutMs`) with the run as then recorded. null when `scope` has no such unfinished run.
   */
  async stop(scope: ConversationScope, runId: string): Promise<RunRow | null> {
    const entry = this.active.get(runId);
    if (entry) {
      if (entry.scope.workspace !== scope.workspace || entry.scope.userId !== scope.userId) return null;
      entry.controller.abort();
      return this.finalize(runId, entry, { status: 'cancelled', stoppedEvent: true });
    }
    if (!this.bus.shared) return null;
    const run = await this.deps.repo.getRun(scope, runId);
    if (!run || TERMINAL.has(run.status)) return null;
    // subscribe before asking, so the end of the run cannot pass unseen; then wait for it (bounded)
    let onEnd: () => void = () => undefined;
    const ended = new Promise<void>((res) => {
      onEnd = res;
    });
    const unsubscribe = await this.bus.subscribe(
      runId,
      (m) => {
        if (m.kind === 'end') onEnd();
      },
      true,
    );
    const timer = setTimeout(onEnd, this.deps.remoteStopTimeoutMs ?? 2_000);
    try {
      await this.bus.requestStop({ run_id: runId, workspace: scope.workspace, user_id: scope.userId });
      await ended;
      // no answer: the executing process may have died; a stale run is recorded failed now (its followers end)
      if (!TERMINAL.has((await this.deps.repo.getRun(scope, runId))?.status ?? 'completed')) await this.sweep();
    } catch (err) {
      this.deps.log?.warn({ run_id: runId, err: (err as Error).message }, 'could not ask the other process to stop the run');
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
    const after = await this.deps.repo.getRun(scope, runId);
    return after && after.status === 'cancelled' ? after : null;
  }

  /** The persisted events of a run after `seq`, in order. */
  async eventsAfter(scope: ConversationScope, runId: string, seq = 0): Promise<RunEvent[]> {
    const run = await this.deps.repo.getRun(scope, runId);
    if (!run) return [];
    return (await this.deps.repo.eventsAfter(scope, runId, seq)).map((e) => toEvent(e, run.threadId));
  }

  /**
   * Delivers every event of the run after `after`, in order and exactly once: the persisted ones, then live ones until the run
   * ends (wherever it executes, when the bus is shared). Resolves when delivery has caught up; the returned `close` stops
   * live delivery; `ended` resolves when the run ends.
   */
  async follow(
    scope: ConversationScope,
    runId: string,
    after: number,
    onEvent: (e: RunEvent) => void,
  ): Promise<{ close(): void; ended: Promise<void> }> {
    const entry = this.active.get(runId);
    const here = entry !== undefined && entry.scope.workspace === scope.workspace && entry.scope.userId === scope.userId;
    let last = after;
    let buffering = true;
    const buffered: RunEvent[] = [];
    const deliver = (e: RunEvent) => {
      if (e.event_id <= last) return;
      last = e.event_id;
      onEvent(e);
    };
    let resolveEnded!: () => void;
    const ended = new Promise<void>((res) => {
      resolveEnded = res;
    });
    let unsubscribe: () => void = () => undefined;
    // live delivery first (subscribe, then read what is persisted): an event is persisted before it is published
    const remote =
      !here && entry === undefined && this.bus.shared && !TERMINAL.has((await this.deps.repo.getRun(scope, runId))?.status ?? 'completed');
    if (here || remote) {
      unsubscribe = await this.bus.subscribe(
        runId,
        (m: BusMessage) => {
          if (m.kind === 'end') resolveEnded();
          else if (buffering) buffered.push(m.event);
          else deliver(m.event);
        },
        remote,
      );
    } else {
      resolveEnded();
    }
    // a run executing here has persisted exactly events 1..entry.seq (the next is published after we subscribed): when the
    // follower has them all already (a fresh run), there is nothing to read
    if (!(here && entry.seq <= after)) for (const e of await this.eventsAfter(scope, runId, after)) deliver(e);
    buffering = false;
    for (const e of buffered.splice(0)) deliver(e);
    // ended while the persisted events were read (its end message may have gone before the subscription)
    if (here && !this.active.has(runId)) resolveEnded();
    if (remote && TERMINAL.has((await this.deps.repo.getRun(scope, runId))?.status ?? 'completed')) {
      for (const e of await this.eventsAfter(scope, runId, last)) deliver(e);
      resolveEnded();
    }
    void ended.then(() => unsubscribe());
    return { close: unsubscribe, ended };
  }

  /** Stops the heartbeat timer, cancels every running run (shutdown) and waits for them to be recorded. */
  async close(): Promise<void> {
    const ticking = this.heartbeat.stop();
    await Promise.all(
      [...this.active.entries()].map(([id, e]) => {
        e.controller.abort();
        return this.finalize(id, e, { status: 'cancelled', stoppedEvent: true, error: 'server shutting down' });
      }),
    );
    await ticking; // never rejects; the database may be closed after close() resolves
  }

  private async tick(): Promise<void> {
    const { repo, log } = this.deps;
    // runs are created with a first heartbeat, so with none executing here there is nothing to refresh
    if (this.active.size > 0) {
      try {
        const held = [...this.active.keys()];
        const alive = new Set(await repo.heartbeatRuns(this.owner));
        for (const id of held) {
          const entry = this.active.get(id);
          // recorded finished by another process (our heartbeat went stale): stop executing, keep that record
          if (entry && !entry.finish && !alive.has(id)) {
            log?.warn({ run_id: id }, 'run recorded as finished by another process; stopping it here');
            entry.controller.abort();
            void this.finalize(id, entry, { status: 'failed' });
          }
        }
      } catch (err) {
        log?.warn({ err: (err as Error).message }, 'run heartbeat failed');
      }
    }
    try {
      await this.sweep();
    } catch (err) {
      log?.warn({ err: (err as Error).message }, 'stale run sweep failed');
    }
  }

  /** Publishes the `agent_error` and the end of runs recorded failed here on behalf of their dead process. */
  private announce(ended: InterruptedRun[], reason: string): void {
    for (const r of ended) {
      if (r.event) {
        this.bus.publish(r.id, {
          kind: 'event',
          event: {
            event_id: r.event.seq,
            run_id: r.id,
            thread_id: r.threadId,
            type: 'agent_error',
            payload: { code: RUN_INTERRUPTED_CODE, message: reason },
            ts: r.event.ts.toISOString(),
          },
        });
      }
      this.bus.publish(r.id, { kind: 'end', status: 'failed' });
    }
  }

  private async execute(
    run: RunRow,
    entry: ActiveRun,
    input: StartRunInput,
    history: { role: 'user' | 'assistant'; content: string }[],
    previousReport: Record<string, unknown> | null,
  ): Promise<RunRow | null> {
    const { repo, executor, log } = this.deps;
    const signal = entry.controller.signal;
    const emit = (draft: RunEventDraft): Promise<void> => {
      if (signal.aborted || entry.finished) return Promise.resolve(); // nothing after a stop
      return this.persist(run.id, entry, draft.type, draft.payload);
    };
    try {
      const claimed = await repo.updateRun(entry.scope, run.id, { status: 'running', startedAt: new Date() }, { whileStatus: ['queued'] });
      if (!claimed) {
        // stopped, swept by another process, or its thread deleted, before it started
        entry.controller.abort();
        return await this.finalize(run.id, entry, { status: 'cancelled' });
      }
      const result: RunResult = await executor.execute(
        {
          run_id: run.id,
          thread_id: entry.threadId,
          workspace: entry.scope.workspace,
          user_id: entry.scope.userId,
          request: input.request,
          ...(input.goal ? { goal: input.goal } : {}),
          history,
          previous_report: previousReport,
        },
        emit,
        signal,
      );
      if (signal.aborted || result.status === 'cancelled')
        return await this.finalize(run.id, entry, { status: 'cancelled', stoppedEvent: !signal.aborted });
      return await this.finalize(run.id, entry, {
        status: result.status,
        content: result.content,
        error: result.status === 'failed' ? result.content : null,
      });
    } catch (err) {
      if (signal.aborted) return this.finalize(run.id, entry, { status: 'cancelled', stoppedEvent: false });
      const message = (err as Error).message ?? String(err);
      log?.warn({ run_id: run.id, err: message }, 'agent run failed');
      try {
        await this.persist(run.id, entry, 'agent_error', { message });
      } catch {
        /* the run is still recorded failed below */
      }
      return this.finalize(run.id, entry, { status: 'failed', error: message });
    }
  }

  /** Numbers, persists, then publishes one event; events are serialized per run. */
  private persist(runId: string, entry: ActiveRun, type: string, payload: Record<string, unknown>): Promise<void> {
    const next = entry.chain.then(async () => {
      const seq = entry.seq + 1;
      const ts = new Date();
      const ok = await this.deps.repo.appendEvent(entry.scope, runId, { seq, type, payload, ts });
      if (!ok) throw new Error(`run ${runId} vanished (thread deleted?)`);
      entry.seq = seq;
      this.bus.publish(runId, {
        kind: 'event',
        event: { event_id: seq, run_id: runId, thread_id: entry.threadId, type, payload, ts: ts.toISOString() },
      });
      // a turn whose steps are all cache hits and embedded-database writes resolves as one chain of microtasks: give the
      // event loop a turn per event so other sockets and requests are served in between (fairness), not after the run
      await new Promise<void>((res) => setImmediate(res));
    });
    entry.chain = next.catch(() => undefined);
    return next;
  }

  /** Records the outcome exactly once (the first caller wins: a stop, or the executor's own result). */
  private finalize(
    runId: string,
    entry: ActiveRun,
    o: { status: 'completed' | 'failed' | 'cancelled'; content?: string; error?: string | null; stoppedEvent?: boolean },
  ): Promise<RunRow | null> {
    if (entry.finish) return entry.finish;
    entry.finish = (async () => {
      const { repo, log } = this.deps;
      try {
        if (o.stoppedEvent) await this.persist(runId, entry, 'agent_stopped', { reason: o.error ?? 'stopped by the user' });
        else await entry.chain;
      } catch (err) {
        log?.warn({ run_id: runId, err: (err as Error).message }, 'could not record the end of a run');
      }
      entry.finished = true;
      let status: string = o.status;
      try {
        // (a run another process recorded failed since this process's last heartbeat may still get its answer as a message)
        if (o.content && o.status === 'completed')
          await repo.addMessage(entry.scope, entry.threadId, { role: 'assistant', content: o.content, runId });
        const row = await repo.updateRun(
          entry.scope,
          runId,
          { status: o.status, finishedAt: new Date(), error: o.error ?? null },
          { whileStatus: UNFINISHED },
        );
        if (row) return row;
        // recorded finished by another process meanwhile (or deleted): that record stands
        const recorded = await this.recordedElsewhere(runId, entry, await repo.getRun(entry.scope, runId));
        status = recorded?.status ?? status;
        return recorded;
      } catch (err) {
        log?.warn({ run_id: runId, err: (err as Error).message }, 'could not record the end of a run');
        return null;
      } finally {
        this.active.delete(runId);
        this.bus.publish(runId, { kind: 'end', status });
      }
    })();
    return entry.finish;
  }

  /**
   * The run was recorded finished by another process (a sweep that took this process for dead) or deleted: that record
   * stands. The events it appended (its `agent_error`) are published here too, for this process's followers when the bus
   * is not shared (followers de-duplicate by event id).
   */
  private async recordedElsewhere(runId: string, entry: ActiveRun, row: RunRow | null): Promise<RunRow | null> {
    if (!row) return null;
    this.deps.log?.warn({ run_id: runId, status: row.status }, 'run already recorded as finished elsewhere; its record is kept');
    for (const e of await this.deps.repo.eventsAfter(entry.scope, runId, entry.seq))
      this.bus.publish(runId, { kind: 'event', event: toEvent(e, entry.threadId) });
    return row;
  }
}

export function toEvent(e: RunEventRow, threadId: string): RunEvent {
  return { event_id: e.seq, run_id: e.runId, thread_id: threadId, type: e.type, payload: e.payload, ts: e.ts.toISOString() };
}
