/**
 * What an analysis query needs from a store, whatever the engine: its dialect (the per-engine SQL fragments), the
 * events table, the scope condition, and a way to run a statement (all rows, or streamed in chunks). The DuckDB and
 * ClickHouse stores each build one per read (duckdb-engine.ts, clickhouse-engine.ts); the queries under usage/,
 * cache/, replay/ and performance/ are written once against it.
 *
 * Rows come back as plain objects keyed by the column names the SQL gives (one set of names for both engines), with
 * engine-specific number types (DuckDB BIGINT arrives as bigint, ClickHouse as a JSON number): the readers below
 * accept both, so a query has one converter.
 */
import type { AnalysisScope } from '../../optimize/ports/index.js';
import type { Dialect, EngineName } from './dialect.js';

export type Row = Record<string, unknown>;
/** Bound parameter values: strings, numbers, bigints, null, or arrays of those (each engine binds them its own way). */
export type Params = Record<string, unknown>;

export interface AnalysisEngine {
  readonly dialect: Dialect;
  /** the events table as the SQL names it */
  readonly table: string;
  /** rows a streamed scan hands its caller at a time when the caller does not say (DuckDB: few, see duckdb-engine.ts) */
  readonly defaultChunkRows: number;
  /** the workspace and [from, to) condition and its parameters */
  scope(scope: AnalysisScope): { where: string; params: Params };
  query(sql: string, params: Params): Promise<Row[]>;
  /**
   * Runs a query and hands its rows over in chunks, in result order. With `pauseEvery`, chunks hold at most that many
   * rows and an engine whose reads share this event loop (DuckDB) gives it a turn between them, so a long scan whose
   * caller does synchronous work per chunk still lets requests and WebSocket frames through.
   */
  stream(sql: string, params: Params, onRows: (rows: Row[]) => void, opts?: { pauseEvery?: number }): Promise<void>;
}

/** Runs `fn` with an engine on the store's read path, timed under `kind`. */
export type RunAnalysis = <T>(kind: string, fn: (engine: AnalysisEngine) => Promise<T>) => Promise<T>;

/** The DuckDB and ClickHouse texts of one statement, side by side; each gets the scope condition and the table. */
export type EngineSql<A = void> = Record<EngineName, (q: SqlContext, args: A) => string>;

export interface SqlContext {
  /** scope condition (workspace and time range), for the WHERE clause */
  where: string;
  /** events table */
  t: string;
  d: Dialect;
}

/** The text of `sql` for the engine's dialect. */
export function sqlFor<A>(engine: AnalysisEngine, sql: EngineSql<A>, where: string, args: A): string {
  return sql[engine.dialect.name]({ where, t: engine.table, d: engine.dialect }, args);
}

/** A JS number from whatever an engine returned for a numeric column (number, bigint, numeric string; null → 0). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v == null) return 0;
  return Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v == null ? null : num(v);
}

/** Element i of a list value (quantiles), null when the list or the element is missing. */
export const pct = (list: unknown, i: number): number | null => (Array.isArray(list) ? numOrNull(list[i]) : null);

export const str = (v: unknown): string => (v == null ? '' : String(v));
export const strOrNull = (v: unknown): string | null => (v == null ? null : String(v));
/** The strings of a list value (sample ids), anything else dropped. */
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Rows of one aggregated query plus the SQL that produced them. */
export async function selectRows<R, A>(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  sql: EngineSql<A>,
  args: A,
  extra: Params,
  convert: (r: Row) => R,
): Promise<{ rows: R[]; sql: string }> {
  const { where, params } = engine.scope(scope);
  const text = sqlFor(engine, sql, where, args);
  const rows = (await engine.query(text, { ...params, ...extra })).map(convert);
  return { rows, sql: text };
}
