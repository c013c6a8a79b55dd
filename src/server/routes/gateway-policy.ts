/**
 * A workspace's gateway policy: GET and PUT /api/v1/workspaces/:workspace/gateway-policy { mode, policy, record_text },
 * and what it saved: GET /api/v1/workspaces/:workspace/gateway-savings?from&to (realized vs predicted, per rule kind).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Gateway } from '../../gateway/index.js';
import type { GatewaySavingsService } from '../../services/gateway-savings.js';
import { parseRange } from '../params.js';
import { AUTH_ERRORS, json, route, WindowQuery, WorkspaceParams } from '../schemas/common.js';
import { GatewayPolicy, GatewayPolicyBody, GatewaySavings } from '../schemas/misc.js';

const tags = ['gateway'];
const getSchema = route({
  summary: "A workspace's gateway policy",
  tags,
  params: WorkspaceParams,
  ok: { 200: json(GatewayPolicy, 'mode, policy, record_text') },
  errors: [400, ...AUTH_ERRORS],
});
const putSchema = route({
  summary: "Sets a workspace's gateway policy (takes effect at once)",
  tags,
  params: WorkspaceParams,
  body: GatewayPolicyBody,
  ok: { 200: json(GatewayPolicy, 'the stored policy') },
  errors: [400, ...AUTH_ERRORS],
});

const { workspace: _ignored, ...windowOnly } = WindowQuery;
const savingsSchema = route({
  summary: 'What the gateway policy saved: measured in shadow or enforce beside what the replay predicted, per rule kind',
  tags,
  params: WorkspaceParams,
  querystring: z.object(windowOnly),
  ok: { 200: json(GatewaySavings, 'realized vs predicted savings over the window (default: the last 30 days)') },
  errors: [400, ...AUTH_ERRORS],
});

export function gatewayPolicyRoutes(app: FastifyInstance, gateway: Gateway, savings?: GatewaySavingsService): void {
  app.get('/api/v1/workspaces/:workspace/gateway-policy', { schema: getSchema }, async (req) =>
    gateway.getPolicy(req.authorizedWorkspace!),
  );
  app.put('/api/v1/workspaces/:workspace/gateway-policy', { schema: putSchema }, async (req) => {
    const p = req.principal!;
    return gateway.setPolicy(req.authorizedWorkspace!, req.body, p.kind === 'user' ? p.userId : null);
  });
  if (savings)
    app.get('/api/v1/workspaces/:workspace/gateway-savings', { schema: savingsSchema }, async (req) =>
      savings.realized(req.authorizedWorkspace!, parseRange(req.query as Record<string, unknown>)),
    );
}
