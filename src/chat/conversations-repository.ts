/**
 * Relational repository for conversations (issue 5): threads, messages, runs and run events.
 * Every query is scoped to one workspace (by name) and one owner (a user id, or `key:<prefix>` for an API key):
 * a thread, message, run or event of another workspace or another caller is invisible here, never an error.
 */
import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { isUuid } from '../db/accounts-repository.js';
import { messages, runEvents, runs, threads, workspaces, type RunStatus } from '../db/schema.js';

/** Who owns the conversations: a workspace name and the owner id within it. */
export interface ConversationScope { workspace: string; userId: string }

export type ThreadRow = typeof threads.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type RunEventRow = typeof runEvents.$inferSelect;

export class ConversationsRepository {
  constructor(private readonly db: Database) {}

  /** Ids of the threads `scope` owns (a subquery). */
  private ownedThreads(scope: ConversationScope) {
    return this.db.select({ id: threads.id }).from(threads)
      .innerJoin(workspaces, eq(workspaces.id, threads.workspaceId))
      .where(and(eq(workspaces.name, scope.workspace), eq(threads.userId, scope.userId)));
  }

  /** Ids of the runs `scope` owns (a subquery). */
  private ownedRuns(scope: ConversationScope) {
    return this.db.select({ id: runs.id }).from(runs).where(inArray(runs.threadId, this.ownedThreads(scope)));
  }

  // ── threads ──
  /** null when the workspace does not exist. */
  async createThread(scope: ConversationScope, title: string): Promise<ThreadRow | null> {
    const ws = (await this.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.name, scope.workspace)).limit(1))[0];
    if (!ws) return null;
    return (await this.db.insert(threads).values({ workspaceId: ws.id, userId: scope.userId, title }).returning())[0] ?? null;
  }

  /** Newest activity first. */
  async listThreads(scope: ConversationScope, limit = 100): Promise<ThreadRow[]> {
    return this.db.select().from(threads).where(inArray(threads.id, this.ownedThreads(scope)))
      .orderBy(desc(threads.updatedAt), desc(threads.createdAt)).limit(limit);
  }

  async getThread(scope: ConversationScope, id: string): Promise<ThreadRow | null> {
    if (!isUuid(id)) return null;
    return (await this.db.select().from(threads).where(and(eq(threads.id, id), inArray(threads.id, this.ownedThreads(scope)))).limit(1))[0] ?? null;
  }

  async renameThread(scope: ConversationScope, id: string, title: string): Promise<ThreadRow | null> {
    if (!isUuid(id)) return null;
    return (await this.db.update(threads).set({ title, updatedAt: new Date() })
      .where(and(eq(threads.id, id), inArray(threads.id, this.ownedThreads(scope)))).returning())[0] ?? null;
  }

  /** Deletes the thread with its messages, runs and events; false when `scope` owns no such thread. */
  async deleteThread(scope: ConversationScope, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.delete(threads).where(and(eq(threads.id, id), inArray(threads.id, this.ownedThreads(scope)))).returning({ id: threads.id });
    return rows.length > 0;
  }

  // ── messages ──
  /** Appends a message and marks the thread active; null when `scope` owns no such thread. */
  async addMessage(scope: ConversationScope, threadId: string, m: { role: 'user' | 'assistant'; content: string; runId?: string | null }): Promise<MessageRow | null> {
    const thread = await this.getThread(scope, threadId);
    if (!thread) return null;
    const row = (await this.db.insert(messages).values({ threadId, role: m.role, content: m.content, runId: m.runId ?? null }).returning())[0] ?? null;
    await this.db.update(threads).set({ updatedAt: new Date() }).where(eq(threads.id, threadId));
    return row;
  }

  /** Oldest first; null when `scope` owns no such thread. */
  async listMessages(scope: ConversationScope, threadId: string, limit = 1000): Promise<MessageRow[] | null> {
    if (!(await this.getThread(scope, threadId))) return null;
    return this.db.select().from(messages).where(eq(messages.threadId, threadId)).orderBy(asc(messages.createdAt), asc(messages.id)).limit(limit);
  }

  // ── runs ──
  /** A queued run in the thread; null when `scope` owns no such thread. */
  async createRun(scope: ConversationScope, threadId: string, r: { request: string; goal?: string | null }): Promise<RunRow | null> {
    if (!(await this.getThread(scope, threadId))) return null;
    return (await this.db.insert(runs).values({ threadId, request: r.request, goal: r.goal ?? null }).returning())[0] ?? null;
  }

  async getRun(scope: ConversationScope, id: string): Promise<RunRow | null> {
    if (!isUuid(id)) return null;
    return (await this.db.select().from(runs).where(and(eq(runs.id, id), inArray(runs.id, this.ownedRuns(scope)))).limit(1))[0] ?? null;
  }

  async listRuns(scope: ConversationScope, threadId: string): Promise<RunRow[]> {
    if (!isUuid(threadId)) return [];
    return this.db.select().from(runs).where(and(eq(runs.threadId, threadId), inArray(runs.threadId, this.ownedThreads(scope))))
      .orderBy(asc(runs.createdAt));
  }

  /** The `final_report` payload of the thread's latest run, when that run has one (pending approvals live there). */
  async lastRunReport(scope: ConversationScope, threadId: string): Promise<Record<string, unknown> | null> {
    if (!isUuid(threadId)) return null;
    const latest = this.db.select({ id: runs.id }).from(runs)
      .where(and(eq(runs.threadId, threadId), inArray(runs.threadId, this.ownedThreads(scope))))
      .orderBy(desc(runs.createdAt)).limit(1);
    const row = (await this.db.select({ payload: runEvents.payload }).from(runEvents)
      .where(and(inArray(runEvents.runId, latest), eq(runEvents.type, 'final_report')))
      .orderBy(desc(runEvents.seq)).limit(1))[0];
    return (row?.payload as Record<string, unknown> | undefined) ?? null;
  }

  async updateRun(scope: ConversationScope, id: string, patch: { status?: RunStatus; startedAt?: Date; finishedAt?: Date; error?: string | null }): Promise<RunRow | null> {
    if (!isUuid(id)) return null;
    return (await this.db.update(runs).set(patch).where(and(eq(runs.id, id), inArray(runs.id, this.ownedRuns(scope)))).returning())[0] ?? null;
  }

  /**
   * System operation, not scoped: records every queued or running run as failed with `reason`. Only for the start-up of the
   * one process that can open an embedded database (PGlite), where no other process can be executing them. Returns how many.
   */
  async interruptUnfinishedRuns(reason: string): Promise<number> {
    const rows = await this.db.update(runs).set({ status: 'failed', error: reason, finishedAt: new Date() })
      .where(inArray(runs.status, ['queued', 'running'])).returning({ id: runs.id });
    return rows.length;
  }

  // ── run events ──
  /** Persists event `seq` of a run `scope` owns; false when it owns no such run. A repeated (run, seq) throws (primary key). */
  async appendEvent(scope: ConversationScope, runId: string, e: { seq: number; type: string; payload: Record<string, unknown>; ts: Date }): Promise<boolean> {
    if (!isUuid(runId)) return false;
    const res = await this.db.execute(sql`
      insert into run_events (run_id, seq, type, payload, ts)
      select r.id, ${e.seq}, ${e.type}, ${JSON.stringify(e.payload)}::jsonb, ${e.ts.toISOString()}::timestamptz
      from runs r join threads t on t.id = r.thread_id join workspaces w on w.id = t.workspace_id
      where r.id = ${runId} and w.name = ${scope.workspace} and t.user_id = ${scope.userId}`);
    return affected(res) > 0;
  }

  /** The run's events with seq > `after`, in order (resume). */
  async eventsAfter(scope: ConversationScope, runId: string, after = 0): Promise<RunEventRow[]> {
    if (!isUuid(runId)) return [];
    return this.db.select().from(runEvents).where(and(eq(runEvents.runId, runId), gt(runEvents.seq, after), inArray(runEvents.runId, this.ownedRuns(scope))))
      .orderBy(asc(runEvents.seq));
  }
}

function affected(r: unknown): number {
  const o = r as { affectedRows?: number; rowCount?: number | null };
  return o.affectedRows ?? o.rowCount ?? 0;
}
