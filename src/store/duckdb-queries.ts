/**
 * The read and bulk-update SQL of the DuckDB store, as functions over one connection: scoped stats, event
 * listing, workspaces, datasets, models, repricing, deletion and the backfill of derived block chains. Every workspace and time bound is a bound parameter; the WHERE text
 * itself is built only from fixed fragments.
 */
import { DOUBLE, LIST, listValue, timestampValue, UINTEGER, VARCHAR, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { NetraError } from '../errors.js';
import type { WorkloadEvent } from '../workload/event.js';
import type { ModelRates } from '../workload/pricing.js';
import { checkEventFilter, type EventFilter } from './event-filter.js';
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
import { readEvents, readObjects, toNumber } from './duckdb-rows.js';
import { EVENT_SELECT_LIST } from './duckdb-schema.js';
import { workspaceStatsFromRows } from './workspace-stats.js';
import { quantilesFromCounts } from './analysis/exact-quantiles.js';

const DEFAULT_LIST_LIMIT = 1000;

const ms = (micros: unknown): number | null => (micros == null ? null : toNumber(micros as number) / 1000);

export function scopeSql(scope: Scope): { where: string; params: Record<string, DuckDBValue> } {
  if (typeof scope?.workspace !== 'string') throw new NetraError('VALIDATION', 'scope.workspace is required', { field: 'workspace' });
  const params: Record<string, DuckDBValue> = { ws: scope.workspace };
  let where = 'workspace = $ws';
  if (scope.from != null) {
    where += ' AND "timestamp" >= $from';
    params.from = timestampValue(BigInt(Math.round(scope.from * 1000)));
  }
  if (scope.to != null) {
    where += ' AND "timestamp" < $to';
    params.to = timestampValue(BigInt(Math.round(scope.to * 1000)));
  }
  return { where, params };
}

/**
 * Totals and per-model figures (GROUPING SETS: the () set is the total row). The latency percentiles come from value
 * counts (exact-quantiles.ts, the same doubles as quantile_cont) in a second scan of the latency column: quantile_cont
 * keeps every latency of a group in its state, memory DuckDB's limit does not bound (10M events: +520 MB of peak RSS and
 * 4 s more CPU than both scans), while the counts' hash aggregate is small and under the limit.
 */
export async function queryStats(conn: DuckDBConnection, scope: Scope): Promise<WorkspaceStats> {
  const { where, params } = scopeSql(scope);
  const percentiles = quantilesFromCounts(
    'SELECT is_total, model, provider, x, c FROM v',
    ['is_total', 'model', 'provider'],
    [0.5, 0.95],
    'lat',
  );
  const reader = await conn.runAndReadAll(
    `WITH s AS (
       SELECT grouping(model) AS is_total, model, provider,
         count(*)::DOUBLE AS n_events,
         count(*) FILTER (WHERE status = 'error')::DOUBLE AS n_errors,
         coalesce(sum(prompt_tokens), 0)::DOUBLE AS prompt_sum,
         coalesce(sum(completion_tokens), 0)::DOUBLE AS completion_sum,
         coalesce(sum(cached_prompt_tokens), 0)::DOUBLE AS cached_sum,
         coalesce(fsum(cost_usd), 0)::DOUBLE AS spend,
         count(*) FILTER (WHERE token_source = 'estimated')::DOUBLE AS est_events,
         coalesce(sum(prompt_tokens + completion_tokens) FILTER (WHERE token_source = 'estimated'), 0)::DOUBLE AS est_tokens,
         count(*) FILTER (WHERE cost_source = 'unknown_model')::DOUBLE AS unpriced,
         epoch_us(min("timestamp"))::DOUBLE AS first_us,
         epoch_us(max("timestamp"))::DOUBLE AS last_us
       FROM events WHERE ${where}
       GROUP BY GROUPING SETS ((), (model, provider))
     ),
     v AS (
       SELECT grouping(model) AS is_total, model, provider, latency_ms AS x, count(*) AS c
       FROM events WHERE ${where} AND latency_ms IS NOT NULL
       GROUP BY GROUPING SETS ((latency_ms), (model, provider, latency_ms))
     ),
     q AS (${percentiles})
     SELECT s.*, q.lat[1] AS p50, q.lat[2] AS p95
     FROM s LEFT JOIN q ON q.is_total = s.is_total AND q.model IS NOT DISTINCT FROM s.model AND q.provider IS NOT DISTINCT FROM s.provider
     ORDER BY s.is_total DESC, s.spend DESC, s.model, s.provider`,
    params,
  );
  return workspaceStatsFromRows(scope, readObjects(reader));
}

/** Events in scope, oldest first. */
export async function queryEvents(
  conn: DuckDBConnection,
  scope: Scope,
  opts: { limit?: number; offset?: number } = {},
): Promise<WorkloadEvent[]> {
  const { where, params } = scopeSql(scope);
  const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0) throw new NetraError('VALIDATION', 'limit must be an integer >= 0', { field: 'limit' });
  if (!Number.isInteger(offset) || offset < 0) throw new NetraError('VALIDATION', 'offset must be an integer >= 0', { field: 'offset' });
  const reader = await conn.runAndReadAll(
    `SELECT ${EVENT_SELECT_LIST} FROM events WHERE ${where} ORDER BY "timestamp", event_id LIMIT $limit OFFSET $offset`,
    { ...params, limit: BigInt(limit), offset: BigInt(offset) },
  );
  return readEvents(reader);
}

/** Every workspace with its event count and first/last event time. */
export async function queryWorkspaces(conn: DuckDBConnection): Promise<WorkspaceInfo[]> {
  const reader = await conn.runAndReadAll(
    `SELECT workspace, count(*)::DOUBLE AS events, epoch_us(min("timestamp"))::DOUBLE AS first_us, epoch_us(max("timestamp"))::DOUBLE AS last_us
     FROM events GROUP BY workspace ORDER BY workspace`,
  );
  return readObjects(reader).map((r) => ({
    workspace: r.workspace as string,
    events: toNumber(r.events),
    first_event: ms(r.first_us),
    last_event: ms(r.last_us),
  }));
}

/** Distinct models of a workspace, sorted. */
export async function queryModels(conn: DuckDBConnection, workspace: string): Promise<string[]> {
  const reader = await conn.runAndReadAll('SELECT DISTINCT model FROM events WHERE workspace = $ws ORDER BY model', { ws: workspace });
  return reader.getRowsJS().map((r) => r[0] as string);
}

/** Recomputes cost_usd of catalog-priced events of the given models, in one transaction. */
export async function repriceWorkspace(
  conn: DuckDBConnection,
  workspace: string,
  rates: ReadonlyMap<string, ModelRates>,
): Promise<RepriceResult> {
  const spend = async (): Promise<number> =>
    toNumber(
      (
        await conn.runAndReadAll('SELECT coalesce(fsum(cost_usd), 0)::DOUBLE FROM events WHERE workspace = $ws', { ws: workspace })
      ).getRowsJS()[0]![0],
    );
  const models = [...rates.keys()];
  await conn.run('BEGIN TRANSACTION');
  try {
    const before = await spend();
    let updated = 0;
    if (models.length > 0) {
      const r = models.map((m) => rates.get(m)!);
      // Same arithmetic, in the same order, as costOf() in workload/pricing.ts.
      const result = await conn.run(
        `UPDATE events SET cost_usd =
           (events.prompt_tokens::DOUBLE - events.cached_prompt_tokens::DOUBLE) * r.input
           + events.cached_prompt_tokens::DOUBLE * r.cached_input
           + events.completion_tokens::DOUBLE * r.output,
           cost_source = 'catalog'
         FROM (SELECT unnest($models::VARCHAR[]) AS model, unnest($input::DOUBLE[]) AS input,
                      unnest($cached::DOUBLE[]) AS cached_input, unnest($output::DOUBLE[]) AS output) AS r
         WHERE events.workspace = $ws AND events.cost_source IN ('catalog', 'unknown_model') AND events.model = r.model`,
        {
          ws: workspace,
          models: listValue(models),
          input: listValue(r.map((x) => x.input)),
          cached: listValue(r.map((x) => x.cached_input)),
          output: listValue(r.map((x) => x.output)),
        },
      );
      updated = result.rowsChanged;
    }
    const after = await spend();
    await conn.run('COMMIT');
    return { updated, spend_before_usd: before, spend_after_usd: after };
  } catch (err) {
    await conn.run('ROLLBACK');
    throw err;
  }
}

/** The workspace's datasets: per app, events, first/last event, spend and distinct models. */
export async function queryDatasets(conn: DuckDBConnection, workspace: string): Promise<DatasetInfo[]> {
  const reader = await conn.runAndReadAll(
    `SELECT app, count(*)::DOUBLE AS events, epoch_us(min("timestamp"))::DOUBLE AS first_us, epoch_us(max("timestamp"))::DOUBLE AS last_us,
       coalesce(fsum(cost_usd), 0)::DOUBLE AS spend_usd, list_sort(list(DISTINCT model)) AS models
     FROM events WHERE workspace = $ws GROUP BY app ORDER BY app`,
    { ws: workspace },
  );
  return readObjects(reader).map((r) => ({
    app: r.app as string,
    events: toNumber(r.events),
    first_event: ms(r.first_us)!,
    last_event: ms(r.last_us)!,
    spend_usd: toNumber(r.spend_usd),
    models: (r.models as unknown as string[]).map(String),
  }));
}

/** The fixed predicate of a deletion over a table alias (`workspace` alone, or `workspace` and `app`), values bound. */
export type DeletePredicate = (alias: string) => string;
export const WORKSPACE_ROWS: DeletePredicate = (t) => `${t}.workspace = $ws`;
export const APP_ROWS: DeletePredicate = (t) => `${t}.workspace = $ws AND ${t}.app = $app`;

/** The predicate and parameters of an event filter (checked here first); values are always bound parameters. */
export function filterRows(workspace: string, filter: EventFilter): { pred: DeletePredicate; params: Record<string, DuckDBValue> } {
  const f = checkEventFilter(filter);
  const params: Record<string, DuckDBValue> = { ws: workspace };
  const parts: ((t: string) => string)[] = [(t) => `${t}.workspace = $ws`];
  if (f.ids) {
    params.ids = listValue([...f.ids]);
    parts.push((t) => `list_contains($ids, ${t}.event_id)`);
  }
  if (f.app !== undefined) {
    params.app = f.app;
    parts.push((t) => `${t}.app = $app`);
  }
  if (f.model !== undefined) {
    params.model = f.model;
    parts.push((t) => `${t}.model = $model`);
  }
  if (f.from !== undefined) {
    params.from = timestampValue(BigInt(Math.round(f.from * 1000)));
    parts.push((t) => `${t}."timestamp" >= $from`);
  }
  if (f.to !== undefined) {
    params.to = timestampValue(BigInt(Math.round(f.to * 1000)));
    parts.push((t) => `${t}."timestamp" < $to`);
  }
  return { pred: (t) => parts.map((p) => p(t)).join(' AND '), params };
}

/**
 * Deletes the rows matching `pred` in one transaction. Returns how many were deleted and the key hashes no remaining
 * row has (safe to drop from the de-duplication index; a hash another row shares through a collision stays).
 */
export async function deleteRows(
  conn: DuckDBConnection,
  pred: DeletePredicate,
  params: Record<string, DuckDBValue>,
): Promise<{ deleted: number; freedHashes: number[] }> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const freed = await conn.runAndReadAll(
      `SELECT DISTINCT d.key_hash FROM events d WHERE ${pred('d')}
         AND NOT EXISTS (SELECT 1 FROM events o WHERE o.key_hash = d.key_hash AND NOT (${pred('o')}))`,
      params,
    );
    const deleted = (await conn.run(`DELETE FROM events WHERE ${pred('events')}`, params)).rowsChanged;
    await conn.run('COMMIT');
    return { deleted, freedHashes: freed.getRowsJS().map((r) => toNumber(r[0])) };
  } catch (err) {
    await conn.run('ROLLBACK');
    throw err;
  }
}

/**
 * Events the chain backfill must look at: prompt text of at least TEXT_MIN_TOKENS bytes (a token is at least one byte,
 * so shorter texts can never yield a chain) and no chain stored, given or derived.
 */
const CHAINLESS = `workspace = $ws AND prefix_block_hashes IS NULL AND prefix_block_size IS NULL
  AND prompt_text IS NOT NULL AND strlen(prompt_text) >= ${TEXT_MIN_TOKENS}`;

/** The backfill's WHERE from a cursor on: (timestamp, event_id) after it. */
function chainlessAfter(workspace: string, after: PromptCursor | null): { cond: string; params: Record<string, DuckDBValue> } {
  const params: Record<string, DuckDBValue> = { ws: workspace };
  if (!after) return { cond: CHAINLESS, params };
  params.ts = BigInt(after.timestamp_us);
  params.id = after.event_id;
  return { cond: `${CHAINLESS} AND (epoch_us("timestamp") > $ts OR (epoch_us("timestamp") = $ts AND event_id > $id))`, params };
}

export async function queryChainlessPrompts(
  conn: DuckDBConnection,
  workspace: string,
  after: PromptCursor | null,
  limit: number,
): Promise<ChainlessPrompt[]> {
  const { cond, params } = chainlessAfter(workspace, after);
  const reader = await conn.runAndReadAll(
    `SELECT event_id, epoch_us("timestamp")::DOUBLE AS timestamp_us, model, prompt_text FROM events
     WHERE ${cond} ORDER BY "timestamp", event_id LIMIT $limit`,
    { ...params, limit },
  );
  return readObjects(reader).map((r) => ({
    event_id: r.event_id as string,
    timestamp_us: toNumber(r.timestamp_us as number),
    model: r.model as string,
    prompt_text: r.prompt_text as string,
  }));
}

export async function countChainlessPrompts(conn: DuckDBConnection, workspace: string, after: PromptCursor | null): Promise<number> {
  const { cond, params } = chainlessAfter(workspace, after);
  return toNumber((await conn.runAndReadAll(`SELECT count(*)::DOUBLE FROM events WHERE ${cond}`, params)).getRowsJS()[0]![0]);
}

/** One UPDATE for a page of derived chains; rows that got a chain meanwhile (given by a client) are left alone. */
export async function setPrefixBlocks(conn: DuckDBConnection, workspace: string, chains: readonly DerivedChain[]): Promise<number> {
  if (chains.length === 0) return 0;
  const result = await conn.run(
    `UPDATE events SET prefix_block_hashes = c.hashes, prefix_block_size = c.block_size
     FROM (SELECT unnest($ids) AS event_id, unnest($hashes) AS hashes, unnest($sizes) AS block_size) AS c
     WHERE events.workspace = $ws AND events.event_id = c.event_id
       AND events.prefix_block_hashes IS NULL AND events.prefix_block_size IS NULL`,
    {
      ws: workspace,
      ids: listValue(chains.map((c) => c.event_id)),
      hashes: listValue(chains.map((c) => listValue([...c.hashes]))),
      sizes: listValue(chains.map((c) => c.block_size)),
    },
    { ws: VARCHAR, ids: LIST(VARCHAR), hashes: LIST(LIST(DOUBLE)), sizes: LIST(UINTEGER) },
  );
  return result.rowsChanged;
}
