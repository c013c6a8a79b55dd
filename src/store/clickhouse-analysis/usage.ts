/**
 * ClickHouse SQL of the usage analysis queries (src/optimize/ports/usage.ts), ported from
 * src/store/duckdb-analysis/usage.ts: model-routing segments, batchable traffic, max_tokens headroom, retry waste,
 * 429 bursts, context growth and latency per app/model. Same definitions, one statement each; workspace, time
 * bounds and thresholds are bound parameters. As in DuckDB, tags are never parsed per row: the routing query groups
 * by the raw tags text and extracts tags.task from the distinct texts, and tag tests are literal substring matches
 * of the compact JSON the store writes.
 */
import type { AnalysisScope } from '../../optimize/ports/index.js';
import {
  BULK_BURST_MIN_PER_MINUTE, CONTEXT_MIN_TURNS, CONTEXT_WINDOW_TOKENS, PROMPT_SIZE_BANDS, RATE_LIMIT_BURST_MIN_PER_MINUTE, SMALL_COMPLETION_TOKENS,
  type BatchBasis, type BatchCandidateRow, type ContextGrowthResult, type LatencyResult, type MaxTokensGroupRow,
  type PromptSizeBand, type RateLimitRow, type RetryWasteRow, type RoutingSegmentRow, type UsageQueries, type UsageResult,
} from '../../optimize/ports/usage.js';
import { NetraError } from '../../errors.js';
import type { ClickHouseExecutor, Row } from '../clickhouse-executor.js';
import { num, numOrNull, pct, quantilesCont, scopeSql } from '../clickhouse-queries.js';
import { str, strings as ids, topN, TS_US, type ChRunRead } from './sql.js';

const SAMPLES = 3;

/** SQL text: tags.<key> equals a literal value (a plain [a-z0-9_] value, so it needs no JSON escaping). */
function tagIsSql(key: string, value: string): string {
  if (!/^[a-z0-9_]+$/.test(key) || !/^[a-z0-9_]+$/.test(value)) throw new NetraError('INTERNAL', `tag literal ${key}=${value} must be [a-z0-9_]`);
  return `ifNull(position(tags, '"${key}":"${value}"') > 0, false)`;
}

/** SQL text: the tags have the key at all. */
function tagHasSql(key: string): string {
  if (!/^[a-z0-9_]+$/.test(key)) throw new NetraError('INTERNAL', `tag key ${key} must be [a-z0-9_]`);
  return `ifNull(position(tags, '"${key}":') > 0, false)`;
}

/** CASE expression mapping prompt_tokens to its PROMPT_SIZE_BANDS band (bounds are constants, not input). */
function sizeBandSql(): string {
  const arms = PROMPT_SIZE_BANDS.filter((b) => Number.isFinite(b.below)).map((b) => `WHEN prompt_tokens < ${b.below} THEN '${b.band}'`);
  return `CASE ${arms.join(' ')} ELSE '${PROMPT_SIZE_BANDS[PROMPT_SIZE_BANDS.length - 1]!.band}' END`;
}

/** Minute index of the event (epoch µs / 60 s, floored). */
const MINUTE = `intDiv(${TS_US}, 60000000)`;

export const ROUTING_SEGMENTS_SQL = (t: string, where: string): string => `WITH by_tags AS (
  SELECT app, model, operation, tags, ${sizeBandSql()} AS size_band,
    count() AS n,
    countIf(status = 'ok') AS ok_n,
    sumKahan(cost_usd) AS spend,
    sumIf(toInt64(prompt_tokens) - toInt64(cached_prompt_tokens), cost_usd > 0) AS uncached,
    sumIf(cached_prompt_tokens, cost_usd > 0) AS cached,
    sum(completion_tokens) AS completion,
    max(prompt_tokens) AS max_prompt,
    countIf(status = 'ok' AND completion_tokens <= {small_completion:UInt32}) AS small,
    count(quality_score) AS quality_n,
    sum(quality_score) AS quality_sum,
    argMin(event_id, "timestamp") AS sample,
    min("timestamp") AS first_ts
  FROM ${t} WHERE ${where}
  GROUP BY app, model, operation, tags, size_band
)
SELECT app, model, operation, nullIf(JSONExtractString(ifNull(tags, ''), 'task'), '') AS task, size_band,
  toFloat64(sum(n)) AS n_events,
  toFloat64(sum(ok_n)) AS n_ok,
  sumKahan(spend) AS spend_usd,
  toFloat64(sum(uncached)) AS billed_uncached,
  toFloat64(sum(cached)) AS billed_cached,
  toFloat64(sum(completion)) AS billed_completion,
  toFloat64(max(max_prompt)) AS max_prompt_tokens,
  toFloat64(sum(small)) AS small_completions,
  toFloat64(sum(quality_n)) AS quality_events,
  sum(quality_sum) / nullIf(sum(quality_n), 0) AS mean_quality,
  ${topN(SAMPLES, 'first_ts', 'sample')} AS samples
FROM by_tags
GROUP BY app, model, operation, task, size_band
ORDER BY spend_usd DESC, app, model, task, size_band`;

async function routingSegments(ex: ClickHouseExecutor, t: string, scope: AnalysisScope): Promise<UsageResult<RoutingSegmentRow>> {
  const { where, params } = scopeSql(scope);
  const sql = ROUTING_SEGMENTS_SQL(t, where);
  const rows = (await ex.query<Row>(sql, { ...params, small_completion: SMALL_COMPLETION_TOKENS })).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    operation: str(r.operation),
    task: r.task == null ? null : String(r.task),
    size_band: str(r.size_band) as PromptSizeBand,
    events: num(r.n_events),
    ok_events: num(r.n_ok),
    spend_usd: num(r.spend_usd),
    billed_uncached_prompt_tokens: num(r.billed_uncached),
    billed_cached_prompt_tokens: num(r.billed_cached),
    billed_completion_tokens: num(r.billed_completion),
    max_prompt_tokens: num(r.max_prompt_tokens),
    small_completions: num(r.small_completions),
    quality_events: num(r.quality_events),
    mean_quality: numOrNull(r.mean_quality),
    sample_event_ids: ids(r.samples),
  }));
  return { rows, sql };
}

export const BATCH_CANDIDATES_SQL = (t: string, where: string): string => `WITH per_minute AS (
  SELECT app, model,
    if(${tagIsSql('latency_class', 'offline')}, 'offline_tag', 'bulk_burst') AS basis,
    ${MINUTE} AS minute,
    count() AS n,
    sumKahan(cost_usd) AS spend,
    sum(latency_ms) AS latency_sum,
    count(latency_ms) AS latency_n,
    ${topN(SAMPLES, TS_US, 'event_id')} AS samples
  FROM ${t}
  WHERE ${where} AND end_user IS NULL AND session_id IS NULL
    AND (${tagIsSql('latency_class', 'offline')} OR (NOT ${tagHasSql('latency_class')} AND NOT ifNull(stream, false)))
  GROUP BY app, model, basis, minute
)
SELECT app, model, basis,
  toFloat64(sum(n)) AS n_events,
  sumKahan(spend) AS spend_usd,
  sum(latency_sum) / nullIf(sum(latency_n), 0) AS mean_latency_ms,
  toFloat64(count()) AS active_minutes,
  toFloat64(max(n)) AS peak_per_minute,
  argMax(samples, n) AS sample_ids
FROM per_minute
WHERE basis = 'offline_tag' OR n >= {bulk_min:UInt32}
GROUP BY app, model, basis
ORDER BY spend_usd DESC, app, model`;

async function batchCandidates(ex: ClickHouseExecutor, t: string, scope: AnalysisScope): Promise<UsageResult<BatchCandidateRow>> {
  const { where, params } = scopeSql(scope);
  const sql = BATCH_CANDIDATES_SQL(t, where);
  const rows = (await ex.query<Row>(sql, { ...params, bulk_min: BULK_BURST_MIN_PER_MINUTE })).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    basis: str(r.basis) as BatchBasis,
    events: num(r.n_events),
    spend_usd: num(r.spend_usd),
    mean_latency_ms: numOrNull(r.mean_latency_ms),
    active_minutes: num(r.active_minutes),
    peak_per_minute: num(r.peak_per_minute),
    sample_event_ids: ids(r.sample_ids),
  }));
  return { rows, sql };
}

const OK = `status = 'ok'`;
const DECODE = `status = 'ok' AND latency_ms > ttft_ms`;

export const MAX_TOKENS_GROUPS_SQL = (t: string, where: string): string => `SELECT app, model, toFloat64(assumeNotNull(max_tokens)) AS mt,
  toFloat64(count()) AS n_events,
  toFloat64(countIf(${OK})) AS n_ok,
  sumKahan(cost_usd) AS spend_usd,
  if(countIf(${OK}) = 0, NULL,
     toFloat64(arraySort(groupArrayIf(least(completion_tokens, assumeNotNull(max_tokens)), ${OK}))[toUInt64(ceil(0.99 * countIf(${OK})))])) AS p99,
  toFloat64(maxIfOrNull(completion_tokens, ${OK})) AS max_completion,
  toFloat64(countIf(finish_reason = 'length')) AS n_truncated,
  toFloat64(sumIf(completion_tokens, ${DECODE})) AS decode_tok,
  ifNull(sumIf(latency_ms - ttft_ms, ${DECODE}), 0) AS decode_t,
  ${topN(SAMPLES, '-toInt64(completion_tokens)', 'event_id')} AS samples
FROM ${t} WHERE ${where} AND max_tokens IS NOT NULL
GROUP BY app, model, max_tokens
ORDER BY n_events DESC, app, model, mt`;

async function maxTokensGroups(ex: ClickHouseExecutor, t: string, scope: AnalysisScope): Promise<UsageResult<MaxTokensGroupRow>> {
  const { where, params } = scopeSql(scope);
  const sql = MAX_TOKENS_GROUPS_SQL(t, where);
  const rows = (await ex.query<Row>(sql, params)).map((r) => ({
    app: str(r.app),
    model: str(r.model),
    max_tokens: num(r.mt),
    events: num(r.n_events),
    ok_events: num(r.n_ok),
    spend_usd: num(r.spend_usd),
    p99_completion_tokens: numOrNull(r.p99),
    max_completion_tokens: numOrNull(r.max_completion),
    truncated: num(r.n_truncated),
    decode_tokens: num(r.decode_tok),
    decode_ms: num(r.decode_t),
    sample_event_ids: ids(r.samples),
  }));
  return { rows, sql };
}

export const RETRY_WASTE_SQL = (t: string, where: string): string => `WITH first_error AS (
  SELECT trace_id, prompt_hash, min("timestamp") AS first_error_ts
  FROM ${t} WHERE ${where} AND status = 'error' AND trace_id IS NOT NULL AND prompt_hash IS NOT NULL
  GROUP BY trace_id, prompt_hash
), retries AS (
  SELECT e.app AS r_app, e.model AS r_model,
    toFloat64(count()) AS retries_n,
    sumKahan(e.cost_usd) AS retry_spend,
    toFloat64(countIf(e.status = 'error')) AS failed_n,
    sumKahanIf(e.cost_usd, e.status = 'error') AS failed_spend
  FROM (SELECT app, model, "timestamp" AS ts, status, cost_usd, trace_id, prompt_hash
        FROM ${t} WHERE ${where} AND trace_id IS NOT NULL AND prompt_hash IS NOT NULL) AS e
  INNER JOIN first_error AS f ON e.trace_id = f.trace_id AND e.prompt_hash = f.prompt_hash
  WHERE e.ts > f.first_error_ts
  GROUP BY e.app, e.model
), failures AS (
  SELECT app AS f_app, model AS f_model,
    toFloat64(count()) AS errors_n,
    sumKahan(cost_usd) AS error_spend,
    toFloat64(countIf(cost_usd > 0)) AS billed_n,
    toFloat64(countIf(http_status = 429)) AS rate_limited_n,
    ${topN(SAMPLES, '-cost_usd', 'event_id')} AS samples
  FROM ${t} WHERE ${where} AND status = 'error'
  GROUP BY app, model
)
SELECT f.f_app AS app_key, f.f_model AS model_key, f.errors_n AS errors_n, f.error_spend AS error_spend, f.billed_n AS billed_n,
  f.rate_limited_n AS rate_limited_n, f.samples AS samples,
  r.retries_n AS retries_n, r.retry_spend AS retry_spend, r.failed_n AS failed_n, r.failed_spend AS failed_spend
FROM failures AS f LEFT JOIN retries AS r ON f.f_app = r.r_app AND f.f_model = r.r_model
ORDER BY error_spend DESC, app_key, model_key`;

async function retryWaste(ex: ClickHouseExecutor, t: string, scope: AnalysisScope): Promise<UsageResult<RetryWasteRow>> {
  const { where, params } = scopeSql(scope);
  const sql = RETRY_WASTE_SQL(t, where);
  const rows = (await ex.query<Row>(sql, params)).map((r) => ({
    app: str(r.app_key),
    model: str(r.model_key),
    errors: num(r.errors_n),
    error_spend_usd: num(r.error_spend),
    billed_errors: num(r.billed_n),
    rate_limited: num(r.rate_limited_n),
    retries: num(r.retries_n),
    retry_spend_usd: num(r.retry_spend),
    failed_retries: num(r.failed_n),
    failed_retry_spend_usd: num(r.failed_spend),
    sample_event_ids: ids(r.samples),
  }));
  return { rows, sql };
}

export const RATE_LIMIT_SQL = (t: string, where: string): string => `WITH per_minute AS (
  SELECT app, ${MINUTE} AS minute, count() AS n
  FROM ${t} WHERE ${where} AND http_status = 429
  GROUP BY app, minute
)
SELECT app,
  toFloat64(sum(n)) AS n_429,
  toFloat64(count()) AS minutes_with_429,
  toFloat64(countIf(n >= {burst_min:UInt32})) AS burst_minutes,
  toFloat64(max(n)) AS peak_per_minute,
  toFloat64(argMax(minute, (n, -minute)) * 60000) AS peak_minute
FROM per_minute
GROUP BY app
ORDER BY n_429 DESC, app`;

async function rateLimitBursts(ex: ClickHouseExecutor, t: string, scope: AnalysisScope): Promise<UsageResult<RateLimitRow>> {
  const { where, params } = scopeSql(scope);
  const sql = RATE_LIMIT_SQL(t, where);
  const rows = (await ex.query<Row>(sql, { ...params, burst_min: RATE_LIMIT_BURST_MIN_PER_MINUTE })).map((r) => ({
    app: str(r.app),
    rate_limited: num(r.n_429),
    minutes_with_429: num(r.minutes_with_429),
    burst_minutes: num(r.burst_minutes),
    peak_per_minute: num(r.peak_per_minute),
    peak_minute: num(r.peak_minute),
  }));
  return { rows, sql };
}

/**
 * Context growth. DuckDB's regr_slope(y, x) is covar_pop(x, y) / var_pop(x) (NULL when var_pop is 0); the stable
 * ClickHouse forms are used (x is epoch milliseconds: the naive sum-of-squares forms would cancel catastrophically).
 * A session's app and model are those of its first turn (DuckDB: any_value). Instead of a coverage CTE joined to the
 * per-model rows, sessions are grouped by (app, model, qualifies) and the coverage figures are summed in JS.
 */
export const CONTEXT_GROWTH_SQL = (t: string, where: string): string => `WITH per_session AS (
  SELECT session_id, argMin(app, "timestamp") AS s_app, argMin(model, "timestamp") AS s_model,
    count() AS turns,
    covarPopStable(toFloat64(toUnixTimestamp64Milli("timestamp")), toFloat64(prompt_tokens))
      / nullIf(varPopStable(toFloat64(toUnixTimestamp64Milli("timestamp"))), 0) AS slope_per_ms,
    toFloat64(toUnixTimestamp64Milli(max("timestamp")) - toUnixTimestamp64Milli(min("timestamp"))) AS span_ms,
    toFloat64(argMin(prompt_tokens, "timestamp")) AS first_prompt,
    sumKahan(cost_usd) AS spend,
    sumIf(prompt_tokens, cost_usd > 0) AS prompt_billed,
    sumIf(cached_prompt_tokens, cost_usd > 0) AS cached_billed,
    groupArrayIf(prompt_tokens, cost_usd > 0) AS billed_prompts,
    argMax(event_id, prompt_tokens) AS top_event
  FROM ${t} WHERE ${where} AND session_id IS NOT NULL
  GROUP BY session_id
)
SELECT s_app AS app_key, s_model AS model_key,
  ifNull(turns >= {min_turns:UInt32} AND slope_per_ms > 0, false) AS qualifies,
  toFloat64(sum(turns)) AS turns_sum,
  toFloat64(countIf(turns >= {min_turns:UInt32})) AS multi_turn,
  toFloat64(count()) AS sessions_n,
  sumKahan(spend) AS spend_usd,
  toFloat64(sum(prompt_billed)) AS prompt_sum,
  toFloat64(sum(cached_billed)) AS cached_sum,
  sum(arraySum(x -> greatest(0, x - (first_prompt + {window:Float64})), billed_prompts)) AS excess,
  avg(slope_per_ms * span_ms / (turns - 1)) AS growth,
  avg(turns) AS mean_turns,
  ${topN(SAMPLES, '-toInt64(turns)', 'session_id')} AS sample_sessions,
  ${topN(SAMPLES, '-toInt64(turns)', 'top_event')} AS sample_events
FROM per_session
GROUP BY app_key, model_key, qualifies
ORDER BY qualifies DESC, excess DESC, app_key, model_key`;

async function contextGrowth(ex: ClickHouseExecutor, t: string, scope: AnalysisScope, opts: { window_tokens?: number } = {}): Promise<ContextGrowthResult> {
  const window = opts.window_tokens ?? CONTEXT_WINDOW_TOKENS;
  if (!Number.isFinite(window) || window < 0) throw new NetraError('VALIDATION', 'window_tokens must be a number >= 0', { field: 'window_tokens' });
  const { where, params } = scopeSql(scope);
  const sql = CONTEXT_GROWTH_SQL(t, where);
  const raw = await ex.query<Row>(sql, { ...params, window, min_turns: CONTEXT_MIN_TURNS });
  const rows = raw.filter((r) => num(r.qualifies) === 1 || r.qualifies === true).map((r) => ({
    app: str(r.app_key),
    model: str(r.model_key),
    sessions: num(r.sessions_n),
    events: num(r.turns_sum),
    spend_usd: num(r.spend_usd),
    prompt_tokens: num(r.prompt_sum),
    cached_prompt_tokens: num(r.cached_sum),
    excess_prompt_tokens: num(r.excess),
    mean_growth_tokens_per_turn: num(r.growth),
    mean_turns: num(r.mean_turns),
    sample_session_ids: ids(r.sample_sessions),
    sample_event_ids: ids(r.sample_events),
  }));
  return {
    rows, sql,
    session_events: raw.reduce((a, r) => a + num(r.turns_sum), 0),
    multi_turn_sessions: raw.reduce((a, r) => a + num(r.multi_turn), 0),
  };
}

const NOT_OFFLINE = 'NOT offline';

export const LATENCY_SQL = (t: string, where: string): string => `WITH e AS (
  SELECT app, model, event_id, latency_ms, ttft_ms, ifNull(stream, false) AS streamed, completion_tokens, cost_usd,
    ${tagIsSql('latency_class', 'offline')} AS offline
  FROM ${t} WHERE ${where} AND status = 'ok' AND latency_ms IS NOT NULL
)
SELECT grouping(app) AS app_rolled, grouping(model) AS model_rolled, app, model,
  toFloat64(count()) AS all_events,
  toFloat64(countIf(offline)) AS offline_events,
  toFloat64(countIf(${NOT_OFFLINE})) AS n_events,
  sumKahanIf(cost_usd, ${NOT_OFFLINE}) AS spend_usd,
  ${quantilesCont('latency_ms', [0.5, 0.95], NOT_OFFLINE)} AS latency_q,
  ${quantilesCont('ttft_ms', [0.95], NOT_OFFLINE)}[1] AS ttft_p95,
  countIf(${NOT_OFFLINE} AND streamed) / nullIf(countIf(${NOT_OFFLINE}), 0) AS stream_share,
  avgIf(completion_tokens, ${NOT_OFFLINE}) AS mean_completion,
  ${topN(SAMPLES, '-assumeNotNull(latency_ms)', 'event_id', NOT_OFFLINE)} AS samples
FROM e
GROUP BY GROUPING SETS ((app), (model))
ORDER BY app_rolled, model_rolled, app, model`;

async function latencyByAppModel(ex: ClickHouseExecutor, t: string, scope: AnalysisScope): Promise<LatencyResult> {
  const { where, params } = scopeSql(scope);
  const sql = LATENCY_SQL(t, where);
  const raw = await ex.query<Row>(sql, params);
  const appRows = raw.filter((r) => num(r.app_rolled) === 0);
  const total = (k: string) => appRows.reduce((a, r) => a + num(r[k]), 0);
  const rows = raw.filter((r) => num(r.n_events) > 0).map((r) => {
    const dimension = num(r.app_rolled) === 0 ? ('app' as const) : ('model' as const);
    return {
      dimension,
      key: str(dimension === 'app' ? r.app : r.model),
      events: num(r.n_events),
      spend_usd: num(r.spend_usd),
      latency_p50_ms: pct(r.latency_q, 0),
      latency_p95_ms: pct(r.latency_q, 1),
      ttft_p95_ms: numOrNull(r.ttft_p95),
      stream_share: num(r.stream_share),
      mean_completion_tokens: num(r.mean_completion),
      sample_event_ids: ids(r.samples),
    };
  });
  return { rows, sql, events_with_latency: total('all_events'), offline_events_excluded: total('offline_events') };
}

/** The usage methods of the analysis port, bound to the store's read path (each timed under its own kind). */
export function clickHouseUsageQueries(run: ChRunRead): UsageQueries {
  return {
    routingSegments: (scope) => run('analysis.routing_segments', (ex, t) => routingSegments(ex, t, scope)),
    batchCandidates: (scope) => run('analysis.batch_candidates', (ex, t) => batchCandidates(ex, t, scope)),
    maxTokensGroups: (scope) => run('analysis.max_tokens_groups', (ex, t) => maxTokensGroups(ex, t, scope)),
    retryWaste: (scope) => run('analysis.retry_waste', (ex, t) => retryWaste(ex, t, scope)),
    rateLimitBursts: (scope) => run('analysis.rate_limit_bursts', (ex, t) => rateLimitBursts(ex, t, scope)),
    contextGrowth: (scope, opts) => run('analysis.context_growth', (ex, t) => contextGrowth(ex, t, scope, opts)),
    latencyByAppModel: (scope) => run('analysis.latency_slo', (ex, t) => latencyByAppModel(ex, t, scope)),
  };
}
