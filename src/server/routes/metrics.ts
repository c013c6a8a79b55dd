/** GET /metrics: every metric of this process in the Prometheus text format (scraped; public, see auth-rules.ts). */
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';
import { route } from '../schemas/common.js';
import { MetricsText } from '../schemas/misc.js';

const schema = route({
  summary: 'Prometheus metrics of this process',
  tags: ['health'],
  ok: { 200: MetricsText },
  errors: [],
  security: [],
});

export function metricsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const obs = deps.observability;
  if (!obs) return;
  app.get('/metrics', { schema }, async (_req, reply) => {
    const text = await obs.metrics.text();
    return reply.header('content-type', obs.metrics.contentType).send(text);
  });
}
