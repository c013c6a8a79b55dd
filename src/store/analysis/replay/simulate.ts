/**
 * The what-if replay in SQL: one pass over the scoped events applies the plan (routing rules as a CASE, provider
 * prompt-cache reads the domain simulated as a join on event_id, the exact response cache as a window over (routed
 * model, prompt_hash), caps and batch discounts as per-row arithmetic) and
 * returns baseline vs projected totals and percentiles per UTC day (GROUPING SETS: the () set is the total row).
 * Every value reaches SQL as a bound parameter; the one inlined number, the TTL in µs, is an integer computed here.
 *
 * Where the engines differ, and why:
 * - rates: DuckDB joins a small unnest()ed rates table; ClickHouse looks them up in bound arrays
 *   (`arrayElement({rx}, indexOf({rm}, model))`, NULL when the model has no rate, like the LEFT JOIN);
 * - exact-cache candidates: only events whose (routed model, prompt_hash) occurs more than once can hit. DuckDB finds
 *   them with a hash aggregate over hash(prompt_hash) (prompts repeated under any model; a collision only adds
 *   candidates), routes only those, counts successes in
 *   `RANGE BETWEEN ttl PRECEDING AND 1 PRECEDING` and joins the hits back by rowid. ClickHouse requires a RANGE offset
 *   to fit a 32-bit integer (2,147 s in µs), so it takes the latest success strictly earlier (`UNBOUNDED PRECEDING AND
 *   1 PRECEDING`) and checks it is at most ttl µs before — a success within the TTL exists iff the latest one is — and
 *   matches hits back by event_id (unique within a workspace: the store de-duplicates on it);
 * - recorded latency's percentiles: DuckDB's from value counts of a second scan (exact-quantiles.ts, the same doubles
 *   as quantile_cont), because quantile_cont's states hold every latency in memory DuckDB's limit does not bound (two
 *   grouping sets over 10M events: 160 MB and more of vectors); the projected latency repeats too little for counts;
 * - money: DuckDB sums integer picodollars (each value rounded to 1e-12 USD), exact and independent of the order in
 *   which threads combine partial sums, so its replays are bit-for-bit deterministic; ClickHouse uses sumKahan.
 */
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { emptyReplayTotal, type ReplayAggregateRow, type ReplayPlan } from '../../../optimize/ports/replay.js';
import type { Dialect } from '../dialect.js';
import { num, pct, sqlFor, type AnalysisEngine, type EngineSql, type Params, type Row } from '../engine.js';
import { matchSql, routedModelSql } from './match.js';
import { quantilesFromCounts } from '../exact-quantiles.js';

interface Shape {
  routed: { rule: string; model: string };
  cap: string;
  batch: string;
  withSem: boolean;
  /** provider prompt-cache reads given (plan.prompt_cache) */
  withPc: boolean;
  /** sampled semantic hits: each stands for `ext` more (unsampled) events like it (weight - 1; see ReplayPlan) */
  extra: boolean;
  ttlUs: number | null;
  rules: number;
}

/** The per-row projection after the rates are known (x: routed, hit flags, target rates d_*, latency factor lf). */
function projection(d: Dialect, s: Shape): string {
  const x = (sql: string) => (s.extra ? sql : '');
  return `w AS (
  SELECT *, ${s.withPc ? `${d.ifNull('pc_hit * (d_in - d_cin) - pc_write * d_wp', '0')}` : '0'} AS pcs FROM x
),
y AS (
  SELECT *, exact_hit OR sem_hit AS hit,
         CASE WHEN routed THEN (pt - cpt) * d_in + cpt * d_cin + ct * d_out ELSE cost_usd END - pcs AS c1,
         NOT (exact_hit OR sem_hit) AND cap IS NOT NULL AND ct > cap AS clipped${x(`,
         CASE WHEN sem_hit AND NOT exact_hit THEN ${d.name === 'duckdb' ? '$sem_extra::DOUBLE' : '{sem_extra:Float64}'} ELSE 0 END AS ext`)}
  FROM w
),
z AS (
  SELECT *,
         CASE WHEN hit THEN 0 WHEN clipped THEN greatest(c1 - (ct - cap) * ${d.ifNull('d_out', '0')}, 0) ELSE c1 END AS c3,
         CASE WHEN latency_ms IS NULL THEN NULL
              WHEN hit THEN ${d.param('cache_ms', 'Float64')}
              WHEN clipped AND ttft_ms IS NOT NULL AND latency_ms > 0 THEN latency_ms * lf * (ttft_ms + (latency_ms - ttft_ms) * cap / ct) / latency_ms
              ELSE latency_ms * lf END AS plat${x(`,
         ${d.ifNull('cap IS NOT NULL AND ct > cap', 'false')} AS clipped_n,
         CASE WHEN clipped_n THEN greatest(c1 - (ct - cap) * ${d.ifNull('d_out', '0')}, 0) ELSE c1 END AS c3n`)}
  FROM y
),
f AS ${d.name === 'duckdb' ? 'NOT MATERIALIZED ' : ''}(SELECT *, CASE WHEN NOT hit AND batch THEN c3 * (1 - d_bd) ELSE c3 END AS c4${x(', CASE WHEN batch THEN c3n * (1 - d_bd) ELSE c3n END AS c4n')} FROM z)`;
}

export const REPLAY_SQL: EngineSql<Shape> = {
  duckdb: ({ where, t, d }, s) => {
    const cols = `${s.withSem || s.withPc ? 'event_id, ' : ''}"timestamp"::DATE AS day, model, status,
         prompt_tokens::DOUBLE AS pt, completion_tokens::DOUBLE AS ct, cached_prompt_tokens::DOUBLE AS cpt,
         latency_ms, ttft_ms, cost_usd, rule, cap, batch`;
    const scoped = (more: string) => `SELECT *, rowid AS rid, ${s.routed.rule} AS rule${more} FROM ${t} WHERE ${where}`;
    // Candidates first, on the prompt alone: a hit needs another call with the same prompt_hash, and hashing the one
    // column skips the routing CASE (tag string tests) on the ~all rows whose prompt is unique; only the candidates
    // get their routed model and go through the window (a hash collision only adds candidates). The window's leading
    // partition key is a hash of the exact key: the sort compares one integer instead of two strings for most pairs.
    const hits =
      s.ttlUs === null
        ? ''
        : `
dk AS (SELECT hash(prompt_hash) AS k FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL GROUP BY k HAVING count(*) > 1),
hits AS MATERIALIZED (
  SELECT rid FROM (
    SELECT rid, count(*) FILTER (WHERE ok) OVER (
             PARTITION BY k, pmodel, prompt_hash ORDER BY ts_us RANGE BETWEEN ${s.ttlUs} PRECEDING AND 1 PRECEDING) AS n
    FROM (SELECT *, hash(pmodel, prompt_hash) AS k FROM (
      SELECT rid, ${d.epochUs} AS ts_us, ${s.routed.model} AS pmodel, prompt_hash, status = 'ok' AS ok
      FROM (${scoped('')} AND prompt_hash IS NOT NULL AND hash(prompt_hash) IN (SELECT k FROM dk)))))
  WHERE n > 0
),`;
    const cached =
      s.ttlUs === null
        ? 'c AS (SELECT *, false AS exact_hit FROM e)'
        : 'c AS (SELECT e.*, h.rid IS NOT NULL AS exact_hit FROM e LEFT JOIN hits h ON h.rid = e.rid)';
    const pico = (v: string) => `coalesce(sum(round(${v} * 1e12)::BIGINT), 0)`;
    // counts as sums of 0/1: a FILTER clause slices the input chunk once per aggregate and grouping set
    const cnt = (cond: string) => `coalesce(sum((${cond})::INTEGER), 0)`;
    const x = (sql: string) => (s.extra ? sql : '');
    const n = (count: string, ext: string) => (s.extra ? `${d.round(`${count} ${ext}`)}::DOUBLE` : `${count}::DOUBLE`);
    const ruleCounts = Array.from({ length: s.rules }, (_, i) => `, ${cnt(`rule = ${i}`)}::DOUBLE AS rule_${i}`).join('');
    return `
WITH r AS (
  SELECT unnest($rm::VARCHAR[]) AS model, unnest($ri::DOUBLE[]) AS input, unnest($rc::DOUBLE[]) AS cached_input,
         unnest($ro::DOUBLE[]) AS output, unnest($rb::DOUBLE[]) AS batch_discount, unnest($rl::DOUBLE[]) AS mpt,
         unnest($rw::DOUBLE[]) AS write_premium
),${hits}
e AS (SELECT rid, ${cols}, ${s.routed.model} AS pmodel FROM (${scoped(`, ${s.cap} AS cap, ${s.batch} AS batch`)})),
${cached},
x AS (
  SELECT c.*, ${s.withSem ? 'sem.event_id IS NOT NULL' : 'false'} AS sem_hit, c.pmodel <> c.model AS routed,
         d.input AS d_in, d.cached_input AS d_cin, d.output AS d_out, coalesce(d.batch_discount, 0) AS d_bd,
         coalesce(d.write_premium, 0) AS d_wp,
         ${s.withPc ? 'coalesce(pc.pc_hit, 0) AS pc_hit, coalesce(pc.pc_write, 0) AS pc_write,' : '0 AS pc_hit, 0 AS pc_write,'}
         CASE WHEN c.pmodel <> c.model AND s.mpt > 0 AND d.mpt > 0 THEN d.mpt / s.mpt ELSE 1 END AS lf
  FROM c LEFT JOIN r s ON s.model = c.model LEFT JOIN r d ON d.model = c.pmodel
  ${s.withSem ? 'LEFT JOIN (SELECT DISTINCT unnest($sem::VARCHAR[]) AS event_id) sem ON sem.event_id = c.event_id' : ''}
  ${s.withPc ? 'LEFT JOIN (SELECT unnest($pci::VARCHAR[]) AS event_id, unnest($pch::DOUBLE[]) AS pc_hit, unnest($pcw::DOUBLE[]) AS pc_write) pc ON pc.event_id = c.event_id' : ''}
),
${projection(d, s)},
bl AS (
  SELECT grouping(day) AS is_total, day, latency_ms AS x, count(*) AS c
  FROM (SELECT "timestamp"::DATE AS day, latency_ms FROM ${t} WHERE ${where} AND latency_ms IS NOT NULL)
  GROUP BY GROUPING SETS ((latency_ms), (day, latency_ms))
),
bq AS (${quantilesFromCounts('SELECT is_total, day, x, c FROM bl', ['is_total', 'day'], [0.5, 0.95], 'bq')}),
pl AS (SELECT grouping(day) AS is_total, day, plat AS x, count(*) AS c FROM f WHERE plat IS NOT NULL GROUP BY GROUPING SETS ((plat), (day, plat))),
pq AS (${quantilesFromCounts('SELECT is_total, day, x, c FROM pl', ['is_total', 'day'], [0.5, 0.95], 'pq')}),
agg AS (
SELECT grouping(day) AS is_total, day, strftime(day, '%Y-%m-%d') AS day_s, count(*)::DOUBLE AS n_events,
       ${pico('cost_usd')} AS base_usd, ${pico('c4')}${x(` - ${pico('ext * c4n')}`)} AS proj_usd,
       ${cnt('exact_hit')}::DOUBLE AS exact_hits,
       ${n(cnt('sem_hit AND NOT exact_hit'), ' + coalesce(sum(ext), 0)')} AS semantic_hits,
       ${cnt('pc_hit > 0 AND NOT hit')}::DOUBLE AS pc_hits,
       ${pico('pcs')} AS pc_usd,
       ${cnt('routed')}::DOUBLE AS routed_n,
       ${n(cnt('batch AND NOT hit'), ' - coalesce(sum(ext) FILTER (WHERE batch), 0)')} AS batched,
       ${n(cnt('clipped'), ' - coalesce(sum(ext) FILTER (WHERE clipped_n), 0)')} AS truncated_n,
       ${n(cnt('routed OR hit OR batch OR clipped OR pcs <> 0'), ' + coalesce(sum(ext) FILTER (WHERE NOT (routed OR batch OR clipped_n OR pcs <> 0)), 0)')} AS changed,
       ${pico('cost_usd')} - ${pico('(c1 + pcs)')} AS routing_usd,
       ${pico('CASE WHEN hit THEN c1 ELSE 0 END')}${x(` + ${pico('ext * c1')}`)} AS cache_usd,
       ${pico('c3')} - ${pico('c4')}${x(` - ${pico('ext * c3n')} + ${pico('ext * c4n')}`)} AS batch_usd,
       ${pico('CASE WHEN hit THEN 0 ELSE c1 END')} - ${pico('c3')}${x(` - ${pico('ext * c1')} + ${pico('ext * c3n')}`)} AS cap_usd${ruleCounts}
FROM f
GROUP BY GROUPING SETS ((), (day))
)
SELECT agg.*, bq.bq, pq.pq FROM agg LEFT JOIN bq ON bq.is_total = agg.is_total AND bq.day IS NOT DISTINCT FROM agg.day
  LEFT JOIN pq ON pq.is_total = agg.is_total AND pq.day IS NOT DISTINCT FROM agg.day
ORDER BY agg.is_total DESC, agg.day`;
  },

  clickhouse: ({ where, t, d }, s) => {
    const rate = (arr: string, model: string) => `arrayElement({${arr}:Array(Nullable(Float64))}, indexOf({rm:Array(String)}, ${model}))`;
    const x = (sql: string) => (s.extra ? sql : '');
    const n = (count: string, ext: string) => (s.extra ? d.round(`${count} ${ext}`) : count);
    const hits =
      s.ttlUs === null
        ? ''
        : `
ek AS (SELECT event_id, ts_us, ${s.routed.model} AS pmodel, prompt_hash, ok FROM (
      SELECT event_id, ${d.epochUs} AS ts_us, model, prompt_hash, status = 'ok' AS ok, ${s.routed.rule} AS rule
      FROM ${t} WHERE ${where} AND prompt_hash IS NOT NULL)),
hits AS (
  SELECT event_id FROM (
    SELECT event_id, ts_us, countIf(ok) OVER w AS n_ok, maxIf(ts_us, ok) OVER w AS last_ok_us
    FROM ek WHERE (pmodel, prompt_hash) IN (SELECT pmodel, prompt_hash FROM ek GROUP BY pmodel, prompt_hash HAVING count() > 1)
    WINDOW w AS (PARTITION BY pmodel, prompt_hash ORDER BY ts_us RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
  WHERE n_ok > 0 AND last_ok_us >= ts_us - ${s.ttlUs}
),`;
    const ruleCounts = Array.from({ length: s.rules }, (_, i) => `, toFloat64(countIf(rule = ${i})) AS rule_${i}`).join('');
    return `
WITH${hits}
e AS (
  SELECT event_id, day, model, status, pt, ct, cpt, latency_ms, ttft_ms, cost_usd, rule, cap, batch, ${s.routed.model} AS pmodel FROM (
    SELECT event_id, toDate("timestamp") AS day, model, status,
           toFloat64(prompt_tokens) AS pt, toFloat64(completion_tokens) AS ct, toFloat64(cached_prompt_tokens) AS cpt,
           latency_ms, ttft_ms, cost_usd, ${s.routed.rule} AS rule, ${s.cap} AS cap, ${s.batch} AS batch
    FROM ${t} WHERE ${where})
),
x AS (
  SELECT *, ${s.ttlUs === null ? 'false' : 'event_id IN (SELECT event_id FROM hits)'} AS exact_hit,
         ifNull(${rate('rw', 'pmodel')}, 0) AS d_wp,${s.withPc ? '' : ' toFloat64(0) AS pc_hit, toFloat64(0) AS pc_write,'}
         ${s.withSem ? 'event_id IN {sem:Array(String)}' : 'false'} AS sem_hit,
         pmodel != toString(model) AS routed,
         ${rate('ri', 'pmodel')} AS d_in, ${rate('rc', 'pmodel')} AS d_cin, ${rate('ro', 'pmodel')} AS d_out,
         ifNull(${rate('rb', 'pmodel')}, 0) AS d_bd,
         CASE WHEN pmodel != toString(model) AND ${rate('rl', 'toString(model)')} > 0 AND ${rate('rl', 'pmodel')} > 0
              THEN ${rate('rl', 'pmodel')} / ${rate('rl', 'toString(model)')} ELSE 1 END AS lf
  FROM e${
    s.withPc
      ? ` LEFT JOIN (SELECT tupleElement(z, 1) AS pc_id, tupleElement(z, 2) AS pc_hit, tupleElement(z, 3) AS pc_write
      FROM (SELECT arrayJoin(arrayZip({pci:Array(String)}, {pch:Array(Float64)}, {pcw:Array(Float64)})) AS z)) pc ON pc.pc_id = e.event_id`
      : ''
  }
),
${projection(d, s)}
SELECT grouping(day) AS is_total, toString(day) AS day_s, toFloat64(count()) AS n_events,
       sumKahan(cost_usd) AS base_usd, sumKahan(c4)${x(' - sumKahan(ext * c4n)')} AS proj_usd,
       ${d.quantiles('latency_ms', [0.5, 0.95])} AS bq, ${d.quantiles('plat', [0.5, 0.95])} AS pq,
       toFloat64(countIf(exact_hit)) AS exact_hits,
       ${n('toFloat64(countIf(sem_hit AND NOT exact_hit))', '+ sum(ext)')} AS semantic_hits,
       toFloat64(countIf(pc_hit > 0 AND NOT hit)) AS pc_hits,
       sumKahan(pcs) AS pc_usd,
       toFloat64(countIf(routed)) AS routed_n,
       ${n('toFloat64(countIf(batch AND NOT hit))', '- sumIf(ext, batch)')} AS batched,
       ${n('toFloat64(countIf(clipped))', '- sumIf(ext, clipped_n)')} AS truncated_n,
       ${n('toFloat64(countIf(routed OR hit OR batch OR clipped OR pcs != 0))', '+ sumIf(ext, NOT (routed OR batch OR clipped_n OR pcs != 0))')} AS changed,
       sumKahan(cost_usd - c1 - pcs) AS routing_usd,
       sumKahan(if(hit, c1, 0))${x(' + sumKahan(ext * c1)')} AS cache_usd,
       sumKahan(c3 - c4)${x(' - sumKahan(ext * (c3n - c4n))')} AS batch_usd,
       sumKahan(if(hit, 0, c1 - c3))${x(' - sumKahan(ext * (c1 - c3n))')} AS cap_usd${ruleCounts}
FROM f
GROUP BY GROUPING SETS ((), (day))
ORDER BY is_total DESC, day`;
  },
};

/** The replay SQL and its parameters for a scope and plan. */
export function replaySql(engine: AnalysisEngine, scope: AnalysisScope, plan: ReplayPlan): { sql: string; params: Params } {
  const d = engine.dialect;
  const { where, params } = engine.scope(scope);
  const routed = routedModelSql(d, plan.routing, params);
  const capArms = plan.caps.map((c, i) => {
    params[`k${i}_cap`] = c.cap;
    return `WHEN ${matchSql(d, c.match, `k${i}`, params)} THEN ${d.param(`k${i}_cap`, 'Float64')}`;
  });
  const noCap = d.name === 'duckdb' ? 'NULL' : 'CAST(NULL AS Nullable(Float64))';
  const cap = capArms.length ? `CASE ${capArms.join(' ')}${d.name === 'duckdb' ? '' : ' ELSE NULL'} END` : noCap;
  const batch = plan.batch.length ? `(${plan.batch.map((b, i) => matchSql(d, b, `b${i}`, params)).join(' OR ')})` : 'false';
  params.rm = plan.rates.map((r) => r.model);
  params.ri = plan.rates.map((r) => r.input);
  params.rc = plan.rates.map((r) => r.cached_input);
  params.ro = plan.rates.map((r) => r.output);
  params.rb = plan.rates.map((r) => r.batch_discount);
  params.rl = plan.rates.map((r) => r.ms_per_output_token);
  params.rw = plan.rates.map((r) => r.cache_write_premium);
  const withPc = plan.prompt_cache !== null && plan.prompt_cache.event_ids.length > 0;
  if (withPc) {
    params.pci = [...plan.prompt_cache!.event_ids];
    params.pch = [...plan.prompt_cache!.hit_tokens];
    params.pcw = [...plan.prompt_cache!.write_tokens];
  }
  params.cache_ms = plan.cache_latency_ms;
  const withSem = plan.semantic_hit_ids.length > 0;
  if (withSem) params.sem = d.name === 'duckdb' ? [...plan.semantic_hit_ids] : [...new Set(plan.semantic_hit_ids)];
  const extra = withSem && (plan.semantic_hit_weight ?? 1) > 1;
  if (extra) params.sem_extra = plan.semantic_hit_weight! - 1;
  const ttlUs = plan.exact_cache_ttl_ms === null ? null : Math.max(1, Math.round(plan.exact_cache_ttl_ms * 1000));
  const sql = sqlFor(engine, REPLAY_SQL, where, { routed, cap, batch, withSem, withPc, extra, ttlUs, rules: plan.routing.length });
  return { sql, params };
}

export async function replaySimulate(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  plan: ReplayPlan,
): Promise<{ rows: ReplayAggregateRow[]; sql: string }> {
  const { sql, params } = replaySql(engine, scope, plan);
  // money columns: DuckDB's are integer picodollars (see above), ClickHouse's dollars
  const usd = engine.dialect.name === 'duckdb' ? (v: unknown) => num(v) / 1e12 : num;
  const toRow = (r: Row): ReplayAggregateRow => ({
    day: num(r.is_total) === 1 ? null : (r.day_s as string),
    events: num(r.n_events),
    baseline_spend_usd: usd(r.base_usd),
    projected_spend_usd: usd(r.proj_usd),
    baseline_latency_p50_ms: pct(r.bq, 0),
    baseline_latency_p95_ms: pct(r.bq, 1),
    projected_latency_p50_ms: pct(r.pq, 0),
    projected_latency_p95_ms: pct(r.pq, 1),
    exact_hits: num(r.exact_hits),
    semantic_hits: num(r.semantic_hits),
    prompt_cache_hits: num(r.pc_hits),
    routed: num(r.routed_n),
    batched: num(r.batched),
    truncated: num(r.truncated_n),
    changed: num(r.changed),
    routing_savings_usd: usd(r.routing_usd),
    cache_savings_usd: usd(r.cache_usd),
    prompt_cache_savings_usd: usd(r.pc_usd),
    batch_savings_usd: usd(r.batch_usd),
    cap_savings_usd: usd(r.cap_usd),
    rule_events: plan.routing.map((_, i) => num(r[`rule_${i}`])),
  });
  // an empty scope: DuckDB returns a total row of zeros, ClickHouse no row at all; both give the same zero total
  const rows = (await engine.query(sql, params)).filter((r) => num(r.is_total) === 0 || num(r.n_events) > 0).map(toRow);
  if (!rows.some((r) => r.day === null)) rows.unshift(emptyReplayTotal(plan.routing.length));
  return { rows, sql };
}
