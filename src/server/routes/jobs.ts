/**
 * Background jobs over HTTP:
 * - POST /api/v1/jobs { kind: 'generate', workspace?, preset, events, days?, seed? } → 202 { id, status } (runs in the background);
 * - GET /api/v1/jobs?workspace= → the workspace's jobs, newest first;
 * - GET /api/v1/jobs/:id?workspace= → status, progress, counts, errors, result (a generation's manifest);
 * - DELETE /api/v1/jobs/:id?workspace= → 202, cancel requested (409 when the job has already finished).
 * File imports are CLI-only: a server does not read paths on its own disk for a caller.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PRESET_NAMES } from '../../corpus/generator.js';
import type { JobRow } from '../../db/repository.js';
import { NetraError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { parseWorkspace } from '../params.js';
import { AUTH_ERRORS, IdParams, json, route, WorkspaceQuery } from '../schemas/common.js';
import { Job, JobCancelled, JobsQuery, JobStarted, JobsResponse } from '../schemas/misc.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const IMPORT_IS_CLI_ONLY =
  "kind 'import' is not available over HTTP: a server does not read files on its own disk for a caller. " +
  'Run `netra import <file> --format <format>` on the machine that has the file, or send the events to POST /api/v1/events ' +
  '(application/x-ndjson streams any size).';

export function jobsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { maxGenerateEvents } = deps.config.jobs;
  const GenerateBody = z
    .object({
      kind: z.literal('generate'),
      workspace: z.string().optional(),
      preset: z
        .string()
        .refine((p) => PRESET_NAMES.includes(p), { message: `must be one of ${PRESET_NAMES.join(', ')}` })
        .describe(`one of ${PRESET_NAMES.join(', ')}`),
      events: z
        .number({ message: 'must be a whole number of events' })
        .int('must be a whole number of events')
        .min(1, 'must be at least 1')
        .max(maxGenerateEvents, `must be at most ${maxGenerateEvents} (NETRA_JOBS_MAX_GENERATE_EVENTS)`),
      days: z.number().int('must be a whole number of days').min(1, 'must be at least 1').max(3650, 'must be at most 3650').optional(),
      seed: z.number().int('must be an integer').min(0, 'must be 0 or more').optional(),
    })
    .strict();

  const tags = ['jobs'];
  const ERRORS = [400, 404, ...AUTH_ERRORS];
  const byId = { tags, params: IdParams, querystring: z.object(WorkspaceQuery), errors: ERRORS };
  const startSchema = route({
    summary: 'Starts a background job: a synthetic workload generation',
    tags,
    querystring: z.object(WorkspaceQuery),
    body: GenerateBody,
    ok: { 202: json(JobStarted, 'queued; follow it with GET /api/v1/jobs/{id}') },
    errors: ERRORS,
  });
  app.post('/api/v1/jobs', { schema: startSchema }, async (req, reply) => {
    const body = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new NetraError('VALIDATION', "body must be { kind: 'generate', workspace?, preset, events, days?, seed? }", {
        field: '(body)',
      });
    }
    const kind = (body as Record<string, unknown>).kind;
    if (kind === 'import') throw new NetraError('VALIDATION', IMPORT_IS_CLI_ONLY, { field: 'kind' });
    if (kind !== 'generate')
      throw new NetraError('VALIDATION', `kind must be 'generate' (got ${JSON.stringify(kind ?? null)})`, { field: 'kind' });
    const parsed = GenerateBody.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => {
        const field = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.') || '(body)';
        return { field, message: i.code === 'unrecognized_keys' ? 'unknown field' : i.message };
      });
      const first = issues[0]!;
      throw new NetraError('VALIDATION', `${first.field}: ${first.message}`, { field: first.field, details: issues });
    }
    const b = parsed.data;
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(b.workspace ?? q.workspace, deps.config.defaultWorkspace);
    const job = await deps.jobs.startGenerate({ workspace, preset: b.preset, events: b.events, days: b.days, seed: b.seed });
    return reply.status(202).send({ id: job.id, status: job.status, workspace, kind: job.kind });
  });

  const listSchema = route({
    summary: "A workspace's jobs, newest first",
    tags,
    querystring: JobsQuery,
    ok: { 200: json(JobsResponse, 'the jobs') },
    errors: ERRORS,
  });
  app.get('/api/v1/jobs', { schema: listSchema }, async (req) => {
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    const limit = Math.min(Math.max(Number(q.limit ?? 50) || 50, 1), 200);
    return { jobs: (await deps.repo.listJobs(workspace, limit)).map(jobView) };
  });

  const getSchema = route({ summary: 'One job: status, progress, counts, errors, result', ...byId, ok: { 200: json(Job, 'the job') } });
  app.get('/api/v1/jobs/:id', { schema: getSchema }, async (req) => {
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    return jobView(await findJob(workspace, (req.params as { id: string }).id));
  });

  const cancelSchema = route({
    summary: 'Requests the cancellation of a job',
    ...byId,
    errors: [409, ...ERRORS],
    ok: { 202: json(JobCancelled, 'cancel requested') },
  });
  app.delete('/api/v1/jobs/:id', { schema: cancelSchema }, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    const id = (req.params as { id: string }).id;
    if (!UUID.test(id)) throw notFound(workspace, id);
    const row = await deps.jobs.runner.cancel(workspace, id);
    if (!row) throw notFound(workspace, id);
    return reply.status(202).send({ ...jobView(row), cancel_requested: true });
  });

  async function findJob(workspace: string, id: string): Promise<JobRow> {
    const row = UUID.test(id) ? await deps.repo.getJob(workspace, id) : null;
    if (!row) throw notFound(workspace, id);
    return row;
  }
}

function notFound(workspace: string, id: string): NetraError {
  return new NetraError('NOT_FOUND', `no job ${id.slice(0, 40)} in workspace ${workspace}`, { field: 'id' });
}

function jobView(j: JobRow) {
  return {
    id: j.id,
    workspace: j.workspace,
    kind: j.kind,
    source: j.source,
    format: j.format,
    status: j.status,
    progress: j.progress,
    accepted: j.accepted,
    rejected: j.rejected,
    duplicates: j.duplicates,
    errors: j.errors,
    result: j.result,
    created_at: j.createdAt.toISOString(),
    updated_at: j.updatedAt.toISOString(),
    finished_at: j.finishedAt?.toISOString() ?? null,
  };
}
