/**
 * Model-routing segments: events of one (app, model, operation, tags.task, prompt-size band). Tags are never parsed
 * per row: the events are grouped by the raw tags text first and tags.task is extracted from the few distinct texts.
 */
import { SMALL_COMPLETION_TOKENS, type PromptSizeBand, type RoutingSegmentRow, type UsageResult } from '../../../optimize/ports/usage.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { SAMPLES, sizeBandSql, topN } from '../dialect.js';
import { num, numOrNull, selectRows, str, strings, strOrNull, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

export const ROUTING_SEGMENTS_SQL: EngineSql = {
  duckdb: ({ where, t }) => `WITH by_tags AS (
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
  FROM ${t} WHERE ${where}
  GROUP BY ALL
)
SELECT app, model, operation, nullif(tags->>'task', '') AS task, size_band,
  sum(events)::DOUBLE AS n_events,
  sum(ok_events)::DOUBLE AS n_ok,
  coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
  coalesce(sum(uncached), 0)::DOUBLE AS billed_uncached,
  coalesce(sum(cached), 0)::DOUBLE AS billed_cached,
  coalesce(sum(completion), 0)::DOUBLE AS billed_completion,
  max(max_prompt)::DOUBLE AS max_prompt_tokens,
  sum(small)::DOUBLE AS small_completions,
  sum(quality_n)::DOUBLE AS quality_events,
  (sum(quality_sum) / nullif(sum(quality_n), 0))::DOUBLE AS mean_quality,
  arg_min(sample, first_ts, ${SAMPLES}) AS samples
FROM by_tags
GROUP BY ALL
ORDER BY spend_usd DESC, app, model, task, size_band`,

  clickhouse: ({ where, t }) => `WITH by_tags AS (
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
ORDER BY spend_usd DESC, app, model, task, size_band`,
};

const toRow = (r: Row): RoutingSegmentRow => ({
  app: str(r.app),
  model: str(r.model),
  operation: str(r.operation),
  task: strOrNull(r.task),
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
  sample_event_ids: strings(r.samples),
});

export function routingSegments(engine: AnalysisEngine, scope: AnalysisScope): Promise<UsageResult<RoutingSegmentRow>> {
  return selectRows(engine, scope, ROUTING_SEGMENTS_SQL, undefined, { small_completion: SMALL_COMPLETION_TOKENS }, toRow);
}
