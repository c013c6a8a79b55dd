/**
 * /health/live (the process answers) and /health/ready (every dependency answers).
 * Ready is 503 'unavailable' when a required dependency fails (an optional one, Redis by default, makes it 'degraded').
 * Answers come from cached background probes (src/observability/readiness.ts): never a wait on a dependency. It stays 200 but says 'degraded' when every dependency answers
 * and yet memory health is not 'healthy' or a startup task's last attempt failed: the instance serves, an operator
 * should look (the body names why in `degraded`).
 */
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';
import { json, route } from '../schemas/common.js';
import { Live, Ready } from '../schemas/misc.js';

const tags = ['health'];
const liveSchema = route({ summary: 'The process answers', tags, ok: { 200: json(Live, 'alive') }, errors: [], security: [] });
const readySchema = route({
  summary: 'Every required dependency answers (from cached background probes)',
  tags,
  ok: { 200: json(Ready, 'ready, or degraded (the body says why)'), 503: json(Ready, 'a required dependency fails (Retry-After)') },
  errors: [],
  security: [],
});

export function healthRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/health/live', { schema: liveSchema }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: readySchema }, async (_req, reply) => {
    const dependencies = await deps.readiness();
    const ok = dependencies.every((d) => d.ok || d.optional);
    // -- memory health and startup tasks (observability)
    const obs = deps.observability;
    const memory = obs?.memoryHealth();
    const ws = obs?.webSocketFigures() ?? null;
    const startup_tasks = obs?.startupTaskStatus() ?? [];
    const degraded = [
      ...dependencies
        .filter((d) => !d.ok && d.optional)
        .map((d) => `${d.name} unavailable (optional; working without it): ${d.detail ?? 'no answer'}`),
      ...(memory && memory.status !== 'healthy' ? memory.reasons.map((r) => `memory ${memory.status}: ${r}`) : []),
      ...startup_tasks
        .filter((t) => t.state === 'failed')
        .map((t) => `startup task '${t.name}' failed: ${t.last_error ?? 'unknown error'}`),
    ];
    const status = !ok ? 'unavailable' : degraded.length > 0 ? 'degraded' : 'ready';
    if (!ok) reply.header('retry-after', 5);
    return reply.status(ok ? 200 : 503).send({
      status,
      dependencies,
      ...(memory
        ? {
            memory: {
              status: memory.status,
              heap_used_ratio: memory.memory.heap_used_ratio,
              rss_bytes: memory.memory.rss_bytes,
              rss_ratio: memory.memory.rss_ratio,
              memory_limit_bytes: memory.memory.memory_limit_bytes,
              event_loop_lag_p99_ms: memory.event_loop.p99_ms,
              reasons: memory.reasons,
              ...(ws ? { websocket_connections: ws.connections, websocket_buffered_bytes: ws.buffered_bytes } : {}),
            },
          }
        : {}),
      ...(deps.bodyBudget
        ? {
            body_budget: {
              limit_bytes: deps.bodyBudget.limitBytes,
              in_use_bytes: deps.bodyBudget.inUseBytes,
              refused: deps.bodyBudget.refused,
            },
          }
        : {}),
      ...(obs ? { startup_tasks, degraded } : {}),
    });
  });
}
