/**
 * A workspace's gateway policy: GET and PUT /api/v1/workspaces/:workspace/gateway-policy { mode, policy, record_text },
 * and what it saved: GET /api/v1/workspaces/:workspace/gateway-savings?from&to (realized vs predicted, per rule kind).
 */
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/index.js';
import type { GatewaySavingsService } from '../../services/gateway-savings.js';
import { parseRange } from '../params.js';

export function gatewayPolicyRoutes(app: FastifyInstance, gateway: Gateway, savings?: GatewaySavingsService): void {
  app.get('/api/v1/workspaces/:workspace/gateway-policy', async (req) => gateway.getPolicy(req.authorizedWorkspace!));
  app.put('/api/v1/workspaces/:workspace/gateway-policy', async (req) => {
    const p = req.principal!;
    return gateway.setPolicy(req.authorizedWorkspace!, req.body, p.kind === 'user' ? p.userId : null);
  });
  if (savings)
    app.get('/api/v1/workspaces/:workspace/gateway-savings', async (req) =>
      savings.realized(req.authorizedWorkspace!, parseRange(req.query as Record<string, unknown>)),
    );
}
