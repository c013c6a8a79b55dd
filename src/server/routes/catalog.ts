/** The price catalog, per-workspace overrides, and repricing of stored events. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NetraError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { parseWorkspace } from '../params.js';

const price = z
  .number()
  .nonnegative()
  .max(0.001, 'USD per token: at most 0.001 ($1,000 per million tokens); did you enter a per-million price?')
  .nullable()
  .optional();
const OverrideBody = z.object({ input: price, output: price, cached_input: price, cache_write: price });

export function catalogRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/api/v1/catalog', async () => deps.pricing.listing());

  app.get('/api/v1/workspaces/:workspace/price-overrides', async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    return { overrides: await deps.repo.listPriceOverrides(workspace) };
  });

  app.put('/api/v1/workspaces/:workspace/price-overrides/:model', async (req) => {
    const p = req.params as { workspace: string; model: string };
    const workspace = parseWorkspace(p.workspace, deps.config.defaultWorkspace);
    const body = OverrideBody.safeParse(req.body ?? {});
    if (!body.success) {
      const i = body.error.issues[0]!;
      throw new NetraError('VALIDATION', i.message, { field: i.path.join('.') });
    }
    const row = {
      workspace,
      model: p.model,
      input: body.data.input ?? null,
      output: body.data.output ?? null,
      cached_input: body.data.cached_input ?? null,
      cache_write: body.data.cache_write ?? null,
    };
    return { workspace, model: p.model, repriced: await deps.pricing.setOverride(row) };
  });

  app.delete('/api/v1/workspaces/:workspace/price-overrides/:model', async (req, reply) => {
    const p = req.params as { workspace: string; model: string };
    const workspace = parseWorkspace(p.workspace, deps.config.defaultWorkspace);
    return reply.send({ workspace, model: p.model, repriced: await deps.pricing.deleteOverride(workspace, p.model) });
  });

  app.post('/api/v1/workspaces/:workspace/reprice', async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    return deps.pricing.reprice(workspace);
  });
}
