/** A workspace's gateway policy: GET and PUT /api/v1/workspaces/:workspace/gateway-policy { mode, policy, record_text }. */
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/index.js';
import { AUTH_ERRORS, json, route, WorkspaceParams } from '../schemas/common.js';
import { GatewayPolicy, GatewayPolicyBody } from '../schemas/misc.js';

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

export function gatewayPolicyRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.get('/api/v1/workspaces/:workspace/gateway-policy', { schema: getSchema }, async (req) =>
    gateway.getPolicy(req.authorizedWorkspace!),
  );
  app.put('/api/v1/workspaces/:workspace/gateway-policy', { schema: putSchema }, async (req) => {
    const p = req.principal!;
    return gateway.setPolicy(req.authorizedWorkspace!, req.body, p.kind === 'user' ? p.userId : null);
  });
}
