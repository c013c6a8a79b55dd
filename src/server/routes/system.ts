/**
 * GET /api/v1/system/performance: the data of a performance dashboard. `current` is the open window (not yet a
 * snapshot); `snapshots` are the closed windows, one per snapshot interval (10 s) over the history (1 h), oldest first;
 * `?since=<epoch ms | ISO>` returns only snapshots taken at or after it. Admin only (see auth-rules.ts).
 */
import type { FastifyInstance } from 'fastify';
import { NetraError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { AUTH_ERRORS, json, route } from '../schemas/common.js';
import { Performance, PerformanceQuery } from '../schemas/misc.js';

const schema = route({
  summary: 'Performance dashboard data: the open window and the closed snapshots (instance admins)',
  tags: ['health'],
  querystring: PerformanceQuery,
  ok: { 200: json(Performance, 'snapshots, memory health, startup tasks') },
  errors: [400, ...AUTH_ERRORS],
});

export function systemRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const obs = deps.observability;
  if (!obs) return;
  app.get('/api/v1/system/performance', { schema }, async (req) => {
    const q = req.query as Record<string, unknown>;
    let since: number | undefined;
    if (q.since !== undefined) {
      since = typeof q.since === 'string' && /^\d+$/.test(q.since) ? Number(q.since) : Date.parse(String(q.since));
      if (!Number.isFinite(since))
        throw new NetraError('VALIDATION', 'since must be epoch milliseconds or an ISO-8601 time', { field: 'since' });
    }
    return {
      interval_ms: obs.intervalMs,
      history_ms: obs.historyMs,
      current: obs.snapshot(),
      snapshots: obs.snapshots(since),
      memory_health: obs.memoryHealth(),
      startup_tasks: obs.startupTaskStatus(),
    };
  });
}
