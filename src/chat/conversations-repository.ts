// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * Relational repository for conversations: threads, messages, runs and run events.
 * Every query is scoped to one workspace (by name) and one owner (a user id, or `key:<prefix>` for an API key):
 * a thread, message, run or event of another workspace or another caller is invisible here, never an error.
 * The exceptions are the system operations of run ownership (`heartbeatRuns`, `interruptRuns`): they act on the runs of
 * a process instance, or on runs whose process stopped, in every workspace.
 */
import { repairString } from '../workload/text-repair.js';
import { and, asc, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { isUuid } from '../db/accounts-repository.js';
import { GroupCommit } from '../db/group-commit.js';
import { direct, type Execute } from '../db/prepared.js';
import { messages, runEvents, runs, threads, workspaces, type RunStatus } from '../db/schema.js';
import { ErrorCodes } from '../errors.js';
import {
  addMessages,
  appendEvents,
  openRuns,
  rowsOf,
  updateRuns,
  type AddedMessage,
  type AddMessageWrite,
  type AppendEventWrite,
  type OpenedRun,
  type OpenedTurn,
  type OpenRunWrite,
  type UpdateRunWrite,
} from './conversation-batches.js';
import { ThreadHistoryCache } from './history-cache.js';

/** Who owns the conversations: a workspace name and the owner id within it. */
export interface ConversationScope {
  workspace: string;
  userId: string;
}

export type ThreadRow = typeof threads.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type RunEventRow = typeof runEvents.$inferSelect;

const UNFINISHED_RUN: RunStatus[] = ['queued', 'running'];

/** The `code` of the `agent_error` event appended to a run recorded failed because its process stopped. */
export const RUN_INTERRUPTED_CODE = ErrorCodes.INTERRUPTED.code;

/** A run `interruptRuns` recorded failed, with the `agent_error` event it appended (null if it could not number one). */
export interface InterruptedRun {
  id: string;
  threadId: string;
  owner: string | null;
  event: { seq: number; ts: Date } | null;
}

export interface ConversationsRepositoryOptions {
  /**
   * Group commit of the chat's hot writes (a turn opened, an event, an assistant message, a run's status): at most this
   * many in one statement (1: each write alone). Default 256.
   */
  groupCommitMaxRows?: number;
  /** statements of one kind in flight at once (PostgreSQL: a few; PGlite runs one at a time). Default 1. */
  groupCommitConcurrency?: number;
  /** message text of recently active threads remembered to open their next turn without reading it (history-cache.ts). Default 16 MiB; 0 turns it off. */
  historyCacheBytes?: number;
  /** how the batch statements run: as they are (default), or prepared (`preparedStatements` of src/db/prepared.ts) */
  statements?: Execute;
}

export class ConversationsRepository {
  private readonly opening: GroupCommit<OpenRunWrite, OpenedTurn | null>;
  private readonly appending: GroupCommit<AppendEventWrite, boolean>;
  private readonly messaging: GroupCommit<AddMessageWrite, AddedMessage | null>;
  private readonly history: ThreadHistoryCache | null;
  private readonly updating: GroupCommit<UpdateRunWrite, RunRow | null>;

  constructor(
    private readonly db: Database,
    opts: ConversationsRepositoryOptions = {},
  ) {
    const o = { maxRows: opts.groupCommitMaxRows ?? 256, concurrency: opts.groupCommitConcurrency ?? 1 };
    const cacheBytes = opts.historyCacheBytes ?? 16 * 1024 * 1024;
    this.history = cacheBytes > 0 ? new ThreadHistoryCache(cacheBytes) : null;
    const run = opts.statements ?? direct(db);
    // a turn opened or a message added alone is a batch of one (one statement, the same scoping)
    this.opening = new GroupCommit(
      (w) => openRuns(run, w),
      async (w) => (await openRuns(run, [w]))[0] ?? null,
      // the turns of every frame read in one turn of the event loop in one statement (nothing alone): the acknowledgement
      // path, where clients wait and send again together
      { ...o, key: (w) => w.threadId, window: 'turn' },
    );
    // an event goes at once when the committer is idle: a stop publishes its `agent_stopped` after the commit, then
    // records the run `cancelled`, and with the event deferred to the end of the turn its commit (and so the status
    // change after it) landed a turn later, after a reader told by the event could ask (test/chat-ws.test.ts)
    this.appending = new GroupCommit(
      (w) => appendEvents(run, w),
      async (w) => (await appendEvents(run, [w]))[0] ?? false,
      { ...o, key: (w) => w.runId },
    );
    // an assistant message goes at once too: with the end-of-turn window (one statement per burst of answers instead of
    // two) PGlite spent more CPU per acknowledgement at 500 connections, not less (docs/BENCHMARKS.md)
    this.messaging = new GroupCommit(
      (w) => addMessages(run, w),
      async (w) => (await addMessages(run, [w]))[0] ?? null,
      { ...o, key: (w) => w.threadId },
    );
    // a status change goes at once when the committer is idle: a stop's `cancelled` is in the database's queue before the
    // `agent_stopped` that announced it can bring a reader to ask
    this.updating = new GroupCommit(
      (w) => updateRuns(run, w),
      async (w) => (await updateRuns(run, [w]))[0] ?? null,
      { ...o, key: (w) => w.id },
    );
  }

  /** Ids of the threads `scope` owns (a subquery). */
  private ownedThreads(scope: ConversationScope) {
    return this.db
      .select({ id: threads.id })
      .from(threads)
      .innerJoin(workspaces, eq(workspaces.id, threads.workspaceId))
      .where(and(eq(workspaces.name, scope.workspace), eq(threads.userId, scope.userId)));
  }

  /** Ids of the runs `scope` owns (a subquery). */
  private ownedRuns(scope: ConversationScope) {
    return this.db
      .select({ id: runs.id })
      .from(runs)
      .where(inArray(runs.threadId, this.ownedThreads(scope)));
  }

  // ── threads ──
  /** null when the workspace does not exist. */
  async createThread(scope: ConversationScope, rawTitle: string): Promise<ThreadRow | null> {
    const title = repairString(rawTitle);
    const ws = (await this.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.name, scope.workspace)).limit(1))[0];
    if (!ws) return null;
    return (await this.db.insert(threads).values({ workspaceId: ws.id, userId: scope.userId, title }).returning())[0] ?? null;
  }

  /** Newest activity first. */
  async listThreads(scope: ConversationScope, limit = 100): Promise<ThreadRow[]> {
    return this.db
      .select()
      .from(threads)
      .where(inArray(threads.id, this.ownedThreads(scope)))
      .orderBy(desc(threads.updatedAt), desc(threads.createdAt))
      .limit(limit);
  }

  async getThread(scope: ConversationScope, id: string): Promise<ThreadRow | null> {
    if (!isUuid(id)) return null;
    return (
      (
        await this.db
          .select()
          .from(threads)
          .where(and(eq(threads.id, id), inArray(threads.id, this.ownedThreads(scope))))
          .limit(1)
      )[0] ?? null
    );
  }

  async renameThread(scope: ConversationScope, id: string, rawTitle: string): Promise<ThreadRow | null> {
    const title = repairString(rawTitle);
    if (!isUuid(id)) return null;
    return (
      (
        await this.db
          .update(threads)
          .set({ title, updatedAt: new Date() })
          .where(and(eq(threads.id, id), inArray(threads.id, this.ownedThreads(scope))))
          .returning()
      )[0] ?? null
    );
  }

  /** Deletes the thread with its messages, runs and events; false when `scope` owns no such thread. */
  async deleteThread(scope: ConversationScope, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db
      .delete(threads)
      .where(and(eq(threads.id, id), inArray(threads.id, this.ownedThreads(scope))))
      .returning({ id: threads.id });
    if (rows.length > 0) this.history?.drop(id);
    return rows.length > 0;
  }

  // ── messages ──
  /** Appends a message, marks the thread active and counts it; null when `scope` owns no such thread. */
  async addMessage(
    scope: ConversationScope,
    threadId: string,
    raw: { role: 'user' | 'assistant'; content: string; runId?: string | null },
  ): Promise<MessageRow | null> {
    if (!isUuid(threadId) || (raw.runId != null && !isUuid(raw.runId))) return null;
    const added = await this.messaging.submit({ scope, threadId, m: { ...raw, content: repairString(raw.content) } });
    if (!added) return null;
    this.history?.appended(threadId, added.countAfter, added.message);
    return { ...added.message.row }; // a copy: the remembered history holds the row
  }

  /** Oldest first; null when `scope` owns no such thread. */
  async listMessages(scope: ConversationScope, threadId: string, limit = 1000): Promise<MessageRow[] | null> {
    if (!(await this.getThread(scope, threadId))) return null;
    return this.db
      .select()
      .from(messages)
      .where(eq(messages.threadId, threadId))
      .orderBy(asc(messages.createdAt), asc(messages.id))
      .limit(limit);
  }

  // ── runs ──
  /**
   * A queued run in the thread; null when `scope` owns no such thread. With `owner` (the instance id of the process that
   * will execute it) the row gets its first heartbeat (database clock).
   */
  async createRun(
    scope: ConversationScope,
    threadId: string,
    r: { request: string; goal?: string | null; owner?: string },
  ): Promise<RunRow | null> {
    if (!(await this.getThread(scope, threadId))) return null;
    return (
      (
        await this.db
          .insert(runs)
          .values({
            threadId,
            request: r.request,
            goal: r.goal ?? null,
            ...(r.owner !== undefined ? { owner: r.owner, heartbeatAt: sql`now()` } : {}),
          })
          .returning()
      )[0] ?? null
    );
  }

  /**
   * Opens a turn in a thread `scope` owns, in ONE statement (this is the path a chat message waits on): checks the thread,
   * inserts the queued run and the user's message, touches the thread, and reads its newest `historyLimit` messages before
   * this one (returned oldest first) and the previous run's final_report. The history is not read again when this process
   * remembers it at the thread's current message count (history-cache.ts). null when `scope` owns no such thread.
   * Under load, concurrent turns are opened together, one statement for all (group commit, conversation-batches.ts); each
   * resolves after that statement has committed.
   */
  async openRun(
    scope: ConversationScope,
    threadId: string,
    r: { request: string; goal?: string | null; owner?: string; historyLimit: number },
  ): Promise<OpenedRun | null> {
    if (!isUuid(threadId)) return null;
    const limit = Math.max(0, r.historyLimit);
    const known = this.history?.get(threadId, limit) ?? null;
    const turn = await this.opening.submit({
      scope,
      threadId,
      request: r.request,
      goal: r.goal ?? null,
      owner: r.owner ?? null,
      historyLimit: limit,
      knownCount: known?.count ?? null,
    });
    if (!turn) return null;
    let history: MessageRow[];
    if (turn.history) {
      history = turn.history.map((m) => ({ ...m.row })); // copies: the remembered history holds the rows
      this.history?.set(threadId, turn.countBefore, limit, turn.history);
    } else if (known && known.count === turn.countBefore) history = known.messages;
    else throw new Error(`thread ${threadId}: history not read and not remembered at count ${turn.countBefore}`);
    this.history?.appended(threadId, turn.countAfter, turn.message);
    return { run: turn.run, history, previousReport: turn.previousReport };
  }

  async getRun(scope: ConversationScope, id: string): Promise<RunRow | null> {
    if (!isUuid(id)) return null;
    return (
      (
        await this.db
          .select()
          .from(runs)
          .where(and(eq(runs.id, id), inArray(runs.id, this.ownedRuns(scope))))
          .limit(1)
      )[0] ?? null
    );
  }

  async listRuns(scope: ConversationScope, threadId: string): Promise<RunRow[]> {
    if (!isUuid(threadId)) return [];
    return this.db
      .select()
      .from(runs)
      .where(and(eq(runs.threadId, threadId), inArray(runs.threadId, this.ownedThreads(scope))))
      .orderBy(asc(runs.createdAt));
  }

  /** The `final_report` payload of the thread's latest run, when that run has one (pending approvals live there). */
  async lastRunReport(scope: ConversationScope, threadId: string): Promise<Record<string, unknown> | null> {
    if (!isUuid(threadId)) return null;
    const latest = this.db
      .select({ id: runs.id })
      .from(runs)
      .where(and(eq(runs.threadId, threadId), inArray(runs.threadId, this.ownedThreads(scope))))
      .orderBy(desc(runs.createdAt))
      .limit(1);
    const row = (
      await this.db
        .select({ payload: runEvents.payload })
        .from(runEvents)
        .where(and(inArray(runEvents.runId, latest), eq(runEvents.type, 'final_report')))
        .orderBy(desc(runEvents.seq))
        .limit(1)
    )[0];
    return (row?.payload as Record<string, unknown> | undefined) ?? null;
  }

  /**
   * null when `scope` owns no such run, or (with `whileStatus`) its status is no longer one of those: a run another process
   * recorded failed (its heartbeat went stale) is not overwritten by its late owner.
   */
  async updateRun(
    scope: ConversationScope,
    id: string,
    patch: { status?: RunStatus; startedAt?: Date; finishedAt?: Date; error?: string | null },
    opts: { whileStatus?: readonly RunStatus[] } = {},
  ): Promise<RunRow | null> {
    if (!isUuid(id)) return null;
    return this.updating.submit({ scope, id, patch, ...(opts.whileStatus ? { whileStatus: opts.whileStatus } : {}) });
  }

  // ── run ownership (system operations, not scoped: see the file comment) ──
  /** Refreshes the heartbeat (database clock) of `owner`'s queued and running runs; returns their ids. */
  async heartbeatRuns(owner: string): Promise<string[]> {
    const rows = await this.db
      .update(runs)
      .set({ heartbeatAt: sql`now()` })
      .where(and(eq(runs.owner, owner), inArray(runs.status, UNFINISHED_RUN)))
      .returning({ id: runs.id });
    return rows.map((r) => r.id);
  }

  /**
   * Records failed with `reason` the queued/running runs of owners other than `exceptOwner` and appends to each an
   * `agent_error` event `{ code: RUN_INTERRUPTED_CODE, message: reason }` numbered after its last event, in one
   * transaction. With `staleAfterMs`, only runs whose heartbeat (or, for a row that never had one, its creation) is older
   * than that by the database clock, so processes' clocks need not agree; without it, every unfinished run (start-up of the
   * one process that can open an embedded database). A run two sweepers find is recorded by one of them.
   */
  async interruptRuns(o: { reason: string; exceptOwner: string; staleAfterMs?: number }): Promise<InterruptedRun[]> {
    const conds: SQL[] = [inArray(runs.status, UNFINISHED_RUN), sql`(${runs.owner} is null or ${runs.owner} <> ${o.exceptOwner})`];
    if (o.staleAfterMs !== undefined) {
      const cutoff = sql`now() - (${o.staleAfterMs}::double precision * interval '1 millisecond')`;
      conds.push(sql`(${runs.heartbeatAt} < ${cutoff} or (${runs.heartbeatAt} is null and ${runs.createdAt} < ${cutoff}))`);
    }
    const payload = JSON.stringify({ code: RUN_INTERRUPTED_CODE, message: o.reason });
    return this.db.transaction(async (tx) => {
      const failed = await tx
        .update(runs)
        .set({ status: 'failed', error: o.reason, finishedAt: sql`now()` })
        .where(and(...conds))
        .returning({ id: runs.id, threadId: runs.threadId, owner: runs.owner });
      const events = new Map<string, { seq: number; ts: Date }>();
      // next seq per run; a late append of a still-living owner can take the same number first: then number again
      for (let attempt = 0; attempt < 5; attempt++) {
        const todo = failed.filter((r) => !events.has(r.id));
        if (todo.length === 0) break;
        const res = await tx.execute(sql`
          insert into run_events (run_id, seq, type, payload, ts)
          select r.id, coalesce((select max(e.seq) from run_events e where e.run_id = r.id), 0) + 1, 'agent_error', ${payload}::jsonb, now()
          from runs r where r.id in (${sql.join(
            todo.map((r) => sql`${r.id}`),
            sql`, `,
          )})
          on conflict (run_id, seq) do nothing
          returning run_id, seq, (extract(epoch from ts) * 1000)::float8 as ts_ms`);
        for (const row of rowsOf<{ run_id: string; seq: number | string; ts_ms: number | string }>(res)) {
          events.set(row.run_id, { seq: Number(row.seq), ts: new Date(Number(row.ts_ms)) });
        }
      }
      return failed.map((r) => ({ ...r, event: events.get(r.id) ?? null }));
    });
  }

  // ── run events ──
  /** Persists event `seq` of a run `scope` owns; false when it owns no such run. A repeated (run, seq) throws (primary key). */
  async appendEvent(
    scope: ConversationScope,
    runId: string,
    e: { seq: number; type: string; payload: Record<string, unknown>; ts: Date },
  ): Promise<boolean> {
    if (!isUuid(runId)) return false;
    return this.appending.submit({ scope, runId, e });
  }

  /** The run's events with seq > `after`, in order (resume). */
  async eventsAfter(scope: ConversationScope, runId: string, after = 0): Promise<RunEventRow[]> {
    if (!isUuid(runId)) return [];
    return this.db
      .select()
      .from(runEvents)
      .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, after), inArray(runEvents.runId, this.ownedRuns(scope))))
      .orderBy(asc(runEvents.seq));
  }
}
