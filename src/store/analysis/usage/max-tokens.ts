/** Completion sizes per (app, model, max_tokens) over events with max_tokens set: headroom, truncations, decode speed. */
import type { MaxTokensGroupRow, UsageResult } from '../../../optimize/ports/usage.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { SAMPLES, topN } from '../dialect.js';
import { nearestRankFromCounts } from '../exact-quantiles.js';
import { num, numOrNull, selectRows, str, strings, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

const OK = `status = 'ok'`;
const DECODE = `status = 'ok' AND latency_ms > ttft_ms`;

/** p99 is nearest-rank (DuckDB quantile_disc; ClickHouse: the ceil(0.99 n)-th smallest of the sorted values). */
export const MAX_TOKENS_GROUPS_SQL: EngineSql = {
  /** p99 from value counts (exact-quantiles.ts): a few thousand distinct completion sizes per group, not every one. */
  duckdb: ({ where, t }) => `WITH m AS (
  SELECT app, model, max_tokens, max_tokens::DOUBLE AS mt,
    count(*)::DOUBLE AS n_events,
    count(*) FILTER (WHERE ${OK})::DOUBLE AS n_ok,
    coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd,
    max(completion_tokens) FILTER (WHERE ${OK})::DOUBLE AS max_completion,
    count(*) FILTER (WHERE finish_reason = 'length')::DOUBLE AS n_truncated,
    coalesce(sum(completion_tokens) FILTER (WHERE ${DECODE}), 0)::DOUBLE AS decode_tok,
    coalesce(sum(latency_ms - ttft_ms) FILTER (WHERE ${DECODE}), 0)::DOUBLE AS decode_t,
    arg_max(event_id, completion_tokens, ${SAMPLES}) AS samples
  FROM ${t} WHERE ${where} AND max_tokens IS NOT NULL
  GROUP BY app, model, max_tokens
), p AS (
  ${nearestRankFromCounts(
    `SELECT app, model, max_tokens, least(completion_tokens, max_tokens) AS x, count(*) AS c
    FROM ${t} WHERE ${where} AND max_tokens IS NOT NULL AND ${OK} GROUP BY ALL`,
    ['app', 'model', 'max_tokens'],
    0.99,
    'p99',
  )}
)
SELECT m.* EXCLUDE (max_tokens), p.p99::DOUBLE AS p99
FROM m LEFT JOIN p USING (app, model, max_tokens)
ORDER BY n_events DESC, app, model, mt`,

  clickhouse: ({ where, t }) => `SELECT app, model, toFloat64(assumeNotNull(max_tokens)) AS mt,
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
ORDER BY n_events DESC, app, model, mt`,
};

const toRow = (r: Row): MaxTokensGroupRow => ({
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
  sample_event_ids: strings(r.samples),
});

export function maxTokensGroups(engine: AnalysisEngine, scope: AnalysisScope): Promise<UsageResult<MaxTokensGroupRow>> {
  return selectRows(engine, scope, MAX_TOKENS_GROUPS_SQL, undefined, {}, toRow);
}
