/** The price catalog, per-workspace overrides, and repricing of stored events. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NetraError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { parseWorkspace } from '../params.js';
import { AUTH_ERRORS, json, route, WorkspaceParams } from '../schemas/common.js';
import { Catalog, OverrideParams, OverrideResult, OverridesResponse, Reprice } from '../schemas/misc.js';

const price = z
  .number()
  .nonnegative()
  .max(0.001, 'USD per token: at most 0.001 ($1,000 per million tokens); did you enter a per-million price?')
  .nullable()
  .optional();
const OverrideBody = z.object({ input: price, output: price, cached_input: price, cache_write: price });
const tags = ['prices'];
const ERRORS = [400, 404, ...AUTH_ERRORS];
const catalogSchema = route({
  summary: 'The price catalog (USD per token) with every model, tier and alias',
  tags,
  ok: { 200: json(Catalog, 'the catalog') },
  errors: AUTH_ERRORS,
});
const listSchema = route({
  summary: "A workspace's price overrides",
  tags,
  params: WorkspaceParams,
  ok: { 200: json(OverridesResponse, 'the overrides') },
  errors: ERRORS,
});
const putSchema = route({
  summary: "Sets a model's prices for a workspace; its stored events are repriced",
  tags,
  params: OverrideParams,
  body: OverrideBody,
  ok: { 200: json(OverrideResult, 'the repricing the override caused') },
  errors: ERRORS,
});
const deleteSchema = route({
  summary: 'Removes an override; the stored events are repriced from the catalog',
  tags,
  params: OverrideParams,
  ok: { 200: json(OverrideResult, 'the repricing') },
  errors: ERRORS,
});
const repriceSchema = route({
  summary: "Recomputes the catalog-priced costs of a workspace's stored events",
  tags,
  params: WorkspaceParams,
  ok: { 200: json(Reprice, 'events updated and spend before/after') },
  errors: ERRORS,
});

export function catalogRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/api/v1/catalog', { schema: catalogSchema }, async () => deps.pricing.listing());

  app.get('/api/v1/workspaces/:workspace/price-overrides', { schema: listSchema }, async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    return { overrides: await deps.repo.listPriceOverrides(workspace) };
  });

  app.put('/api/v1/workspaces/:workspace/price-overrides/:model', { schema: putSchema }, async (req) => {
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

  app.delete('/api/v1/workspaces/:workspace/price-overrides/:model', { schema: deleteSchema }, async (req, reply) => {
    const p = req.params as { workspace: string; model: string };
    const workspace = parseWorkspace(p.workspace, deps.config.defaultWorkspace);
    return reply.send({ workspace, model: p.model, repriced: await deps.pricing.deleteOverride(workspace, p.model) });
  });

  app.post('/api/v1/workspaces/:workspace/reprice', { schema: repriceSchema }, async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    return deps.pricing.reprice(workspace);
  });
}
