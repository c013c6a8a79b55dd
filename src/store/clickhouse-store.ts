/**
 * The scale-out analytics store: AnalyticsStore over ClickHouse, through a ClickHouseExecutor (HTTP with
 * @clickhouse/client in production, chdb in-process in the tests). Schema: clickhouse-schema.ts; reads:
 * clickhouse-queries.ts and analysis/ (the analysis queries, shared with DuckDB).
 *
 * Write path (append), serialised through one promise queue per store:
 * 1. validate rows against the column types (a bad row is refused before anything is written);
 * 2. de-duplicate on (workspace, event_id): repeats within the batch are dropped in memory (first copy wins), then
 *    the remaining keys are looked up in the table (`workspace = {ws} AND event_id IN {ids}`, served by the
 *    primary-key prefix and a bloom_filter skip index on event_id); only unseen keys are inserted;
 * 3. new rows go out as JSONEachRow in one INSERT per `insertChunkRows` rows (synchronous inserts: visible to
 *    every later read and lookup when append() resolves).
 *
 * Why a lookup and not ReplacingMergeTree: the table is ordered by (workspace, timestamp), and a retried event
 * may carry another timestamp, so a merge-time dedup would need event_id in the sorting key and FINAL (or argMax)
 * on every analytical read; and the contract says the first copy wins and `inserted` is exact at append time. An
 * in-memory key index (the DuckDB store's) does not scale to a cluster's row counts and cannot see other writers.
 * The cost is one indexed lookup per batch. The limit: two processes appending the same new key at the same
 * moment can both insert it (docs/OPERATIONS.md: route a workspace's ingest to one writer, or accept rare
 * duplicates). `insert_deduplication_token` was rejected: it would also silently drop a batch re-sent after
 * deleteWorkspace().
 *
 * Reads are not queued behind each other (a ClickHouse server runs them in parallel), but each waits for the
 * writes issued before it, so a read sees every event whose append() was called earlier.
 */
import { NetraError } from '../errors.js';
import { checkEventFilter, type EventFilter } from './event-filter.js';
import type { WorkloadEvent } from '../workload/event.js';
import { toEvents, type EventColumns } from '../workload/event-columns.js';
import type { ModelRates } from '../workload/pricing.js';
import type { AnalysisQueries } from '../optimize/ports/index.js';
import type { StoreQueryTiming } from '../optimize/store-health.js';
import type {
  AnalyticsStore,
  AppendResult,
  ChainlessPrompt,
  DatasetInfo,
  DerivedChain,
  PromptCursor,
  RepriceResult,
  Scope,
  StoreHealth,
  WorkspaceInfo,
  WorkspaceStats,
} from './types.js';
import type { ClickHouseExecutor, Row } from './clickhouse-executor.js';
import { validateEvents } from './duckdb-row-writer.js';
import { checkDatabaseName, eventJsonLine, MIGRATIONS, SCHEMA_VERSION, schemaTableDdl, ttlClause, ttlDaysOf } from './clickhouse-schema.js';
import {
  deleteFilteredRows,
  deleteWorkspaceRows,
  num,
  queryDatasets,
  queryEvents,
  queryModels,
  queryStats,
  queryWorkspaces,
  repriceWorkspace,
  queryChainlessPrompts,
  countChainlessPrompts,
  setPrefixBlocks,
} from './clickhouse-queries.js';
import { clickHouseEngine, createAnalysis } from './analysis/index.js';
import { clickHouseBatchScheduleQueries } from './analysis-batch-schedule/index.js';
import { clickHouseBreakdownQueries } from './analysis-breakdown/index.js';
import { QueryTimingLog } from './query-timings.js';

export interface ClickHouseStoreOptions {
  executor: ClickHouseExecutor;
  /** database holding `events` and `netra_schema` (created when missing); default 'netra' */
  database?: string;
  /** drop events older than this many days (MergeTree TTL); 0 keeps them forever (default) */
  ttlDays?: number;
  /** rows per INSERT statement (default 100,000) */
  insertChunkRows?: number;
  /** event ids per de-duplication lookup (default 2,000; bounds the query-parameter size) */
  lookupChunk?: number;
}

/** Unambiguous string key of (workspace, event_id). */
const fullKey = (workspace: string, eventId: string): string => `${workspace.length}:${workspace}${eventId}`;

export class ClickHouseStore implements AnalyticsStore {
  readonly engine = 'clickhouse' as const;
  readonly database: string;
  private readonly table: string;
  private readonly ex: ClickHouseExecutor;
  private readonly ttlDays: number;
  private readonly insertChunkRows: number;
  private readonly lookupChunk: number;
  private initialised = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly reads = new Set<Promise<void>>();
  private readonly timings = new QueryTimingLog();
  readonly analysis: AnalysisQueries = {
    ...createAnalysis((kind, fn) => this.timings.time(kind, () => this.read(() => fn(clickHouseEngine(this.ex, this.table))))),
    ...clickHouseBreakdownQueries((kind, fn) => this.timings.time(kind, () => this.read(() => fn(this.ex, this.table)))),
    ...clickHouseBatchScheduleQueries((kind, fn) => this.timings.time(kind, () => this.read(() => fn(this.ex, this.table)))),
  };

  /**
   * ClickHouse has no snapshot across queries: each query reads the parts merged when it starts. Inserts are synchronous
   * before they are acknowledged, so the only difference from DuckDB's snapshot is events accepted during `fn`.
   */
  analysisSnapshot<T>(fn: (q: AnalysisQueries) => Promise<T>): Promise<T> {
    return fn(this.analysis);
  }

  constructor(opts: ClickHouseStoreOptions) {
    this.ex = opts.executor;
    this.database = checkDatabaseName(opts.database ?? 'netra');
    this.table = `${this.database}.events`;
    this.ttlDays = opts.ttlDays ?? 0;
    ttlClause(this.ttlDays);
    this.insertChunkRows = Math.max(1, opts.insertChunkRows ?? 100_000);
    this.lookupChunk = Math.max(1, opts.lookupChunk ?? 2000);
  }

  /** Wraps fn: refused once the store is closed (checked when called), driver errors become NetraError('STORE'). */
  private guard<T>(fn: () => Promise<T>): () => Promise<T> {
    if (this.closed) return () => Promise.reject(new NetraError('STORE', 'the ClickHouse store is closed'));
    return async () => {
      if (!this.initialised) throw new NetraError('STORE', 'the ClickHouse store is not initialised: call init() first');
      try {
        return await fn();
      } catch (err) {
        if (err instanceof NetraError) throw err;
        throw new NetraError('STORE', `ClickHouse: ${(err as Error).message}`, { cause: err });
      }
    };
  }

  /** Runs a write after every earlier write. */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.guard(fn);
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Runs a read once the writes issued before it are done (reads run side by side). */
  private read<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.guard(fn);
    const p = this.tail.then(run, run);
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.reads.add(settled);
    void settled.then(() => this.reads.delete(settled));
    return p;
  }

  init(): Promise<void> {
    const run = async () => {
      if (this.closed) throw new NetraError('STORE', 'the ClickHouse store is closed');
      try {
        await this.migrate();
        this.initialised = true;
      } catch (err) {
        if (err instanceof NetraError) throw err;
        throw new NetraError('STORE', `ClickHouse: ${(err as Error).message}`, { cause: err });
      }
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private async migrate(): Promise<void> {
    const db = this.database;
    await this.ex.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
    await this.ex.command(schemaTableDdl(db));
    const [v] = await this.ex.query<Row>(`SELECT toFloat64(max(version)) AS v FROM ${db}.netra_schema`);
    const current = num(v?.v);
    if (current > SCHEMA_VERSION) {
      throw new NetraError('STORE', `ClickHouse database ${db} has schema version ${current}; this build knows up to ${SCHEMA_VERSION}`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      for (const sql of m.statements(db, this.ttlDays)) await this.ex.command(sql);
      await this.ex.command(`INSERT INTO ${db}.netra_schema (version) VALUES ({v:UInt32})`, { v: m.version });
    }
    // The TTL is configuration, not schema: bring the table in line with it when it changed.
    const [t] = await this.ex.query<Row>(`SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'events'`, { db });
    if (t && ttlDaysOf(String(t.engine_full)) !== this.ttlDays) {
      await this.ex.command(
        this.ttlDays > 0 ? `ALTER TABLE ${this.table} MODIFY TTL ${ttlClause(this.ttlDays)}` : `ALTER TABLE ${this.table} REMOVE TTL`,
      );
    }
  }

  /** Column batches go through the row path here (one JSON line per event either way). */
  appendColumns(batch: EventColumns): Promise<AppendResult> {
    return this.append(toEvents(batch));
  }

  append(events: readonly WorkloadEvent[]): Promise<AppendResult> {
    return this.write(async () => {
      validateEvents(events);
      const n = events.length;
      if (n === 0) return { inserted: 0, duplicates: 0 };
      const seen = new Set<string>();
      const candidates: number[] = [];
      const idsByWorkspace = new Map<string, string[]>();
      for (let i = 0; i < n; i++) {
        const e = events[i]!;
        const k = fullKey(e.workspace, e.event_id);
        if (seen.has(k)) continue;
        seen.add(k);
        candidates.push(i);
        let ids = idsByWorkspace.get(e.workspace);
        if (!ids) idsByWorkspace.set(e.workspace, (ids = []));
        ids.push(e.event_id);
      }
      const stored = await this.storedKeys(idsByWorkspace);
      const rows =
        stored.size === 0 ? candidates : candidates.filter((i) => !stored.has(fullKey(events[i]!.workspace, events[i]!.event_id)));
      for (let start = 0; start < rows.length; start += this.insertChunkRows) {
        const chunk = rows.slice(start, start + this.insertChunkRows);
        await this.ex.insertJsonEachRow(this.table, chunk.map((i) => eventJsonLine(events[i]!)).join('\n'));
      }
      return { inserted: rows.length, duplicates: n - rows.length };
    });
  }

  /** Keys of the batch already in the table. */
  private async storedKeys(idsByWorkspace: Map<string, string[]>): Promise<Set<string>> {
    const out = new Set<string>();
    for (const [ws, ids] of idsByWorkspace) {
      for (let start = 0; start < ids.length; start += this.lookupChunk) {
        const rows = await this.ex.query<Row>(
          `SELECT event_id FROM ${this.table} WHERE workspace = {ws:String} AND event_id IN {ids:Array(String)}`,
          { ws, ids: ids.slice(start, start + this.lookupChunk) },
        );
        for (const r of rows) out.add(fullKey(ws, r.event_id as string));
      }
    }
    return out;
  }

  stats(scope: Scope): Promise<WorkspaceStats> {
    return this.timings.time('stats', () => this.read(() => queryStats(this.ex, this.table, scope)));
  }

  queryTimings(): StoreQueryTiming[] {
    return this.timings.recent();
  }

  listEvents(scope: Scope, opts: { limit?: number; offset?: number } = {}): Promise<WorkloadEvent[]> {
    return this.read(() => queryEvents(this.ex, this.table, scope, opts));
  }

  workspaces(): Promise<WorkspaceInfo[]> {
    return this.read(() => queryWorkspaces(this.ex, this.table));
  }

  models(workspace: string): Promise<string[]> {
    return this.read(() => queryModels(this.ex, this.table, workspace));
  }

  reprice(workspace: string, rates: ReadonlyMap<string, ModelRates>): Promise<RepriceResult> {
    return this.write(() => repriceWorkspace(this.ex, this.table, workspace, rates));
  }

  chainlessPrompts(workspace: string, after: PromptCursor | null, limit: number): Promise<ChainlessPrompt[]> {
    return this.read(() => queryChainlessPrompts(this.ex, this.table, workspace, after, limit));
  }

  countChainlessPrompts(workspace: string, after: PromptCursor | null): Promise<number> {
    return this.read(() => countChainlessPrompts(this.ex, this.table, workspace, after));
  }

  setPrefixBlocks(workspace: string, chains: readonly DerivedChain[]): Promise<number> {
    return this.write(() => setPrefixBlocks(this.ex, this.table, workspace, chains));
  }

  deleteWorkspace(workspace: string): Promise<number> {
    return this.write(() => deleteWorkspaceRows(this.ex, this.table, workspace));
  }

  datasets(workspace: string): Promise<DatasetInfo[]> {
    if (typeof workspace !== 'string') return Promise.reject(new NetraError('VALIDATION', 'workspace is required', { field: 'workspace' }));
    return this.read(() => queryDatasets(this.ex, this.table, workspace));
  }

  /** Deleted keys can be appended again: the de-duplication lookup reads the table, which no longer has them. */
  deleteEvents(workspace: string, filter: EventFilter): Promise<number> {
    if (typeof workspace !== 'string') return Promise.reject(new NetraError('VALIDATION', 'workspace is required', { field: 'workspace' }));
    let f: EventFilter;
    try {
      f = checkEventFilter(filter);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.write(() => deleteFilteredRows(this.ex, this.table, workspace, f));
  }

  async health(): Promise<StoreHealth> {
    if (this.closed) return { ok: false, engine: 'clickhouse', detail: 'closed' };
    try {
      const [r] = await this.ex.query<Row>('SELECT 1 AS one');
      return num(r?.one) === 1
        ? { ok: true, engine: 'clickhouse', detail: `${this.ex.target} database ${this.database}` }
        : { ok: false, engine: 'clickhouse', detail: `SELECT 1 returned ${JSON.stringify(r)}` };
    } catch (err) {
      return { ok: false, engine: 'clickhouse', detail: (err as Error).message };
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.tail;
      await Promise.all([...this.reads]);
      await this.ex.close();
    })();
    return this.closing;
  }
}

/** Creates the ClickHouse store; call init() before use. */
export function createClickHouseStore(opts: ClickHouseStoreOptions): ClickHouseStore {
  return new ClickHouseStore(opts);
}
