/**
 * Realized savings of the gateway policy (ports/gateway.ts): the per-kind saving tags of the events the gateway recorded
 * under a policy, summed per (mode, policy version). The tags are JSON text; the cheap substring test keeps the JSON
 * extraction to the gateway's policy events (see dialect.ts on why a quoted key cannot match inside a value). A cache hit
 * counts as a hit only, not as capped (the replay's order: a hit is never capped), in both modes.
 */
import type { GatewaySavingsRow } from '../../../optimize/ports/gateway.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { num, selectRows, str, strOrNull, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

const HAS_POLICY = `"netra.policy":`;

const duckTag = (k: string) => `tags->>'$."${k}"'`;
const duckNum = (...keys: string[]) => `TRY_CAST(coalesce(${keys.map(duckTag).join(', ')}) AS DOUBLE)`;
const chTag = (k: string) => `JSONExtractString(ifNull(tags, '{}'), '${k}')`;
const chNum = (...keys: string[]) => `coalesce(${keys.map((k) => `toFloat64OrNull(${chTag(k)})`).join(', ')})`;

const ROUTE = ['netra.saved_routing_usd', 'netra.would_save_routing_usd'];
const CACHE = ['netra.saved_cache_usd', 'netra.would_save_cache_usd'];
const SEMANTIC = ['netra.saved_semantic_usd', 'netra.would_save_semantic_usd'];
const CAP = 'netra.would_save_cap_usd';

export const GATEWAY_SAVINGS_SQL: EngineSql = {
  duckdb: ({ where, t, d }) => `WITH g AS (
  SELECT ${duckTag('netra.policy')} AS mode, ${duckTag('netra.policy_version')} AS version, "timestamp" AS ts, status, cost_usd,
    finish_reason, ${duckNum(...ROUTE)} AS s_route, ${duckNum(...CACHE)} AS s_cache, ${duckNum(...SEMANTIC)} AS s_sem,
    ${duckNum(CAP)} AS s_cap,
    ${duckTag('netra.capped_from')} IS NOT NULL AND ${duckNum(...CACHE)} IS NULL AND ${duckNum(...SEMANTIC)} IS NULL AS capped
  FROM ${t} WHERE ${where} AND ${d.contains(d.tagsText, 'has_policy')}
)
SELECT mode, version,
  count(*)::DOUBLE AS n_events,
  count(*) FILTER (WHERE status = 'ok')::DOUBLE AS n_ok,
  coalesce(fsum(cost_usd), 0)::DOUBLE AS spend,
  epoch_ms(min(ts))::DOUBLE AS first_ms,
  epoch_ms(max(ts))::DOUBLE AS last_ms,
  count(s_route)::DOUBLE AS n_route,
  coalesce(fsum(s_route), 0)::DOUBLE AS s_route,
  count(s_cache)::DOUBLE AS n_cache,
  coalesce(fsum(s_cache), 0)::DOUBLE AS s_cache,
  count(s_sem)::DOUBLE AS n_sem,
  coalesce(fsum(s_sem), 0)::DOUBLE AS s_sem,
  count(*) FILTER (WHERE s_cap IS NOT NULL OR capped)::DOUBLE AS n_cap,
  coalesce(fsum(s_cap), 0)::DOUBLE AS s_cap,
  count(*) FILTER (WHERE s_cap > 0 OR (capped AND finish_reason = 'length'))::DOUBLE AS n_cut
FROM g WHERE mode IN ('shadow', 'enforce')
GROUP BY mode, version
ORDER BY mode, version NULLS FIRST`,

  clickhouse: ({ where, t, d }) => `SELECT mode, version,
  toFloat64(count()) AS n_events,
  toFloat64(countIf(status = 'ok')) AS n_ok,
  sumKahan(cost_usd) AS spend,
  toFloat64(toUnixTimestamp64Milli(min(ts))) AS first_ms,
  toFloat64(toUnixTimestamp64Milli(max(ts))) AS last_ms,
  toFloat64(count(sr)) AS n_route,
  sumKahan(ifNull(sr, 0)) AS s_route,
  toFloat64(count(sc)) AS n_cache,
  sumKahan(ifNull(sc, 0)) AS s_cache,
  toFloat64(count(ss)) AS n_sem,
  sumKahan(ifNull(ss, 0)) AS s_sem,
  toFloat64(countIf(sk IS NOT NULL OR capped)) AS n_cap,
  sumKahan(ifNull(sk, 0)) AS s_cap,
  toFloat64(countIf(ifNull(sk, 0) > 0 OR (capped AND finish_reason = 'length'))) AS n_cut
FROM (
  SELECT ${chTag('netra.policy')} AS mode, nullIf(${chTag('netra.policy_version')}, '') AS version, "timestamp" AS ts, status,
    cost_usd, finish_reason, ${chNum(...ROUTE)} AS sr, ${chNum(...CACHE)} AS sc, ${chNum(...SEMANTIC)} AS ss, ${chNum(CAP)} AS sk,
    JSONHas(ifNull(tags, '{}'), 'netra.capped_from') AND sc IS NULL AND ss IS NULL AS capped
  FROM ${t} WHERE ${where} AND ${d.contains(d.tagsText, 'has_policy')}
)
WHERE mode IN ('shadow', 'enforce')
GROUP BY mode, version
ORDER BY mode, version NULLS FIRST`,
};

const toRow = (r: Row): GatewaySavingsRow => ({
  mode: str(r.mode) as GatewaySavingsRow['mode'],
  policy_version: strOrNull(r.version),
  events: num(r.n_events),
  ok_events: num(r.n_ok),
  spend_usd: num(r.spend),
  first_event: num(r.first_ms),
  last_event: num(r.last_ms),
  routing_events: num(r.n_route),
  routing_savings_usd: num(r.s_route),
  cache_events: num(r.n_cache),
  cache_savings_usd: num(r.s_cache),
  semantic_events: num(r.n_sem),
  semantic_savings_usd: num(r.s_sem),
  cap_events: num(r.n_cap),
  cap_savings_usd: num(r.s_cap),
  cap_truncated: num(r.n_cut),
});

export function gatewaySavings(engine: AnalysisEngine, scope: AnalysisScope): Promise<{ rows: GatewaySavingsRow[]; sql: string }> {
  return selectRows(engine, scope, GATEWAY_SAVINGS_SQL, undefined, { has_policy: HAS_POLICY }, toRow);
}
