/**
 * DuckDB SQL of the usage analysis queries (src/optimize/ports/usage.ts): model-routing segments, batchable traffic,
 * max_tokens headroom, retry waste, 429 bursts, context growth and latency per app/model. Each is one statement that
 * scans the scoped events once (the retry and context-growth statements join a small derived key set back) and
 * aggregates in SQL; JS only converts the few result rows. Workspace and time bounds are bound parameters.
 */
import type { DuckDBConnection, DuckDBValue, JS } from '@duckdb/node-api';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import {
  BULK_BURST_MIN_PER_MINUTE, CONTEXT_MIN_TURNS, CONTEXT_WINDOW_TOKENS, PROMPT_SIZE_BANDS, RATE_LIMIT_BURST_MIN_PER_MINUTE,
  type BatchBasis, type BatchCandidateRow, type ContextGrowthResult, type LatencyResult, type MaxTokensGroupRow,
  type PromptSizeBand, type RateLimitRow, type RetryWasteRow, type RoutingSegmentRow, type UsageQueries, type UsageResult,
} from '../../optimize/ports/usage.js';
import { NetraError } from '../../errors.js';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects, toNumber, toNumberOrNull } from '../duckdb-rows.js';
import type { RunRead } from './index.js';

const SAMPLES = 3;

const ids = (v: JS | undefined): string[] => (Array.isArray(v) ? (v as JS[]).filter((x): x is string => typeof x === 'string') : []);
const str = (v: JS | undefined): string => (v == null ? '' : String(v));

async function select(conn: DuckDBConnection, sql: string, params: Record<string, DuckDBValue>): Promise<Record<string, JS>[]> {
  return readObjects(await conn.runAndReadAll(sql, params));
}

/** CASE expression mapping prompt_tokens to its PROMPT_SIZE_BANDS band (bounds are constants, not input). */
function sizeBandSql(): string {
  const arms = PROMPT_SIZE_BANDS.filter((b) => Number.isFinite(b.below)).map((b) => `WHEN prompt_tokens < ${b.below} THEN '${b.band}'`);
  return `CASE ${arms.join(' ')} ELSE '${PROMPT_SIZE_BANDS[PROMPT_SIZE_BANDS.length - 1]!.band}' END`;
}

export const ROUTING_SEGMENTS_SQL = (where: string): string => `SELECT app, model, operation, tags->>'task' AS task, ${sizeBandSql()} AS size_band,
  count(*)::DOUBLE AS events,
  count(*) FILTER (WHERE status = 'ok')::DOUBLE AS ok_events,
  coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd,
  coalesce(sum(prompt_tokens - cached_prompt_tokens) FILTER (WHERE cost_usd > 0), 0)::DOUBLE AS billed_uncached_prompt_tokens,
  coalesce(sum(cached_prompt_tokens) FILTER (WHERE cost_usd > 0), 0)::DOUBLE AS billed_cached_prompt_tokens,
  coalesce(sum(completion_tokens) FILTER (WHERE cost_usd > 0), 0)::DOUBLE AS billed_completion_tokens,
  quantile_disc(prompt_tokens, 0.99)::DOUBLE AS p99_prompt_tokens,
  quantile_disc(completion_tokens, 0.95) FILTER (WHERE status = 'ok')::DOUBLE AS p95_completion_tokens,
  count(quality_score)::DOUBLE AS quality_events,
  avg(quality_score) AS mean_quality,
  arg_min(event_id, "timestamp", ${SAMPLES}) AS sample_event_ids
FROM events WHERE ${where}
GROUP BY ALL
ORDER BY spend_usd DESC, app, model, task, size_band`;

export async function routingSegments(conn: DuckDBConnection, scope: AnalysisScope): Promise<UsageResult<RoutingSegmentRow>> {
  const { where, params } = scopeSql(scope);
  const sql = ROUTING_SEGMENTS_SQL(where);
  const rows = (await select(conn, sql, params)).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    operation: str(r.operation),
    task: r.task == null ? null : String(r.task),
    size_band: str(r.size_band) as PromptSizeBand,
    events: toNumber(r.events),
    ok_events: toNumber(r.ok_events),
    spend_usd: toNumber(r.spend_usd),
    billed_uncached_prompt_tokens: toNumber(r.billed_uncached_prompt_tokens),
    billed_cached_prompt_tokens: toNumber(r.billed_cached_prompt_tokens),
    billed_completion_tokens: toNumber(r.billed_completion_tokens),
    p99_prompt_tokens: toNumber(r.p99_prompt_tokens),
    p95_completion_tokens: toNumberOrNull(r.p95_completion_tokens),
    quality_events: toNumber(r.quality_events),
    mean_quality: toNumberOrNull(r.mean_quality),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql };
}

export const BATCH_CANDIDATES_SQL = (where: string): string => `WITH per_minute AS (
  SELECT app, model,
    CASE WHEN tags->>'latency_class' = 'offline' THEN 'offline_tag' ELSE 'bulk_burst' END AS basis,
    date_trunc('minute', "timestamp") AS minute,
    count(*) AS n,
    fsum(cost_usd) AS spend,
    sum(latency_ms) AS latency_sum,
    count(latency_ms) AS latency_n,
    min("timestamp") AS first_ts,
    arg_min(event_id, "timestamp", ${SAMPLES}) AS samples
  FROM events
  WHERE ${where} AND end_user IS NULL AND session_id IS NULL
    AND (tags->>'latency_class' = 'offline' OR (tags->>'latency_class' IS NULL AND stream IS NOT TRUE))
  GROUP BY ALL
)
SELECT app, model, basis,
  sum(n)::DOUBLE AS events,
  coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
  (sum(latency_sum) / nullif(sum(latency_n), 0))::DOUBLE AS mean_latency_ms,
  count(*)::DOUBLE AS active_minutes,
  max(n)::DOUBLE AS peak_per_minute,
  arg_min(samples, first_ts) AS sample_event_ids
FROM per_minute
WHERE basis = 'offline_tag' OR n >= $bulk_min
GROUP BY app, model, basis
ORDER BY spend_usd DESC, app, model`;

export async function batchCandidates(conn: DuckDBConnection, scope: AnalysisScope): Promise<UsageResult<BatchCandidateRow>> {
  const { where, params } = scopeSql(scope);
  const sql = BATCH_CANDIDATES_SQL(where);
  const rows = (await select(conn, sql, { ...params, bulk_min: BULK_BURST_MIN_PER_MINUTE })).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    basis: str(r.basis) as BatchBasis,
    events: toNumber(r.events),
    spend_usd: toNumber(r.spend_usd),
    mean_latency_ms: toNumberOrNull(r.mean_latency_ms),
    active_minutes: toNumber(r.active_minutes),
    peak_per_minute: toNumber(r.peak_per_minute),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql };
}

export const MAX_TOKENS_GROUPS_SQL = (where: string): string => `SELECT app, model, max_tokens::DOUBLE AS max_tokens,
  count(*)::DOUBLE AS events,
  count(*) FILTER (WHERE status = 'ok')::DOUBLE AS ok_events,
  quantile_disc(least(completion_tokens, max_tokens), 0.5) FILTER (WHERE status = 'ok')::DOUBLE AS p50_completion_tokens,
  quantile_disc(least(completion_tokens, max_tokens), 0.99) FILTER (WHERE status = 'ok')::DOUBLE AS p99_completion_tokens,
  max(completion_tokens) FILTER (WHERE status = 'ok')::DOUBLE AS max_completion_tokens,
  count(*) FILTER (WHERE finish_reason = 'length')::DOUBLE AS truncated,
  coalesce(sum(completion_tokens) FILTER (WHERE status = 'ok' AND latency_ms > ttft_ms), 0)::DOUBLE AS decode_tokens,
  coalesce(sum(latency_ms - ttft_ms) FILTER (WHERE status = 'ok' AND latency_ms > ttft_ms), 0)::DOUBLE AS decode_ms,
  arg_max(event_id, completion_tokens, ${SAMPLES}) AS sample_event_ids
FROM events WHERE ${where} AND max_tokens IS NOT NULL
GROUP BY app, model, max_tokens
ORDER BY events DESC, app, model, max_tokens`;

export async function maxTokensGroups(conn: DuckDBConnection, scope: AnalysisScope): Promise<UsageResult<MaxTokensGroupRow>> {
  const { where, params } = scopeSql(scope);
  const sql = MAX_TOKENS_GROUPS_SQL(where);
  const rows = (await select(conn, sql, params)).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    max_tokens: toNumber(r.max_tokens),
    events: toNumber(r.events),
    ok_events: toNumber(r.ok_events),
    p50_completion_tokens: toNumberOrNull(r.p50_completion_tokens),
    p99_completion_tokens: toNumberOrNull(r.p99_completion_tokens),
    max_completion_tokens: toNumberOrNull(r.max_completion_tokens),
    truncated: toNumber(r.truncated),
    decode_tokens: toNumber(r.decode_tokens),
    decode_ms: toNumber(r.decode_ms),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql };
}

export const RETRY_WASTE_SQL = (where: string): string => `WITH e AS (
  SELECT app, model, event_id, "timestamp" AS ts, status, cost_usd, http_status, trace_id, prompt_hash
  FROM events WHERE ${where}
), first_error AS (
  SELECT trace_id, prompt_hash, min(ts) AS first_error_ts
  FROM e WHERE status = 'error' AND trace_id IS NOT NULL AND prompt_hash IS NOT NULL
  GROUP BY trace_id, prompt_hash
), flagged AS (
  SELECT e.*, coalesce(e.ts > f.first_error_ts, false) AS is_retry
  FROM e LEFT JOIN first_error f ON e.trace_id = f.trace_id AND e.prompt_hash = f.prompt_hash
)
SELECT app, model,
  count(*)::DOUBLE AS events,
  coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd,
  count(*) FILTER (WHERE status = 'error')::DOUBLE AS errors,
  coalesce(fsum(cost_usd) FILTER (WHERE status = 'error'), 0)::DOUBLE AS error_spend_usd,
  count(*) FILTER (WHERE status = 'error' AND cost_usd > 0)::DOUBLE AS billed_errors,
  count(*) FILTER (WHERE http_status = 429)::DOUBLE AS rate_limited,
  count(*) FILTER (WHERE is_retry)::DOUBLE AS retries,
  coalesce(fsum(cost_usd) FILTER (WHERE is_retry), 0)::DOUBLE AS retry_spend_usd,
  count(*) FILTER (WHERE is_retry AND status = 'error')::DOUBLE AS failed_retries,
  coalesce(fsum(cost_usd) FILTER (WHERE is_retry AND status = 'error'), 0)::DOUBLE AS failed_retry_spend_usd,
  arg_max(event_id, cost_usd, ${SAMPLES}) FILTER (WHERE status = 'error') AS sample_event_ids
FROM flagged
GROUP BY app, model
ORDER BY error_spend_usd DESC, app, model`;

export async function retryWaste(conn: DuckDBConnection, scope: AnalysisScope): Promise<UsageResult<RetryWasteRow>> {
  const { where, params } = scopeSql(scope);
  const sql = RETRY_WASTE_SQL(where);
  const rows = (await select(conn, sql, params)).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    events: toNumber(r.events),
    spend_usd: toNumber(r.spend_usd),
    errors: toNumber(r.errors),
    error_spend_usd: toNumber(r.error_spend_usd),
    billed_errors: toNumber(r.billed_errors),
    rate_limited: toNumber(r.rate_limited),
    retries: toNumber(r.retries),
    retry_spend_usd: toNumber(r.retry_spend_usd),
    failed_retries: toNumber(r.failed_retries),
    failed_retry_spend_usd: toNumber(r.failed_retry_spend_usd),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql };
}

export const RATE_LIMIT_SQL = (where: string): string => `WITH per_minute AS (
  SELECT app, date_trunc('minute', "timestamp") AS minute, count(*) AS n
  FROM events WHERE ${where} AND http_status = 429
  GROUP BY ALL
)
SELECT app,
  sum(n)::DOUBLE AS rate_limited,
  count(*)::DOUBLE AS minutes_with_429,
  count(*) FILTER (WHERE n >= $burst_min)::DOUBLE AS burst_minutes,
  max(n)::DOUBLE AS peak_per_minute,
  epoch_ms(arg_max(minute, n))::DOUBLE AS peak_minute
FROM per_minute
GROUP BY app
ORDER BY rate_limited DESC, app`;

export async function rateLimitBursts(conn: DuckDBConnection, scope: AnalysisScope): Promise<UsageResult<RateLimitRow>> {
  const { where, params } = scopeSql(scope);
  const sql = RATE_LIMIT_SQL(where);
  const rows = (await select(conn, sql, { ...params, burst_min: RATE_LIMIT_BURST_MIN_PER_MINUTE })).map((r) => ({
    app: str(r.app),
    rate_limited: toNumber(r.rate_limited),
    minutes_with_429: toNumber(r.minutes_with_429),
    burst_minutes: toNumber(r.burst_minutes),
    peak_per_minute: toNumber(r.peak_per_minute),
    peak_minute: toNumber(r.peak_minute),
  }));
  return { rows, sql };
}

export const CONTEXT_GROWTH_SQL = (where: string): string => `WITH s AS MATERIALIZED (
  SELECT session_id, app, model, event_id, cost_usd,
    prompt_tokens::DOUBLE AS prompt, cached_prompt_tokens::DOUBLE AS cached,
    row_number() OVER (PARTITION BY session_id ORDER BY "timestamp", event_id) AS turn
  FROM events WHERE ${where} AND session_id IS NOT NULL
), per_session AS MATERIALIZED (
  SELECT session_id, count(*) AS turns, regr_slope(prompt, turn) AS slope, max(prompt) FILTER (WHERE turn = 2) AS second_prompt
  FROM s GROUP BY session_id
), growing AS (
  SELECT * FROM per_session WHERE turns >= $min_turns AND slope > 0
), coverage AS (
  SELECT (SELECT count(*) FROM s)::DOUBLE AS session_events,
    (SELECT count(*) FROM per_session WHERE turns >= $min_turns)::DOUBLE AS multi_turn_sessions
), per_model AS (
  SELECT s.app, s.model,
    count(DISTINCT s.session_id)::DOUBLE AS sessions,
    count(*)::DOUBLE AS events,
    coalesce(fsum(s.cost_usd), 0)::DOUBLE AS spend_usd,
    coalesce(sum(s.prompt) FILTER (WHERE s.cost_usd > 0), 0)::DOUBLE AS prompt_tokens,
    coalesce(sum(s.cached) FILTER (WHERE s.cost_usd > 0), 0)::DOUBLE AS cached_prompt_tokens,
    coalesce(sum(greatest(0, s.prompt - (g.second_prompt + $window))) FILTER (WHERE s.cost_usd > 0), 0)::DOUBLE AS excess_prompt_tokens,
    (sum(g.slope / g.turns) / count(DISTINCT s.session_id))::DOUBLE AS mean_slope_tokens_per_turn,
    (count(*) / count(DISTINCT s.session_id))::DOUBLE AS mean_turns,
    min(s.session_id, ${SAMPLES}) AS sample_session_ids,
    arg_max(s.event_id, s.prompt, ${SAMPLES}) AS sample_event_ids
  FROM s JOIN growing g ON s.session_id = g.session_id
  GROUP BY s.app, s.model
)
SELECT c.session_events, c.multi_turn_sessions, p.*
FROM coverage c LEFT JOIN per_model p ON true
ORDER BY p.excess_prompt_tokens DESC NULLS LAST, p.app, p.model`;

export async function contextGrowth(conn: DuckDBConnection, scope: AnalysisScope, opts: { window_tokens?: number } = {}): Promise<ContextGrowthResult> {
  const window = opts.window_tokens ?? CONTEXT_WINDOW_TOKENS;
  if (!Number.isFinite(window) || window < 0) throw new NetraError('VALIDATION', 'window_tokens must be a number >= 0', { field: 'window_tokens' });
  const { where, params } = scopeSql(scope);
  const sql = CONTEXT_GROWTH_SQL(where);
  const raw = await select(conn, sql, { ...params, window, min_turns: CONTEXT_MIN_TURNS });
  const rows = raw.filter((r) => r.app != null).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    sessions: toNumber(r.sessions),
    events: toNumber(r.events),
    spend_usd: toNumber(r.spend_usd),
    prompt_tokens: toNumber(r.prompt_tokens),
    cached_prompt_tokens: toNumber(r.cached_prompt_tokens),
    excess_prompt_tokens: toNumber(r.excess_prompt_tokens),
    mean_slope_tokens_per_turn: toNumber(r.mean_slope_tokens_per_turn),
    mean_turns: toNumber(r.mean_turns),
    sample_session_ids: ids(r.sample_session_ids),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql, session_events: toNumber(raw[0]?.session_events), multi_turn_sessions: toNumber(raw[0]?.multi_turn_sessions) };
}

export const LATENCY_SQL = (where: string): string => `WITH e AS (
  SELECT app, model, event_id, "timestamp" AS ts, latency_ms, ttft_ms, stream, completion_tokens,
    coalesce(tags->>'latency_class' = 'offline', false) AS offline
  FROM events WHERE ${where} AND status = 'ok' AND latency_ms IS NOT NULL
)
SELECT grouping(app) AS app_rolled, grouping(model) AS model_rolled, app, model,
  count(*)::DOUBLE AS all_events,
  count(*) FILTER (WHERE offline)::DOUBLE AS offline_events,
  count(*) FILTER (WHERE NOT offline)::DOUBLE AS events,
  quantile_cont(latency_ms, 0.5) FILTER (WHERE NOT offline) AS latency_p50_ms,
  quantile_cont(latency_ms, 0.95) FILTER (WHERE NOT offline) AS latency_p95_ms,
  quantile_cont(ttft_ms, 0.5) FILTER (WHERE NOT offline) AS ttft_p50_ms,
  quantile_cont(ttft_ms, 0.95) FILTER (WHERE NOT offline) AS ttft_p95_ms,
  (count(*) FILTER (WHERE NOT offline AND stream) / nullif(count(*) FILTER (WHERE NOT offline), 0))::DOUBLE AS stream_share,
  avg(completion_tokens) FILTER (WHERE NOT offline)::DOUBLE AS mean_completion_tokens,
  arg_max(event_id, latency_ms, ${SAMPLES}) FILTER (WHERE NOT offline) AS sample_event_ids
FROM e
GROUP BY GROUPING SETS ((), (app), (model))
ORDER BY app_rolled, model_rolled, app, model`;

export async function latencyByAppModel(conn: DuckDBConnection, scope: AnalysisScope): Promise<LatencyResult> {
  const { where, params } = scopeSql(scope);
  const sql = LATENCY_SQL(where);
  const raw = await select(conn, sql, params);
  const total = raw.find((r) => toNumber(r.app_rolled) === 1 && toNumber(r.model_rolled) === 1);
  const rows = raw.filter((r) => r !== total && toNumber(r.events) > 0).map((r) => {
    const dimension = toNumber(r.app_rolled) === 0 ? ('app' as const) : ('model' as const);
    return {
      dimension,
      key: str(dimension === 'app' ? r.app : r.model),
      events: toNumber(r.events),
      latency_p50_ms: toNumberOrNull(r.latency_p50_ms),
      latency_p95_ms: toNumberOrNull(r.latency_p95_ms),
      ttft_p50_ms: toNumberOrNull(r.ttft_p50_ms),
      ttft_p95_ms: toNumberOrNull(r.ttft_p95_ms),
      stream_share: toNumber(r.stream_share),
      mean_completion_tokens: toNumber(r.mean_completion_tokens),
      sample_event_ids: ids(r.sample_event_ids),
    };
  });
  return { rows, sql, events_with_latency: toNumber(total?.all_events), offline_events_excluded: toNumber(total?.offline_events) };
}

/** The usage methods of the analysis port, bound to the store's read queue (each timed under its own kind). */
export function duckDbUsageQueries(run: RunRead): UsageQueries {
  return {
    routingSegments: (scope) => run('analysis.routing_segments', (c) => routingSegments(c, scope)),
    batchCandidates: (scope) => run('analysis.batch_candidates', (c) => batchCandidates(c, scope)),
    maxTokensGroups: (scope) => run('analysis.max_tokens_groups', (c) => maxTokensGroups(c, scope)),
    retryWaste: (scope) => run('analysis.retry_waste', (c) => retryWaste(c, scope)),
    rateLimitBursts: (scope) => run('analysis.rate_limit_bursts', (c) => rateLimitBursts(c, scope)),
    contextGrowth: (scope, opts) => run('analysis.context_growth', (c) => contextGrowth(c, scope, opts)),
    latencyByAppModel: (scope) => run('analysis.latency_slo', (c) => latencyByAppModel(c, scope)),
  };
}
