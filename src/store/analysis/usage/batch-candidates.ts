/**
 * Deferrable traffic per (app, model): events tagged latency_class=offline, and untagged, non-streamed calls without
 * end user or session in minutes with at least BULK_BURST_MIN_PER_MINUTE of them (bulk bursts).
 */
import { BULK_BURST_MIN_PER_MINUTE, type BatchBasis, type BatchCandidateRow, type UsageResult } from '../../../optimize/ports/usage.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { SAMPLES, topN } from '../dialect.js';
import { sampleIdsByRow } from '../sample-ids.js';
import { num, numOrNull, selectRows, str, strings, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

export const BATCH_CANDIDATES_SQL: EngineSql = {
  /** Samples by row id, named once at the end (sample-ids.ts). */
  duckdb: ({ where, t, d }) =>
    sampleIdsByRow(
      `WITH per_minute AS (
  SELECT app, model,
    CASE WHEN ${d.tagIs('latency_class', 'offline')} THEN 'offline_tag' ELSE 'bulk_burst' END AS basis,
    date_trunc('minute', "timestamp") AS minute,
    count(*) AS n,
    fsum(cost_usd) AS spend,
    sum(latency_ms) AS latency_sum,
    count(latency_ms) AS latency_n,
    arg_min(rowid, "timestamp", ${SAMPLES}) AS samples
  FROM ${t}
  WHERE ${where} AND end_user IS NULL AND session_id IS NULL
    AND (${d.tagIs('latency_class', 'offline')} OR (NOT ${d.tagHas('latency_class')} AND stream IS NOT TRUE))
  GROUP BY ALL
)
SELECT app, model, basis,
  sum(n)::DOUBLE AS n_events,
  coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
  (sum(latency_sum) / nullif(sum(latency_n), 0))::DOUBLE AS mean_latency_ms,
  count(*)::DOUBLE AS active_minutes,
  max(n)::DOUBLE AS peak_per_minute,
  arg_max(samples, n) AS sample_rows
FROM per_minute
WHERE basis = 'offline_tag' OR n >= $bulk_min
GROUP BY app, model, basis`,
      t,
      'sample_rows',
      'sample_ids',
      'spend_usd DESC, app, model',
    ),

  clickhouse: ({ where, t, d }) => `WITH per_minute AS (
  SELECT app, model,
    if(${d.tagIs('latency_class', 'offline')}, 'offline_tag', 'bulk_burst') AS basis,
    intDiv(${d.epochUs}, 60000000) AS minute,
    count() AS n,
    sumKahan(cost_usd) AS spend,
    sum(latency_ms) AS latency_sum,
    count(latency_ms) AS latency_n,
    ${topN(SAMPLES, d.epochUs, 'event_id')} AS samples
  FROM ${t}
  WHERE ${where} AND end_user IS NULL AND session_id IS NULL
    AND (${d.tagIs('latency_class', 'offline')} OR (NOT ${d.tagHas('latency_class')} AND NOT ifNull(stream, false)))
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
ORDER BY spend_usd DESC, app, model`,
};

const toRow = (r: Row): BatchCandidateRow => ({
  app: str(r.app),
  model: str(r.model),
  basis: str(r.basis) as BatchBasis,
  events: num(r.n_events),
  spend_usd: num(r.spend_usd),
  mean_latency_ms: numOrNull(r.mean_latency_ms),
  active_minutes: num(r.active_minutes),
  peak_per_minute: num(r.peak_per_minute),
  sample_event_ids: strings(r.sample_ids),
});

export function batchCandidates(engine: AnalysisEngine, scope: AnalysisScope): Promise<UsageResult<BatchCandidateRow>> {
  return selectRows(engine, scope, BATCH_CANDIDATES_SQL, undefined, { bulk_min: BULK_BURST_MIN_PER_MINUTE }, toRow);
}
