/**
 * ClickHouse SQL of the cache area (src/optimize/ports/cache.ts), ported from src/store/duckdb-analysis/cache.ts:
 * exact repeats, the prompt-text stream for the semantic-cache pass, and provider prefix reuse. Same definitions:
 * `gap` = µs since the latest status=ok event of the same key strictly earlier (a RANGE frame ending at
 * `1 PRECEDING` on the µs timestamp), the exact query windowing only keys that occur at least twice. Scope values,
 * TTLs and thresholds are bound parameters.
 */
import type {
  CacheQueries, ExactCacheGroup, ExactCacheOptions, ExactCacheResult, PrefixCacheGroup, PrefixCacheOptions, PrefixCacheResult,
  PromptTextRow, PromptTextScan,
} from '../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import { NetraError } from '../../errors.js';
import type { ClickHouseExecutor, Params, Row } from '../clickhouse-executor.js';
import { num, numOrNull, pct, quantilesCont, scopeSql } from '../clickhouse-queries.js';
import { strings, topN, TS_US, type ChRunRead } from './sql.js';

const DEFAULT_CHUNK_ROWS = 8192;

/** Seconds as an integer number of microseconds. */
function seconds(v: number, field: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new NetraError('VALIDATION', `${field} must be a number of seconds > 0`, { field });
  return Math.round(v * 1e6);
}

/** µs since the latest status=ok event of the same (model, prompt_hash) strictly before this one; NULL when none. */
const EXACT_GAP = `${TS_US} - max(if(status = 'ok', ${TS_US}, NULL)) OVER (
      PARTITION BY model, prompt_hash ORDER BY ${TS_US} RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;

async function queryExactCacheGroups(ex: ClickHouseExecutor, t: string, scope: AnalysisScope, opts: ExactCacheOptions): Promise<ExactCacheResult> {
  const { where, params } = scopeSql(scope);
  const p: Params = { ...params, ttl: seconds(opts.ttl_seconds, 'cache_ttl_seconds') };
  const at = opts.compare_ttls_seconds.map((s, i) => {
    p[`ttl${i}`] = seconds(s, 'compare_ttls_seconds');
    return i;
  });
  const hit = (name: string) => `ifNull(gap <= {${name}:Int64}, false)`;
  const hitsAt = `[${at.map((i) => `toFloat64(countIf(${hit(`ttl${i}`)}))`).join(', ')}]`;
  const spendAt = `[${at.map((i) => `sumKahanIf(cost_usd, ${hit(`ttl${i}`)})`).join(', ')}]`;
  const query = `WITH e AS (
    SELECT event_id, app, model, provider, cost_usd, latency_ms, temperature, ${TS_US} AS ts_us, ${EXACT_GAP} AS gap
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
      ${at.length ? hitsAt : 'CAST([], \'Array(Float64)\')'} AS hits_at,
      ${at.length ? spendAt : 'CAST([], \'Array(Float64)\')'} AS hit_spend_at,
      ${quantilesCont('latency_ms', [0.5, 0.95], hit('ttl'))} AS lat,
      avgIf(temperature, ${hit('ttl')}) AS temp,
      ${topN(3, 'ts_us', 'event_id', hit('ttl'))} AS samples
    FROM e GROUP BY app, model, provider
  )
  SELECT g_app, g_model, g_provider, n_events, spend, matched, hits, hit_spend, hits_at, hit_spend_at, lat, temp, samples
  FROM totals LEFT JOIN r ON g_app = h_app AND g_model = h_model AND g_provider = h_provider
  ORDER BY hit_spend DESC, matched DESC, g_app, g_model, g_provider`;
  const rows = await ex.query<Row>(query, p);
  const groups: ExactCacheGroup[] = rows.map((r) => {
    const matched = num(r.matched) === 1;
    const list = (v: unknown) => (matched && Array.isArray(v) && v.length === at.length ? v.map(num) : at.map(() => 0));
    return {
      app: r.g_app as string,
      model: r.g_model as string,
      provider: r.g_provider as string,
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
  });
  return { groups, query };
}

async function scanPromptTexts(
  ex: ClickHouseExecutor, t: string, scope: AnalysisScope, onRows: (rows: PromptTextRow[]) => void, opts: { chunk_rows?: number } = {},
): Promise<PromptTextScan> {
  const chunkRows = opts.chunk_rows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new NetraError('VALIDATION', 'chunk_rows must be an integer >= 1', { field: 'chunk_rows' });
  const { where, params } = scopeSql(scope);
  const query = `SELECT event_id, ${TS_US} / 1000 AS ts_ms, app, model, prompt_hash, prompt_text, cost_usd, status
    FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL
    ORDER BY "timestamp", event_id`;
  let buffer: PromptTextRow[] = [];
  let total = 0;
  await ex.stream(query, params, (rows) => {
    for (const r of rows) {
      buffer.push({
        event_id: r.event_id as string,
        timestamp: r.ts_ms as number,
        app: r.app as string,
        model: r.model as string,
        prompt_hash: (r.prompt_hash as string | null) ?? null,
        prompt_text: r.prompt_text as string,
        cost_usd: r.cost_usd as number,
        status: r.status as 'ok' | 'error',
      });
      if (buffer.length >= chunkRows) {
        total += buffer.length;
        onRows(buffer);
        buffer = [];
      }
    }
  });
  if (buffer.length) {
    total += buffer.length;
    onRows(buffer);
  }
  return { rows: total, query };
}

/**
 * Warm prefixes: µs since the previous status=ok event of the same (model, prefix_hash) in timestamp order (DuckDB:
 * lag(... IGNORE NULLS); here the max over the preceding rows, the same value since the order is by time).
 */
const PREFIX_GAP = `${TS_US} - max(if(status = 'ok', ${TS_US}, NULL)) OVER (
        PARTITION BY model, prefix_hash ORDER BY "timestamp" ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;

async function queryPrefixCacheGroups(ex: ClickHouseExecutor, t: string, scope: AnalysisScope, opts: PrefixCacheOptions): Promise<PrefixCacheResult> {
  const { where, params } = scopeSql(scope);
  const p: Params = { ...params, win: seconds(opts.window_seconds, 'window_seconds') };
  const thresholds = [...new Set(opts.min_token_thresholds)].sort((a, b) => b - a);
  for (const th of thresholds) {
    if (!Number.isInteger(th) || th < 1) throw new NetraError('VALIDATION', 'min_token_thresholds must be whole numbers >= 1', { field: 'min_token_thresholds' });
  }
  thresholds.forEach((th, i) => (p[`min${i}`] = th));
  const bucket = thresholds.length ? `CASE ${thresholds.map((_, i) => `WHEN prefix_tokens >= {min${i}:UInt32} THEN {min${i}:UInt32}`).join(' ')} ELSE 0 END` : '0';
  const HIT = 'warm AND NOT cached';
  const COLD = 'NOT warm AND NOT cached';
  const query = `WITH e AS (
    SELECT event_id, app, model, provider, prefix_hash, prefix_tokens, cost_usd, cached_prompt_tokens, cached_prompt_tokens > 0 AS cached,
      ${TS_US} AS ts_us,
      ifNull((${PREFIX_GAP}) BETWEEN 1 AND {win:Int64}, false) AS warm
    FROM ${t} WHERE ${where} AND prefix_hash IS NOT NULL AND prefix_tokens IS NOT NULL
  ), k AS (
    SELECT app, model, provider, prefix_hash, toInt64(${bucket}) AS bucket,
      count() AS n, sumKahan(cost_usd) AS spend,
      countIf(warm) AS warm_n, sumKahanIf(cost_usd, warm) AS warm_spend,
      countIf(${HIT}) AS hits, sumKahanIf(cost_usd, ${HIT}) AS hit_spend,
      sumIf(prefix_tokens, ${HIT}) AS hit_tokens,
      countIf(${COLD}) AS cold, sumIf(prefix_tokens, ${COLD}) AS cold_tokens,
      countIf(cached) AS already, sumIf(cached_prompt_tokens, cached) AS already_tokens,
      ${topN(3, 'ts_us', 'event_id', HIT)} AS samples
    FROM e GROUP BY app, model, provider, prefix_hash, bucket
  )
  SELECT app, model, provider, bucket,
    toFloat64(sum(n)) AS n_events, sumKahan(spend) AS spend_usd,
    toFloat64(sum(warm_n)) AS warm_events, sumKahan(warm_spend) AS warm_spend_usd,
    toFloat64(sum(hits)) AS hit_n, sumKahan(hit_spend) AS hit_spend_usd, toFloat64(sum(hit_tokens)) AS hit_prefix_tokens,
    toFloat64(sumIf(cold, hits > 0)) AS writes, toFloat64(sumIf(cold_tokens, hits > 0)) AS write_prefix_tokens,
    toFloat64(sum(already)) AS already_cached_events, toFloat64(sum(already_tokens)) AS already_cached_tokens,
    arraySlice(arrayFlatten(arrayMap(x -> x.2, arraySort(x -> (-x.1, x.2), groupArrayIf((hits, samples), hits > 0)))), 1, 3) AS sample_ids
  FROM k GROUP BY app, model, provider, bucket
  ORDER BY hit_spend_usd DESC, app, model, provider, bucket`;
  const rows = await ex.query<Row>(query, p);
  const groups: PrefixCacheGroup[] = rows.map((r) => ({
    app: r.app as string,
    model: r.model as string,
    provider: r.provider as string,
    min_tokens_bucket: num(r.bucket),
    events: num(r.n_events),
    spend_usd: num(r.spend_usd),
    warm: num(r.warm_events),
    warm_spend_usd: num(r.warm_spend_usd),
    hits: num(r.hit_n),
    hit_spend_usd: num(r.hit_spend_usd),
    hit_prefix_tokens: num(r.hit_prefix_tokens),
    writes: num(r.writes),
    write_prefix_tokens: num(r.write_prefix_tokens),
    already_cached_events: num(r.already_cached_events),
    already_cached_tokens: num(r.already_cached_tokens),
    sample_event_ids: strings(r.sample_ids),
  }));
  return { groups, query };
}

/** The cache-area methods of the analysis port, bound to the store's read path. */
export function clickHouseCacheQueries(run: ChRunRead): CacheQueries {
  return {
    exactCacheGroups: (scope, opts) => run('exact_cache', (ex, t) => queryExactCacheGroups(ex, t, scope, opts)),
    scanPromptTexts: (scope, onRows, opts) => run('semantic_cache_scan', (ex, t) => scanPromptTexts(ex, t, scope, onRows, opts)),
    prefixCacheGroups: (scope, opts) => run('prompt_caching', (ex, t) => queryPrefixCacheGroups(ex, t, scope, opts)),
  };
}
