/**
 * Latency per app and per model over status=ok events that are not tagged offline (GROUPING SETS (app), (model));
 * the totals come from the per-app rows, which partition the events (a () set would sort every latency again).
 *
 * DuckDB takes the percentiles in one of two forms, the same doubles either way (exact-quantiles.ts): quantile_cont
 * states, which hold every latency of their group (two sets, latency and TTFT: ~40 B an event, outside DuckDB's memory
 * limit; at 10M events +400 MB of peak RSS), or value counts, whose hash aggregate is small and under the limit but
 * costs a second pass, a sort of the distinct values and joins. At 1M events the states take ~0.6 of the counts' CPU;
 * so below STATE_PERCENTILES_MAX_EVENTS (when the caller says how many events the scope holds) the states, above it
 * or when the size is unknown the counts.
 */
import type { LatencyOptions, LatencyResult, LatencyRow } from '../../../optimize/ports/usage.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { SAMPLES, topN } from '../dialect.js';
import { quantilesFromCounts } from '../exact-quantiles.js';
import { num, numOrNull, pct, sqlFor, str, strings, type AnalysisEngine, type EngineSql, type Row, type SqlContext } from '../engine.js';

const NOT_OFFLINE = 'NOT offline';
const KEYS = ['app_rolled', 'model_rolled', 'app', 'model'];
const same = (q: string) => KEYS.map((k) => `${q}.${k} IS NOT DISTINCT FROM a.${k}`).join(' AND ');

/** Scopes of at most this many events take DuckDB's percentiles from quantile_cont states (~80 MB at the bound). */
export const STATE_PERCENTILES_MAX_EVENTS = 2_000_000;

/** DuckDB: the ok events with a latency in scope, each marked when tagged offline (both forms). */
const duckdbEvents = ({
  where,
  t,
  d,
}: SqlContext) => `SELECT app, model, event_id, latency_ms, ttft_ms, stream, completion_tokens, cost_usd,
    ${d.tagIs('latency_class', 'offline')} AS offline
  FROM ${t} WHERE ${where} AND status = 'ok' AND latency_ms IS NOT NULL`;

/** DuckDB: the per-app and per-model figures besides the percentiles, over e (both forms). */
const DUCKDB_FIGURES = `grouping(app) AS app_rolled, grouping(model) AS model_rolled, app, model,
    count(*)::DOUBLE AS all_events,
    count(*) FILTER (WHERE offline)::DOUBLE AS offline_events,
    count(*) FILTER (WHERE ${NOT_OFFLINE})::DOUBLE AS n_events,
    coalesce(fsum(cost_usd) FILTER (WHERE ${NOT_OFFLINE}), 0)::DOUBLE AS spend_usd,
    (count(*) FILTER (WHERE ${NOT_OFFLINE} AND stream) / nullif(count(*) FILTER (WHERE ${NOT_OFFLINE}), 0))::DOUBLE AS stream_share,
    avg(completion_tokens) FILTER (WHERE ${NOT_OFFLINE})::DOUBLE AS mean_completion,
    arg_max(event_id, latency_ms, ${SAMPLES}) FILTER (WHERE ${NOT_OFFLINE}) AS samples`;

/** `states`: DuckDB's percentiles from quantile_cont states instead of value counts (see above). */
export const LATENCY_SQL: EngineSql<{ states: boolean }> = {
  // the states form: one scan and one aggregate; the counts form: the e rows twice (the figures, the value counts)
  duckdb: (q, { states }) =>
    states
      ? `WITH e AS (${duckdbEvents(q)})
SELECT ${DUCKDB_FIGURES},
  ${q.d.quantiles('latency_ms', [0.5, 0.95], NOT_OFFLINE)} AS latency_q,
  ${q.d.quantiles('ttft_ms', [0.95], NOT_OFFLINE)}[1] AS ttft_p95
FROM e
GROUP BY GROUPING SETS ((app), (model))
ORDER BY app_rolled, model_rolled, app, model`
      : `WITH e AS NOT MATERIALIZED (${duckdbEvents(q)}),
a AS (SELECT ${DUCKDB_FIGURES} FROM e GROUP BY GROUPING SETS ((app), (model))),
v AS (
  SELECT grouping(app) AS app_rolled, grouping(model) AS model_rolled, grouping(latency_ms) AS of_ttft, app, model,
    latency_ms, ttft_ms, count(*) AS c
  FROM e WHERE ${NOT_OFFLINE}
  GROUP BY GROUPING SETS ((app, latency_ms), (model, latency_ms), (app, ttft_ms), (model, ttft_ms))
),
lq AS (${quantilesFromCounts('SELECT app_rolled, model_rolled, app, model, latency_ms AS x, c FROM v WHERE of_ttft = 0', KEYS, [0.5, 0.95], 'latency_q')}),
tq AS (${quantilesFromCounts('SELECT app_rolled, model_rolled, app, model, ttft_ms AS x, c FROM v WHERE of_ttft = 1 AND ttft_ms IS NOT NULL', KEYS, [0.95], 'ttft_q')})
SELECT a.*, lq.latency_q, tq.ttft_q[1] AS ttft_p95
FROM a LEFT JOIN lq ON ${same('lq')} LEFT JOIN tq ON ${same('tq')}
ORDER BY a.app_rolled, a.model_rolled, a.app, a.model`,

  clickhouse: ({ where, t, d }) => `WITH e AS (
  SELECT app, model, event_id, latency_ms, ttft_ms, ifNull(stream, false) AS streamed, completion_tokens, cost_usd,
    ${d.tagIs('latency_class', 'offline')} AS offline
  FROM ${t} WHERE ${where} AND status = 'ok' AND latency_ms IS NOT NULL
)
SELECT grouping(app) AS app_rolled, grouping(model) AS model_rolled, app, model,
  toFloat64(count()) AS all_events,
  toFloat64(countIf(offline)) AS offline_events,
  toFloat64(countIf(${NOT_OFFLINE})) AS n_events,
  sumKahanIf(cost_usd, ${NOT_OFFLINE}) AS spend_usd,
  ${d.quantiles('latency_ms', [0.5, 0.95], NOT_OFFLINE)} AS latency_q,
  ${d.quantiles('ttft_ms', [0.95], NOT_OFFLINE)}[1] AS ttft_p95,
  countIf(${NOT_OFFLINE} AND streamed) / nullIf(countIf(${NOT_OFFLINE}), 0) AS stream_share,
  avgIf(completion_tokens, ${NOT_OFFLINE}) AS mean_completion,
  ${topN(SAMPLES, '-assumeNotNull(latency_ms)', 'event_id', NOT_OFFLINE)} AS samples
FROM e
GROUP BY GROUPING SETS ((app), (model))
ORDER BY app_rolled, model_rolled, app, model`,
};

const toRow = (r: Row): LatencyRow => {
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
    sample_event_ids: strings(r.samples),
  };
};

export async function latencyByAppModel(engine: AnalysisEngine, scope: AnalysisScope, opts: LatencyOptions = {}): Promise<LatencyResult> {
  const { where, params } = engine.scope(scope);
  const states = opts.scope_events !== undefined && opts.scope_events <= STATE_PERCENTILES_MAX_EVENTS;
  const sql = sqlFor(engine, LATENCY_SQL, where, { states });
  const raw = await engine.query(sql, params);
  const appRows = raw.filter((r) => num(r.app_rolled) === 0);
  const total = (k: string) => appRows.reduce((a, r) => a + num(r[k]), 0);
  const rows = raw.filter((r) => num(r.n_events) > 0).map(toRow);
  return { rows, sql, events_with_latency: total('all_events'), offline_events_excluded: total('offline_events') };
}
