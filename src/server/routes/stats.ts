/** Workspace listing and summary statistics over stored events. */
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';
import type { EventFilter } from '../../store/event-filter.js';
import { parseRange, parseWorkspace } from '../params.js';
import { AUTH_ERRORS, checkQueryKeys, json, route } from '../schemas/common.js';
import {
  DeleteEventsBody,
  DeleteEventsQuery,
  DeleteEventsResponse,
  EventsQuery,
  EventsResponse,
  StatsQuery,
  StatsResponse,
  UnpricedResponse,
  WorkspacesResponse,
} from '../schemas/analysis.js';

const ERRORS = [400, ...AUTH_ERRORS];
const tags = ['reads'];
const statsSchema = route({
  summary: "A workspace's totals and per-model figures over a window",
  tags,
  querystring: StatsQuery,
  ok: { 200: json(StatsResponse, 'totals and by_model') },
  errors: ERRORS,
});
const unpricedSchema = route({
  summary: 'Models whose events are stored unpriced ($0) and the request that prices each',
  tags,
  querystring: StatsQuery,
  ok: { 200: json(UnpricedResponse, 'unpriced models with event counts and tokens') },
  errors: ERRORS,
});
const workspacesSchema = route({
  summary: "The caller's workspaces, with role and event counts",
  tags,
  ok: { 200: json(WorkspacesResponse, 'the workspaces the caller may see') },
  errors: AUTH_ERRORS,
});
const eventsSchema = route({
  summary: 'Stored events of a window, oldest first, paged',
  tags,
  querystring: EventsQuery,
  ok: { 200: json(EventsResponse, 'a page of events') },
  errors: ERRORS,
});
const deleteSchema = route({
  summary: 'Deletes events by id or by filter (owners)',
  tags,
  querystring: DeleteEventsQuery,
  body: DeleteEventsBody,
  optionalBody: true,
  ok: { 200: json(DeleteEventsResponse, 'how many events were deleted') },
  errors: ERRORS,
});

export function statsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/api/v1/stats', { schema: statsSchema }, async (req) => {
    checkQueryKeys(StatsQuery, req.query);
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    return deps.analysis.stats({ workspace, ...parseRange(q) });
  });

  // models whose events are stored unpriced (cost_source unknown_model, $0) and how to price them
  app.get('/api/v1/models/unpriced', { schema: unpricedSchema }, async (req) => {
    checkQueryKeys(StatsQuery, req.query);
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    const s = await deps.analysis.stats({ workspace, ...parseRange(q) });
    const models = s.by_model
      .filter((m) => m.unpriced_events > 0)
      .map((m) => ({
        model: m.model,
        provider: m.provider,
        events: m.unpriced_events,
        prompt_tokens: m.prompt_tokens,
        completion_tokens: m.completion_tokens,
        fix: `PUT /api/v1/workspaces/${workspace}/price-overrides/${encodeURIComponent(m.model)} with { "input": <USD per input token>, "output": <USD per output token> }: its stored events are repriced`,
      }));
    return { workspace, unpriced_events: s.unpriced_events, models };
  });

  app.get('/api/v1/workspaces', { schema: workspacesSchema }, async (req) => {
    const [rows, counts, visible] = await Promise.all([
      deps.repo.listWorkspaces(),
      deps.store.workspaces(),
      deps.accounts.access.visible(req.principal!),
    ]);
    const byName = new Map(counts.map((c) => [c.workspace, c]));
    return {
      // only the caller's workspaces, with the caller's role
      workspaces: rows
        .filter((w) => visible.has(w.name))
        .map((w) => ({
          name: w.name,
          role: visible.get(w.name),
          created_at: w.createdAt.toISOString(),
          events: byName.get(w.name)?.events ?? 0,
          first_event: byName.get(w.name)?.first_event ?? null,
          last_event: byName.get(w.name)?.last_event ?? null,
        })),
    };
  });

  app.get('/api/v1/events', { schema: eventsSchema }, async (req) => {
    checkQueryKeys(EventsQuery, req.query);
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
    const offset = Math.max(Number(q.offset ?? 0) || 0, 0);
    return { events: await deps.store.listEvents({ workspace, ...parseRange(q) }, { limit, offset }), limit, offset };
  });

  // Deletes events by id (ids=a,b or a JSON body { ids: [...] }) or by filter (app, model, from, to); owners only.
  app.delete('/api/v1/events', { schema: deleteSchema }, async (req) => {
    const q = req.query as Record<string, unknown>;
    const workspace = parseWorkspace(q.workspace, deps.config.defaultWorkspace);
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    const pick = (k: string) => (body[k] !== undefined ? body[k] : q[k]);
    const ids = pick('ids');
    const filter: EventFilter = {
      ...(ids !== undefined
        ? {
            ids: (typeof ids === 'string'
              ? ids
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean)
              : ids) as string[],
          }
        : {}),
      ...(pick('app') !== undefined ? { app: pick('app') as string } : {}),
      ...(pick('model') !== undefined ? { model: pick('model') as string } : {}),
      ...parseRange({ from: pick('from'), to: pick('to') }),
    };
    const deleted = await deps.deleteEvents(workspace, filter);
    return { workspace, deleted };
  });
}
