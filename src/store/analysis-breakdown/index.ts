/**
 * The breakdown query (ports/breakdown.ts) on both engines: the statements come from sql.ts, rows are read back by
 * one converter, and the top-N / "other" folding is the same code path for DuckDB and ClickHouse
 * (test/analysis-parity.test.ts holds them equal).
 */
import { listValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { NetraError } from '../../errors.js';
import {
  checkBreakdownQuery,
  GRANULARITY_MS,
  MAX_BREAKDOWN_BUCKETS,
  MAX_BREAKDOWN_GROUPS,
  OTHER_KEY,
  type BreakdownFigures,
  type BreakdownQueries,
  type BreakdownQuery,
  type BreakdownResult,
  type BreakdownDimension,
  type BreakdownRow,
} from '../../optimize/ports/breakdown.js';
import type { AnalysisScope } from '../../optimize/ports/index.js';
import { scopeSql as chScopeSql } from '../clickhouse-queries.js';
import type { ClickHouseExecutor } from '../clickhouse-executor.js';
import { scopeSql as duckScopeSql } from '../duckdb-queries.js';
import { readObjects } from '../duckdb-rows.js';
import { offsetChanges, UTC, zonedTime } from '../../workload/zoned-time.js';
import { breakdownStatements, CLICKHOUSE, DUCKDB, topValuesStatements, type Dialect } from './sql.js';

/** A local bucket start (wall-clock ms of the zone, as if UTC) → the instant it starts. */
function localToInstant(local: number, tz: string): number {
  if (tz === UTC) return local;
  const w = new Date(local);
  return zonedTime(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate(), w.getUTCHours(), w.getUTCMinutes(), tz);
}

/** The ClickHouse store's read path: its executor and events table. */
type ChRunRead = <T>(kind: string, fn: (ex: ClickHouseExecutor, table: string) => Promise<T>) => Promise<T>;

/** The DuckDB store's read path: a connection of its read queue (pending appends committed first). */
type RunRead = <T>(kind: string, fn: (conn: DuckDBConnection) => Promise<T>) => Promise<T>;

type Exec = (sql: string, params: Record<string, unknown>) => Promise<Record<string, unknown>[]>;

const num = (v: unknown): number => (typeof v === 'number' ? v : v == null ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => {
  if (v == null) return null;
  const n = num(v);
  return Number.isNaN(n) ? null : n;
};
const at = (list: unknown, i: number): number | null => (Array.isArray(list) ? numOrNull(list[i]) : null);

/** The one converter: a row of either engine (aliases of Dialect.figures) → figures. */
export function figuresOf(r: Record<string, unknown>): BreakdownFigures {
  return {
    events: num(r.n_events),
    errors: num(r.n_errors),
    spend_usd: num(r.spend),
    prompt_tokens: num(r.pt_sum),
    completion_tokens: num(r.ct_sum),
    latency_events: num(r.lat_n),
    latency_p50_ms: at(r.lat, 0),
    latency_p95_ms: at(r.lat, 1),
    latency_p99_ms: at(r.lat, 2),
    ttft_p50_ms: at(r.ttft, 0),
    ttft_p95_ms: at(r.ttft, 1),
  };
}

/** null keys last, OTHER_KEY just before them, the rest in text order */
const keyOrder = (k: string | null): [number, string] => (k === null ? [2, ''] : k === OTHER_KEY ? [1, ''] : [0, k]);

async function runBreakdown(
  d: Dialect,
  exec: Exec,
  table: string,
  where: string,
  scopeParams: Record<string, unknown>,
  scope: AnalysisScope,
  q: BreakdownQuery,
): Promise<BreakdownResult> {
  checkBreakdownQuery(q);
  if (q.granularity !== null && (scope.to - scope.from) / GRANULARITY_MS[q.granularity] > MAX_BREAKDOWN_BUCKETS) {
    throw new NetraError(
      'VALIDATION',
      `a ${q.granularity} breakdown of this window has more than ${MAX_BREAKDOWN_BUCKETS} buckets; choose a coarser granularity or a shorter window`,
      { field: 'granularity' },
    );
  }
  const top = Math.min(q.top ?? MAX_BREAKDOWN_GROUPS, MAX_BREAKDOWN_GROUPS);
  const tz = q.time_zone ?? UTC;
  const zone = q.granularity !== null && tz !== UTC ? offsetChanges(scope.from, scope.to, tz) : undefined;
  const st = breakdownStatements(d, table, where, q, top, zone);
  const params = { ...scopeParams, ...st.params };
  const [t] = await exec(st.total, params);
  const total = figuresOf(t ?? {});
  const groups = q.dimension === null ? 0 : num(t?.n_groups);
  const keyed = q.dimension === null ? total.events : num(t?.keyed);
  let keys: string[] = [];
  if (st.ranked !== null) keys = (await exec(st.ranked, params)).map((r) => String(r.grp));
  const folded = q.dimension !== null && groups > keys.length;
  let rows: BreakdownRow[];
  if (q.dimension === null && q.granularity === null) {
    rows = [{ bucket_start: null, key: null, ...total }];
  } else {
    const raw = await exec(st.rows(folded), folded ? { ...params, top_keys: keys } : params);
    rows = raw.map((r) => ({
      bucket_start: q.granularity === null ? null : localToInstant(num(r.bucket), tz),
      key: q.dimension === null || r.grp == null ? null : String(r.grp),
      ...figuresOf(r),
    }));
  }
  rows.sort((a, b) => {
    if ((a.bucket_start ?? 0) !== (b.bucket_start ?? 0)) return (a.bucket_start ?? 0) - (b.bucket_start ?? 0);
    const [ra, ka] = keyOrder(a.key);
    const [rb, kb] = keyOrder(b.key);
    return ra !== rb ? ra - rb : ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const sql = [st.total, st.ranked, q.dimension !== null || q.granularity !== null ? st.rows(folded) : null]
    .filter((s) => s !== null)
    .join(';\n');
  return { total, keyed_events: keyed, groups, rows, sql };
}

async function runTopValues(
  d: Dialect,
  exec: Exec,
  table: string,
  where: string,
  scopeParams: Record<string, unknown>,
  dims: readonly BreakdownDimension[],
  top: number,
): Promise<string[][]> {
  for (const dimension of dims) checkBreakdownQuery({ dimension, granularity: null, filters: [], rank_by: 'calls', top });
  const out: string[][] = [];
  for (const sql of topValuesStatements(d, table, where, dims, top))
    out.push((await exec(sql, scopeParams)).map((r) => String(r.grp)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  return out;
}

/** DuckDB: Int64 parameters as BIGINT, the top keys as a VARCHAR list. */
function duckParams(sql: string, p: Record<string, unknown>): Record<string, DuckDBValue> {
  const out: Record<string, DuckDBValue> = {};
  for (const [k, v] of Object.entries(p)) {
    if (!new RegExp(`\\$${k}\\b`).test(sql)) continue; // DuckDB refuses parameters a statement does not use
    if (k === 'top_keys') out[k] = listValue(v as string[]);
    else if (k === 'bucket_size' || k === 'bucket_origin') out[k] = BigInt(v as number);
    else out[k] = v as DuckDBValue;
  }
  return out;
}

const duckExec =
  (conn: DuckDBConnection): Exec =>
  async (sql, p) =>
    readObjects(await conn.runAndReadAll(sql, duckParams(sql, p))) as Record<string, unknown>[];
const chExec =
  (ex: ClickHouseExecutor): Exec =>
  (sql, p) =>
    ex.query<Record<string, unknown>>(sql, p);

export function duckDbBreakdownQueries(run: RunRead): BreakdownQueries {
  return {
    breakdown(scope, q) {
      return run('breakdown', async (conn) => {
        const { where, params } = duckScopeSql(scope);
        return runBreakdown(DUCKDB, duckExec(conn), 'events', where, params, scope, q);
      });
    },
    topValues(scope, dims, top) {
      return run('top_values', async (conn) => {
        const { where, params } = duckScopeSql(scope);
        return runTopValues(DUCKDB, duckExec(conn), 'events', where, params, dims, top);
      });
    },
  };
}

export function clickHouseBreakdownQueries(run: ChRunRead): BreakdownQueries {
  return {
    breakdown(scope, q) {
      return run('breakdown', async (ex, table) => {
        const { where, params } = chScopeSql(scope);
        return runBreakdown(CLICKHOUSE, chExec(ex), table, where, params, scope, q);
      });
    },
    topValues(scope, dims, top) {
      return run('top_values', async (ex, table) => {
        const { where, params } = chScopeSql(scope);
        return runTopValues(CLICKHOUSE, chExec(ex), table, where, params, dims, top);
      });
    },
  };
}
