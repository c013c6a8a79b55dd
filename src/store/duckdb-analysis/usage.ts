/**
 * DuckDB SQL of the usage analysis queries (src/optimize/ports/usage.ts): model-routing segments, batchable traffic,
 * max_tokens headroom, retry waste, 429 bursts, context growth and latency per app/model. Each is one statement that
 * scans the scoped events once and aggregates in SQL (retry waste scans twice: error rows, then a hash join of every
 * row against the errors' (trace_id, prompt_hash) keys); JS only converts the few result rows. Workspace and time
 * bounds are bound parameters.
 *
 * Speed: parsing the tags JSON of every row costs more than the rest of a query, so tags are never parsed per row:
 * the routing query groups by the raw tags text first and extracts tags.task from the few distinct texts, and the
 * offline test is a literal match of `"latency_class":"offline"` in the compact JSON the store writes (flat string
 * maps, JSON.stringify). Quantiles (holistic, the costliest aggregate) are used only where the definition needs them
 * (max_tokens p99, latency p50/p95).
 */
import type { DuckDBConnection, DuckDBValue, JS } from '@duckdb/node-api';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import {
  BULK_BURST_MIN_PER_MINUTE, CONTEXT_MIN_TURNS, CONTEXT_WINDOW_TOKENS, PROMPT_SIZE_BANDS, RATE_LIMIT_BURST_MIN_PER_MINUTE, SMALL_COMPLETION_TOKENS,
  type BatchBasis, type BatchCandidateRow, type ContextGrowthResult, type LatencyResult, type MaxTokensGroupRow,
  type PromptSizeBand, type RateLimitRow, type RetryWasteRow, type RoutingSegmentRow, type UsageQueries, type UsageResult,
} from '../../optimize/ports/usage.js';
import { NetraError } from '../../errors.js';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects, toNumber, toNumberOrNull } from '../duckdb-rows.js';
import type { RunRead } from './index.js';

const SAMPLES = 3;

/** SQL text: tags.<key> equals a literal value (a plain [a-z0-9_] value, so it needs no JSON escaping). */
function tagIsSql(key: string, value: string): string {
  if (!/^[a-z0-9_]+$/.test(key) || !/^[a-z0-9_]+$/.test(value)) throw new NetraError('INTERNAL', `tag literal ${key}=${value} must be [a-z0-9_]`);
  return `coalesce(regexp_matches(tags::VARCHAR, '"${key}":"${value}"'), false)`;
}

/** SQL text: the tags have the key at all. */
function tagHasSql(key: string): string {
  if (!/^[a-z0-9_]+$/.test(key)) throw new NetraError('INTERNAL', `tag key ${key} must be [a-z0-9_]`);
  return `coalesce(regexp_matches(tags::VARCHAR, '"${key}":'), false)`;
}

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

export const ROUTING_SEGMENTS_SQL = (where: string): string => `WITH by_tags AS (
  SELECT app, model, operation, tags, ${sizeBandSql()} AS size_band,
    count(*) AS events,
    count(*) FILTER (WHERE status = 'ok') AS ok_events,
    fsum(cost_usd) AS spend,
    sum(prompt_tokens - cached_prompt_tokens) FILTER (WHERE cost_usd > 0) AS uncached,
    sum(cached_prompt_tokens) FILTER (WHERE cost_usd > 0) AS cached,
    sum(completion_tokens) AS completion,
    max(prompt_tokens) AS max_prompt,
    count(*) FILTER (WHERE status = 'ok' AND completion_tokens <= $small_completion) AS small,
    count(quality_score) AS quality_n,
    sum(quality_score) AS quality_sum,
    arg_min(event_id, "timestamp") AS sample,
    min("timestamp") AS first_ts
  FROM events WHERE ${where}
  GROUP BY ALL
)
SELECT app, model, operation, nullif(tags->>'task', '') AS task, size_band,
  sum(events)::DOUBLE AS events,
  sum(ok_events)::DOUBLE AS ok_events,
  coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
  coalesce(sum(uncached), 0)::DOUBLE AS billed_uncached_prompt_tokens,
  coalesce(sum(cached), 0)::DOUBLE AS billed_cached_prompt_tokens,
  coalesce(sum(completion), 0)::DOUBLE AS billed_completion_tokens,
  max(max_prompt)::DOUBLE AS max_prompt_tokens,
  sum(small)::DOUBLE AS small_completions,
  sum(quality_n)::DOUBLE AS quality_events,
  (sum(quality_sum) / nullif(sum(quality_n), 0))::DOUBLE AS mean_quality,
  arg_min(sample, first_ts, ${SAMPLES}) AS sample_event_ids
FROM by_tags
GROUP BY ALL
ORDER BY spend_usd DESC, app, model, task, size_band`;

export async function routingSegments(conn: DuckDBConnection, scope: AnalysisScope): Promise<UsageResult<RoutingSegmentRow>> {
  const { where, params } = scopeSql(scope);
  const sql = ROUTING_SEGMENTS_SQL(where);
  const rows = (await select(conn, sql, { ...params, small_completion: SMALL_COMPLETION_TOKENS })).map((r) => ({
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
    max_prompt_tokens: toNumber(r.max_prompt_tokens),
    small_completions: toNumber(r.small_completions),
    quality_events: toNumber(r.quality_events),
    mean_quality: toNumberOrNull(r.mean_quality),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql };
}

export const BATCH_CANDIDATES_SQL = (where: string): string => `WITH per_minute AS (
  SELECT app, model,
    CASE WHEN ${tagIsSql('latency_class', 'offline')} THEN 'offline_tag' ELSE 'bulk_burst' END AS basis,
    date_trunc('minute', "timestamp") AS minute,
    count(*) AS n,
    fsum(cost_usd) AS spend,
    sum(latency_ms) AS latency_sum,
    count(latency_ms) AS latency_n,
    arg_min(event_id, "timestamp", ${SAMPLES}) AS samples
  FROM events
  WHERE ${where} AND end_user IS NULL AND session_id IS NULL
    AND (${tagIsSql('latency_class', 'offline')} OR (NOT ${tagHasSql('latency_class')} AND stream IS NOT TRUE))
  GROUP BY ALL
)
SELECT app, model, basis,
  sum(n)::DOUBLE AS events,
  coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
  (sum(latency_sum) / nullif(sum(latency_n), 0))::DOUBLE AS mean_latency_ms,
  count(*)::DOUBLE AS active_minutes,
  max(n)::DOUBLE AS peak_per_minute,
  arg_max(samples, n) AS sample_event_ids
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
  coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd,
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
    spend_usd: toNumber(r.spend_usd),
    p99_completion_tokens: toNumberOrNull(r.p99_completion_tokens),
    max_completion_tokens: toNumberOrNull(r.max_completion_tokens),
    truncated: toNumber(r.truncated),
    decode_tokens: toNumber(r.decode_tokens),
    decode_ms: toNumber(r.decode_ms),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql };
}

export const RETRY_WASTE_SQL = (where: string): string => `WITH errors AS MATERIALIZED (
  SELECT app, model, event_id, "timestamp" AS ts, cost_usd, http_status, trace_id, prompt_hash
  FROM events WHERE ${where} AND status = 'error'
), first_error AS (
  SELECT trace_id, prompt_hash, min(ts) AS first_error_ts
  FROM errors WHERE trace_id IS NOT NULL AND prompt_hash IS NOT NULL
  GROUP BY trace_id, prompt_hash
), retries AS (
  SELECT e.app, e.model,
    count(*)::DOUBLE AS retries,
    coalesce(fsum(e.cost_usd), 0)::DOUBLE AS retry_spend_usd,
    count(*) FILTER (WHERE e.status = 'error')::DOUBLE AS failed_retries,
    coalesce(fsum(e.cost_usd) FILTER (WHERE e.status = 'error'), 0)::DOUBLE AS failed_retry_spend_usd
  FROM (SELECT app, model, "timestamp" AS ts, status, cost_usd, trace_id, prompt_hash FROM events WHERE ${where}) e
  JOIN first_error f ON e.trace_id = f.trace_id AND e.prompt_hash = f.prompt_hash
  WHERE e.ts > f.first_error_ts
  GROUP BY e.app, e.model
), failures AS (
  SELECT app, model,
    count(*)::DOUBLE AS errors,
    coalesce(fsum(cost_usd), 0)::DOUBLE AS error_spend_usd,
    count(*) FILTER (WHERE cost_usd > 0)::DOUBLE AS billed_errors,
    count(*) FILTER (WHERE http_status = 429)::DOUBLE AS rate_limited,
    arg_max(event_id, cost_usd, ${SAMPLES}) AS sample_event_ids
  FROM errors GROUP BY app, model
)
SELECT f.*, coalesce(r.retries, 0) AS retries, coalesce(r.retry_spend_usd, 0) AS retry_spend_usd,
  coalesce(r.failed_retries, 0) AS failed_retries, coalesce(r.failed_retry_spend_usd, 0) AS failed_retry_spend_usd
FROM failures f LEFT JOIN retries r ON f.app = r.app AND f.model = r.model
ORDER BY f.error_spend_usd DESC, f.app, f.model`;

export async function retryWaste(conn: DuckDBConnection, scope: AnalysisScope): Promise<UsageResult<RetryWasteRow>> {
  const { where, params } = scopeSql(scope);
  const sql = RETRY_WASTE_SQL(where);
  const rows = (await select(conn, sql, params)).map((r) => ({
    app: str(r.app),
    model: str(r.model),
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

export const CONTEXT_GROWTH_SQL = (where: string): string => `WITH per_session AS MATERIALIZED (
  SELECT session_id, any_value(app) AS app, any_value(model) AS model,
    count(*) AS turns,
    regr_slope(prompt_tokens::DOUBLE, epoch_ms("timestamp")::DOUBLE) AS slope_per_ms,
    (epoch_ms(max("timestamp")) - epoch_ms(min("timestamp")))::DOUBLE AS span_ms,
    arg_min(prompt_tokens, "timestamp")::DOUBLE AS first_prompt,
    fsum(cost_usd) AS spend,
    sum(prompt_tokens) FILTER (WHERE cost_usd > 0) AS prompt,
    sum(cached_prompt_tokens) FILTER (WHERE cost_usd > 0) AS cached,
    list(prompt_tokens) FILTER (WHERE cost_usd > 0) AS billed_prompts,
    arg_max(event_id, prompt_tokens) AS top_event
  FROM events WHERE ${where} AND session_id IS NOT NULL
  GROUP BY session_id
), coverage AS (
  SELECT coalesce(sum(turns), 0)::DOUBLE AS session_events, count(*) FILTER (WHERE turns >= $min_turns)::DOUBLE AS multi_turn_sessions
  FROM per_session
), per_model AS (
  SELECT app, model,
    count(*)::DOUBLE AS sessions,
    sum(turns)::DOUBLE AS events,
    coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
    coalesce(sum(prompt), 0)::DOUBLE AS prompt_tokens,
    coalesce(sum(cached), 0)::DOUBLE AS cached_prompt_tokens,
    coalesce(sum(list_sum(list_transform(billed_prompts, x -> greatest(0, x - (first_prompt + $window))))), 0)::DOUBLE AS excess_prompt_tokens,
    avg(slope_per_ms * span_ms / (turns - 1))::DOUBLE AS mean_growth_tokens_per_turn,
    avg(turns)::DOUBLE AS mean_turns,
    arg_max(session_id, turns, ${SAMPLES}) AS sample_session_ids,
    arg_max(top_event, turns, ${SAMPLES}) AS sample_event_ids
  FROM per_session
  WHERE turns >= $min_turns AND slope_per_ms > 0
  GROUP BY app, model
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
    mean_growth_tokens_per_turn: toNumber(r.mean_growth_tokens_per_turn),
    mean_turns: toNumber(r.mean_turns),
    sample_session_ids: ids(r.sample_session_ids),
    sample_event_ids: ids(r.sample_event_ids),
  }));
  return { rows, sql, session_events: toNumber(raw[0]?.session_events), multi_turn_sessions: toNumber(raw[0]?.multi_turn_sessions) };
}

export const LATENCY_SQL = (where: string): string => `WITH e AS (
  SELECT app, model, event_id, latency_ms, ttft_ms, stream, completion_tokens, cost_usd,
    ${tagIsSql('latency_class', 'offline')} AS offline
  FROM events WHERE ${where} AND status = 'ok' AND latency_ms IS NOT NULL
)
SELECT grouping(app) AS app_rolled, grouping(model) AS model_rolled, app, model,
  count(*)::DOUBLE AS all_events,
  count(*) FILTER (WHERE offline)::DOUBLE AS offline_events,
  count(*) FILTER (WHERE NOT offline)::DOUBLE AS events,
  coalesce(fsum(cost_usd) FILTER (WHERE NOT offline), 0)::DOUBLE AS spend_usd,
  quantile_cont(latency_ms, [0.5, 0.95]) FILTER (WHERE NOT offline) AS latency_q,
  quantile_cont(ttft_ms, 0.95) FILTER (WHERE NOT offline) AS ttft_p95_ms,
  (count(*) FILTER (WHERE NOT offline AND stream) / nullif(count(*) FILTER (WHERE NOT offline), 0))::DOUBLE AS stream_share,
  avg(completion_tokens) FILTER (WHERE NOT offline)::DOUBLE AS mean_completion_tokens,
  arg_max(event_id, latency_ms, ${SAMPLES}) FILTER (WHERE NOT offline) AS sample_event_ids
FROM e
GROUP BY GROUPING SETS ((app), (model))
ORDER BY app_rolled, model_rolled, app, model`;

export async function latencyByAppModel(conn: DuckDBConnection, scope: AnalysisScope): Promise<LatencyResult> {
  const { where, params } = scopeSql(scope);
  const sql = LATENCY_SQL(where);
  const raw = await select(conn, sql, params);
  // totals: the per-app rows partition the events (no () grouping set: it would sort every latency a third time)
  const appRows = raw.filter((r) => toNumber(r.app_rolled) === 0);
  const total = (k: string) => appRows.reduce((a, r) => a + toNumber(r[k]), 0);
  const rows = raw.filter((r) => toNumber(r.events) > 0).map((r) => {
    const dimension = toNumber(r.app_rolled) === 0 ? ('app' as const) : ('model' as const);
    return {
      dimension,
      key: str(dimension === 'app' ? r.app : r.model),
      events: toNumber(r.events),
      spend_usd: toNumber(r.spend_usd),
      latency_p50_ms: toNumberOrNull((r.latency_q as JS[] | null)?.[0]),
      latency_p95_ms: toNumberOrNull((r.latency_q as JS[] | null)?.[1]),
      ttft_p95_ms: toNumberOrNull(r.ttft_p95_ms),
      stream_share: toNumber(r.stream_share),
      mean_completion_tokens: toNumber(r.mean_completion_tokens),
      sample_event_ids: ids(r.sample_event_ids),
    };
  });
  return { rows, sql, events_with_latency: total('all_events'), offline_events_excluded: total('offline_events') };
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
