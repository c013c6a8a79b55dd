/**
 * The chat's writes for many turns at once, each ONE statement (so one transaction, and all-or-nothing: a failed batch is
 * retried write by write by src/db/group-commit.ts). The rows travel as one JSON parameter (jsonb_to_recordset), which both
 * PGlite and PostgreSQL accept and which keeps the statement text the same whatever the batch size. Every write is scoped
 * exactly as its single-row form in conversations-repository.ts (opening a turn and adding a message have none: a single
 * write is a batch of one): a row whose thread or run `scope` does not own is skipped, and its result is null / false.
 * Every statement that inserts a message raises its thread's `message_count` (history-cache.ts relies on it).
 *
 * Each batch holds at most one write per thread (openRuns, addMessages) or per run (appendEvents, updateRuns); the group
 * committer guarantees it, and the statements rely on it to join results back to their writes.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Execute } from '../db/prepared.js';
import type { messages, RunStatus, runs } from '../db/schema.js';
import type { HistoryMessage } from './history-cache.js';

/** As in conversations-repository.ts (which imports this file): a workspace name and the owner id within it. */
interface ConversationScope {
  workspace: string;
  userId: string;
}
type RunRow = typeof runs.$inferSelect;
type MessageRow = typeof messages.$inferSelect;

export interface OpenRunWrite {
  scope: ConversationScope;
  threadId: string;
  request: string;
  goal: string | null;
  owner: string | null;
  historyLimit: number;
  /** the thread's message count at which this process remembers its history (history-cache.ts); null: none */
  knownCount: number | null;
}
export interface OpenedRun {
  run: RunRow;
  history: MessageRow[];
  previousReport: Record<string, unknown> | null;
}
/** A turn as the statement opened it. */
export interface OpenedTurn {
  run: RunRow;
  /** the thread's newest `historyLimit` messages before this turn, oldest first; null: unchanged since `knownCount` */
  history: HistoryMessage[] | null;
  previousReport: Record<string, unknown> | null;
  /** the thread's message count the statement saw before its insert, and after it */
  countBefore: number;
  countAfter: number;
  /** the user's message it inserted */
  message: HistoryMessage;
}
/** A message as inserted, with the thread's message count after its insert. */
export interface AddedMessage {
  message: HistoryMessage;
  countAfter: number;
}

export interface AppendEventWrite {
  scope: ConversationScope;
  runId: string;
  e: { seq: number; type: string; payload: Record<string, unknown>; ts: Date };
}

export interface AddMessageWrite {
  scope: ConversationScope;
  threadId: string;
  m: { role: 'user' | 'assistant'; content: string; runId?: string | null };
}

export interface UpdateRunWrite {
  scope: ConversationScope;
  id: string;
  patch: { status?: RunStatus; startedAt?: Date; finishedAt?: Date; error?: string | null };
  whileStatus?: readonly RunStatus[];
}

/**
 * Opens one turn per write: inserts the queued runs and the users' messages, touches the threads and counts their messages,
 * and returns each turn's history (its thread's newest `historyLimit` messages before this one, oldest first; not read when
 * the thread's message count is still the write's `knownCount`) and the previous run's final_report. The reads see the
 * database as it was before the statement's own inserts (one snapshot).
 */
export async function openRuns(run: Execute, writes: OpenRunWrite[]): Promise<(OpenedTurn | null)[]> {
  const rows = writes.map((w, idx) => ({
    idx,
    thread_id: w.threadId,
    workspace: w.scope.workspace,
    user_id: w.scope.userId,
    request: w.request,
    goal: w.goal,
    owner: w.owner,
    history_limit: Math.max(0, w.historyLimit),
    known: w.knownCount,
  }));
  const res = await run(sql`
    with i as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as i(idx int, thread_id uuid, workspace text, user_id text, request text, goal text, owner text, history_limit int,
             known int)
    ), ok as (
      select i.*, own.message_count from i cross join lateral (${ownThread(sql`i.thread_id`, sql`t.message_count`)}) own
    ), r as (
      insert into runs (thread_id, request, goal, owner, heartbeat_at)
      select thread_id, request, goal, owner, case when owner is null then null else now() end from ok order by idx
      returning *
    ), m as (
      insert into messages (thread_id, role, content, run_id) select thread_id, 'user', request, id from r
      returning *, ${createdUs(sql`created_at`)} as created_us
    ), t as (
      update threads set updated_at = now(), message_count = message_count + 1 where id in (select thread_id from r)
      returning id, message_count
    )
    select ok.idx, row_to_json(r) as run, row_to_json(m) as message, ok.message_count as count_before,
      t.message_count as count_after,
      case when ok.known is distinct from ok.message_count then
        (select coalesce(json_agg(row_to_json(h) order by h.created_at, h.id), '[]'::json)
           from (select mm.*, ${createdUs(sql`mm.created_at`)} as created_us from messages mm where mm.thread_id = ok.thread_id
                 order by mm.created_at desc, mm.id desc limit ok.history_limit) h)
      end as history,
      (select e.payload from run_events e
         where e.run_id = (select rr.id from runs rr where rr.thread_id = ok.thread_id order by rr.created_at desc limit 1)
           and e.type = 'final_report' order by e.seq desc limit 1) as previous_report
    from ok join r on r.thread_id = ok.thread_id join m on m.thread_id = ok.thread_id join t on t.id = ok.thread_id`);
  const out: (OpenedTurn | null)[] = writes.map(() => null);
  for (const o of rowsOf<{
    idx: number;
    run: unknown;
    message: unknown;
    count_before: number | string;
    count_after: number | string;
    history: unknown;
    previous_report: unknown;
  }>(res)) {
    const history = json<Record<string, unknown>[] | null>(o.history);
    const report = json<Record<string, unknown> | null>(o.previous_report);
    out[Number(o.idx)] = {
      run: runFromSql(json(o.run)),
      history: history ? history.map(historyMessageFromSql) : null,
      previousReport: report ?? null,
      countBefore: Number(o.count_before),
      countAfter: Number(o.count_after),
      message: historyMessageFromSql(json(o.message)),
    };
  }
  return out;
}

/** Persists one event per write; true for each persisted (its run is `scope`'s). */
export async function appendEvents(run: Execute, writes: AppendEventWrite[]): Promise<boolean[]> {
  const rows = writes.map((w) => ({
    run_id: w.runId,
    seq: w.e.seq,
    type: w.e.type,
    payload: w.e.payload,
    ts: w.e.ts.toISOString(),
    workspace: w.scope.workspace,
    user_id: w.scope.userId,
  }));
  const res = await run(sql`
    insert into run_events (run_id, seq, type, payload, ts)
    select i.run_id, i.seq, i.type, i.payload, i.ts
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as i(run_id uuid, seq int, type text, payload jsonb, ts timestamptz, workspace text, user_id text)
    cross join lateral (${ownRun(sql`i.run_id`)}) own
    returning run_id, seq`);
  const done = new Set(rowsOf<{ run_id: string; seq: number | string }>(res).map((o) => `${o.run_id}:${Number(o.seq)}`));
  return writes.map((w) => done.has(`${w.runId}:${w.e.seq}`));
}

/** Appends one message per write, touches its thread and counts it; null for a thread `scope` does not own. */
export async function addMessages(run: Execute, writes: AddMessageWrite[]): Promise<(AddedMessage | null)[]> {
  const rows = writes.map((w) => ({
    thread_id: w.threadId,
    role: w.m.role,
    content: w.m.content,
    run_id: w.m.runId ?? null,
    workspace: w.scope.workspace,
    user_id: w.scope.userId,
  }));
  const res = await run(sql`
    with m as (
      insert into messages (thread_id, role, content, run_id)
      select i.thread_id, i.role, i.content, i.run_id
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as i(thread_id uuid, role text, content text, run_id uuid, workspace text, user_id text)
      cross join lateral (${ownThread(sql`i.thread_id`)}) own
      returning *, ${createdUs(sql`created_at`)} as created_us
    ), u as (
      update threads set updated_at = now(), message_count = message_count + 1 where id in (select thread_id from m)
      returning id, message_count
    )
    select m.*, u.message_count as count_after from m join u on u.id = m.thread_id`);
  const byThread = new Map(
    rowsOf<Record<string, unknown>>(res).map((o) => [
      String(o.thread_id),
      { message: historyMessageFromSql(o), countAfter: Number(o.count_after) },
    ]),
  );
  return writes.map((w) => byThread.get(w.threadId) ?? null);
}

/**
 * Applies each write's patch to its run (a field absent from the patch is left as it is), only while the run's status is
 * one of `whileStatus` when given; null for a run `scope` does not own or whose status no longer qualifies.
 */
export async function updateRuns(run: Execute, writes: UpdateRunWrite[]): Promise<(RunRow | null)[]> {
  const rows = writes.map((w) => {
    const p = w.patch;
    return {
      id: w.id,
      workspace: w.scope.workspace,
      user_id: w.scope.userId,
      status: p.status ?? null,
      set_started: p.startedAt !== undefined,
      started_at: p.startedAt?.toISOString() ?? null,
      set_finished: p.finishedAt !== undefined,
      finished_at: p.finishedAt?.toISOString() ?? null,
      set_error: p.error !== undefined,
      error: p.error ?? null,
      while_status: w.whileStatus ? w.whileStatus.join(',') : null,
    };
  });
  const res = await run(sql`
    update runs r set
      status = coalesce(i.status, r.status),
      started_at = case when i.set_started then i.started_at else r.started_at end,
      finished_at = case when i.set_finished then i.finished_at else r.finished_at end,
      error = case when i.set_error then i.error else r.error end
    from (
      select i.* from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as i(id uuid, workspace text, user_id text, status text, set_started boolean, started_at timestamptz,
             set_finished boolean, finished_at timestamptz, set_error boolean, error text, while_status text)
      cross join lateral (${ownRun(sql`i.id`)}) own
    ) i
    where r.id = i.id and (i.while_status is null or r.status = any(string_to_array(i.while_status, ',')))
    returning r.*`);
  const byId = new Map(rowsOf<Record<string, unknown>>(res).map((o) => [String(o.id), runFromSql(o)]));
  return writes.map((w) => byId.get(w.id) ?? null);
}

/*
 * Ownership as a LATERAL lookup per input row, by primary keys (LIMIT 1 keeps the planner from turning it into a join): the
 * planner cannot estimate a jsonb_to_recordset, and joined the plain way it picked a hash join of every input row with
 * every thread of the owner (100 inputs x 100 threads) before filtering. Needs `i.workspace` and `i.user_id`.
 */
function ownThread(threadId: SQL, columns: SQL = sql`1`) {
  return sql`select ${columns} from threads t join workspaces w on w.id = t.workspace_id
    where t.id = ${threadId} and t.user_id = i.user_id and w.name = i.workspace limit 1`;
}

/** created_at in whole microseconds since the epoch (exact in a double until the year 2255). */
function createdUs(column: SQL) {
  return sql`(extract(epoch from ${column}) * 1000000)::int8`;
}

/** The run's thread by the run's primary key first (a scalar subquery: never reordered into a scan of the owner's threads). */
function ownRun(runId: SQL) {
  return ownThread(sql`(select r.thread_id from runs r where r.id = ${runId})`);
}

const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

/** json/jsonb as the driver returns it: parsed already (node-postgres, PGlite) or text. */
function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** A `runs` row as raw SQL returns it (snake_case; timestamps as Date or text, by driver) → the Drizzle row type. */
export function runFromSql(o: Record<string, unknown>): RunRow {
  return {
    id: String(o.id),
    threadId: String(o.thread_id),
    status: o.status as RunStatus,
    goal: (o.goal as string | null) ?? null,
    request: String(o.request),
    error: (o.error as string | null) ?? null,
    createdAt: dateOrNull(o.created_at)!,
    startedAt: dateOrNull(o.started_at),
    finishedAt: dateOrNull(o.finished_at),
    owner: (o.owner as string | null) ?? null,
    heartbeatAt: dateOrNull(o.heartbeat_at),
  };
}

/** A `messages` row as raw SQL returns it → the Drizzle row type. */
export function messageFromSql(o: Record<string, unknown>): MessageRow {
  return {
    id: String(o.id),
    threadId: String(o.thread_id),
    role: o.role as MessageRow['role'],
    content: String(o.content),
    runId: (o.run_id as string | null) ?? null,
    createdAt: dateOrNull(o.created_at)!,
  };
}

/** A `messages` row with `created_us` → the row and its position in the history order. */
function historyMessageFromSql(o: Record<string, unknown>): HistoryMessage {
  return { row: messageFromSql(o), createdUs: Number(o.created_us) };
}

export function rowsOf<T>(r: unknown): T[] {
  return Array.isArray(r) ? (r as T[]) : ((r as { rows?: T[] }).rows ?? []);
}
