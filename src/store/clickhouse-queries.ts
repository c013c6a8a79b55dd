/**
 * The read and bulk-update SQL of the ClickHouse store, as functions over an executor and a table name: scoped
 * stats, event listing, workspaces, datasets, models, repricing, deletion (a workspace, or one dataset of it) and the
 * backfill of derived block chains. Every workspace and time bound is a
 * bound `{name:Type}` parameter; the WHERE text itself is built only from fixed fragments. Sums of money use
 * sumKahan (compensated, like DuckDB's fsum), quantiles `quantilesCont` (DuckDB's quantile_cont, see there).
 */
import { NetraError } from '../errors.js';
import type { WorkloadEvent } from '../workload/event.js';
import type { ModelRates } from '../workload/pricing.js';
import type { ClickHouseExecutor, Params, Row } from './clickhouse-executor.js';
import { EVENT_SELECT_LIST, rowToEvent } from './clickhouse-schema.js';
import type { EventFilter } from './event-filter.js';
import { TEXT_MIN_TOKENS } from '../workload/prefix-blocks.js';
import type {
  ChainlessPrompt,
  DatasetInfo,
  DerivedChain,
  PromptCursor,
  RepriceResult,
  Scope,
  WorkspaceInfo,
  WorkspaceStats,
} from './types.js';
import { workspaceStatsFromRows } from './workspace-stats.js';

const DEFAULT_LIST_LIMIT = 1000;

/** A JS number from a JSON value (numbers, numeric strings, null). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v == null) return 0;
  return Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v == null ? null : num(v);
}

/** Element i of a quantiles array (null when the array or the element is missing). */
export const pct = (list: unknown, i: number): number | null => (Array.isArray(list) ? numOrNull(list[i]) : null);

/**
 * DuckDB's quantile_cont (and median), bit for bit: over the sorted non-NULL values s (n of them), RN = (n - 1)·q,
 * d = RN - floor(RN), result = s[floor(RN)]·(1 - d) + s[ceil(RN)]·d; NULL when there is no value. ClickHouse's own
 * quantileExactInclusive has the same definition but computes the fraction as (RN + 1) - floor(RN + 1), which
 * differs in the last bits, enough to flip figures the domain rounds. Returns an Array(Nullable(Float64)) expression,
 * one element per level; `cond` filters rows (the FILTER clause). Levels are constants, never input.
 */
export function quantilesCont(expr: string, levels: readonly number[], cond?: string): string {
  for (const q of levels) if (!(q >= 0 && q <= 1)) throw new NetraError('INTERNAL', `quantile level ${q} out of range`);
  const values = cond ? `groupArrayIf(toFloat64(${expr}), ${cond})` : `groupArray(toFloat64(${expr}))`;
  const at = (i: string) => `s[toUInt64(${i}) + 1]`;
  const one = `arrayMap(rn -> ${at('floor(rn)')} * (1 - (rn - floor(rn))) + ${at('ceil(rn)')} * (rn - floor(rn)), [(toFloat64(length(s)) - 1) * q])[1]`;
  return `arrayMap(s -> arrayMap(q -> if(length(s) = 0, NULL, ${one}), [${levels.map((q) => q.toString()).join(', ')}]), [arraySort(${values})])[1]`;
}

/** Epoch ms → integer epoch µs (the unit of the scope parameters). */
export const toMicros = (ms: number): number => Math.round(ms * 1000);

export function scopeSql(scope: Scope): { where: string; params: Params } {
  if (typeof scope?.workspace !== 'string') throw new NetraError('VALIDATION', 'scope.workspace is required', { field: 'workspace' });
  const params: Params = { ws: scope.workspace };
  let where = 'workspace = {ws:String}';
  if (scope.from != null) {
    where += ` AND "timestamp" >= fromUnixTimestamp64Micro({from_us:Int64}, 'UTC')`;
    params.from_us = toMicros(scope.from);
  }
  if (scope.to != null) {
    where += ` AND "timestamp" < fromUnixTimestamp64Micro({to_us:Int64}, 'UTC')`;
    params.to_us = toMicros(scope.to);
  }
  return { where, params };
}

/** Totals and per-model figures in one scan (GROUPING SETS: the () set is the total row). */
export async function queryStats(ex: ClickHouseExecutor, table: string, scope: Scope): Promise<WorkspaceStats> {
  const { where, params } = scopeSql(scope);
  const rows = await ex.query<Row>(
    `SELECT grouping(model) AS is_total, model, provider,
       toFloat64(count()) AS n_events,
       toFloat64(countIf(status = 'error')) AS n_errors,
       toFloat64(sum(prompt_tokens)) AS prompt_sum,
       toFloat64(sum(completion_tokens)) AS completion_sum,
       toFloat64(sum(cached_prompt_tokens)) AS cached_sum,
       sumKahan(cost_usd) AS spend,
       toFloat64(countIf(token_source = 'estimated')) AS est_events,
       toFloat64(sumIf(prompt_tokens + completion_tokens, token_source = 'estimated')) AS est_tokens,
       toFloat64(countIf(cost_source = 'unknown_model')) AS unpriced,
       ${quantilesCont('latency_ms', [0.5, 0.95])} AS lat,
       lat[1] AS p50,
       lat[2] AS p95,
       toFloat64(toUnixTimestamp64Micro(min("timestamp"))) AS first_us,
       toFloat64(toUnixTimestamp64Micro(max("timestamp"))) AS last_us
     FROM ${table} WHERE ${where}
     GROUP BY GROUPING SETS ((), (model, provider))
     ORDER BY is_total DESC, spend DESC, model, provider`,
    params,
  );
  return workspaceStatsFromRows(scope, rows);
}

/** Events in scope, oldest first. */
export async function queryEvents(
  ex: ClickHouseExecutor,
  table: string,
  scope: Scope,
  opts: { limit?: number; offset?: number } = {},
): Promise<WorkloadEvent[]> {
  const { where, params } = scopeSql(scope);
  const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0) throw new NetraError('VALIDATION', 'limit must be an integer >= 0', { field: 'limit' });
  if (!Number.isInteger(offset) || offset < 0) throw new NetraError('VALIDATION', 'offset must be an integer >= 0', { field: 'offset' });
  if (limit === 0) return [];
  const rows = await ex.query<Row>(
    `SELECT ${EVENT_SELECT_LIST} FROM ${table} WHERE ${where} ORDER BY "timestamp", event_id LIMIT {limit:UInt64} OFFSET {offset:UInt64}`,
    { ...params, limit, offset },
  );
  return rows.map(rowToEvent);
}

/** Every workspace with its event count and first/last event time. */
export async function queryWorkspaces(ex: ClickHouseExecutor, table: string): Promise<WorkspaceInfo[]> {
  const rows = await ex.query<Row>(
    `SELECT workspace, toFloat64(count()) AS n,
       toFloat64(toUnixTimestamp64Micro(min("timestamp"))) AS first_us, toFloat64(toUnixTimestamp64Micro(max("timestamp"))) AS last_us
     FROM ${table} GROUP BY workspace ORDER BY workspace`,
  );
  return rows.map((r) => ({
    workspace: r.workspace as string,
    events: num(r.n),
    first_event: num(r.first_us) / 1000,
    last_event: num(r.last_us) / 1000,
  }));
}

/** Distinct models of a workspace, sorted. */
export async function queryModels(ex: ClickHouseExecutor, table: string, workspace: string): Promise<string[]> {
  const rows = await ex.query<Row>(`SELECT DISTINCT model FROM ${table} WHERE workspace = {ws:String} ORDER BY model`, { ws: workspace });
  return rows.map((r) => r.model as string);
}

async function spend(ex: ClickHouseExecutor, table: string, workspace: string): Promise<number> {
  const [r] = await ex.query<Row>(`SELECT sumKahan(cost_usd) AS s FROM ${table} WHERE workspace = {ws:String}`, { ws: workspace });
  return num(r?.s);
}

/**
 * Recomputes cost_usd of catalog-priced events of the given models: one ALTER TABLE ... UPDATE mutation, waited for
 * (mutations_sync = 2: on every replica). ClickHouse has no transactions: callers serialise writes (the store's
 * queue), and a reprice that fails half-way is safe to repeat (it is idempotent).
 */
export async function repriceWorkspace(
  ex: ClickHouseExecutor,
  table: string,
  workspace: string,
  rates: ReadonlyMap<string, ModelRates>,
): Promise<RepriceResult> {
  const before = await spend(ex, table, workspace);
  const models = [...rates.keys()];
  if (models.length === 0) return { updated: 0, spend_before_usd: before, spend_after_usd: before };
  const r = models.map((m) => rates.get(m)!);
  const params: Params = {
    ws: workspace,
    models,
    r_in: r.map((x) => x.input),
    r_cached: r.map((x) => x.cached_input),
    r_out: r.map((x) => x.output),
  };
  const cond = `workspace = {ws:String} AND cost_source IN ('catalog', 'unknown_model') AND has({models:Array(String)}, model)`;
  const [c] = await ex.query<Row>(`SELECT toFloat64(count()) AS n FROM ${table} WHERE ${cond}`, params);
  const updated = num(c?.n);
  if (updated > 0) {
    // Same arithmetic, in the same order, as costOf() in workload/pricing.ts.
    const at = (arr: string) => `arrayElement({${arr}:Array(Float64)}, indexOf({models:Array(String)}, model))`;
    await ex.command(
      `ALTER TABLE ${table} UPDATE cost_usd =
         (toFloat64(prompt_tokens) - toFloat64(cached_prompt_tokens)) * ${at('r_in')}
         + toFloat64(cached_prompt_tokens) * ${at('r_cached')}
         + toFloat64(completion_tokens) * ${at('r_out')},
         cost_source = 'catalog'
       WHERE ${cond}`,
      params,
      { mutations_sync: 2 },
    );
  }
  return { updated, spend_before_usd: before, spend_after_usd: await spend(ex, table, workspace) };
}

/** Deletes every event of a workspace (lightweight DELETE: rows disappear from reads at once, parts are rewritten later). */
export async function deleteWorkspaceRows(ex: ClickHouseExecutor, table: string, workspace: string): Promise<number> {
  const [c] = await ex.query<Row>(`SELECT toFloat64(count()) AS n FROM ${table} WHERE workspace = {ws:String}`, { ws: workspace });
  const n = num(c?.n);
  if (n > 0) await ex.command(`DELETE FROM ${table} WHERE workspace = {ws:String}`, { ws: workspace });
  return n;
}

/** The workspace's datasets: per app, events, first/last event, spend and distinct models. */
export async function queryDatasets(ex: ClickHouseExecutor, table: string, workspace: string): Promise<DatasetInfo[]> {
  const rows = await ex.query<Row>(
    `SELECT toString(app) AS app, toFloat64(count()) AS n,
       toFloat64(toUnixTimestamp64Micro(min("timestamp"))) AS first_us, toFloat64(toUnixTimestamp64Micro(max("timestamp"))) AS last_us,
       sumKahan(cost_usd) AS spend, arraySort(groupUniqArray(toString(model))) AS models
     FROM ${table} WHERE workspace = {ws:String} GROUP BY app ORDER BY app`,
    { ws: workspace },
  );
  return rows.map((r) => ({
    app: r.app as string,
    events: num(r.n),
    first_event: num(r.first_us) / 1000,
    last_event: num(r.last_us) / 1000,
    spend_usd: num(r.spend),
    models: (r.models as unknown[]).map(String),
  }));
}

/** Deletes the events of a workspace matching a filter (checked by checkEventFilter; lightweight DELETE, as deleteWorkspaceRows). */
export async function deleteFilteredRows(ex: ClickHouseExecutor, table: string, workspace: string, f: EventFilter): Promise<number> {
  const parts = ['workspace = {ws:String}'];
  const params: Params = { ws: workspace };
  if (f.ids) {
    parts.push('event_id IN {ids:Array(String)}');
    params.ids = [...f.ids];
  }
  if (f.app !== undefined) {
    parts.push('app = {app:String}');
    params.app = f.app;
  }
  if (f.model !== undefined) {
    parts.push('model = {model:String}');
    params.model = f.model;
  }
  if (f.from !== undefined) {
    parts.push(`"timestamp" >= fromUnixTimestamp64Micro({from_us:Int64}, 'UTC')`);
    params.from_us = toMicros(f.from);
  }
  if (f.to !== undefined) {
    parts.push(`"timestamp" < fromUnixTimestamp64Micro({to_us:Int64}, 'UTC')`);
    params.to_us = toMicros(f.to);
  }
  const cond = parts.join(' AND ');
  const [c] = await ex.query<Row>(`SELECT toFloat64(count()) AS n FROM ${table} WHERE ${cond}`, params);
  const n = num(c?.n);
  if (n > 0) await ex.command(`DELETE FROM ${table} WHERE ${cond}`, params);
  return n;
}

/** As the DuckDB store's CHAINLESS (duckdb-queries.ts): text long enough for a chain (bytes), no chain stored. */
const CHAINLESS = `workspace = {ws:String} AND empty(prefix_block_hashes) AND prefix_block_size IS NULL
  AND prompt_text IS NOT NULL AND length(prompt_text) >= ${TEXT_MIN_TOKENS}`;

/** The backfill's WHERE from a cursor on: (timestamp, event_id) after it. */
function chainlessAfter(workspace: string, after: PromptCursor | null): { cond: string; params: Params } {
  if (!after) return { cond: CHAINLESS, params: { ws: workspace } };
  return {
    cond: `${CHAINLESS} AND (toUnixTimestamp64Micro("timestamp") > {ts:Int64}
           OR (toUnixTimestamp64Micro("timestamp") = {ts:Int64} AND event_id > {id:String}))`,
    params: { ws: workspace, ts: after.timestamp_us, id: after.event_id },
  };
}

export async function queryChainlessPrompts(
  ex: ClickHouseExecutor,
  table: string,
  workspace: string,
  after: PromptCursor | null,
  limit: number,
): Promise<ChainlessPrompt[]> {
  const { cond, params } = chainlessAfter(workspace, after);
  const rows = await ex.query<Row>(
    `SELECT event_id, toFloat64(toUnixTimestamp64Micro("timestamp")) AS timestamp_us, model, prompt_text FROM ${table}
     WHERE ${cond} ORDER BY "timestamp", event_id LIMIT {limit:UInt32}`,
    { ...params, limit },
  );
  return rows.map((r) => ({
    event_id: String(r.event_id),
    timestamp_us: num(r.timestamp_us),
    model: String(r.model),
    prompt_text: String(r.prompt_text),
  }));
}

export async function countChainlessPrompts(
  ex: ClickHouseExecutor,
  table: string,
  workspace: string,
  after: PromptCursor | null,
): Promise<number> {
  const { cond, params } = chainlessAfter(workspace, after);
  const [r] = await ex.query<Row>(`SELECT toFloat64(count()) AS n FROM ${table} WHERE ${cond}`, params);
  return num(r?.n);
}

/**
 * One ALTER TABLE ... UPDATE mutation for a page of derived chains, waited for (as repriceWorkspace); rows that got a
 * chain meanwhile are left alone. Idempotent, so a page interrupted half-way is safe to repeat.
 */
export async function setPrefixBlocks(
  ex: ClickHouseExecutor,
  table: string,
  workspace: string,
  chains: readonly DerivedChain[],
): Promise<number> {
  if (chains.length === 0) return 0;
  const params: Params = {
    ws: workspace,
    ids: chains.map((c) => c.event_id),
    hashes: chains.map((c) => [...c.hashes]),
    sizes: chains.map((c) => c.block_size),
  };
  const cond = `workspace = {ws:String} AND has({ids:Array(String)}, event_id) AND empty(prefix_block_hashes) AND prefix_block_size IS NULL`;
  const [c] = await ex.query<Row>(`SELECT toFloat64(count()) AS n FROM ${table} WHERE ${cond}`, params);
  const updated = num(c?.n);
  if (updated > 0) {
    const at = `indexOf({ids:Array(String)}, event_id)`;
    await ex.command(
      `ALTER TABLE ${table} UPDATE prefix_block_hashes = arrayElement({hashes:Array(Array(Float64))}, ${at}),
         prefix_block_size = arrayElement({sizes:Array(UInt32)}, ${at})
       WHERE ${cond}`,
      params,
      { mutations_sync: 2 },
    );
  }
  return updated;
}
