/**
 * Conversations over HTTP. Every route names its workspace with ?workspace= and sees only the caller's own threads
 * (a user, or an API key as `key:<prefix>`):
 * - GET /api/v1/threads → { threads } newest activity first;  POST /api/v1/threads { title? } → 201 thread
 * - GET /api/v1/threads/:id → the thread with its runs;  PATCH { title } → thread;  DELETE → 204 (stops its running runs)
 * - GET /api/v1/threads/:id/messages → { messages } oldest first
 * - POST /api/v1/runs { request, thread_id?, goal? } → 202 { id, status, thread_id } (a thread is created when none is named)
 * - GET /api/v1/runs/:id?after=<event_id> → the run's status, timings and persisted events after `after` (default 0)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ConversationScope, MessageRow, RunRow, ThreadRow } from '../../chat/conversations-repository.js';
import { NetraError } from '../../errors.js';
import { GOALS } from '../../optimize/ranking.js';
import type { ServerDeps } from '../deps.js';
import { AUTH_ERRORS, IdParams, json, noContent, route, WorkspaceQuery } from '../schemas/common.js';
import {
  MessagesResponse,
  RunQuery,
  RunStarted,
  RunWithEvents,
  Thread,
  ThreadsQuery,
  ThreadsResponse,
  ThreadWithRuns,
} from '../schemas/misc.js';

export const MAX_REQUEST_CHARS = 10_000;
const MAX_TITLE_CHARS = 200;

const Title = z.string().trim().max(MAX_TITLE_CHARS, `must be at most ${MAX_TITLE_CHARS} characters`);
const CreateThreadBody = z.object({ title: Title.optional() }).strict();
const RenameBody = z.object({ title: Title.min(1, 'must not be empty') }).strict();
const StartRunBody = z
  .object({
    request: z.string().trim().min(1, 'must not be empty').max(MAX_REQUEST_CHARS, `must be at most ${MAX_REQUEST_CHARS} characters`),
    thread_id: z.string().optional(),
    goal: z.enum(GOALS).optional(),
  })
  .strict();

const tags = ['conversations'];
const ERRORS = [400, 404, ...AUTH_ERRORS];
const Workspace = z.object(WorkspaceQuery);
const thread = { tags, params: IdParams, querystring: Workspace, errors: ERRORS };
const SCHEMAS = {
  list: route({
    summary: "The caller's threads, newest activity first",
    tags,
    querystring: ThreadsQuery,
    ok: { 200: json(ThreadsResponse, 'threads') },
    errors: ERRORS,
  }),
  create: route({
    summary: 'Creates a thread',
    tags,
    querystring: Workspace,
    body: CreateThreadBody,
    optionalBody: true,
    ok: { 201: json(Thread, 'the thread') },
    errors: ERRORS,
  }),
  get: route({ summary: 'A thread with its runs', ...thread, ok: { 200: json(ThreadWithRuns, 'the thread') } }),
  rename: route({ summary: 'Renames a thread', ...thread, body: RenameBody, ok: { 200: json(Thread, 'the thread') } }),
  delete: route({ summary: 'Deletes a thread (its running runs are stopped)', ...thread, ok: { 204: noContent('deleted') } }),
  messages: route({ summary: "A thread's messages, oldest first", ...thread, ok: { 200: json(MessagesResponse, 'messages') } }),
  startRun: route({
    summary: 'Asks the agents a question: starts a run (in a new thread when none is named)',
    description: 'The run streams its steps over the WebSocket at /ws (docs/PROTOCOL.md); GET /api/v1/runs/{id} reads them after the fact.',
    tags,
    querystring: Workspace,
    body: StartRunBody,
    ok: { 202: json(RunStarted, 'started') },
    errors: ERRORS,
  }),
  getRun: route({
    summary: "A run's status, timings and persisted events",
    tags,
    params: IdParams,
    querystring: RunQuery,
    ok: { 200: json(RunWithEvents, 'the run') },
    errors: ERRORS,
  }),
};

/** The conversations owner a request acts as: the user, or the API key. */
export function conversationScope(req: FastifyRequest): ConversationScope {
  const p = req.principal!;
  return { workspace: req.authorizedWorkspace!, userId: p.kind === 'user' ? p.userId : `key:${p.prefix}` };
}

export function chatRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const chat = deps.chat;
  if (!chat) return;
  const { conversations, runs } = chat;
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

  app.get('/api/v1/threads', { schema: SCHEMAS.list }, async (req) => {
    const q = req.query as Record<string, unknown>;
    const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 500);
    return { threads: (await conversations.listThreads(conversationScope(req), limit)).map(threadView) };
  });

  app.post('/api/v1/threads', { schema: SCHEMAS.create }, async (req, reply) => {
    const b = parse(CreateThreadBody, req.body ?? {});
    const t = await conversations.createThread(conversationScope(req), b.title ?? '');
    if (!t) throw new NetraError('NOT_FOUND', `workspace ${req.authorizedWorkspace} does not exist`, { field: 'workspace' });
    return reply.status(201).send(threadView(t));
  });

  app.get('/api/v1/threads/:id', { schema: SCHEMAS.get }, async (req) => {
    const scope = conversationScope(req);
    const t = await findThread(scope, idOf(req));
    return { ...threadView(t), runs: (await conversations.listRuns(scope, t.id)).map(runView) };
  });

  app.patch('/api/v1/threads/:id', { schema: SCHEMAS.rename }, async (req) => {
    const b = parse(RenameBody, req.body ?? {});
    const t = await conversations.renameThread(conversationScope(req), idOf(req), b.title);
    if (!t) throw threadNotFound(req.authorizedWorkspace!, idOf(req));
    return threadView(t);
  });

  app.delete('/api/v1/threads/:id', { schema: SCHEMAS.delete }, async (req, reply) => {
    const scope = conversationScope(req);
    const t = await findThread(scope, idOf(req));
    for (const r of await conversations.listRuns(scope, t.id)) if (runs.isActive(r.id)) await runs.stop(scope, r.id);
    if (!(await conversations.deleteThread(scope, t.id))) throw threadNotFound(scope.workspace, t.id);
    return reply.status(204).send();
  });

  app.get('/api/v1/threads/:id/messages', { schema: SCHEMAS.messages }, async (req) => {
    const scope = conversationScope(req);
    const rows = await conversations.listMessages(scope, idOf(req));
    if (!rows) throw threadNotFound(scope.workspace, idOf(req));
    return { thread_id: idOf(req), messages: rows.map(messageView) };
  });

  app.post('/api/v1/runs', { schema: SCHEMAS.startRun }, async (req, reply) => {
    const b = parse(StartRunBody, req.body ?? {});
    const scope = conversationScope(req);
    let threadId = b.thread_id;
    if (threadId === undefined) {
      const t = await conversations.createThread(scope, b.request.slice(0, 80));
      if (!t) throw new NetraError('NOT_FOUND', `workspace ${scope.workspace} does not exist`, { field: 'workspace' });
      threadId = t.id;
    } else {
      await findThread(scope, threadId);
    }
    const { run } = await runs.start(scope, { thread_id: threadId, request: b.request, goal: b.goal });
    return reply.status(202).send({ id: run.id, status: run.status, thread_id: threadId, workspace: scope.workspace });
  });

  app.get('/api/v1/runs/:id', { schema: SCHEMAS.getRun }, async (req) => {
    const scope = conversationScope(req);
    const q = req.query as Record<string, unknown>;
    const after = q.after === undefined || q.after === '' ? 0 : Number(q.after);
    if (!Number.isInteger(after) || after < 0)
      throw new NetraError('VALIDATION', 'after must be an event_id (a whole number ≥ 0)', { field: 'after' });
    const run = await conversations.getRun(scope, idOf(req));
    if (!run) throw new NetraError('NOT_FOUND', `no run ${idOf(req).slice(0, 40)} in workspace ${scope.workspace}`, { field: 'id' });
    return { ...runView(run), events: await runs.eventsAfter(scope, run.id, after) };
  });

  async function findThread(scope: ConversationScope, id: string): Promise<ThreadRow> {
    const t = await conversations.getThread(scope, id);
    if (!t) throw threadNotFound(scope.workspace, id);
    return t;
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    field: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.') || '(body)',
    message: i.code === 'unrecognized_keys' ? 'unknown field' : i.message,
  }));
  const first = issues[0]!;
  throw new NetraError('VALIDATION', `${first.field}: ${first.message}`, { field: first.field, details: issues });
}

function threadNotFound(workspace: string, id: string): NetraError {
  return new NetraError('NOT_FOUND', `no thread ${id.slice(0, 40)} in workspace ${workspace}`, { field: 'id' });
}

export function threadView(t: ThreadRow) {
  return { id: t.id, title: t.title, created_at: t.createdAt.toISOString(), updated_at: t.updatedAt.toISOString() };
}

export function messageView(m: MessageRow) {
  return { id: m.id, role: m.role, content: m.content, run_id: m.runId, created_at: m.createdAt.toISOString() };
}

export function runView(r: RunRow) {
  return {
    id: r.id,
    thread_id: r.threadId,
    status: r.status,
    goal: r.goal,
    request: r.request,
    error: r.error,
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
  };
}
