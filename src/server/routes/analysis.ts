/**
 * The optimisation engine over HTTP: GET /api/v1/analysis (performance + ranked recommendations),
 * POST /api/v1/simulations (what-if replay of a policy), GET /api/v1/policy (the policy the analysis recommends).
 */
import type { FastifyInstance } from 'fastify';
import { NetraError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { parseRange, parseWorkspace } from '../params.js';

export function analysisRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/api/v1/analysis', async (req) => {
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    if (q.goal !== undefined && typeof q.goal !== 'string') throw new NetraError('VALIDATION', 'goal must be a string', { field: 'goal' });
    return deps.analysis.analyze({ workspace, ...parseRange(q), goal: q.goal as string | undefined });
  });

  app.post('/api/v1/simulations', async (req) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new NetraError('VALIDATION', 'body must be { policy, workspace?, from?, to? }', { field: '(body)' });
    if (body.policy === undefined) throw new NetraError('VALIDATION', 'policy is required', { field: 'policy' });
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(body.workspace ?? q.workspace, deps.config.defaultWorkspace);
    const r = await deps.analysis.simulate({ workspace, ...parseRange({ from: body.from ?? q.from, to: body.to ?? q.to }), policy: body.policy });
    // the replay's SQL stays inside (it names tables and settings a client has no use for); the result is the figures
    const { query: _sql, ...result } = r as typeof r & { query?: string };
    return result;
  });

  app.get('/api/v1/policy', async (req) => {
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    return deps.analysis.recommendedPolicy({ workspace, ...parseRange(q), goal: q.goal as string | undefined });
  });
}
