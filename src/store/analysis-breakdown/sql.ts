/**
 * The breakdown query's SQL for both engines, side by side: one builder over a small dialect (parameter syntax,
 * aggregates, quantiles, JSON tags). Three statements: the filtered window's totals; the top groups ranked by the
 * asked metric (events without the dimension are never ranked: they stay their own null group); and the rows per
 * (bucket, group) with every group outside the top folded into OTHER_KEY.
 */
import {
  GRANULARITY_MS,
  OTHER_KEY,
  WEEK_ORIGIN_MS,
  type BreakdownDimension,
  type BreakdownMetric,
  type BreakdownQuery,
} from '../../optimize/ports/breakdown.js';
import { quantilesCont } from '../clickhouse-queries.js';

export interface Dialect {
  /** a bound parameter reference */
  param(name: string, type: 'String' | 'Int64' | 'Array(String)'): string;
  /** the dimension's text value, NULL when absent */
  key(dim: BreakdownDimension): string;
  /** figures' select list (aliases n_events, n_errors, spend, pt_sum, ct_sum, lat_n, lat, ttft) */
  figures: string;
  rank(metric: BreakdownMetric): string;
  /** epoch ms of the event */
  epochMs: string;
  intDiv(a: string, b: string): string;
  inList(expr: string, list: string): string;
  /** count of distinct non-NULL values */
  countDistinct(expr: string): string;
  /** a count as DOUBLE */
  double(expr: string): string;
}

/** Tag keys reach SQL text (a JSON path), so only plain keys are accepted (checkBreakdownQuery checks too). */
const plainTag = (key: string): string => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw new Error(`tag key '${key}' is not plain`);
  return key;
};

export const DUCKDB: Dialect = {
  param: (name, type) => (type === 'Array(String)' ? `$${name}::VARCHAR[]` : `$${name}`),
  key: (dim) =>
    typeof dim === 'string' ? `CAST("${dim}" AS VARCHAR)` : `nullif(json_extract_string(tags, '$."${plainTag(dim.tag)}"'), '')`,
  figures: `count(*)::DOUBLE AS n_events,
    count(*) FILTER (WHERE status = 'error')::DOUBLE AS n_errors,
    coalesce(fsum(cost_usd), 0)::DOUBLE AS spend,
    coalesce(sum(prompt_tokens), 0)::DOUBLE AS pt_sum,
    coalesce(sum(completion_tokens), 0)::DOUBLE AS ct_sum,
    count(latency_ms)::DOUBLE AS lat_n,
    quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS lat,
    quantile_cont(ttft_ms, [0.5, 0.95]) AS ttft`,
  rank: (m) =>
    ({
      spend: 'fsum(cost_usd)',
      calls: 'count(*)',
      tokens: 'sum(prompt_tokens + completion_tokens)',
      prompt_tokens: 'sum(prompt_tokens)',
      completion_tokens: 'sum(completion_tokens)',
      latency_p50: 'quantile_cont(latency_ms, 0.5)',
      latency_p95: 'quantile_cont(latency_ms, 0.95)',
      latency_p99: 'quantile_cont(latency_ms, 0.99)',
      ttft_p50: 'quantile_cont(ttft_ms, 0.5)',
      ttft_p95: 'quantile_cont(ttft_ms, 0.95)',
      error_rate: `count(*) FILTER (WHERE status = 'error')::DOUBLE / count(*)`,
      cost_per_call: 'fsum(cost_usd) / count(*)',
    })[m],
  epochMs: 'epoch_ms("timestamp")',
  intDiv: (a, b) => `((${a}) // (${b}))`,
  inList: (expr, list) => `list_contains(${list}, ${expr})`,
  countDistinct: (expr) => `count(DISTINCT ${expr})::DOUBLE`,
  double: (expr) => `(${expr})::DOUBLE`,
};

export const CLICKHOUSE: Dialect = {
  param: (name, type) => `{${name}:${type}}`,
  key: (dim) =>
    typeof dim === 'string'
      ? `CAST("${dim}" AS Nullable(String))`
      : `nullIf(JSONExtractString(ifNull(tags, '{}'), '${plainTag(dim.tag)}'), '')`,
  figures: `toFloat64(count()) AS n_events,
    toFloat64(countIf(status = 'error')) AS n_errors,
    sumKahan(cost_usd) AS spend,
    toFloat64(sum(prompt_tokens)) AS pt_sum,
    toFloat64(sum(completion_tokens)) AS ct_sum,
    toFloat64(count(latency_ms)) AS lat_n,
    ${quantilesCont('latency_ms', [0.5, 0.95, 0.99])} AS lat,
    ${quantilesCont('ttft_ms', [0.5, 0.95])} AS ttft`,
  rank: (m) =>
    ({
      spend: 'sumKahan(cost_usd)',
      calls: 'toFloat64(count())',
      tokens: 'toFloat64(sum(prompt_tokens + completion_tokens))',
      prompt_tokens: 'toFloat64(sum(prompt_tokens))',
      completion_tokens: 'toFloat64(sum(completion_tokens))',
      latency_p50: `${quantilesCont('latency_ms', [0.5])}[1]`,
      latency_p95: `${quantilesCont('latency_ms', [0.95])}[1]`,
      latency_p99: `${quantilesCont('latency_ms', [0.99])}[1]`,
      ttft_p50: `${quantilesCont('ttft_ms', [0.5])}[1]`,
      ttft_p95: `${quantilesCont('ttft_ms', [0.95])}[1]`,
      error_rate: `toFloat64(countIf(status = 'error')) / count()`,
      cost_per_call: 'sumKahan(cost_usd) / count()',
    })[m],
  epochMs: 'toUnixTimestamp64Milli("timestamp")',
  intDiv: (a, b) => `intDiv(${a}, ${b})`,
  inList: (expr, list) => `has(${list}, ${expr})`,
  countDistinct: (expr) => `toFloat64(uniqExact(${expr}))`,
  double: (expr) => `toFloat64(${expr})`,
};

export interface BreakdownStatements {
  total: string;
  ranked: string | null;
  rows: (folded: boolean) => string;
  /** parameters besides the scope's */
  params: Record<string, string | number>;
}

/**
 * The zone's offset over the window, for local time buckets: the offset at the window's start and each change in it
 * (DST), from zoned-time.ts. Both engines get the same literals, so their buckets are equal by construction (no
 * engine time zone database involved).
 */
export interface ZoneOffsets {
  initial: number;
  changes: { at: number; offset: number }[];
}

/** The top `top` values of `key` (an expression) by `metric` over the rows `where` selects, ties in text order. */
function rankedStatement(d: Dialect, table: string, where: string, key: string, metric: BreakdownMetric, top: number): string {
  return `SELECT ${key} AS grp, ${d.rank(metric)} AS rank_value
FROM ${table} WHERE ${where} AND ${key} IS NOT NULL
GROUP BY grp ORDER BY rank_value DESC NULLS LAST, grp ASC LIMIT ${top}`;
}

/**
 * The most frequent values of each dimension (a name list: which apps, tasks, environments exist), one statement per
 * dimension. Only counts: a full breakdown would also compute the figures and percentiles of every group.
 * A tag is read from the distinct tag objects with their counts, not from every event: events share a few hundred tag
 * objects, and parsing the JSON of each of 1M events took 470 ms where this takes 20 (DuckDB, 2 cores).
 */
export function topValuesStatements(d: Dialect, table: string, where: string, dims: readonly BreakdownDimension[], top: number): string[] {
  return dims.map((dim) => {
    const key = d.key(dim);
    if (typeof dim === 'string') return rankedStatement(d, table, where, key, 'calls', top);
    return `SELECT ${key} AS grp, sum(n) AS rank_value
FROM (SELECT tags, count(*) AS n FROM ${table} WHERE ${where} GROUP BY tags) AS by_tags
WHERE ${key} IS NOT NULL
GROUP BY grp ORDER BY rank_value DESC, grp ASC LIMIT ${top}`;
  });
}

/** Builds the statements over `table` with the scope's `where` (the engine's scopeSql). */
export function breakdownStatements(
  d: Dialect,
  table: string,
  where: string,
  q: BreakdownQuery,
  top: number,
  zone: ZoneOffsets = { initial: 0, changes: [] },
): BreakdownStatements {
  const params: Record<string, string | number> = {};
  let filtered = where;
  q.filters.forEach((f, i) => {
    params[`f${i}`] = f.value;
    filtered += ` AND ${d.key(f.column)} = ${d.param(`f${i}`, 'String')}`;
  });
  const key = q.dimension === null ? null : d.key(q.dimension);
  let bucket: string | null = null;
  if (q.granularity !== null) {
    params.bucket_size = GRANULARITY_MS[q.granularity];
    params.bucket_origin = q.granularity === 'week' ? WEEK_ORIGIN_MS : 0;
    const size = d.param('bucket_size', 'Int64');
    const origin = d.param('bucket_origin', 'Int64');
    // local wall-clock ms: epoch ms + the zone's offset at that instant (a CASE over the offset changes, newest first);
    // the bucket is returned in local ms and turned back into an instant by the caller
    const arms = [...zone.changes]
      .reverse()
      .map((c) => `WHEN ${d.epochMs} >= ${Math.trunc(c.at)} THEN ${Math.trunc(c.offset)}`)
      .join(' ');
    const offset = arms ? `(CASE ${arms} ELSE ${Math.trunc(zone.initial)} END)` : `${Math.trunc(zone.initial)}`;
    const local = zone.initial === 0 && !arms ? d.epochMs : `${d.epochMs} + ${offset}`;
    bucket = `${d.intDiv(`${local} - ${origin}`, size)} * ${size} + ${origin}`;
  }
  const total = `SELECT ${d.figures}${key ? `, ${d.double(`count(${key})`)} AS keyed, ${d.countDistinct(key)} AS n_groups` : ''}
FROM ${table} WHERE ${filtered}`;
  const ranked = key === null ? null : rankedStatement(d, table, filtered, key, q.rank_by, top);
  const rows = (folded: boolean): string => {
    const cols: string[] = [];
    if (bucket) cols.push(`${bucket} AS bucket`);
    if (key)
      cols.push(
        folded
          ? `CASE WHEN ${key} IS NULL THEN NULL WHEN ${d.inList(key, d.param('top_keys', 'Array(String)'))} THEN ${key} ELSE '${OTHER_KEY}' END AS grp`
          : `${key} AS grp`,
      );
    const group = [bucket ? 'bucket' : null, key ? 'grp' : null].filter((x) => x !== null);
    return `SELECT ${[...cols, d.figures].join(', ')}
FROM ${table} WHERE ${filtered}${group.length > 0 ? `\nGROUP BY ${group.join(', ')}` : ''}`;
  };
  return { total, ranked, rows, params };
}
