/**
 * Exact repeats per (app, model): `gap` = µs since the latest status=ok event of the same (model, prompt_hash)
 * strictly earlier (a RANGE frame ending at `1 PRECEDING` on the µs timestamp excludes ties, as the manifest's
 * "earlier" does), then hit counts and spend at the chosen TTL and at the comparison TTLs. Only keys seen at least
 * twice can repeat, so the window (a sort) runs over those keys only: most prompts are unique, and this is what keeps
 * the query near the cost of a plain scan.
 *
 * DuckDB finds the repeated keys by a 64-bit hash of (model, prompt_hash): a hash table of integers instead of two
 * strings for every distinct prompt (9.3M at 10M events, most of the query's time). A collision only adds candidates,
 * whose partitions (still the exact strings, behind the hash so the sort compares one integer first) hold one event.
 */
import type { ExactCacheGroup, ExactCacheOptions, ExactCacheResult } from '../../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { SAMPLES, secondsToMicros, topN } from '../dialect.js';
import { num, numOrNull, pct, sqlFor, str, strings, type AnalysisEngine, type EngineSql, type Params, type Row } from '../engine.js';

/** `ttls`: indexes of the comparison TTLs (bound as ttl0, ttl1, ...). */
export const EXACT_CACHE_SQL: EngineSql<{ ttls: number[] }> = {
  duckdb: ({ where, t, d }, { ttls }) => {
    const hitsAt = ttls.length ? `[${ttls.map((i) => `count(*) FILTER (WHERE gap <= $ttl${i})::DOUBLE`).join(', ')}]` : '[]::DOUBLE[]';
    const spendAt = ttls.length
      ? `[${ttls.map((i) => `coalesce(fsum(cost_usd) FILTER (WHERE gap <= $ttl${i}), 0)::DOUBLE`).join(', ')}]`
      : '[]::DOUBLE[]';
    return `WITH repeated AS (
    SELECT hash(model, prompt_hash) AS kh FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL GROUP BY kh HAVING count(*) > 1
  ), e AS (
    SELECT event_id, app, model, provider, cost_usd, latency_ms, temperature, ts,
      ts - max(CASE WHEN status = 'ok' THEN ts END) OVER (
        PARTITION BY kh, model, prompt_hash ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS gap
    FROM (SELECT *, hash(model, prompt_hash) AS kh, ${d.epochUs} AS ts FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL)
    WHERE kh IN (SELECT kh FROM repeated)
  ), totals AS (
    SELECT app, model, provider, count(*)::DOUBLE AS n_events, coalesce(fsum(cost_usd), 0)::DOUBLE AS spend
    FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL GROUP BY app, model, provider
  ), r AS (
  SELECT app, model, provider, 1 AS matched,
    count(*) FILTER (WHERE gap <= $ttl)::DOUBLE AS hits,
    coalesce(fsum(cost_usd) FILTER (WHERE gap <= $ttl), 0)::DOUBLE AS hit_spend,
    ${hitsAt} AS hits_at,
    ${spendAt} AS hit_spend_at,
    ${d.quantiles('latency_ms', [0.5, 0.95], 'gap <= $ttl')} AS lat,
    avg(temperature) FILTER (WHERE gap <= $ttl) AS temp,
    arg_min(event_id, ts, ${SAMPLES}) FILTER (WHERE gap <= $ttl) AS samples
  FROM e GROUP BY app, model, provider
  )
  SELECT app AS g_app, model AS g_model, provider AS g_provider, n_events, spend, matched, hits, hit_spend, hits_at, hit_spend_at, lat, temp, samples
  FROM totals LEFT JOIN r USING (app, model, provider)
  ORDER BY hit_spend DESC NULLS LAST, g_app, g_model, g_provider`;
  },

  clickhouse: ({ where, t, d }, { ttls }) => {
    const hit = (name: string) => `ifNull(gap <= {${name}:Int64}, false)`;
    const hitsAt = `[${ttls.map((i) => `toFloat64(countIf(${hit(`ttl${i}`)}))`).join(', ')}]`;
    const spendAt = `[${ttls.map((i) => `sumKahanIf(cost_usd, ${hit(`ttl${i}`)})`).join(', ')}]`;
    return `WITH e AS (
    SELECT event_id, app, model, provider, cost_usd, latency_ms, temperature, ${d.epochUs} AS ts_us,
      ${d.epochUs} - max(if(status = 'ok', ${d.epochUs}, NULL)) OVER (
      PARTITION BY model, prompt_hash ORDER BY ${d.epochUs} RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS gap
    FROM ${t}
    WHERE ${where} AND prompt_hash IS NOT NULL
      AND (model, prompt_hash) IN (
        SELECT model, prompt_hash FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL GROUP BY model, prompt_hash HAVING count() > 1)
  ), totals AS (
    SELECT app AS g_app, model AS g_model, provider AS g_provider, toFloat64(count()) AS n_events, sumKahan(cost_usd) AS spend
    FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL GROUP BY app, model, provider
  ), r AS (
    SELECT app AS h_app, model AS h_model, provider AS h_provider, 1 AS matched,
      toFloat64(countIf(${hit('ttl')})) AS hits,
      sumKahanIf(cost_usd, ${hit('ttl')}) AS hit_spend,
      ${ttls.length ? hitsAt : "CAST([], 'Array(Float64)')"} AS hits_at,
      ${ttls.length ? spendAt : "CAST([], 'Array(Float64)')"} AS hit_spend_at,
      ${d.quantiles('latency_ms', [0.5, 0.95], hit('ttl'))} AS lat,
      avgIf(temperature, ${hit('ttl')}) AS temp,
      ${topN(SAMPLES, 'ts_us', 'event_id', hit('ttl'))} AS samples
    FROM e GROUP BY app, model, provider
  )
  SELECT g_app, g_model, g_provider, n_events, spend, matched, hits, hit_spend, hits_at, hit_spend_at, lat, temp, samples
  FROM totals LEFT JOIN r ON g_app = h_app AND g_model = h_model AND g_provider = h_provider
  ORDER BY hit_spend DESC, matched DESC, g_app, g_model, g_provider`;
  },
};

/** A group without hits: DuckDB's LEFT JOIN leaves NULLs, ClickHouse's default values; `matched` tells them apart. */
function toGroup(r: Row, ttls: number): ExactCacheGroup {
  const matched = num(r.matched) === 1;
  const list = (v: unknown) => (matched && Array.isArray(v) && v.length === ttls ? v.map(num) : Array.from({ length: ttls }, () => 0));
  return {
    app: str(r.g_app),
    model: str(r.g_model),
    provider: str(r.g_provider),
    events: num(r.n_events),
    spend_usd: num(r.spend),
    hits: num(r.hits),
    hit_spend_usd: num(r.hit_spend),
    hits_at: list(r.hits_at),
    hit_spend_at: list(r.hit_spend_at),
    hit_latency_p50_ms: matched ? pct(r.lat, 0) : null,
    hit_latency_p95_ms: matched ? pct(r.lat, 1) : null,
    hit_temperature_avg: matched ? numOrNull(r.temp) : null,
    sample_event_ids: strings(r.samples),
  };
}

export async function exactCacheGroups(engine: AnalysisEngine, scope: AnalysisScope, opts: ExactCacheOptions): Promise<ExactCacheResult> {
  const { where, params } = engine.scope(scope);
  const d = engine.dialect;
  const p: Params = { ...params, ttl: d.int64(secondsToMicros(opts.ttl_seconds, 'cache_ttl_seconds')) };
  const ttls = opts.compare_ttls_seconds.map((s, i) => {
    p[`ttl${i}`] = d.int64(secondsToMicros(s, 'compare_ttls_seconds'));
    return i;
  });
  const query = sqlFor(engine, EXACT_CACHE_SQL, where, { ttls });
  const groups = (await engine.query(query, p)).map((r) => toGroup(r, ttls.length));
  return { groups, query };
}
