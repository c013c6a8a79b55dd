/**
 * DuckDB SQL of the cache area (src/optimize/ports/cache.ts): exact repeats, the prompt-text stream for the
 * semantic-cache pass, and provider prefix reuse. The exact and prefix queries are one scan each: a window
 * function finds, for every event, the latest strictly earlier status=ok event of the same key, then one GROUP BY.
 * Scope values, TTLs and thresholds are bound parameters; the SQL text is built only from fixed fragments.
 */
import type { DuckDBConnection, DuckDBValue, JS } from '@duckdb/node-api';
import type {
  CacheQueries, ExactCacheGroup, ExactCacheOptions, ExactCacheResult, PrefixCacheGroup, PrefixCacheOptions, PrefixCacheResult,
  PromptTextRow, PromptTextScan,
} from '../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import { NetraError } from '../../errors.js';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects, toNumber, toNumberOrNull } from '../duckdb-rows.js';
import type { RunRead } from './index.js';

const DEFAULT_CHUNK_ROWS = 512; // one chunk of the caller's JS work (near-duplicate matching) blocks the event loop for tens of ms, not seconds

/** Seconds as a BIGINT number of microseconds (the unit of epoch_us). */
function seconds(v: number, field: string): bigint {
  if (!Number.isFinite(v) || v <= 0) throw new NetraError('VALIDATION', `${field} must be a number of seconds > 0`, { field });
  return BigInt(Math.round(v * 1e6));
}

const strings = (v: JS | undefined): string[] => (Array.isArray(v) ? (v as JS[]).filter((x): x is string => typeof x === 'string') : []);

/**
 * Exact repeats: `gap` = µs since the latest status=ok event of the same (model, prompt_hash) strictly before this
 * one (RANGE framing on the µs timestamp with `1 PRECEDING` excludes ties, as the manifest's "earlier" does).
 * Only keys seen at least twice can repeat, so a GROUP BY first keeps the window (a sort) to the repeated keys:
 * most prompts are unique, and this is what keeps the query near the cost of a plain scan.
 */
const EXACT_GAPS = (where: string) => `repeated AS (
    SELECT model, prompt_hash FROM events WHERE ${where} AND prompt_hash IS NOT NULL GROUP BY model, prompt_hash HAVING count(*) > 1
  ), e AS (
    SELECT event_id, app, model, provider, cost_usd, latency_ms, temperature, epoch_us("timestamp") AS ts,
      epoch_us("timestamp") - max(CASE WHEN status = 'ok' THEN epoch_us("timestamp") END) OVER (
        PARTITION BY model, prompt_hash ORDER BY epoch_us("timestamp") RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS gap
    FROM events SEMI JOIN repeated USING (model, prompt_hash) WHERE ${where}
  )`;

/**
 * Warm prefixes: `gap` = µs since the previous status=ok event of the same (model, prefix_hash). Prefix keys are few
 * and their partitions huge, where a framed max is slow; lag(... IGNORE NULLS) streams. Its one difference from the
 * definition: an event at the same µs as an ok event of the same key has gap 0 and is not counted warm even when an
 * older ok event is within the window (conservative; needs two calls of one prefix in the same microsecond).
 */
const PREFIX_GAPS = `epoch_us("timestamp") - lag(CASE WHEN status = 'ok' THEN epoch_us("timestamp") END IGNORE NULLS) OVER (
        PARTITION BY model, prefix_hash ORDER BY "timestamp")`;

export async function queryExactCacheGroups(conn: DuckDBConnection, scope: AnalysisScope, opts: ExactCacheOptions): Promise<ExactCacheResult> {
  const { where, params } = scopeSql(scope);
  const p: Record<string, DuckDBValue> = { ...params, ttl: seconds(opts.ttl_seconds, 'cache_ttl_seconds') };
  const at = opts.compare_ttls_seconds.map((t, i) => {
    p[`ttl${i}`] = seconds(t, 'compare_ttls_seconds');
    return i;
  });
  const hitsAt = at.length ? `[${at.map((i) => `count(*) FILTER (WHERE gap <= $ttl${i})::DOUBLE`).join(', ')}]` : '[]::DOUBLE[]';
  const spendAt = at.length ? `[${at.map((i) => `coalesce(fsum(cost_usd) FILTER (WHERE gap <= $ttl${i}), 0)::DOUBLE`).join(', ')}]` : '[]::DOUBLE[]';
  const query = `WITH ${EXACT_GAPS(where)}, totals AS (
    SELECT app, model, provider, count(*)::DOUBLE AS events, coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd
    FROM events WHERE ${where} AND prompt_hash IS NOT NULL GROUP BY app, model, provider
  ), r AS (
  SELECT app, model, provider,
    count(*) FILTER (WHERE gap <= $ttl)::DOUBLE AS hits,
    coalesce(fsum(cost_usd) FILTER (WHERE gap <= $ttl), 0)::DOUBLE AS hit_spend_usd,
    ${hitsAt} AS hits_at,
    ${spendAt} AS hit_spend_at,
    quantile_cont(latency_ms, 0.5) FILTER (WHERE gap <= $ttl) AS p50,
    quantile_cont(latency_ms, 0.95) FILTER (WHERE gap <= $ttl) AS p95,
    avg(temperature) FILTER (WHERE gap <= $ttl) AS temperature,
    arg_min(event_id, ts, 3) FILTER (WHERE gap <= $ttl) AS samples
  FROM e GROUP BY app, model, provider
  )
  SELECT * FROM totals LEFT JOIN r USING (app, model, provider)
  ORDER BY hit_spend_usd DESC NULLS LAST, app, model, provider`;
  const rows = readObjects(await conn.runAndReadAll(query, p));
  const groups: ExactCacheGroup[] = rows.map((r) => ({
    app: r.app as string,
    model: r.model as string,
    provider: r.provider as string,
    events: toNumber(r.events),
    spend_usd: toNumber(r.spend_usd),
    hits: toNumber(r.hits),
    hit_spend_usd: toNumber(r.hit_spend_usd),
    hits_at: r.hits_at == null ? at.map(() => 0) : (r.hits_at as JS[]).map(toNumber),
    hit_spend_at: r.hit_spend_at == null ? at.map(() => 0) : (r.hit_spend_at as JS[]).map(toNumber),
    hit_latency_p50_ms: toNumberOrNull(r.p50),
    hit_latency_p95_ms: toNumberOrNull(r.p95),
    hit_temperature_avg: toNumberOrNull(r.temperature),
    sample_event_ids: strings(r.samples),
  }));
  return { groups, query };
}

export async function scanPromptTexts(
  conn: DuckDBConnection, scope: AnalysisScope, onRows: (rows: PromptTextRow[]) => void, opts: { chunk_rows?: number } = {},
): Promise<PromptTextScan> {
  const chunkRows = opts.chunk_rows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new NetraError('VALIDATION', 'chunk_rows must be an integer >= 1', { field: 'chunk_rows' });
  const { where, params } = scopeSql(scope);
  const query = `SELECT event_id, (epoch_us("timestamp") / 1000)::DOUBLE AS ts, app, model, prompt_hash, prompt_text, cost_usd, status
    FROM events WHERE ${where} AND prompt_text IS NOT NULL
    ORDER BY "timestamp", event_id`;
  const result = await conn.stream(query, params);
  let buffer: PromptTextRow[] = [];
  let total = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    for (const r of chunk.getRows()) {
      buffer.push({
        event_id: r[0] as string,
        timestamp: r[1] as number,
        app: r[2] as string,
        model: r[3] as string,
        prompt_hash: (r[4] as string | null) ?? null,
        prompt_text: r[5] as string,
        cost_usd: r[6] as number,
        status: r[7] as 'ok' | 'error',
      });
      if (buffer.length >= chunkRows) {
        total += buffer.length;
        onRows(buffer);
        buffer = [];
        // the caller's work per chunk is synchronous JS (near-duplicate matching): give the event loop a turn between
        // chunks so requests and WebSocket frames are served while a long scan runs in the background
        await new Promise<void>((res) => setImmediate(res));
      }
    }
  }
  if (buffer.length) {
    total += buffer.length;
    onRows(buffer);
  }
  return { rows: total, query };
}

export async function queryPrefixCacheGroups(conn: DuckDBConnection, scope: AnalysisScope, opts: PrefixCacheOptions): Promise<PrefixCacheResult> {
  const { where, params } = scopeSql(scope);
  const p: Record<string, DuckDBValue> = { ...params, win: seconds(opts.window_seconds, 'window_seconds') };
  const thresholds = [...new Set(opts.min_token_thresholds)].sort((a, b) => b - a);
  for (const t of thresholds) {
    if (!Number.isInteger(t) || t < 1) throw new NetraError('VALIDATION', 'min_token_thresholds must be whole numbers >= 1', { field: 'min_token_thresholds' });
  }
  thresholds.forEach((t, i) => (p[`min${i}`] = t));
  const bucket = thresholds.length ? `CASE ${thresholds.map((_, i) => `WHEN prefix_tokens >= $min${i} THEN $min${i}`).join(' ')} ELSE 0 END` : '0';
  const query = `WITH e AS (
    SELECT event_id, app, model, provider, prefix_hash, prefix_tokens, cost_usd, cached_prompt_tokens, cached_prompt_tokens > 0 AS cached,
      epoch_us("timestamp") AS ts,
      coalesce(${PREFIX_GAPS} BETWEEN 1 AND $win, false) AS warm
    FROM events WHERE ${where} AND prefix_hash IS NOT NULL AND prefix_tokens IS NOT NULL
  ), k AS (
    SELECT app, model, provider, prefix_hash, (${bucket})::INTEGER AS bucket,
      count(*) AS events, fsum(cost_usd) AS spend,
      count(*) FILTER (WHERE warm) AS warm, fsum(cost_usd) FILTER (WHERE warm) AS warm_spend,
      count(*) FILTER (WHERE warm AND NOT cached) AS hits, fsum(cost_usd) FILTER (WHERE warm AND NOT cached) AS hit_spend,
      sum(prefix_tokens) FILTER (WHERE warm AND NOT cached) AS hit_tokens,
      count(*) FILTER (WHERE NOT warm AND NOT cached) AS cold, sum(prefix_tokens) FILTER (WHERE NOT warm AND NOT cached) AS cold_tokens,
      count(*) FILTER (WHERE cached) AS already, sum(cached_prompt_tokens) FILTER (WHERE cached) AS already_tokens,
      arg_min(event_id, ts, 3) FILTER (WHERE warm AND NOT cached) AS samples
    FROM e GROUP BY app, model, provider, prefix_hash, bucket
  )
  SELECT app, model, provider, bucket,
    sum(events)::DOUBLE AS events, coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
    sum(warm)::DOUBLE AS warm, coalesce(fsum(warm_spend), 0)::DOUBLE AS warm_spend_usd,
    sum(hits)::DOUBLE AS hits, coalesce(fsum(hit_spend), 0)::DOUBLE AS hit_spend_usd, coalesce(sum(hit_tokens), 0)::DOUBLE AS hit_prefix_tokens,
    coalesce(sum(cold) FILTER (WHERE hits > 0), 0)::DOUBLE AS writes,
    coalesce(sum(cold_tokens) FILTER (WHERE hits > 0), 0)::DOUBLE AS write_prefix_tokens,
    sum(already)::DOUBLE AS already_cached_events, coalesce(sum(already_tokens), 0)::DOUBLE AS already_cached_tokens,
    flatten(list(samples ORDER BY hits DESC) FILTER (WHERE hits > 0))[1:3] AS samples
  FROM k GROUP BY app, model, provider, bucket
  ORDER BY hit_spend_usd DESC, app, model, provider, bucket`;
  const rows = readObjects(await conn.runAndReadAll(query, p));
  const groups: PrefixCacheGroup[] = rows.map((r) => ({
    app: r.app as string,
    model: r.model as string,
    provider: r.provider as string,
    min_tokens_bucket: toNumber(r.bucket),
    events: toNumber(r.events),
    spend_usd: toNumber(r.spend_usd),
    warm: toNumber(r.warm),
    warm_spend_usd: toNumber(r.warm_spend_usd),
    hits: toNumber(r.hits),
    hit_spend_usd: toNumber(r.hit_spend_usd),
    hit_prefix_tokens: toNumber(r.hit_prefix_tokens),
    writes: toNumber(r.writes),
    write_prefix_tokens: toNumber(r.write_prefix_tokens),
    already_cached_events: toNumber(r.already_cached_events),
    already_cached_tokens: toNumber(r.already_cached_tokens),
    sample_event_ids: strings(r.samples),
  }));
  return { groups, query };
}

/** The cache-area methods of the analysis port, bound to the store's read queue. */
export function duckDbCacheQueries(run: RunRead): CacheQueries {
  return {
    exactCacheGroups: (scope, opts) => run('exact_cache', (conn) => queryExactCacheGroups(conn, scope, opts)),
    scanPromptTexts: (scope, onRows, opts) => run('semantic_cache_scan', (conn) => scanPromptTexts(conn, scope, onRows, opts)),
    prefixCacheGroups: (scope, opts) => run('prompt_caching', (conn) => queryPrefixCacheGroups(conn, scope, opts)),
  };
}
