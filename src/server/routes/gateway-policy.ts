/** A workspace's gateway policy: GET and PUT /api/v1/workspaces/:workspace/gateway-policy { mode, policy, record_text }. */
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/index.js';

export function gatewayPolicyRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.get('/api/v1/workspaces/:workspace/gateway-policy', async (req) => gateway.getPolicy(req.authorizedWorkspace!));
  app.put('/api/v1/workspaces/:workspace/gateway-policy', async (req) => {
    const p = req.principal!;
    return gateway.setPolicy(req.authorizedWorkspace!, req.body, p.kind === 'user' ? p.userId : null);
  });
}
