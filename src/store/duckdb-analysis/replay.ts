/**
 * DuckDB implementation of the replay queries (src/optimize/ports/replay.ts): a policy applied to stored history
 * in SQL. One scan of `events` does everything: routing rules as a CASE over segments (targets and rates are bound
 * parameters / a small unnest()ed rates table), the exact response cache as a window over (routed model,
 * prompt_hash) with a RANGE frame of the TTL, caps and batch discounts as per-row arithmetic, and baseline vs
 * projected totals and percentiles per UTC day with GROUPING SETS. Every value reaches SQL as a bound parameter;
 * the SQL text is built from fixed fragments and rule indexes only (the one inlined number, the TTL in µs, is an
 * integer computed here).
 */
import { DOUBLE, LIST, listValue, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import type { ReplayAggregateRow, ReplayMatch, ReplayModelRow, ReplayPlan, ReplayQueries, ReplayTextRow } from '../../optimize/ports/replay.js';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects, toNumber, toNumberOrNull } from '../duckdb-rows.js';
import type { RunRead } from './index.js';

type Params = Record<string, DuckDBValue>;

const strList = (v: readonly string[]) => listValue([...v]);

/**
 * Condition that tags (JSON text) hold `key: value`, as a plain substring test instead of a JSON parse (20x faster
 * over millions of rows). Exact because the store writes tags with JSON.stringify of a flat string map (compact, no
 * spaces): inside a string every '"' is escaped, so an unescaped `"key":"value"` right after '{' or ',' can only be
 * that key holding exactly that value.
 */
function tagSql(key: string, values: readonly string[], p: string, params: Params): string {
  return values.map((v, i) => {
    const kv = `${JSON.stringify(key)}:${JSON.stringify(v)}`;
    params[`${p}_o${i}`] = '{' + kv;
    params[`${p}_c${i}`] = ',' + kv;
    return `starts_with(tags::VARCHAR, $${p}_o${i}) OR contains(tags::VARCHAR, $${p}_c${i})`;
  }).join(' OR ');
}

/** SQL condition of one match (a conjunction), with its values bound under the `p` prefix. Never NULL. */
export function matchSql(m: ReplayMatch, p: string, params: Params): string {
  const cheap: string[] = [];
  if (m.apps) { params[`${p}_app`] = strList(m.apps); cheap.push(`list_contains($${p}_app::VARCHAR[], app)`); }
  if (m.models) { params[`${p}_model`] = strList(m.models); cheap.push(`list_contains($${p}_model::VARCHAR[], model)`); }
  if (m.min_prompt_tokens !== null) { params[`${p}_min`] = m.min_prompt_tokens; cheap.push(`prompt_tokens >= $${p}_min`); }
  if (m.max_prompt_tokens !== null) { params[`${p}_max`] = m.max_prompt_tokens; cheap.push(`prompt_tokens <= $${p}_max`); }
  if (m.offline) cheap.push('end_user IS NULL AND session_id IS NULL');
  const tagConds: string[] = [];
  if (m.tasks) tagConds.push(`(${tagSql('task', m.tasks, `${p}_task`, params)})`);
  m.tags.forEach(([k, v], i) => tagConds.push(`(${tagSql(k, [v], `${p}_tag${i}`, params)})`));
  const tagCond = tagConds.length ? `coalesce(${tagConds.join(' AND ')}, false)` : null;
  const cheapCond = cheap.length ? `coalesce(${cheap.join(' AND ')}, false)` : null;
  // CASE evaluates the string tests only on the rows that pass the cheap tests
  if (cheapCond && tagCond) return `CASE WHEN ${cheapCond} THEN ${tagCond} ELSE false END`;
  return cheapCond ?? tagCond ?? 'true';
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

export async function queryReplayModels(conn: DuckDBConnection, scope: AnalysisScope, withLatency: boolean): Promise<ReplayModelRow[]> {
  const { where, params } = scopeSql(scope);
  const mpt = withLatency
    ? `median(latency_ms / completion_tokens) FILTER (WHERE status = 'ok' AND completion_tokens > 0 AND latency_ms IS NOT NULL)`
    : 'NULL::DOUBLE';
  const reader = await conn.runAndReadAll(
    `SELECT model, count(*)::DOUBLE AS events, coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd, ${mpt} AS mpt
     FROM events WHERE ${where} GROUP BY model ORDER BY model`,
    params,
  );
  return readObjects(reader).map((r) => ({
    model: r.model as string,
    events: toNumber(r.events),
    spend_usd: toNumber(r.spend_usd),
    ms_per_output_token: toNumberOrNull(r.mpt),
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

/**
 * The replay SQL and its parameters for a scope and plan.
 *
 * The exact cache is the expensive part (a window needs a sort): only events whose (routed model, prompt_hash) occurs
 * more than once can hit, so duplicates are found first with a hash aggregate over hash(model, prompt_hash) (a
 * collision only adds candidates), the window (exact string keys, RANGE frame of the TTL) runs over those candidates
 * only, and its hits are joined back to the main scan by rowid (two narrow scans + one full scan in all).
 */
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
  const withSem = plan.semantic_hit_ids.length > 0;
  if (withSem) params.sem = strList(plan.semantic_hit_ids);
  // sampled semantic hits: each stands for `ext` more (unsampled) events like it (weight - 1; see ReplayPlan)
  const extra = withSem && (plan.semantic_hit_weight ?? 1) > 1;
  if (extra) params.sem_extra = plan.semantic_hit_weight! - 1;
  const ttlUs = plan.exact_cache_ttl_ms === null ? null : Math.max(1, Math.round(plan.exact_cache_ttl_ms * 1000));

  const cols = `${withSem ? 'event_id, ' : ''}"timestamp"::DATE AS day, model, status,
         prompt_tokens::DOUBLE AS pt, completion_tokens::DOUBLE AS ct, cached_prompt_tokens::DOUBLE AS cpt,
         latency_ms, ttft_ms, cost_usd, rule, cap, batch`;
  const scoped = (extra: string) => `SELECT *, rowid AS rid, ${routed.rule} AS rule${extra} FROM events WHERE ${where}`;
  const e = `SELECT rid, ${cols}, ${routed.model} AS pmodel FROM (${scoped(`, ${cap} AS cap, ${batch} AS batch`)})`;
  // exact-cache hits by rowid: duplicates of hash(model, prompt_hash) first, the window over those only
  const hits = ttlUs === null ? '' : `
ek AS NOT MATERIALIZED (
  SELECT rid, ts_us, pmodel, prompt_hash, ok, hash(pmodel, prompt_hash) AS k FROM (
    SELECT rid, epoch_us("timestamp") AS ts_us, ${routed.model} AS pmodel, prompt_hash, status = 'ok' AS ok
    FROM (${scoped('')} AND prompt_hash IS NOT NULL))
),
dk AS (SELECT k FROM ek GROUP BY k HAVING count(*) > 1),
hits AS MATERIALIZED (
  SELECT rid FROM (
    SELECT rid, count(*) FILTER (WHERE ok) OVER (
             PARTITION BY pmodel, prompt_hash ORDER BY ts_us RANGE BETWEEN ${ttlUs} PRECEDING AND 1 PRECEDING) AS n
    FROM ek SEMI JOIN dk USING (k))
  WHERE n > 0
),`;
  const cached = ttlUs === null
    ? 'c AS (SELECT *, false AS exact_hit FROM e)'
    : 'c AS (SELECT e.*, h.rid IS NOT NULL AS exact_hit FROM e LEFT JOIN hits h ON h.rid = e.rid)';
  // Money is summed as integer picodollars (each value rounded to 1e-12 USD): exact and independent of the order in
  // which threads combine partial sums, so replays are bit-for-bit deterministic (and integer sums are cheaper).
  const pico = (x: string) => `coalesce(sum(round(${x} * 1e12)::BIGINT), 0)`;
  const ruleCounts = plan.routing.map((_, i) => `, count(*) FILTER (WHERE rule = ${i})::DOUBLE AS rule_${i}`).join('');
  // extrapolated terms (sampled semantic hits only); counts then round to whole events
  const x = (sql: string) => (extra ? sql : '');
  const n = (count: string, ext: string) => (extra ? `round(${count} ${ext})::DOUBLE` : `${count}::DOUBLE`);
  const sql = `
WITH r AS (
  SELECT unnest($rm::VARCHAR[]) AS model, unnest($ri::DOUBLE[]) AS input, unnest($rc::DOUBLE[]) AS cached_input,
         unnest($ro::DOUBLE[]) AS output, unnest($rb::DOUBLE[]) AS batch_discount, unnest($rl::DOUBLE[]) AS mpt
),${hits}
e AS (${e}),
${cached},
x AS (
  SELECT c.*, ${withSem ? 'sem.event_id IS NOT NULL' : 'false'} AS sem_hit, c.pmodel <> c.model AS routed,
         d.input AS d_in, d.cached_input AS d_cin, d.output AS d_out, coalesce(d.batch_discount, 0) AS d_bd,
         CASE WHEN c.pmodel <> c.model AND s.mpt > 0 AND d.mpt > 0 THEN d.mpt / s.mpt ELSE 1 END AS lf
  FROM c LEFT JOIN r s ON s.model = c.model LEFT JOIN r d ON d.model = c.pmodel
  ${withSem ? 'LEFT JOIN (SELECT DISTINCT unnest($sem::VARCHAR[]) AS event_id) sem ON sem.event_id = c.event_id' : ''}
),
y AS (
  SELECT *, exact_hit OR sem_hit AS hit,
         CASE WHEN routed THEN (pt - cpt) * d_in + cpt * d_cin + ct * d_out ELSE cost_usd END AS c1,
         NOT (exact_hit OR sem_hit) AND cap IS NOT NULL AND ct > cap AS clipped${extra ? `,
         CASE WHEN sem_hit AND NOT exact_hit THEN $sem_extra::DOUBLE ELSE 0 END AS ext` : ''}
  FROM x
),
z AS (
  SELECT *,
         CASE WHEN hit THEN 0 WHEN clipped THEN greatest(c1 - (ct - cap) * coalesce(d_out, 0), 0) ELSE c1 END AS c3,
         CASE WHEN latency_ms IS NULL THEN NULL
              WHEN hit THEN $cache_ms
              WHEN clipped AND ttft_ms IS NOT NULL AND latency_ms > 0 THEN latency_ms * lf * (ttft_ms + (latency_ms - ttft_ms) * cap / ct) / latency_ms
              ELSE latency_ms * lf END AS plat${extra ? `,
         cap IS NOT NULL AND ct > cap AS clipped_n,
         CASE WHEN cap IS NOT NULL AND ct > cap THEN greatest(c1 - (ct - cap) * coalesce(d_out, 0), 0) ELSE c1 END AS c3n` : ''}
  FROM y
),
f AS (SELECT *, CASE WHEN NOT hit AND batch THEN c3 * (1 - d_bd) ELSE c3 END AS c4${extra ? ', CASE WHEN batch THEN c3n * (1 - d_bd) ELSE c3n END AS c4n' : ''} FROM z)
SELECT grouping(day) AS is_total, strftime(day, '%Y-%m-%d') AS day_s, count(*)::DOUBLE AS events,
       ${pico('cost_usd')} AS base_usd, ${pico('c4')}${x(` - ${pico('ext * c4n')}`)} AS proj_usd,
       quantile_cont(latency_ms, [0.5, 0.95]) AS bq, quantile_cont(plat, [0.5, 0.95]) AS pq,
       count(*) FILTER (WHERE exact_hit)::DOUBLE AS exact_hits,
       ${n('count(*) FILTER (WHERE sem_hit AND NOT exact_hit)', ' + coalesce(sum(ext), 0)')} AS semantic_hits,
       count(*) FILTER (WHERE routed)::DOUBLE AS routed_n,
       ${n('count(*) FILTER (WHERE batch AND NOT hit)', ' - coalesce(sum(ext) FILTER (WHERE batch), 0)')} AS batched,
       ${n('count(*) FILTER (WHERE clipped)', ' - coalesce(sum(ext) FILTER (WHERE clipped_n), 0)')} AS truncated,
       ${n('count(*) FILTER (WHERE routed OR hit OR batch OR clipped)', ' + coalesce(sum(ext) FILTER (WHERE NOT (routed OR batch OR clipped_n)), 0)')} AS changed,
       ${pico('cost_usd')} - ${pico('c1')} AS routing_usd,
       ${pico('CASE WHEN hit THEN c1 ELSE 0 END')}${x(` + ${pico('ext * c1')}`)} AS cache_usd,
       ${pico('c3')} - ${pico('c4')}${x(` - ${pico('ext * c3n')} + ${pico('ext * c4n')}`)} AS batch_usd,
       ${pico('CASE WHEN hit THEN 0 ELSE c1 END')} - ${pico('CASE WHEN hit THEN 0 ELSE c3 END')}${x(` - ${pico('ext * c1')} + ${pico('ext * c3n')}`)} AS cap_usd${ruleCounts}
FROM f
GROUP BY GROUPING SETS ((), (day))
ORDER BY is_total DESC, day`;
  return { sql, params };
}

/**
 * The rate lists are DOUBLE[] whatever their first value: left to inference, a list starting with a whole number (an
 * embedding model's output rate of 0, a model without batch discount) binds as INTEGER[] and fails on the next rate.
 */
const RATE_LIST_TYPES: Record<string, DuckDBType> = { ri: LIST(DOUBLE), rc: LIST(DOUBLE), ro: LIST(DOUBLE), rb: LIST(DOUBLE), rl: LIST(DOUBLE) };

export async function queryReplay(conn: DuckDBConnection, scope: AnalysisScope, plan: ReplayPlan): Promise<{ rows: ReplayAggregateRow[]; sql: string }> {
  const { sql, params } = replaySql(scope, plan);
  const reader = await conn.runAndReadAll(sql, params, RATE_LIST_TYPES);
  const usd = (v: unknown) => toNumber(v as bigint) / 1e12;
  const q = (v: unknown, i: number) => (Array.isArray(v) ? toNumberOrNull(v[i] as number | null) : null);
  const rows = readObjects(reader).map((r): ReplayAggregateRow => ({
    day: toNumber(r.is_total) === 1 ? null : (r.day_s as string),
    events: toNumber(r.events),
    baseline_spend_usd: usd(r.base_usd),
    projected_spend_usd: usd(r.proj_usd),
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
    routing_savings_usd: usd(r.routing_usd),
    cache_savings_usd: usd(r.cache_usd),
    batch_savings_usd: usd(r.batch_usd),
    cap_savings_usd: usd(r.cap_usd),
    rule_events: plan.routing.map((_, i) => toNumber(r[`rule_${i}`])),
  }));
  return { rows, sql };
}

/** The replay methods bound to the store's read queue. */
export function duckDbReplayQueries(run: RunRead): ReplayQueries {
  return {
    replayModels: (scope, opts) => run('replay_models', (conn) => queryReplayModels(conn, scope, opts.latency)),
    replayTextEvents: (scope, routing, onBatch) => run('replay_text', (conn) => streamReplayText(conn, scope, routing, onBatch)),
    replaySimulate: (scope, plan) => run('replay', (conn) => queryReplay(conn, scope, plan)),
  };
}
