/**
 * A workspace's settings: GET and PUT /api/v1/workspaces/:workspace/settings { time_zone }. The time zone (an IANA
 * name the runtime's Intl knows, UTC by default) is the calendar of its questions ("yesterday", "this month") and of
 * its per-hour/day/week breakdowns.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NetraError } from '../../errors.js';
import { isTimeZone } from '../../workload/zoned-time.js';
import type { ServerDeps } from '../deps.js';
import { parseWorkspace } from '../params.js';
import { AUTH_ERRORS, json, route, WorkspaceParams } from '../schemas/common.js';

const SettingsBody = z.strictObject({ time_zone: z.string().min(1).max(64).describe('an IANA time zone (e.g. Europe/Paris)') });
const Settings = z.object({ workspace: z.string(), time_zone: z.string() });
const tags = ['workspaces'];
const getSchema = route({
  summary: "A workspace's settings (its time zone)",
  tags,
  params: WorkspaceParams,
  ok: { 200: json(Settings, 'the settings') },
  errors: [400, ...AUTH_ERRORS],
});
const putSchema = route({
  summary: "Sets a workspace's time zone (the calendar of its questions and breakdowns)",
  tags,
  params: WorkspaceParams,
  body: SettingsBody,
  ok: { 200: json(Settings, 'the stored settings') },
  errors: [400, ...AUTH_ERRORS],
});

export function workspaceSettingsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/api/v1/workspaces/:workspace/settings', { schema: getSchema }, async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    return { workspace, time_zone: await deps.repo.getWorkspaceTimeZone(workspace) };
  });
  app.put('/api/v1/workspaces/:workspace/settings', { schema: putSchema }, async (req) => {
    const workspace = parseWorkspace((req.params as { workspace: string }).workspace, deps.config.defaultWorkspace);
    const body = SettingsBody.safeParse(req.body ?? {});
    if (!body.success) {
      const i = body.error.issues[0]!;
      throw new NetraError('VALIDATION', i.message, { field: i.path.join('.') || 'time_zone' });
    }
    if (!isTimeZone(body.data.time_zone))
      throw new NetraError('VALIDATION', `unknown time zone '${body.data.time_zone}'; use an IANA name such as Europe/Paris or UTC`, {
        field: 'time_zone',
      });
    await deps.repo.setWorkspaceTimeZone(workspace, body.data.time_zone);
    return { workspace, time_zone: body.data.time_zone };
  });
}
