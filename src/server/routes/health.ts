/** /health/live (the process answers) and /health/ready (every dependency answers). */
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';

export function healthRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_req, reply) => {
    const dependencies = await deps.readiness();
    const ok = dependencies.every((d) => d.ok);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', dependencies });
  });
}
