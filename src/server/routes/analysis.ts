/**
 * The optimisation engine over HTTP: GET /api/v1/analysis (performance, the top ten recommendations, findings and
 * minor items apart, the one projected-savings figure in the summary: optimize/presentation.ts),
 * POST /api/v1/simulations (what-if replay of a policy), GET /api/v1/policy (the policy the analysis recommends).
 */
import type { FastifyInstance } from 'fastify';
import { NetraError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { parseRange, parseWorkspace } from '../params.js';
import { presentAnalysis } from '../../optimize/presentation.js';
import {
  checkBreakdownQuery,
  type BreakdownDimension,
  type BreakdownFilter,
  type BreakdownMetric,
  type BreakdownQuery,
  type Granularity,
} from '../../optimize/ports/breakdown.js';
import { AUTH_ERRORS, checkQueryKeys, json, route } from '../schemas/common.js';
import {
  AnalysisQuery,
  AnalysisResponse,
  BreakdownQuery as BreakdownQuerySchema,
  BreakdownResponse,
  PolicyQuery,
  PolicyResponse,
  SimulationBody,
  SimulationQuery,
  SimulationResponse,
} from '../schemas/analysis.js';

/** 404: the workspace has no events in the window */
const ERRORS = [400, 404, ...AUTH_ERRORS];
const tags = ['analysis'];
const analysisSchema = route({
  summary: 'Performance and ranked recommendations for a window',
  tags,
  querystring: AnalysisQuery,
  ok: { 200: json(AnalysisResponse, 'summary, performance, recommendations ranked for the goal, skipped kinds') },
  errors: ERRORS,
});
const breakdownSchema = route({
  summary: 'Any metric by any dimension, filtered, over a window, per hour/day/week, top N with the rest as "(other)"',
  tags,
  querystring: BreakdownQuerySchema,
  ok: { 200: json(BreakdownResponse, 'totals and one row per group (and bucket)') },
  errors: ERRORS,
});
const simulationSchema = route({
  summary: 'What-if replay of a policy over the stored events',
  tags,
  querystring: SimulationQuery,
  body: SimulationBody,
  ok: { 200: json(SimulationResponse, 'baseline and projected figures, savings, per day, assumptions') },
  errors: ERRORS,
});
const policySchema = route({
  summary: 'The policy the analysis recommends (input of POST /api/v1/simulations and the gateway policy)',
  tags,
  querystring: PolicyQuery,
  ok: { 200: json(PolicyResponse, 'a policy') },
  errors: ERRORS,
});

export function analysisRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/api/v1/analysis', { schema: analysisSchema }, async (req) => {
    checkQueryKeys(AnalysisQuery, req.query);
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    if (q.goal !== undefined && typeof q.goal !== 'string') throw new NetraError('VALIDATION', 'goal must be a string', { field: 'goal' });
    return presentAnalysis(await deps.analysis.analyze({ workspace, ...parseRange(q), goal: q.goal as string | undefined }));
  });

  // GET /api/v1/breakdown?metric=spend&by=app|tag:task&granularity=day&top=5&filter=end_user:u-1&from=&to=&time_zone=
  // time buckets are in the workspace's time zone (its settings) unless time_zone names another
  app.get('/api/v1/breakdown', { schema: breakdownSchema }, async (req) => {
    checkQueryKeys(BreakdownQuerySchema, req.query);
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    const query = parseBreakdownQuery(q);
    const tz = typeof q.time_zone === 'string' ? q.time_zone : await deps.repo.getWorkspaceTimeZone(workspace);
    return deps.analysis.breakdown({ workspace, ...parseRange(q), query: tz === 'UTC' ? query : { ...query, time_zone: tz } });
  });

  app.post('/api/v1/simulations', { schema: simulationSchema }, async (req) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new NetraError('VALIDATION', 'body must be { policy, workspace?, from?, to? }', { field: '(body)' });
    if (body.policy === undefined) throw new NetraError('VALIDATION', 'policy is required', { field: 'policy' });
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(body.workspace ?? q.workspace, deps.config.defaultWorkspace);
    const r = await deps.analysis.simulate({
      workspace,
      ...parseRange({ from: body.from ?? q.from, to: body.to ?? q.to }),
      policy: body.policy,
    });
    // the replay's SQL stays inside (it names tables and settings a client has no use for); the result is the figures
    const { query: _sql, ...result } = r as typeof r & { query?: string };
    return result;
  });

  app.get('/api/v1/policy', { schema: policySchema }, async (req) => {
    checkQueryKeys(PolicyQuery, req.query);
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    return deps.analysis.recommendedPolicy({ workspace, ...parseRange(q), goal: q.goal as string | undefined });
  });
}

const text = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new NetraError('VALIDATION', `${field} must be given once, as text`, { field });
  return v;
};
const dimensionOf = (v: string): BreakdownDimension => (v.startsWith('tag:') ? { tag: v.slice(4) } : (v as BreakdownDimension));

/** Query-string form of a breakdown; checkBreakdownQuery names the field of anything invalid. */
function parseBreakdownQuery(q: Record<string, unknown>): BreakdownQuery {
  const by = text(q.by, 'by');
  const top = text(q.top, 'top');
  const rawFilters = q.filter === undefined ? [] : Array.isArray(q.filter) ? q.filter : [q.filter];
  const filters: BreakdownFilter[] = rawFilters.map((f) => {
    const s = text(f, 'filter') ?? '';
    const i = s.lastIndexOf(':');
    if (i <= 0)
      throw new NetraError('VALIDATION', 'filter must be column:value (e.g. app:support-bot or tag:task:classify)', { field: 'filter' });
    return { column: dimensionOf(s.slice(0, i)), value: s.slice(i + 1) };
  });
  return checkBreakdownQuery({
    dimension: by === undefined ? null : dimensionOf(by),
    granularity: (text(q.granularity, 'granularity') ?? null) as Granularity | null,
    filters,
    rank_by: (text(q.metric, 'metric') ?? 'spend') as BreakdownMetric,
    top: top === undefined ? null : Number(top),
  });
}
