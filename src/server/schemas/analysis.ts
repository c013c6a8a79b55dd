/**
 * Request and response schemas of the reads and the analysis: stats, unpriced models, events (list and delete),
 * analysis, breakdown, simulations (what-if replay) and the recommended policy. Response objects are open
 * (`looseObject`): they name the fields a client reads, and more may come.
 */
import { z } from 'zod';
import { BREAKDOWN_COLUMNS, BREAKDOWN_GRANULARITIES, BREAKDOWN_METRICS, MAX_BREAKDOWN_GROUPS } from '../../optimize/ports/breakdown.js';
import { PolicySchema } from '../../optimize/policy.js';
import { GOALS } from '../../optimize/ranking.js';
import { RECOMMENDATION_KINDS } from '../../optimize/recommendation.js';
import { EpochMs, WindowQuery, WorkspaceName } from './common.js';

const nullableMs = z.number().nullable();

// ── stats ──
export const StatsQuery = z.object(WindowQuery);
const ModelStats = z.looseObject({
  model: z.string(),
  provider: z.string(),
  events: z.number(),
  errors: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cached_prompt_tokens: z.number(),
  spend_usd: z.number(),
  latency_p50_ms: nullableMs,
  latency_p95_ms: nullableMs,
  estimated_token_events: z.number(),
  unpriced_events: z.number(),
});
export const StatsResponse = z
  .looseObject({
    workspace: z.string(),
    from: EpochMs.nullable(),
    to: EpochMs.nullable(),
    events: z.number(),
    errors: z.number(),
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    cached_prompt_tokens: z.number(),
    spend_usd: z.number(),
    latency_p50_ms: nullableMs,
    latency_p95_ms: nullableMs,
    estimated_token_events: z.number(),
    estimated_tokens: z.number(),
    estimated_token_share: z.number(),
    unpriced_events: z.number(),
    first_event: EpochMs.nullable(),
    last_event: EpochMs.nullable(),
    by_model: z.array(ModelStats),
  })
  .meta({ id: 'WorkspaceStats' });

export const UnpricedResponse = z.looseObject({
  workspace: z.string(),
  unpriced_events: z.number(),
  models: z.array(
    z.looseObject({
      model: z.string(),
      provider: z.string(),
      events: z.number(),
      prompt_tokens: z.number(),
      completion_tokens: z.number(),
      fix: z.string().describe('the request that prices the model (its stored events are repriced)'),
    }),
  ),
});

export const WorkspacesResponse = z.looseObject({
  workspaces: z.array(
    z.looseObject({
      name: z.string(),
      role: z.string().optional(),
      created_at: z.string(),
      events: z.number(),
      first_event: EpochMs.nullable(),
      last_event: EpochMs.nullable(),
    }),
  ),
});

// ── events ──
export const EventsQuery = z.object({
  ...WindowQuery,
  limit: z.string().optional().describe('1..1000, default 100'),
  offset: z.string().optional().describe('≥ 0, default 0'),
});
/** A stored event: the normalised shape of docs/EVENTS.md. */
export const StoredEvent = z
  .looseObject({
    event_id: z.string(),
    timestamp: EpochMs,
    workspace: z.string(),
    app: z.string(),
    environment: z.string(),
    model: z.string(),
    provider: z.string(),
    operation: z.string(),
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    cached_prompt_tokens: z.number(),
    latency_ms: nullableMs,
    ttft_ms: nullableMs,
    status: z.string(),
    cost_usd: z.number(),
    cost_source: z.enum(['given', 'catalog', 'unknown_model']),
    token_source: z.enum(['reported', 'estimated']),
    tags: z.record(z.string(), z.string()),
  })
  .meta({ id: 'StoredEvent' });
export const EventsResponse = z.looseObject({ events: z.array(StoredEvent), limit: z.number(), offset: z.number() });

export const DeleteEventsQuery = z.object({
  ...WindowQuery,
  ids: z.string().optional().describe('comma-separated event ids'),
  app: z.string().optional(),
  model: z.string().optional(),
});
export const DeleteEventsBody = z
  .object({
    ids: z.array(z.string()).optional(),
    app: z.string().optional(),
    model: z.string().optional(),
    from: z.union([z.string(), z.number()]).optional(),
    to: z.union([z.string(), z.number()]).optional(),
  })
  .describe('optional: the same filter as the query parameters (body values win)');
export const DeleteEventsResponse = z.looseObject({ workspace: z.string(), deleted: z.number() });

// ── analysis ──
export const AnalysisQuery = z.object({
  ...WindowQuery,
  goal: z.enum(GOALS).optional().describe('what the ranking favours (default balanced)'),
});
const Recommendation = z
  .looseObject({
    id: z.string(),
    kind: z.enum(RECOMMENDATION_KINDS),
    title: z.string(),
    rank: z.number(),
    score: z.number(),
    scope: z.record(z.string(), z.string()),
    affected_share: z.number(),
    affected_spend_share: z.number(),
    monthly_savings_usd: z.number().describe('what this change saves standalone (see summary.projected_savings for all together)'),
    savings_share: z.number(),
    latency_impact: z.looseObject({ p50_ms_delta: nullableMs, p95_ms_delta: nullableMs, description: z.string() }),
    quality_risk: z.looseObject({ level: z.enum(['low', 'medium', 'high']), reason: z.string() }),
    confidence: z.number(),
    evidence: z.looseObject({}).describe('the figures and the query behind them'),
    how_to_apply: z.array(z.string()),
  })
  .meta({ id: 'Recommendation' });
export const AnalysisResponse = z
  .looseObject({
    summary: z.looseObject({
      workspace: z.string(),
      from: z.string(),
      to: z.string(),
      goal: z.enum(GOALS),
      events: z.number(),
      spend_usd: z.number(),
      monthly_spend_usd: z.number(),
      window_ms: z.number().describe('length of the window the monthly figures scale from'),
      extrapolation_factor: z.number().describe('30 days / window_ms'),
      projected_savings: z
        .looseObject({
          monthly_usd: z.number().nullable(),
          share_of_spend: z.number().nullable(),
          projected_monthly_spend_usd: z.number().nullable(),
          basis: z.string(),
          replayed_recommendations: z.number(),
          not_in_projection: z.array(
            z.looseObject({ kind: z.enum(RECOMMENDATION_KINDS), recommendations: z.number(), standalone_monthly_usd: z.number() }),
          ),
        })
        .nullable()
        .describe('the one projected-savings figure: the replay of every recommendation together, overlaps counted once'),
      latency_p50_ms: nullableMs,
      latency_p95_ms: nullableMs,
      error_rate: z.number(),
      recommendations: z.number(),
      warnings: z.array(z.string()),
      assumptions: z.array(z.string()),
      note: z.string(),
    }),
    performance: z
      .looseObject({ bucket_ms: z.number(), overall: z.looseObject({}), series: z.array(z.looseObject({})), notes: z.array(z.string()) })
      .describe('throughput, latency, spend and errors over the window, by model and app, trends and anomalies'),
    recommendations: z.array(Recommendation).describe('the top list (at most 10), ranked for the goal, rank 1 first'),
    more_recommendations: z.array(Recommendation).describe('the rest above the minor bar, ranked on from the top list'),
    findings: z.array(Recommendation).describe('latency targets missed with no concrete change that fixes them'),
    minor: z
      .looseObject({
        count: z.number(),
        below_usd: z.number(),
        standalone_monthly_savings_usd: z.number(),
        recommendations: z.array(Recommendation),
      })
      .describe('items under max($1/month, 0.1% of monthly spend), grouped'),
    skipped: z.array(z.looseObject({ kind: z.string(), reason: z.string(), needs: z.string() })).describe('kinds the data cannot support'),
  })
  .meta({ id: 'Analysis' });

// ── breakdown ──
const column = `${BREAKDOWN_COLUMNS.join(' | ')} | tag:<key>`;
export const BreakdownQuery = z.object({
  ...WindowQuery,
  metric: z.enum(BREAKDOWN_METRICS).optional().describe('the figure that ranks groups for top (default spend)'),
  by: z.string().optional().describe(`the dimension to group by: ${column}`),
  granularity: z
    .enum(BREAKDOWN_GRANULARITIES)
    .optional()
    .describe("time buckets, in the workspace's time zone (its settings; UTC by default) or time_zone's; weeks start on Monday"),
  time_zone: z.string().optional().describe("an IANA time zone for the buckets (e.g. Europe/Paris), instead of the workspace's"),
  top: z.string().optional().describe(`keep the top N groups (1..${MAX_BREAKDOWN_GROUPS}) by metric, fold the rest into "(other)"`),
  filter: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe(`column:value, repeatable (at most 8), column = ${column}; e.g. end_user:u-1 or tag:task:classify`),
});
const BreakdownFigures = {
  events: z.number(),
  errors: z.number(),
  spend_usd: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  latency_events: z.number(),
  latency_p50_ms: nullableMs,
  latency_p95_ms: nullableMs,
  latency_p99_ms: nullableMs,
  ttft_p50_ms: nullableMs,
  ttft_p95_ms: nullableMs,
};
export const BreakdownResponse = z
  .looseObject({
    from: EpochMs,
    to: EpochMs,
    total: z.looseObject(BreakdownFigures),
    keyed_events: z.number().describe('events of the filtered window that carry the dimension'),
    groups: z.number().describe('distinct values of the dimension'),
    rows: z.array(
      z.looseObject({
        ...BreakdownFigures,
        bucket_start: EpochMs.nullable().describe('UTC start of the bucket; null without granularity'),
        key: z.string().nullable().describe('the group; null when events lack the dimension; "(other)" for the folded rest'),
      }),
    ),
    sql: z.string().describe('the query that produced the figures (evidence)'),
  })
  .meta({ id: 'Breakdown' });

// ── simulations and policy ──
export const SimulationQuery = z.object(WindowQuery);
export const SimulationBody = z.object({
  policy: PolicySchema,
  workspace: WorkspaceName.optional(),
  from: z.union([z.string(), z.number()]).optional().describe('ISO 8601 or epoch ms (default ?from=)'),
  to: z.union([z.string(), z.number()]).optional().describe('ISO 8601 or epoch ms (default ?to=)'),
});
const ReplayFigures = z.looseObject({
  events: z.number(),
  spend_usd: z.number(),
  latency_p50_ms: nullableMs,
  latency_p95_ms: nullableMs,
  cache_hit_rate: z.number(),
});
export const SimulationResponse = z
  .looseObject({
    policy: z.looseObject({}).describe('the policy as validated (defaults filled)'),
    workspace: z.string(),
    from: EpochMs,
    to: EpochMs,
    baseline: ReplayFigures,
    projected: ReplayFigures,
    savings_usd: z.number(),
    savings_share: z.number(),
    monthly_savings_usd: z.number(),
    changed_events: z.number(),
    changed_share: z.number(),
    breakdown: z.looseObject({}),
    per_day: z.array(z.looseObject({ day: z.string(), baseline: ReplayFigures, projected: ReplayFigures, savings_usd: z.number() })),
    assumptions: z.array(z.string()),
  })
  .meta({ id: 'Simulation' });
export const PolicyQuery = AnalysisQuery;
export const PolicyResponse = PolicySchema;
