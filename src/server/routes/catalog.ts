/** The price catalog, per-workspace overrides, and repricing of stored events. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NetraError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { parseWorkspace } from '../params.js';
import { AUTH_ERRORS, errors, json, NoQuery, WorkspaceParams } from '../schemas/common.js';
import { Catalog, OverrideParams, OverrideResult, OverridesResponse, Reprice } from '../schemas/misc.js';

const price = z
  .number()
  .nonnegative()
  .max(0.001, 'USD per token: at most 0.001 ($1,000 per million tokens); did you enter a per-million price?')
  .nullable()
  .optional();
const OverrideBody = z.object({ input: price, output: price, cached_input: price, cache_write: price });
const tags = ['prices'];
const ERRORS = errors(400, 404, ...AUTH_ERRORS);

export function catalogRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const catalogSchema = {
    summary: 'The price catalog (USD per token) with every model, tier and alias',
    tags,
    querystring: NoQuery,
    response: { 200: json(Catalog, 'the catalog'), ...errors(...AUTH_ERRORS) },
  };
  app.get('/api/v1/catalog', { schema: catalogSchema }, async () => deps.pricing.listing());

  const listSchema = {
    summary: "A workspace's price overrides",
    tags,
    params: WorkspaceParams,
    querystring: NoQuery,
    response: { 200: json(OverridesResponse, 'the overrides'), ...ERRORS },
  };
  app.get('/api/v1/workspaces/:workspace/price-overrides', { schema: listSchema }, async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    return { overrides: await deps.repo.listPriceOverrides(workspace) };
  });

  const putSchema = {
    summary: "Sets a model's prices for a workspace; its stored events are repriced",
    tags,
    params: OverrideParams,
    querystring: NoQuery,
    body: OverrideBody,
    response: { 200: json(OverrideResult, 'the repricing the override caused'), ...ERRORS },
  };
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

  const deleteSchema = {
    summary: 'Removes an override; the stored events are repriced from the catalog',
    tags,
    params: OverrideParams,
    querystring: NoQuery,
    response: { 200: json(OverrideResult, 'the repricing'), ...ERRORS },
  };
  app.delete('/api/v1/workspaces/:workspace/price-overrides/:model', { schema: deleteSchema }, async (req, reply) => {
    const p = req.params as { workspace: string; model: string };
    const workspace = parseWorkspace(p.workspace, deps.config.defaultWorkspace);
    return reply.send({ workspace, model: p.model, repriced: await deps.pricing.deleteOverride(workspace, p.model) });
  });

  const repriceSchema = {
    summary: "Recomputes the catalog-priced costs of a workspace's stored events",
    tags,
    params: WorkspaceParams,
    querystring: NoQuery,
    response: { 200: json(Reprice, 'events updated and spend before/after'), ...ERRORS },
  };
  app.post('/api/v1/workspaces/:workspace/reprice', { schema: repriceSchema }, async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    return deps.pricing.reprice(workspace);
  });
}
