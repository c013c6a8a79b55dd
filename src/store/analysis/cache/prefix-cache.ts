/**
 * Provider prefix reuse per (app, model, prefix-size bucket): an event is warm when an earlier status=ok event of
 * the same (model, prefix_hash) is at most the provider's cache window before it. Events with a block chain are left
 * to the block simulation (prefix-blocks.ts), which covers their prefix too. One scan: a window over the prefix
 * key, a GROUP BY per prefix (writes count only for prefixes with a hit), then per bucket.
 */
import type { PrefixCacheGroup, PrefixCacheOptions, PrefixCacheResult } from '../../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { NetraError } from '../../../errors.js';
import { SAMPLES, secondsToMicros, topN, type Dialect } from '../dialect.js';
import { num, sqlFor, str, strings, type AnalysisEngine, type EngineSql, type Params, type Row } from '../engine.js';

/** The largest of the thresholds (bound as min0, min1, ..., largest first) <= prefix_tokens; 0 below all of them. */
function bucketSql(d: Dialect, thresholds: number): string {
  if (thresholds === 0) return '0';
  const arms = Array.from(
    { length: thresholds },
    (_, i) => `WHEN prefix_tokens >= ${d.param(`min${i}`, 'UInt32')} THEN ${d.param(`min${i}`, 'UInt32')}`,
  );
  return `CASE ${arms.join(' ')} ELSE 0 END`;
}

const HIT = 'warm AND NOT cached';
const COLD = 'NOT warm AND NOT cached';

/**
 * `exactKeys`: DuckDB partitions its window by a 64-bit hash of (model, prefix_hash); the query reports whether two
 * keys in scope share a hash (`keys_collide`), and then the caller runs it again partitioned by the two strings.
 */
export const PREFIX_CACHE_SQL: EngineSql<{ thresholds: number; exactKeys?: boolean }> = {
  /**
   * Prefix keys are few and their partitions huge, where a framed max is slow: lag(... IGNORE NULLS) streams. Its one
   * difference from the definition: an event at the same µs as an ok event of the same key has gap 0 and is not
   * counted warm even when an older ok event is within the window (conservative; two calls of one prefix in one µs).
   *
   * A window sorts its whole input, and its cost grows with every column it carries (at 10M events carrying the
   * aggregate's columns cost about three times the window itself). So the window carries only (row id, key hash,
   * µs, ok) and keeps the events that are not warm (about 1%); the aggregate scans the rows again and marks an event
   * warm when its row id is not among those. Partitioning by an integer instead of two strings halves the sort.
   */
  duckdb: ({ where, t, d }, { thresholds, exactKeys }) => `WITH scoped AS NOT MATERIALIZED (
    SELECT rowid AS rid, event_id, "timestamp", app, model, provider, status, prefix_hash, prefix_tokens, cost_usd, cached_prompt_tokens
    FROM ${t} WHERE ${where} AND prefix_hash IS NOT NULL AND prefix_tokens IS NOT NULL AND prefix_block_hashes IS NULL
  ), not_warm AS (
    SELECT rid FROM (
      SELECT rid, ts - lag(CASE WHEN ok THEN ts END IGNORE NULLS) OVER (PARTITION BY ${exactKeys ? 'model, prefix_hash' : 'kh'} ORDER BY ts) AS gap
      FROM (SELECT rid, model, prefix_hash, hash(model, prefix_hash) AS kh, ${d.epochUs} AS ts, status = 'ok' AS ok FROM scoped))
    WHERE NOT coalesce(gap BETWEEN 1 AND $win, false)
  ), e AS (
    SELECT event_id, app, model, provider, prefix_hash, prefix_tokens, cost_usd, cached_prompt_tokens, cached_prompt_tokens > 0 AS cached,
      ${d.epochUs} AS ts, rid NOT IN (SELECT rid FROM not_warm) AS warm
    FROM scoped
  ), k AS (
    SELECT app, model, provider, prefix_hash, (${bucketSql(d, thresholds)})::INTEGER AS bucket,
      count(*) AS events, fsum(cost_usd) AS spend,
      count(*) FILTER (WHERE warm) AS warm, fsum(cost_usd) FILTER (WHERE warm) AS warm_spend,
      count(*) FILTER (WHERE ${HIT}) AS hits, fsum(cost_usd) FILTER (WHERE ${HIT}) AS hit_spend,
      sum(prefix_tokens) FILTER (WHERE ${HIT}) AS hit_tokens,
      count(*) FILTER (WHERE ${COLD}) AS cold, sum(prefix_tokens) FILTER (WHERE ${COLD}) AS cold_tokens,
      count(*) FILTER (WHERE cached) AS already, sum(cached_prompt_tokens) FILTER (WHERE cached) AS already_tokens,
      arg_min(event_id, ts, ${SAMPLES}) FILTER (WHERE ${HIT}) AS samples
    FROM e GROUP BY app, model, provider, prefix_hash, bucket
  )
  SELECT app, model, provider, bucket,
    sum(events)::DOUBLE AS n_events, coalesce(fsum(spend), 0)::DOUBLE AS spend_usd,
    sum(warm)::DOUBLE AS warm_events, coalesce(fsum(warm_spend), 0)::DOUBLE AS warm_spend_usd,
    sum(hits)::DOUBLE AS hit_n, coalesce(fsum(hit_spend), 0)::DOUBLE AS hit_spend_usd, coalesce(sum(hit_tokens), 0)::DOUBLE AS hit_prefix_tokens,
    coalesce(sum(cold) FILTER (WHERE hits > 0), 0)::DOUBLE AS writes,
    coalesce(sum(cold_tokens) FILTER (WHERE hits > 0), 0)::DOUBLE AS write_prefix_tokens,
    sum(already)::DOUBLE AS already_cached_events, coalesce(sum(already_tokens), 0)::DOUBLE AS already_cached_tokens,
    flatten(list(samples ORDER BY hits DESC) FILTER (WHERE hits > 0))[1:${SAMPLES}] AS sample_ids,
    (SELECT count(DISTINCT hash(model, prefix_hash)) < count(*) FROM (SELECT DISTINCT model, prefix_hash FROM k)) AS keys_collide
  FROM k GROUP BY app, model, provider, bucket
  ORDER BY hit_spend_usd DESC, app, model, provider, bucket`,

  /** The max over the preceding rows in timestamp order: the same value as DuckDB's lag(... IGNORE NULLS). */
  clickhouse: ({ where, t, d }, { thresholds }) => `WITH e AS (
    SELECT event_id, app, model, provider, prefix_hash, prefix_tokens, cost_usd, cached_prompt_tokens, cached_prompt_tokens > 0 AS cached,
      ${d.epochUs} AS ts_us,
      ifNull((${d.epochUs} - max(if(status = 'ok', ${d.epochUs}, NULL)) OVER (
        PARTITION BY model, prefix_hash ORDER BY "timestamp" ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) BETWEEN 1 AND {win:Int64}, false) AS warm
    FROM ${t} WHERE ${where} AND prefix_hash IS NOT NULL AND prefix_tokens IS NOT NULL AND empty(prefix_block_hashes)
  ), k AS (
    SELECT app, model, provider, prefix_hash, toInt64(${bucketSql(d, thresholds)}) AS bucket,
      count() AS n, sumKahan(cost_usd) AS spend,
      countIf(warm) AS warm_n, sumKahanIf(cost_usd, warm) AS warm_spend,
      countIf(${HIT}) AS hits, sumKahanIf(cost_usd, ${HIT}) AS hit_spend,
      sumIf(prefix_tokens, ${HIT}) AS hit_tokens,
      countIf(${COLD}) AS cold, sumIf(prefix_tokens, ${COLD}) AS cold_tokens,
      countIf(cached) AS already, sumIf(cached_prompt_tokens, cached) AS already_tokens,
      ${topN(SAMPLES, 'ts_us', 'event_id', HIT)} AS samples
    FROM e GROUP BY app, model, provider, prefix_hash, bucket
  )
  SELECT app, model, provider, bucket,
    toFloat64(sum(n)) AS n_events, sumKahan(spend) AS spend_usd,
    toFloat64(sum(warm_n)) AS warm_events, sumKahan(warm_spend) AS warm_spend_usd,
    toFloat64(sum(hits)) AS hit_n, sumKahan(hit_spend) AS hit_spend_usd, toFloat64(sum(hit_tokens)) AS hit_prefix_tokens,
    toFloat64(sumIf(cold, hits > 0)) AS writes, toFloat64(sumIf(cold_tokens, hits > 0)) AS write_prefix_tokens,
    toFloat64(sum(already)) AS already_cached_events, toFloat64(sum(already_tokens)) AS already_cached_tokens,
    arraySlice(arrayFlatten(arrayMap(x -> x.2, arraySort(x -> (-x.1, x.2), groupArrayIf((hits, samples), hits > 0)))), 1, ${SAMPLES}) AS sample_ids
  FROM k GROUP BY app, model, provider, bucket
  ORDER BY hit_spend_usd DESC, app, model, provider, bucket`,
};

const toGroup = (r: Row): PrefixCacheGroup => ({
  app: str(r.app),
  model: str(r.model),
  provider: str(r.provider),
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
});

export async function prefixCacheGroups(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  opts: PrefixCacheOptions,
): Promise<PrefixCacheResult> {
  const { where, params } = engine.scope(scope);
  const p: Params = { ...params, win: engine.dialect.int64(secondsToMicros(opts.window_seconds, 'window_seconds')) };
  const thresholds = [...new Set(opts.min_token_thresholds)].sort((a, b) => b - a);
  for (const th of thresholds) {
    if (!Number.isInteger(th) || th < 1)
      throw new NetraError('VALIDATION', 'min_token_thresholds must be whole numbers >= 1', { field: 'min_token_thresholds' });
  }
  thresholds.forEach((th, i) => (p[`min${i}`] = th));
  let query = sqlFor(engine, PREFIX_CACHE_SQL, where, { thresholds: thresholds.length });
  let rows = await engine.query(query, p);
  if (rows.some((r) => r.keys_collide === true)) {
    query = sqlFor(engine, PREFIX_CACHE_SQL, where, { thresholds: thresholds.length, exactKeys: true });
    rows = await engine.query(query, p);
  }
  return { groups: rows.map(toGroup), query };
}
