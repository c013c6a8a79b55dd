/**
 * Response schemas of health, system figures, the price catalog and overrides, background jobs, conversations and the
 * gateway policy. Request bodies that routes already validate with zod are declared beside their routes.
 */
import { z } from 'zod';
import { GATEWAY_MODES, JOB_STATUSES } from '../../db/schema.js';
import { CatalogModelSchema } from '../../workload/price-catalog.js';
import { GOALS } from '../../optimize/ranking.js';
import { WorkspaceName } from './common.js';

// ── health and system ──
export const Live = z.looseObject({ status: z.literal('ok') });
const Dependency = z.looseObject({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string().optional(),
  latency_ms: z.number(),
  optional: z.boolean().optional(),
});
export const Ready = z
  .looseObject({
    status: z.enum(['ready', 'degraded', 'unavailable']),
    dependencies: z.array(Dependency),
    memory: z.looseObject({ status: z.string() }).optional(),
    body_budget: z.looseObject({ limit_bytes: z.number(), in_use_bytes: z.number(), refused: z.number() }).optional(),
    startup_tasks: z.array(z.looseObject({ name: z.string(), state: z.string() })).optional(),
    degraded: z.array(z.string()).optional().describe('why the instance is degraded, one line per reason'),
  })
  .meta({ id: 'Readiness' });
export const PerformanceQuery = z.object({ since: z.string().optional().describe('epoch ms or ISO 8601: snapshots taken at or after it') });
export const Performance = z.looseObject({
  interval_ms: z.number(),
  history_ms: z.number(),
  current: z.looseObject({}).describe('the open window'),
  snapshots: z.array(z.looseObject({})).describe('closed windows, oldest first'),
  memory_health: z.looseObject({ status: z.string() }),
  startup_tasks: z.array(z.looseObject({})),
});
export const MetricsText = {
  description: 'every metric of this process in the Prometheus text format',
  content: { 'text/plain': { schema: z.string() } },
};

// ── prices ──
export const Catalog = z.looseObject({
  version: z.string(),
  prices_taken: z.string(),
  models: z.array(CatalogModelSchema.extend({ prices_taken: z.string() }).loose()),
});
const Override = z.looseObject({
  workspace: z.string(),
  model: z.string(),
  input: z.number().nullable(),
  output: z.number().nullable(),
  cached_input: z.number().nullable(),
  cache_write: z.number().nullable(),
});
export const OverridesResponse = z.looseObject({ overrides: z.array(Override) });
export const OverrideParams = z.object({ workspace: WorkspaceName, model: z.string() });
export const Reprice = z.looseObject({ updated: z.number(), spend_before_usd: z.number(), spend_after_usd: z.number() });
export const OverrideResult = z.looseObject({ workspace: z.string(), model: z.string(), repriced: Reprice });

// ── jobs ──
export const JobsQuery = z.object({ workspace: WorkspaceName.optional(), limit: z.string().optional().describe('1..200, default 50') });
export const Job = z
  .looseObject({
    id: z.string(),
    workspace: z.string(),
    kind: z.string().describe('import | generate | backfill (block chains for events stored before ingest derived them)'),
    source: z.string(),
    format: z.string().nullable(),
    status: z.enum(JOB_STATUSES),
    progress: z.number(),
    accepted: z.number(),
    rejected: z.number(),
    duplicates: z.number(),
    errors: z.array(z.unknown()),
    result: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'Job' });
export const JobsResponse = z.looseObject({ jobs: z.array(Job) });
export const JobStarted = z.looseObject({ id: z.string(), status: z.enum(JOB_STATUSES), workspace: z.string(), kind: z.string() });
export const JobCancelled = Job.extend({ cancel_requested: z.literal(true) });

// ── conversations ──
export const Thread = z
  .looseObject({ id: z.string(), title: z.string(), created_at: z.string(), updated_at: z.string() })
  .meta({ id: 'Thread' });
export const Run = z
  .looseObject({
    id: z.string(),
    thread_id: z.string(),
    status: z.string(),
    goal: z.enum(GOALS).nullable(),
    request: z.string(),
    error: z.unknown().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'Run' });
export const ThreadsQuery = z.object({ workspace: WorkspaceName.optional(), limit: z.string().optional().describe('1..500, default 100') });
export const ThreadsResponse = z.looseObject({ threads: z.array(Thread) });
export const ThreadWithRuns = Thread.extend({ runs: z.array(Run) });
export const MessagesResponse = z.looseObject({
  thread_id: z.string(),
  messages: z.array(
    z.looseObject({ id: z.string(), role: z.string(), content: z.string(), run_id: z.string().nullable(), created_at: z.string() }),
  ),
});
export const RunStarted = z.looseObject({ id: z.string(), status: z.string(), thread_id: z.string(), workspace: z.string() });
export const RunQuery = z.object({
  workspace: WorkspaceName.optional(),
  after: z.string().optional().describe('return the persisted events after this event_id (default 0)'),
});
export const RunWithEvents = Run.extend({
  events: z.array(z.looseObject({})).describe('the run events of docs/PROTOCOL.md, oldest first'),
});

// ── gateway policy ──
export const GatewayPolicy = z.looseObject({
  workspace: z.string(),
  mode: z.enum(GATEWAY_MODES),
  policy: z.record(z.string(), z.unknown()),
  record_text: z.boolean(),
  activated_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  policy_version: z.string().nullable().optional().describe('a short hash of the stored policy, recorded on the calls it touched'),
});
const SavingsFigure = z.object({ events: z.number(), savings_usd: z.number().nullable() });
export const GatewaySavings = z.looseObject({
  workspace: z.string(),
  from: z.string(),
  to: z.string(),
  mode: z.enum(GATEWAY_MODES),
  policy_version: z.string().nullable(),
  activated_at: z.string().nullable(),
  by_mode: z.array(
    z.looseObject({
      mode: z.enum(['shadow', 'enforce']),
      events: z.number(),
      predicted_savings_usd: z.number().nullable(),
      measured_savings_usd: z.number(),
      kinds: z.array(z.looseObject({ kind: z.string(), predicted: SavingsFigure.nullable(), measured: SavingsFigure })),
    }),
  ),
  other_versions: z.array(z.looseObject({})),
  notes: z.array(z.string()),
});
export const GatewayPolicyBody = z.object({
  mode: z.enum(GATEWAY_MODES).optional().describe('off: record only; shadow: record what the policy would do; enforce: apply it'),
  policy: z.record(z.string(), z.unknown()).optional().describe('a policy as in POST /api/v1/simulations (docs/GATEWAY.md)'),
  record_text: z.boolean().optional(),
});
