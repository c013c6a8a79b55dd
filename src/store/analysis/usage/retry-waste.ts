/**
 * Failures and retries per (app, model): status=error events (and those a provider bills: BILLED_ERROR_RULE), and the
 * events whose (trace_id, prompt_hash) matches an earlier error (a hash join of the rows against the errors' keys).
 */
import { BILLED_ERROR_RULE, type RetryWasteRow, type UsageResult } from '../../../optimize/ports/usage.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { SAMPLES, topN } from '../dialect.js';
import { num, selectRows, str, strings, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

export const RETRY_WASTE_SQL: EngineSql = {
  // the error rows are read once (MATERIALIZED) and serve both the failure figures and the retry keys; only rows of a
  // trace that had an error can be retries, so a one-column IN test keeps the others out of the two-string join
  // (on 1M events: a third of the CPU time)
  duckdb: ({ where, t }) => `WITH errors AS MATERIALIZED (
  SELECT app, model, event_id, "timestamp" AS ts, cost_usd, http_status, trace_id, prompt_hash,
    (${BILLED_ERROR_RULE}) AS billed
  FROM ${t} WHERE ${where} AND status = 'error'
), first_error AS (
  SELECT trace_id, prompt_hash, min(ts) AS first_error_ts
  FROM errors WHERE trace_id IS NOT NULL AND prompt_hash IS NOT NULL
  GROUP BY trace_id, prompt_hash
), retries AS (
  SELECT e.app, e.model,
    count(*)::DOUBLE AS retries_n,
    coalesce(fsum(e.cost_usd), 0)::DOUBLE AS retry_spend,
    count(*) FILTER (WHERE e.status = 'error')::DOUBLE AS failed_n,
    coalesce(fsum(e.cost_usd) FILTER (WHERE e.status = 'error'), 0)::DOUBLE AS failed_spend
  FROM (SELECT app, model, "timestamp" AS ts, status, cost_usd, trace_id, prompt_hash FROM ${t}
        WHERE ${where} AND trace_id IN (SELECT trace_id FROM first_error)) e
  JOIN first_error f ON e.trace_id = f.trace_id AND e.prompt_hash = f.prompt_hash
  WHERE e.ts > f.first_error_ts
  GROUP BY e.app, e.model
), failures AS (
  SELECT app, model,
    count(*)::DOUBLE AS errors_n,
    coalesce(fsum(cost_usd), 0)::DOUBLE AS error_spend,
    count(*) FILTER (WHERE billed)::DOUBLE AS billed_n,
    coalesce(fsum(cost_usd) FILTER (WHERE billed), 0)::DOUBLE AS billed_spend,
    count(*) FILTER (WHERE http_status = 429)::DOUBLE AS rate_limited_n,
    arg_max(event_id, cost_usd, ${SAMPLES}) AS samples
  FROM errors GROUP BY app, model
)
SELECT f.app AS app_key, f.model AS model_key, f.errors_n, f.error_spend, f.billed_n, f.billed_spend, f.rate_limited_n, f.samples,
  coalesce(r.retries_n, 0) AS retries_n, coalesce(r.retry_spend, 0) AS retry_spend,
  coalesce(r.failed_n, 0) AS failed_n, coalesce(r.failed_spend, 0) AS failed_spend
FROM failures f LEFT JOIN retries r ON f.app = r.app AND f.model = r.model
ORDER BY f.error_spend DESC, f.app, f.model`,

  clickhouse: ({ where, t }) => `WITH first_error AS (
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
    toFloat64(countIf(${BILLED_ERROR_RULE})) AS billed_n,
    sumKahanIf(cost_usd, ${BILLED_ERROR_RULE}) AS billed_spend,
    toFloat64(countIf(http_status = 429)) AS rate_limited_n,
    ${topN(SAMPLES, '-cost_usd', 'event_id')} AS samples
  FROM ${t} WHERE ${where} AND status = 'error'
  GROUP BY app, model
)
SELECT f.f_app AS app_key, f.f_model AS model_key, f.errors_n AS errors_n, f.error_spend AS error_spend, f.billed_n AS billed_n,
  f.billed_spend AS billed_spend,
  f.rate_limited_n AS rate_limited_n, f.samples AS samples,
  r.retries_n AS retries_n, r.retry_spend AS retry_spend, r.failed_n AS failed_n, r.failed_spend AS failed_spend
FROM failures AS f LEFT JOIN retries AS r ON f.f_app = r.r_app AND f.f_model = r.r_model
ORDER BY error_spend DESC, app_key, model_key`,
};

const toRow = (r: Row): RetryWasteRow => ({
  app: str(r.app_key),
  model: str(r.model_key),
  errors: num(r.errors_n),
  error_spend_usd: num(r.error_spend),
  billed_errors: num(r.billed_n),
  billed_error_spend_usd: num(r.billed_spend),
  rate_limited: num(r.rate_limited_n),
  retries: num(r.retries_n),
  retry_spend_usd: num(r.retry_spend),
  failed_retries: num(r.failed_n),
  failed_retry_spend_usd: num(r.failed_spend),
  sample_event_ids: strings(r.samples),
});

export function retryWaste(engine: AnalysisEngine, scope: AnalysisScope): Promise<UsageResult<RetryWasteRow>> {
  return selectRows(engine, scope, RETRY_WASTE_SQL, undefined, {}, toRow);
}
