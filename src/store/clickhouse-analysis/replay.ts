/**
 * ClickHouse implementation of the replay queries (src/optimize/ports/replay.ts), ported from
 * src/store/duckdb-analysis/replay.ts: a policy applied to stored history in SQL. Routing rules are a CASE over
 * segments, target/stored rates are looked up in bound arrays (`{rx:Array(...)}[indexOf({rm}, model)]`, NULL when
 * the model has no rate, like DuckDB's LEFT JOIN to the unnest()ed rates), the exact response cache is a window
 * over (routed model, prompt_hash), run only over keys that occur more than once, and
 * its hits are matched back by event_id (unique within a workspace: the store de-duplicates on it). Totals and
 * per-UTC-day figures come from GROUPING SETS. Every value is a bound parameter; the one inlined number, the TTL
 * in µs, is an integer computed here.
 * The cache window: DuckDB counts successful calls in `RANGE BETWEEN ttl PRECEDING AND 1 PRECEDING`; ClickHouse
 * requires a RANGE offset to fit a 32-bit integer (2,147 s in µs), so the TTL cannot be the frame offset here. The
 * same condition instead: the latest successful call strictly earlier (`RANGE BETWEEN UNBOUNDED PRECEDING AND
 * 1 PRECEDING`) is at most ttl µs before the event — there is a success within the TTL iff the latest one is.
 */
import type { AnalysisScope } from '../../optimize/ports/index.js';
import type { ReplayAggregateRow, ReplayMatch, ReplayModelRow, ReplayPlan, ReplayQueries, ReplayTextRow } from '../../optimize/ports/replay.js';
import type { ClickHouseExecutor, Params, Row } from '../clickhouse-executor.js';
import { num, numOrNull, pct, quantilesCont, scopeSql } from '../clickhouse-queries.js';
import { TS_US, type ChRunRead } from './sql.js';

/**
 * Condition that tags (JSON text) hold `key: value`, as a substring test instead of a JSON parse. Exact because the
 * store writes tags with JSON.stringify of a flat string map (see the DuckDB twin for the argument).
 */
function tagSql(key: string, values: readonly string[], p: string, params: Params): string {
  return values.map((v, i) => {
    const kv = `${JSON.stringify(key)}:${JSON.stringify(v)}`;
    params[`${p}_o${i}`] = '{' + kv;
    params[`${p}_c${i}`] = ',' + kv;
    return `startsWith(tags, {${p}_o${i}:String}) OR position(tags, {${p}_c${i}:String}) > 0`;
  }).join(' OR ');
}

/** SQL condition of one match (a conjunction), with its values bound under the `p` prefix. Never NULL. */
export function matchSql(m: ReplayMatch, p: string, params: Params): string {
  const cheap: string[] = [];
  if (m.apps) { params[`${p}_app`] = [...m.apps]; cheap.push(`has({${p}_app:Array(String)}, app)`); }
  if (m.models) { params[`${p}_model`] = [...m.models]; cheap.push(`has({${p}_model:Array(String)}, model)`); }
  if (m.min_prompt_tokens !== null) { params[`${p}_min`] = m.min_prompt_tokens; cheap.push(`prompt_tokens >= {${p}_min:Float64}`); }
  if (m.max_prompt_tokens !== null) { params[`${p}_max`] = m.max_prompt_tokens; cheap.push(`prompt_tokens <= {${p}_max:Float64}`); }
  if (m.offline) cheap.push('end_user IS NULL AND session_id IS NULL');
  const tagConds: string[] = [];
  if (m.tasks) tagConds.push(`(${tagSql('task', m.tasks, `${p}_task`, params)})`);
  m.tags.forEach(([k, v], i) => tagConds.push(`(${tagSql(k, [v], `${p}_tag${i}`, params)})`));
  const tagCond = tagConds.length ? `ifNull(${tagConds.join(' AND ')}, false)` : null;
  const cheapCond = cheap.length ? `ifNull(${cheap.join(' AND ')}, false)` : null;
  if (cheapCond && tagCond) return `CASE WHEN ${cheapCond} THEN ${tagCond} ELSE false END`;
  return cheapCond ?? tagCond ?? 'true';
}

/** The rule index (-1: none) and the model serving each event after routing (the stored model when no rule applies). */
function routedModelSql(routing: ReplayPlan['routing'], params: Params): { rule: string; model: string } {
  if (routing.length === 0) return { rule: '-1', model: 'toString(model)' };
  const when = routing.map((r, i) => `WHEN ${matchSql(r.match, `r${i}`, params)} THEN ${i}`);
  const targets = routing.map((r, i) => {
    params[`r${i}_target`] = r.target_model;
    if (r.same_models.length === 0) return `WHEN rule = ${i} THEN {r${i}_target:String}`;
    params[`r${i}_same`] = [...r.same_models];
    return `WHEN rule = ${i} THEN if(has({r${i}_same:Array(String)}, model), toString(model), {r${i}_target:String})`;
  });
  return { rule: `toInt32(CASE ${when.join(' ')} ELSE -1 END)`, model: `CASE ${targets.join(' ')} ELSE toString(model) END` };
}

async function queryReplayModels(ex: ClickHouseExecutor, t: string, scope: AnalysisScope, withLatency: boolean): Promise<ReplayModelRow[]> {
  const { where, params } = scopeSql(scope);
  const mpt = withLatency
    ? `${quantilesCont('latency_ms / completion_tokens', [0.5], `status = 'ok' AND completion_tokens > 0 AND latency_ms IS NOT NULL`)}[1]`
    : 'CAST(NULL AS Nullable(Float64))';
  const rows = await ex.query<Row>(
    `SELECT model, toFloat64(count()) AS n_events, sumKahan(cost_usd) AS spend, ${mpt} AS mpt
     FROM ${t} WHERE ${where} GROUP BY model ORDER BY model`,
    params,
  );
  return rows.map((r) => ({ model: r.model as string, events: num(r.n_events), spend_usd: num(r.spend), ms_per_output_token: numOrNull(r.mpt) }));
}

async function streamReplayText(
  ex: ClickHouseExecutor, t: string, scope: AnalysisScope, routing: ReplayPlan['routing'], onBatch: (rows: ReplayTextRow[]) => void,
): Promise<number> {
  const { where, params } = scopeSql(scope);
  const routed = routedModelSql(routing, params);
  let n = 0;
  await ex.stream(
    `SELECT event_id, ts_us / 1000 AS ts_ms, ${routed.model} AS pmodel, prompt_hash, prompt_text FROM (
       SELECT event_id, ${TS_US} AS ts_us, model, prompt_hash, prompt_text, ${routed.rule} AS rule
       FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL)
     ORDER BY ts_us, event_id`,
    params,
    (chunk) => {
      const rows: ReplayTextRow[] = chunk.map((r) => ({
        event_id: r.event_id as string, timestamp: r.ts_ms as number, model: r.pmodel as string,
        prompt_hash: (r.prompt_hash as string | null) ?? null, prompt_text: r.prompt_text as string,
      }));
      n += rows.length;
      onBatch(rows);
    },
  );
  return n;
}

/** The replay SQL and its parameters for a scope and plan. */
export function replaySql(t: string, scope: AnalysisScope, plan: ReplayPlan): { sql: string; params: Params } {
  const { where, params } = scopeSql(scope);
  const routed = routedModelSql(plan.routing, params);
  const cap = plan.caps.length
    ? `CASE ${plan.caps.map((c, i) => { params[`k${i}_cap`] = c.cap; return `WHEN ${matchSql(c.match, `k${i}`, params)} THEN {k${i}_cap:Float64}`; }).join(' ')} ELSE NULL END`
    : 'CAST(NULL AS Nullable(Float64))';
  const batch = plan.batch.length ? `(${plan.batch.map((b, i) => matchSql(b, `b${i}`, params)).join(' OR ')})` : 'false';
  params.rm = plan.rates.map((r) => r.model);
  params.ri = plan.rates.map((r) => r.input);
  params.rc = plan.rates.map((r) => r.cached_input);
  params.ro = plan.rates.map((r) => r.output);
  params.rb = plan.rates.map((r) => r.batch_discount);
  params.rl = plan.rates.map((r) => r.ms_per_output_token);
  params.cache_ms = plan.cache_latency_ms;
  const rate = (arr: string, model: string) => `arrayElement({${arr}:Array(Nullable(Float64))}, indexOf({rm:Array(String)}, ${model}))`;
  const withSem = plan.semantic_hit_ids.length > 0;
  if (withSem) params.sem = [...new Set(plan.semantic_hit_ids)];
  // sampled semantic hits: each stands for `ext` more (unsampled) events like it (weight - 1; see ReplayPlan)
  const extra = withSem && (plan.semantic_hit_weight ?? 1) > 1;
  if (extra) params.sem_extra = plan.semantic_hit_weight! - 1;
  const x = (sql: string) => (extra ? sql : '');
  const n = (count: string, ext: string) => (extra ? `round(${count} ${ext})` : count);
  const ttlUs = plan.exact_cache_ttl_ms === null ? null : Math.max(1, Math.round(plan.exact_cache_ttl_ms * 1000));

  // exact-cache candidates: events with a prompt_hash whose (routed model, prompt_hash) occurs more than once
  const keyed = `SELECT event_id, ts_us, ${routed.model} AS pmodel, prompt_hash, ok FROM (
      SELECT event_id, ${TS_US} AS ts_us, model, prompt_hash, status = 'ok' AS ok, ${routed.rule} AS rule
      FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL)`;
  const hits = ttlUs === null ? '' : `
ek AS (${keyed}),
hits AS (
  SELECT event_id FROM (
    SELECT event_id, ts_us, countIf(ok) OVER w AS n_ok, maxIf(ts_us, ok) OVER w AS last_ok_us
    FROM ek WHERE (pmodel, prompt_hash) IN (SELECT pmodel, prompt_hash FROM ek GROUP BY pmodel, prompt_hash HAVING count() > 1)
    WINDOW w AS (PARTITION BY pmodel, prompt_hash ORDER BY ts_us RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
  WHERE n_ok > 0 AND last_ok_us >= ts_us - ${ttlUs}
),`;
  const ruleCounts = plan.routing.map((_, i) => `, toFloat64(countIf(rule = ${i})) AS rule_${i}`).join('');
  const sql = `
WITH${hits}
e AS (
  SELECT event_id, day, model, status, pt, ct, cpt, latency_ms, ttft_ms, cost_usd, rule, cap, batch, ${routed.model} AS pmodel FROM (
    SELECT event_id, toDate("timestamp") AS day, model, status,
           toFloat64(prompt_tokens) AS pt, toFloat64(completion_tokens) AS ct, toFloat64(cached_prompt_tokens) AS cpt,
           latency_ms, ttft_ms, cost_usd, ${routed.rule} AS rule, ${cap} AS cap, ${batch} AS batch
    FROM ${t} WHERE ${where})
),
x AS (
  SELECT *, ${ttlUs === null ? 'false' : 'event_id IN (SELECT event_id FROM hits)'} AS exact_hit,
         ${withSem ? 'event_id IN {sem:Array(String)}' : 'false'} AS sem_hit,
         pmodel != toString(model) AS routed,
         ${rate('ri', 'pmodel')} AS d_in, ${rate('rc', 'pmodel')} AS d_cin, ${rate('ro', 'pmodel')} AS d_out,
         ifNull(${rate('rb', 'pmodel')}, 0) AS d_bd,
         CASE WHEN pmodel != toString(model) AND ${rate('rl', 'toString(model)')} > 0 AND ${rate('rl', 'pmodel')} > 0
              THEN ${rate('rl', 'pmodel')} / ${rate('rl', 'toString(model)')} ELSE 1 END AS lf
  FROM e
),
y AS (
  SELECT *, exact_hit OR sem_hit AS hit,
         CASE WHEN routed THEN (pt - cpt) * d_in + cpt * d_cin + ct * d_out ELSE cost_usd END AS c1,
         NOT (exact_hit OR sem_hit) AND cap IS NOT NULL AND ct > cap AS clipped${x(`,
         if(sem_hit AND NOT exact_hit, {sem_extra:Float64}, 0) AS ext`)}
  FROM x
),
z AS (
  SELECT *,
         CASE WHEN hit THEN 0 WHEN clipped THEN greatest(c1 - (ct - cap) * ifNull(d_out, 0), 0) ELSE c1 END AS c3,
         CASE WHEN latency_ms IS NULL THEN NULL
              WHEN hit THEN {cache_ms:Float64}
              WHEN clipped AND ttft_ms IS NOT NULL AND latency_ms > 0 THEN latency_ms * lf * (ttft_ms + (latency_ms - ttft_ms) * cap / ct) / latency_ms
              ELSE latency_ms * lf END AS plat${x(`,
         ifNull(cap IS NOT NULL AND ct > cap, false) AS clipped_n,
         CASE WHEN clipped_n THEN greatest(c1 - (ct - cap) * ifNull(d_out, 0), 0) ELSE c1 END AS c3n`)}
  FROM y
),
f AS (SELECT *, CASE WHEN NOT hit AND batch THEN c3 * (1 - d_bd) ELSE c3 END AS c4${x(', CASE WHEN batch THEN c3n * (1 - d_bd) ELSE c3n END AS c4n')} FROM z)
SELECT grouping(day) AS is_total, toString(day) AS day_s, toFloat64(count()) AS n_events,
       sumKahan(cost_usd) AS base_usd, sumKahan(c4)${x(' - sumKahan(ext * c4n)')} AS proj_usd,
       ${quantilesCont('latency_ms', [0.5, 0.95])} AS bq, ${quantilesCont('plat', [0.5, 0.95])} AS pq,
       toFloat64(countIf(exact_hit)) AS exact_hits,
       ${n('toFloat64(countIf(sem_hit AND NOT exact_hit))', '+ sum(ext)')} AS semantic_hits,
       toFloat64(countIf(routed)) AS routed_n,
       ${n('toFloat64(countIf(batch AND NOT hit))', '- sumIf(ext, batch)')} AS batched,
       ${n('toFloat64(countIf(clipped))', '- sumIf(ext, clipped_n)')} AS truncated_n,
       ${n('toFloat64(countIf(routed OR hit OR batch OR clipped))', '+ sumIf(ext, NOT (routed OR batch OR clipped_n))')} AS changed,
       sumKahan(cost_usd - c1) AS routing_usd,
       sumKahan(if(hit, c1, 0))${x(' + sumKahan(ext * c1)')} AS cache_usd,
       sumKahan(c3 - c4)${x(' - sumKahan(ext * (c3n - c4n))')} AS batch_usd,
       sumKahan(if(hit, 0, c1 - c3))${x(' - sumKahan(ext * (c1 - c3n))')} AS cap_usd${ruleCounts}
FROM f
GROUP BY GROUPING SETS ((), (day))
ORDER BY is_total DESC, day`;
  return { sql, params };
}

async function queryReplay(ex: ClickHouseExecutor, t: string, scope: AnalysisScope, plan: ReplayPlan): Promise<{ rows: ReplayAggregateRow[]; sql: string }> {
  const { sql, params } = replaySql(t, scope, plan);
  const raw = await ex.query<Row>(sql, params);
  const rows = raw.filter((r) => num(r.is_total) === 0 || num(r.n_events) > 0).map((r): ReplayAggregateRow => ({
    day: num(r.is_total) === 1 ? null : (r.day_s as string),
    events: num(r.n_events),
    baseline_spend_usd: num(r.base_usd),
    projected_spend_usd: num(r.proj_usd),
    baseline_latency_p50_ms: pct(r.bq, 0),
    baseline_latency_p95_ms: pct(r.bq, 1),
    projected_latency_p50_ms: pct(r.pq, 0),
    projected_latency_p95_ms: pct(r.pq, 1),
    exact_hits: num(r.exact_hits),
    semantic_hits: num(r.semantic_hits),
    routed: num(r.routed_n),
    batched: num(r.batched),
    truncated: num(r.truncated_n),
    changed: num(r.changed),
    routing_savings_usd: num(r.routing_usd),
    cache_savings_usd: num(r.cache_usd),
    batch_savings_usd: num(r.batch_usd),
    cap_savings_usd: num(r.cap_usd),
    rule_events: plan.routing.map((_, i) => num(r[`rule_${i}`])),
  }));
  // DuckDB returns the total row for an empty scope too; ClickHouse returns no row at all
  if (!rows.some((r) => r.day === null)) {
    rows.unshift({
      day: null, events: 0, baseline_spend_usd: 0, projected_spend_usd: 0, baseline_latency_p50_ms: null, baseline_latency_p95_ms: null,
      projected_latency_p50_ms: null, projected_latency_p95_ms: null, exact_hits: 0, semantic_hits: 0, routed: 0, batched: 0,
      truncated: 0, changed: 0, routing_savings_usd: 0, cache_savings_usd: 0, batch_savings_usd: 0, cap_savings_usd: 0,
      rule_events: plan.routing.map(() => 0),
    });
  }
  return { rows, sql };
}

/** The replay methods bound to the store's read path. */
export function clickHouseReplayQueries(run: ChRunRead): ReplayQueries {
  return {
    replayModels: (scope, opts) => run('replay_models', (ex, t) => queryReplayModels(ex, t, scope, opts.latency)),
    replayTextEvents: (scope, routing, onBatch) => run('replay_text', (ex, t) => streamReplayText(ex, t, scope, routing, onBatch)),
    replaySimulate: (scope, plan) => run('replay', (ex, t) => queryReplay(ex, t, scope, plan)),
  };
}
