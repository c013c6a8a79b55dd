/**
 * DuckDB implementation of the replay queries (src/optimize/ports/replay.ts): a policy applied to stored history
 * in SQL. One scan of `events` does everything: routing rules as a CASE over segments (targets and rates are bound
 * parameters / a small unnest()ed rates table), the exact response cache as a window over (routed model,
 * prompt_hash) with a RANGE frame of the TTL, caps and batch discounts as per-row arithmetic, and baseline vs
 * projected totals and percentiles per UTC day with GROUPING SETS. Every value reaches SQL as a bound parameter;
 * the SQL text is built from fixed fragments and rule indexes only (the one inlined number, the TTL in µs, is an
 * integer computed here).
 */
import { listValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import type { ReplayAggregateRow, ReplayMatch, ReplayModelRow, ReplayPlan, ReplayQueries, ReplayTextRow } from '../../optimize/ports/replay.js';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects, toNumber, toNumberOrNull } from '../duckdb-rows.js';
import type { RunRead } from './index.js';

type Params = Record<string, DuckDBValue>;

const strList = (v: readonly string[]) => listValue([...v]);

/** JSON pointer of a tag key (RFC 6901 escaping), so any key is addressed literally. */
const pointer = (key: string) => '/' + key.replaceAll('~', '~0').replaceAll('/', '~1');

/** SQL condition of one match (a conjunction), with its values bound under the `p` prefix. */
export function matchSql(m: ReplayMatch, p: string, params: Params): string {
  const c: string[] = [];
  if (m.apps) { params[`${p}_app`] = strList(m.apps); c.push(`list_contains($${p}_app::VARCHAR[], app)`); }
  if (m.models) { params[`${p}_model`] = strList(m.models); c.push(`list_contains($${p}_model::VARCHAR[], model)`); }
  if (m.tasks) { params[`${p}_task`] = strList(m.tasks); c.push(`list_contains($${p}_task::VARCHAR[], json_extract_string(tags, '$.task'))`); }
  if (m.min_prompt_tokens !== null) { params[`${p}_min`] = m.min_prompt_tokens; c.push(`prompt_tokens >= $${p}_min`); }
  if (m.max_prompt_tokens !== null) { params[`${p}_max`] = m.max_prompt_tokens; c.push(`prompt_tokens <= $${p}_max`); }
  m.tags.forEach(([k, v], i) => {
    params[`${p}_tk${i}`] = pointer(k);
    params[`${p}_tv${i}`] = v;
    c.push(`json_extract_string(tags, $${p}_tk${i}) = $${p}_tv${i}`);
  });
  if (m.offline) c.push('end_user IS NULL AND session_id IS NULL');
  // NULLs (no tags, no task) never match: coalesce makes the condition a plain boolean
  return c.length ? `coalesce(${c.join(' AND ')}, false)` : 'true';
}

/** `CASE ... END` giving the model that serves each event after routing (the stored model when no rule applies). */
function routedModelSql(routing: ReplayPlan['routing'], params: Params): { rule: string; model: string } {
  if (routing.length === 0) return { rule: '-1', model: 'model' };
  const when = routing.map((r, i) => `WHEN ${matchSql(r.match, `r${i}`, params)} THEN ${i}`);
  const targets = routing.map((r, i) => {
    params[`r${i}_target`] = r.target_model;
    if (r.same_models.length === 0) return `WHEN ${i} THEN $r${i}_target`;
    params[`r${i}_same`] = strList(r.same_models);
    return `WHEN ${i} THEN CASE WHEN list_contains($r${i}_same::VARCHAR[], model) THEN model ELSE $r${i}_target END`;
  });
  return { rule: `CASE ${when.join(' ')} ELSE -1 END`, model: `CASE rule ${targets.join(' ')} ELSE model END` };
}

export async function queryReplayModels(conn: DuckDBConnection, scope: AnalysisScope): Promise<ReplayModelRow[]> {
  const { where, params } = scopeSql(scope);
  const reader = await conn.runAndReadAll(
    `SELECT model, count(*)::DOUBLE AS events, coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd,
       median(latency_ms / completion_tokens) FILTER (WHERE status = 'ok' AND completion_tokens > 0 AND latency_ms IS NOT NULL) AS mpt,
       count(*) FILTER (WHERE prompt_text IS NOT NULL)::DOUBLE AS text_events
     FROM events WHERE ${where} GROUP BY model ORDER BY model`,
    params,
  );
  return readObjects(reader).map((r) => ({
    model: r.model as string,
    events: toNumber(r.events),
    spend_usd: toNumber(r.spend_usd),
    ms_per_output_token: toNumberOrNull(r.mpt),
    text_events: toNumber(r.text_events),
  }));
}

export async function streamReplayText(
  conn: DuckDBConnection, scope: AnalysisScope, routing: ReplayPlan['routing'], onBatch: (rows: ReplayTextRow[]) => void,
): Promise<number> {
  const { where, params } = scopeSql(scope);
  const routed = routedModelSql(routing, params);
  const result = await conn.stream(
    `SELECT event_id, ts, ${routed.model} AS pmodel, prompt_hash, prompt_text FROM (
       SELECT event_id, epoch_us("timestamp")::DOUBLE / 1000 AS ts, "timestamp" AS t, model, prompt_hash, prompt_text, ${routed.rule} AS rule
       FROM events WHERE ${where} AND prompt_text IS NOT NULL)
     ORDER BY t, event_id`,
    params,
  );
  let n = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const [ids, ts, models, hashes, texts] = chunk.getColumns() as [string[], number[], string[], (string | null)[], string[]];
    const rows: ReplayTextRow[] = new Array(chunk.rowCount);
    for (let i = 0; i < chunk.rowCount; i++) {
      rows[i] = { event_id: ids[i]!, timestamp: ts[i]!, model: models[i]!, prompt_hash: hashes[i] ?? null, prompt_text: texts[i]! };
    }
    n += rows.length;
    onBatch(rows);
  }
  return n;
}

/** The replay SQL and its parameters for a scope and plan. */
export function replaySql(scope: AnalysisScope, plan: ReplayPlan): { sql: string; params: Params } {
  const { where, params } = scopeSql(scope);
  const routed = routedModelSql(plan.routing, params);
  const cap = plan.caps.length
    ? `CASE ${plan.caps.map((c, i) => { params[`k${i}_cap`] = c.cap; return `WHEN ${matchSql(c.match, `k${i}`, params)} THEN $k${i}_cap`; }).join(' ')} END`
    : 'NULL';
  const batch = plan.batch.length ? `(${plan.batch.map((b, i) => matchSql(b, `b${i}`, params)).join(' OR ')})` : 'false';
  params.rm = strList(plan.rates.map((r) => r.model));
  params.ri = listValue(plan.rates.map((r) => r.input));
  params.rc = listValue(plan.rates.map((r) => r.cached_input));
  params.ro = listValue(plan.rates.map((r) => r.output));
  params.rb = listValue(plan.rates.map((r) => r.batch_discount));
  params.rl = listValue(plan.rates.map((r) => r.ms_per_output_token));
  params.cache_ms = plan.cache_latency_ms;
  const ttlUs = plan.exact_cache_ttl_ms === null ? null : Math.max(1, Math.round(plan.exact_cache_ttl_ms * 1000));
  const exact = ttlUs === null
    ? 'false'
    : `prompt_hash IS NOT NULL AND coalesce(count(*) FILTER (WHERE status = 'ok') OVER (
         PARTITION BY pmodel, prompt_hash ORDER BY ts_us RANGE BETWEEN ${ttlUs} PRECEDING AND 1 PRECEDING), 0) > 0`;
  let semJoin = '';
  let sem = 'false';
  if (plan.semantic_hit_ids.length > 0) {
    params.sem = strList(plan.semantic_hit_ids);
    semJoin = 'LEFT JOIN (SELECT DISTINCT unnest($sem::VARCHAR[]) AS event_id) sem ON sem.event_id = c.event_id';
    sem = 'sem.event_id IS NOT NULL';
  }
  const ruleCounts = plan.routing.map((_, i) => `, count(*) FILTER (WHERE rule = ${i})::DOUBLE AS rule_${i}`).join('');
  const sql = `
WITH r AS (
  SELECT unnest($rm::VARCHAR[]) AS model, unnest($ri::DOUBLE[]) AS input, unnest($rc::DOUBLE[]) AS cached_input,
         unnest($ro::DOUBLE[]) AS output, unnest($rb::DOUBLE[]) AS batch_discount, unnest($rl::DOUBLE[]) AS mpt
),
b AS (
  SELECT event_id, "timestamp"::DATE AS day, epoch_us("timestamp") AS ts_us, model, prompt_hash, status,
         prompt_tokens::DOUBLE AS pt, completion_tokens::DOUBLE AS ct, cached_prompt_tokens::DOUBLE AS cpt,
         latency_ms, ttft_ms, cost_usd, ${routed.rule} AS rule, ${cap} AS cap, ${batch} AS batch
  FROM events WHERE ${where}
),
p AS (SELECT *, ${routed.model} AS pmodel FROM b),
c AS (SELECT *, ${exact} AS exact_hit FROM p),
x AS (
  SELECT c.*, ${sem} AS sem_hit, c.pmodel <> c.model AS routed,
         d.input AS d_in, d.cached_input AS d_cin, d.output AS d_out, coalesce(d.batch_discount, 0) AS d_bd,
         CASE WHEN c.pmodel <> c.model AND s.mpt > 0 AND d.mpt > 0 THEN d.mpt / s.mpt ELSE 1 END AS lf
  FROM c LEFT JOIN r s ON s.model = c.model LEFT JOIN r d ON d.model = c.pmodel ${semJoin}
),
y AS (
  SELECT *, exact_hit OR sem_hit AS hit,
         CASE WHEN routed THEN (pt - cpt) * d_in + cpt * d_cin + ct * d_out ELSE cost_usd END AS c1,
         NOT (exact_hit OR sem_hit) AND cap IS NOT NULL AND ct > cap AS clipped
  FROM x
),
z AS (
  SELECT *,
         CASE WHEN hit THEN 0 WHEN clipped THEN greatest(c1 - (ct - cap) * coalesce(d_out, 0), 0) ELSE c1 END AS c3,
         CASE WHEN latency_ms IS NULL THEN NULL
              WHEN hit THEN $cache_ms
              WHEN clipped AND ttft_ms IS NOT NULL AND latency_ms > 0 THEN latency_ms * lf * (ttft_ms + (latency_ms - ttft_ms) * cap / ct) / latency_ms
              ELSE latency_ms * lf END AS plat
  FROM y
),
f AS (SELECT *, CASE WHEN NOT hit AND batch THEN c3 * (1 - d_bd) ELSE c3 END AS c4 FROM z)
SELECT grouping(day) AS is_total, strftime(day, '%Y-%m-%d') AS day_s, count(*)::DOUBLE AS events,
       coalesce(fsum(cost_usd), 0)::DOUBLE AS base_usd, coalesce(fsum(c4), 0)::DOUBLE AS proj_usd,
       quantile_cont(latency_ms, [0.5, 0.95]) AS bq, quantile_cont(plat, [0.5, 0.95]) AS pq,
       count(*) FILTER (WHERE exact_hit)::DOUBLE AS exact_hits,
       count(*) FILTER (WHERE sem_hit AND NOT exact_hit)::DOUBLE AS semantic_hits,
       count(*) FILTER (WHERE routed)::DOUBLE AS routed_n,
       count(*) FILTER (WHERE batch AND NOT hit)::DOUBLE AS batched,
       count(*) FILTER (WHERE clipped)::DOUBLE AS truncated,
       count(*) FILTER (WHERE routed OR hit OR batch OR clipped)::DOUBLE AS changed,
       coalesce(fsum(cost_usd - c1), 0)::DOUBLE AS routing_usd,
       coalesce(fsum(CASE WHEN hit THEN c1 ELSE 0 END), 0)::DOUBLE AS cache_usd,
       coalesce(fsum(c3 - c4), 0)::DOUBLE AS batch_usd,
       coalesce(fsum(CASE WHEN hit THEN 0 ELSE c1 - c3 END), 0)::DOUBLE AS cap_usd${ruleCounts}
FROM f
GROUP BY GROUPING SETS ((), (day))
ORDER BY is_total DESC, day`;
  return { sql, params };
}

export async function queryReplay(conn: DuckDBConnection, scope: AnalysisScope, plan: ReplayPlan): Promise<{ rows: ReplayAggregateRow[]; sql: string }> {
  const { sql, params } = replaySql(scope, plan);
  const reader = await conn.runAndReadAll(sql, params);
  const q = (v: unknown, i: number) => (Array.isArray(v) ? toNumberOrNull(v[i] as number | null) : null);
  const rows = readObjects(reader).map((r): ReplayAggregateRow => ({
    day: toNumber(r.is_total) === 1 ? null : (r.day_s as string),
    events: toNumber(r.events),
    baseline_spend_usd: toNumber(r.base_usd),
    projected_spend_usd: toNumber(r.proj_usd),
    baseline_latency_p50_ms: q(r.bq, 0),
    baseline_latency_p95_ms: q(r.bq, 1),
    projected_latency_p50_ms: q(r.pq, 0),
    projected_latency_p95_ms: q(r.pq, 1),
    exact_hits: toNumber(r.exact_hits),
    semantic_hits: toNumber(r.semantic_hits),
    routed: toNumber(r.routed_n),
    batched: toNumber(r.batched),
    truncated: toNumber(r.truncated),
    changed: toNumber(r.changed),
    routing_savings_usd: toNumber(r.routing_usd),
    cache_savings_usd: toNumber(r.cache_usd),
    batch_savings_usd: toNumber(r.batch_usd),
    cap_savings_usd: toNumber(r.cap_usd),
    rule_events: plan.routing.map((_, i) => toNumber(r[`rule_${i}`])),
  }));
  return { rows, sql };
}

/** The replay methods bound to the store's read queue. */
export function duckDbReplayQueries(run: RunRead): ReplayQueries {
  return {
    replayModels: (scope) => run('replay_models', (conn) => queryReplayModels(conn, scope)),
    replayTextEvents: (scope, routing, onBatch) => run('replay_text', (conn) => streamReplayText(conn, scope, routing, onBatch)),
    replaySimulate: (scope, plan) => run('replay', (conn) => queryReplay(conn, scope, plan)),
  };
}
