/**
 * Context growth: sessions of one (app, model) whose prompt_tokens grow turn by turn (>= CONTEXT_MIN_TURNS turns and
 * a positive OLS slope over time). Both engines group the sessions by (app, model, qualifies); the non-qualifying
 * groups only add to the coverage figures (events with a session, multi-turn sessions), summed here.
 */
import {
  CONTEXT_MIN_TURNS,
  CONTEXT_WINDOW_TOKENS,
  type ContextGrowthResult,
  type ContextGrowthRow,
} from '../../../optimize/ports/usage.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { NetraError } from '../../../errors.js';
import { SAMPLES, topN } from '../dialect.js';
import { num, selectRows, str, strings, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

/**
 * DuckDB's regr_slope(y, x) is covar_pop(x, y) / var_pop(x) (NULL when var_pop is 0); ClickHouse uses the stable
 * forms (x is epoch ms: the naive sum-of-squares forms would cancel catastrophically). A session's app and model:
 * DuckDB any_value, ClickHouse those of its first turn (the same unless a session switches models).
 */
export const CONTEXT_GROWTH_SQL: EngineSql = {
  duckdb: ({ where, t }) => `WITH per_session AS MATERIALIZED (
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
  FROM ${t} WHERE ${where} AND session_id IS NOT NULL
  GROUP BY session_id
)
SELECT app AS app_key, model AS model_key,
  coalesce(turns >= $min_turns AND slope_per_ms > 0, false) AS qualifies,
  sum(turns)::DOUBLE AS turns_sum,
  count(*) FILTER (WHERE turns >= $min_turns)::DOUBLE AS multi_turn,
  count(*)::DOUBLE AS sessions_n,
  coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
  coalesce(sum(prompt), 0)::DOUBLE AS prompt_sum,
  coalesce(sum(cached), 0)::DOUBLE AS cached_sum,
  coalesce(sum(list_sum(list_transform(billed_prompts, x -> greatest(0, x - (first_prompt + $window))))), 0)::DOUBLE AS excess,
  avg(slope_per_ms * span_ms / (turns - 1))::DOUBLE AS growth,
  avg(turns)::DOUBLE AS mean_turns,
  arg_max(session_id, turns, ${SAMPLES}) AS sample_sessions,
  arg_max(top_event, turns, ${SAMPLES}) AS sample_events
FROM per_session
GROUP BY app, model, qualifies
ORDER BY qualifies DESC, excess DESC, app_key, model_key`,

  clickhouse: ({ where, t }) => `WITH per_session AS (
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
ORDER BY qualifies DESC, excess DESC, app_key, model_key`,
};

const toRow = (r: Row): ContextGrowthRow & { qualifies: boolean; multi_turn: number } => ({
  qualifies: num(r.qualifies) === 1,
  multi_turn: num(r.multi_turn),
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
  sample_session_ids: strings(r.sample_sessions),
  sample_event_ids: strings(r.sample_events),
});

export async function contextGrowth(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  opts: { window_tokens?: number } = {},
): Promise<ContextGrowthResult> {
  const window = opts.window_tokens ?? CONTEXT_WINDOW_TOKENS;
  if (!Number.isFinite(window) || window < 0)
    throw new NetraError('VALIDATION', 'window_tokens must be a number >= 0', { field: 'window_tokens' });
  const { rows: groups, sql } = await selectRows(
    engine,
    scope,
    CONTEXT_GROWTH_SQL,
    undefined,
    { window, min_turns: CONTEXT_MIN_TURNS },
    toRow,
  );
  const rows = groups.filter((g) => g.qualifies).map(({ qualifies: _q, multi_turn: _m, ...row }) => row);
  return {
    rows,
    sql,
    session_events: groups.reduce((a, g) => a + g.events, 0),
    multi_turn_sessions: groups.reduce((a, g) => a + g.multi_turn, 0),
  };
}
