/**
 * The fragments every analysis query repeats, once per engine: bound parameters, quantiles, tag tests, the epoch-µs
 * timestamp, minute buckets, list membership, NULL defaults. A query's two SQL texts (see engine.ts) call these
 * instead of spelling them out; where the two engines' algorithms differ, the texts differ and say why.
 *
 * ClickHouse translation rules the texts follow (DuckDB → ClickHouse):
 * - `x FILTER (WHERE c)` → the -If combinator (`countIf`, `sumKahanIf`, `groupArrayIf`, ...);
 * - fsum → sumKahan; quantile_cont / median → `quantiles` below (DuckDB's interpolation, bit for bit);
 *   quantile_disc (nearest rank) → the ceil(q·n)-th smallest value of the sorted group array;
 * - arg_min/arg_max(x, by, n) → `topN` (groupArraySorted; ties broken by x, where DuckDB leaves them open);
 * - no output alias repeats a column name: ClickHouse aliases are visible in WHERE and would shadow the column;
 * - ClickHouse aggregates of nothing are 0 / nan where DuckDB gives NULL: nan reaches JS as null (JSON output),
 *   and places where NULL matters use the -OrNull combinator or an explicit count check.
 */
import { timestampValue } from '@duckdb/node-api';
import { NetraError } from '../../errors.js';
import { quantilesCont } from '../clickhouse-queries.js';
import { PROMPT_SIZE_BANDS } from '../../optimize/ports/usage.js';

export type EngineName = 'duckdb' | 'clickhouse';

/** ClickHouse parameter types used by the analyses (DuckDB infers them from the bound value). */
export type ParamType = 'String' | 'Float64' | 'Int64' | 'UInt32' | 'Array(String)' | 'Array(Nullable(Float64))';

export interface Dialect {
  readonly name: EngineName;
  /** a bound parameter: `$name` or `{name:Type}` */
  param(name: string, type: ParamType): string;
  /** an integer parameter value that must bind as a 64-bit integer (DuckDB: a bigint) */
  int64(v: number): number | bigint;
  /** continuous quantiles (DuckDB's quantile_cont) of `expr` at `levels`, as one list, over rows where `cond` holds */
  quantiles(expr: string, levels: readonly number[], cond?: string): string;
  /** `expr` rounded to a whole number, halves away from zero (ClickHouse's round() rounds float halves to even) */
  round(expr: string): string;
  /** `expr`, or `fallback` when it is NULL */
  ifNull(expr: string, fallback: string): string;
  /** list parameter `name` contains `expr` */
  listHas(name: string, type: 'String', expr: string): string;
  /** `s` starts with / contains the string parameter `name` */
  startsWith(s: string, name: string): string;
  contains(s: string, name: string): string;
  /** tags.<key> equals a literal value, tested on the stored JSON text (see tagLiteral) */
  tagIs(key: string, value: string): string;
  /** the tags have the key at all */
  tagHas(key: string): string;
  /** the event timestamp as integer epoch µs */
  readonly epochUs: string;
  /**
   * `"timestamp"` at or after the epoch-µs parameter `from` and before `to` (timeParam binds them). DuckDB compares the
   * column itself, so its zone maps skip the blocks outside the range; ClickHouse compares epochUs.
   */
  timeBetween(from: string, to: string): string;
  /** an epoch-µs value bound for timeBetween */
  timeParam(us: number): unknown;
  /** the tags column as text (for substring tests) */
  readonly tagsText: string;
}

/**
 * A tag test as a literal substring of the tags text instead of a JSON parse (parsing every row's tags costs more
 * than the rest of a query). Exact because the store writes tags with JSON.stringify of a flat string map (compact,
 * no spaces): inside a string every '"' is escaped. Keys and values here are plain [a-z0-9_], so need no escaping.
 */
function tagLiteral(key: string, value?: string): string {
  if (!/^[a-z0-9_]+$/.test(key) || (value !== undefined && !/^[a-z0-9_]+$/.test(value))) {
    throw new NetraError('INTERNAL', `tag literal ${key}=${value ?? ''} must be [a-z0-9_]`);
  }
  return value === undefined ? `"${key}":` : `"${key}":"${value}"`;
}

export const duckdb: Dialect = {
  name: 'duckdb',
  param: (name) => `$${name}`,
  int64: (v) => BigInt(v),
  quantiles: (expr, levels, cond) => {
    for (const q of levels) if (!(q >= 0 && q <= 1)) throw new NetraError('INTERNAL', `quantile level ${q} out of range`);
    return `quantile_cont(${expr}, [${levels.join(', ')}])${cond ? ` FILTER (WHERE ${cond})` : ''}`;
  },
  round: (expr) => `round(${expr})`,
  ifNull: (expr, fallback) => `coalesce(${expr}, ${fallback})`,
  listHas: (name, _type, expr) => `list_contains($${name}::VARCHAR[], ${expr})`,
  startsWith: (s, name) => `starts_with(${s}, $${name})`,
  contains: (s, name) => `contains(${s}, $${name})`,
  tagIs: (key, value) => `coalesce(regexp_matches(tags::VARCHAR, '${tagLiteral(key, value)}'), false)`,
  tagHas: (key) => `coalesce(regexp_matches(tags::VARCHAR, '${tagLiteral(key)}'), false)`,
  epochUs: 'epoch_us("timestamp")',
  timeBetween: (from, to) => `("timestamp" >= $${from} AND "timestamp" < $${to})`,
  timeParam: (us) => timestampValue(BigInt(Math.round(us))),
  tagsText: 'tags::VARCHAR',
};

export const clickhouse: Dialect = {
  name: 'clickhouse',
  param: (name, type) => `{${name}:${type}}`,
  int64: (v) => v,
  quantiles: (expr, levels, cond) => quantilesCont(expr, levels, cond),
  round: (expr) => `(sign(${expr}) * floor(abs(${expr}) + 0.5))`,
  ifNull: (expr, fallback) => `ifNull(${expr}, ${fallback})`,
  listHas: (name, type, expr) => `has({${name}:Array(${type})}, ${expr})`,
  startsWith: (s, name) => `startsWith(${s}, {${name}:String})`,
  contains: (s, name) => `position(${s}, {${name}:String}) > 0`,
  tagIs: (key, value) => `ifNull(position(tags, '${tagLiteral(key, value)}') > 0, false)`,
  tagHas: (key) => `ifNull(position(tags, '${tagLiteral(key)}') > 0, false)`,
  epochUs: 'toUnixTimestamp64Micro("timestamp")',
  timeBetween: (from, to) =>
    `(toUnixTimestamp64Micro("timestamp") >= {${from}:Int64} AND toUnixTimestamp64Micro("timestamp") < {${to}:Int64})`,
  timeParam: (us) => Math.round(us),
  tagsText: 'tags',
};

/** ClickHouse's arg_min(value, key, n): the values of the n smallest keys, key order (ties by value). */
export function topN(n: number, key: string, value: string, cond?: string): string {
  return cond
    ? `arrayMap(x -> x.2, groupArraySortedIf(${n})((${key}, ${value}), ${cond}))`
    : `arrayMap(x -> x.2, groupArraySorted(${n})((${key}, ${value})))`;
}

/** CASE expression mapping prompt_tokens to its PROMPT_SIZE_BANDS band (bounds are constants, not input); both engines. */
export function sizeBandSql(): string {
  const arms = PROMPT_SIZE_BANDS.filter((b) => Number.isFinite(b.below)).map((b) => `WHEN prompt_tokens < ${b.below} THEN '${b.band}'`);
  return `CASE ${arms.join(' ')} ELSE '${PROMPT_SIZE_BANDS[PROMPT_SIZE_BANDS.length - 1]!.band}' END`;
}

/** Seconds as an integer number of microseconds, validated (a TTL or window from the caller). */
export function secondsToMicros(v: number, field: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new NetraError('VALIDATION', `${field} must be a number of seconds > 0`, { field });
  return Math.round(v * 1e6);
}

/** How many sample ids an aggregated row carries. */
export const SAMPLES = 3;
