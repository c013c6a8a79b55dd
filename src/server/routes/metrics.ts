/** GET /metrics: every metric of this process in the Prometheus text format (scraped; public, see auth-rules.ts). */
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';

export function metricsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const obs = deps.observability;
  if (!obs) return;
  app.get('/metrics', async (_req, reply) => {
    const text = await obs.metrics.text();
    return reply.header('content-type', obs.metrics.contentType).send(text);
  });
}
