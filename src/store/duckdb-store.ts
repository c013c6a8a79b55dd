// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * The embedded analytics store: AnalyticsStore over DuckDB (@duckdb/node-api).
 *
 * Write path (append):
 * 1. validate rows against the column types (a bad row is refused before anything is written);
 * 2. de-duplicate on (workspace, event_id) with an in-memory index of 53-bit key hashes (duckdb-key-index.ts):
 *    a miss proves the key is new; hits (retries, repeats within the batch, rare hash collisions) are settled
 *    exactly, against the batch itself and, when needed, against the table (`key_hash IN (...)`). The index is read
 *    from the table at the first append, not at init: a process that only analyses never holds it (16 bytes a stored
 *    event: 128 MB at 10M);
 * 3. a file-backed store writes the new rows to its write-ahead spool and resolves once they are durable there
 *    (fdatasync, grouped across concurrent appends; duckdb-spool-loader.ts). DuckDB then loads whole spool segments
 *    on its own threads, off the event loop: from the rows' columns when the batch came with them (appendEncoded,
 *    duckdb-load-columns.ts), else with one `INSERT ... read_ndjson` of the files; it removes them after the commit;
 *    a crash before that is replayed from the files at the next start (exactly once, by an anti-join on the key). So
 *    an acknowledged event survives `kill -9` (durability 'fsync': also an OS crash or power loss).
 *    Why a spool and not DuckDB's own commit per request or a writer thread: duckdb-spool-loader.ts. An in-memory
 *    store (tests, benchmarks) appends through one Appender (duckdb-row-writer.ts), committed as a group.
 *
 * Every read and delete runs through one operation queue (operation-queue.ts: short interactive reads go before the
 * queued analysis queries) after every acknowledged row is committed, so reads see every accepted event; the queries
 * of one analysis share a snapshot instead (analysisSnapshot). Reads are scoped by a bound workspace parameter and a
 * [from, to) range in epoch milliseconds.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, listValue, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { NetraError } from '../errors.js';
import type { WorkloadEvent } from '../workload/event.js';
import type { ModelRates } from '../workload/pricing.js';
import type {
  AnalyticsStore,
  AppendResult,
  ChainlessPrompt,
  DatasetInfo,
  DerivedChain,
  EncodedBatch,
  PromptCursor,
  RepriceResult,
  Scope,
  StoreHealth,
  WorkspaceInfo,
  WorkspaceStats,
} from './types.js';
import { appendEventRows, validateEvents } from './duckdb-row-writer.js';
import { ColumnarStage, checkColumns, columnarFits, newKeyHashes } from './duckdb-columnar-append.js';
import { toEvents, type EventColumns } from '../workload/event-columns.js';
import { decodeSpoolBatch, spoolLine } from './duckdb-bulk-load.js';
import { SpoolLoader, type ReplayResult } from './duckdb-spool-loader.js';
import { ScanThreads, type ScanThreadsPolicy } from './duckdb-batch-scan.js';
import { encodeLoadColumns } from './duckdb-load-columns.js';
import type { SpoolDurability } from './event-spool.js';
import { KeyHashSet, fullKey, keyHash, loadKeyIndex, settleSuspects } from './duckdb-key-index.js';
import {
  type DeletePredicate,
  WORKSPACE_ROWS,
  deleteRows,
  filterRows,
  queryDatasets,
  queryEvents,
  queryModels,
  queryStats,
  queryWorkspaces,
  repriceWorkspace,
  queryChainlessPrompts,
  countChainlessPrompts,
  setPrefixBlocks,
} from './duckdb-queries.js';
import { toNumber } from './duckdb-rows.js';
import { migrateSchema } from './duckdb-schema.js';
import { createAnalysis, duckDbEngine } from './analysis/index.js';
import { duckDbBatchScheduleQueries } from './analysis-batch-schedule/index.js';
import { duckDbBreakdownQueries } from './analysis-breakdown/index.js';
import { QueryTimingLog } from './query-timings.js';
import { OperationQueue } from './operation-queue.js';
import type { AnalysisQueries } from '../optimize/ports/index.js';
import type { StoreQueryTiming } from '../optimize/store-health.js';

export interface DuckDbStoreOptions {
  /** database file, or ':memory:' */
  path: string;
  /** commit once this many accepted rows are pending (default 122,880: one DuckDB row group, written straight to the file) */
  flushRows?: number;
  /** commit pending rows at most this long after they were accepted (default 1,000 ms); 0: commit in every append() */
  flushIntervalMs?: number;
  /**
   * File-backed stores: when append() resolves. 'fsync' (default): the rows are in the spool and synced to disk;
   * 'write': written to the spool without a sync (survives a crash of the process, not of the machine).
   */
  durability?: SpoolDurability;
  /** most bytes of encoded batches' column copies held for DuckDB's load (duckdb-spool-loader.ts; 0: load every segment from its file) */
  liveLoadMaxBytes?: number;
  /** extra DuckDB settings, e.g. { threads: '2', memory_limit: '1GB' } */
  duckdb?: Record<string, string>;
  /** when a load from a JS table function runs with DuckDB's threads at 1 (duckdb-batch-scan.ts; default 'reads') */
  scanThreads?: ScanThreadsPolicy;
}

export class DuckDbStore implements AnalyticsStore {
  readonly engine = 'duckdb' as const;
  private readonly path: string;
  private readonly flushRows: number;
  private readonly flushIntervalMs: number;
  private readonly settings: Record<string, string>;
  private readonly durability: SpoolDurability;
  private readonly liveLoadMaxBytes: number | undefined;
  private loader: SpoolLoader | null = null;
  /** what the last init() replayed from a crashed process's spool */
  lastReplay: ReplayResult = { segments: 0, rows: 0 };

  private instance: DuckDBInstance | null = null;
  private conn: DuckDBConnection | null = null;
  private appendConn: DuckDBConnection | null = null;
  private appender: DuckDBAppender | null = null;
  /** column batches staged for one INSERT (duckdb-columnar-append.ts), on a connection of their own */
  private stage: ColumnarStage | null = null;
  private stageConn: DuckDBConnection | null = null;
  /** one per instance: DuckDB's thread setting while a JS table function is read (duckdb-batch-scan.ts) */
  private readonly scanThreads: ScanThreads;
  private keys = new KeyHashSet();
  private keysLoaded = false;
  /** the index's load from the table, queued by the first append (see ensureKeys) */
  private keysLoading: Promise<void> | null = null;
  private pendingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushError: unknown = null;
  private readonly ops = new OperationQueue();
  private closing: Promise<void> | null = null;
  private readonly timings = new QueryTimingLog();
  readonly analysis: AnalysisQueries = this.queriesOver((fn, urgent) => this.read(fn, urgent));

  /** The analysis queries, each run by `read` (a chat turn's names and figures urgent: they wait only for the query
   * running, not for an analysis queued ahead of them). */
  private queriesOver(read: <T>(fn: (conn: DuckDBConnection) => Promise<T>, urgent?: boolean) => Promise<T>): AnalysisQueries {
    return {
      ...createAnalysis((kind, fn) => this.timings.time(kind, () => read((conn) => fn(duckDbEngine(conn))))),
      ...duckDbBreakdownQueries((kind, fn) => this.timings.time(kind, () => read(fn, true))),
      ...duckDbBatchScheduleQueries((kind, fn) => this.timings.time(kind, () => read(fn))),
    };
  }

  /** File-backed stores only: an in-memory store has no spool format to take (AnalyticsStore.appendEncoded). */
  readonly appendEncoded?: (batch: EncodedBatch) => Promise<AppendResult>;

  constructor(opts: DuckDbStoreOptions) {
    this.path = opts.path;
    if (this.path !== ':memory:') this.appendEncoded = (batch) => this.appendEncodedSpooled(batch);
    this.flushRows = Math.max(1, opts.flushRows ?? 122_880);
    this.flushIntervalMs = Math.max(0, opts.flushIntervalMs ?? 1000);
    this.settings = opts.duckdb ?? {};
    this.durability = opts.durability ?? 'fsync';
    this.liveLoadMaxBytes = opts.liveLoadMaxBytes;
    this.scanThreads = new ScanThreads(opts.scanThreads);
  }

  /** Changes when loads run with DuckDB's threads at 1 (benchmarks compare the policies in one process). */
  setScanThreadsPolicy(policy: ScanThreadsPolicy): void {
    this.scanThreads.policy = policy;
  }

  /**
   * Runs fn after every earlier operation (an urgent read: after the one running; operation-queue.ts); DuckDB errors
   * become NetraError('STORE').
   */
  private enqueue<T>(fn: () => Promise<T>, allowClosed = false, urgent = false): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closing && !allowClosed) throw new NetraError('STORE', 'the DuckDB store is closed');
      if (this.loader?.error && !allowClosed) {
        this.flushError ??= this.loader.error;
        this.loader.error = null;
      }
      if (this.flushError && !allowClosed) {
        const err = this.flushError;
        this.flushError = null;
        throw err;
      }
      try {
        return await fn();
      } catch (err) {
        if (err instanceof NetraError) throw err;
        throw new NetraError('STORE', `DuckDB: ${(err as Error).message}`, { cause: err });
      }
    };
    return this.ops.run(run, urgent);
  }

  private db(): DuckDBConnection {
    if (!this.conn) throw new NetraError('STORE', 'the DuckDB store is not initialised: call init() first');
    return this.conn;
  }

  init(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.instance) {
        if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
        this.instance = await DuckDBInstance.create(this.path, this.settings);
        this.conn = await this.instance.connect();
        this.appendConn = await this.instance.connect();
      }
      await migrateSchema(this.db(), this.path);
      if (this.path === ':memory:') this.appender ??= await this.appendConn!.createAppender('events');
      else if (!this.loader) {
        const spool = {
          dir: `${this.path}.spool`,
          durability: this.durability,
          liveBytesLimit: this.liveLoadMaxBytes,
          commitRows: this.flushRows,
          commitIntervalMs: this.flushIntervalMs,
          scanThreads: this.scanThreads,
          memoryLimit: this.settings.memory_limit,
        };
        this.loader = new SpoolLoader(this.appendConn!, spool);
        this.lastReplay = await this.loader.replay();
      }
    });
  }

  /**
   * Loads the de-duplication index from the table once, in the operation queue. Every write path awaits it before it
   * adds its first hashes, so the load sees every stored row and no row of this process is missing from it: until the
   * index exists nothing was appended, and the spool replay of a crashed process finished inside init().
   */
  private ensureKeys(): Promise<void> {
    this.keysLoading ??= this.enqueue(() => this.loadKeysNow()).catch((err: unknown) => {
      this.keysLoading = null;
      throw err;
    });
    return this.keysLoading;
  }

  /** The index load itself, for code already running in the operation queue. */
  private async loadKeysNow(): Promise<void> {
    if (this.keysLoaded) return;
    this.keys = await loadKeyIndex(this.db());
    this.keysLoaded = true;
  }

  /** Commits every pending appended row. */
  flush(): Promise<void> {
    return this.enqueue(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    if (this.stage?.rows) await this.stage.commit();
    if (this.loader) return this.loader.commit();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pendingRows === 0 || !this.appender) return;
    const rows = this.pendingRows;
    this.pendingRows = 0;
    try {
      this.appender.flushSync();
    } catch (err) {
      // The appender dropped those rows; start a clean one so later appends still work.
      try {
        this.appender.closeSync();
      } catch {
        /* already failed */
      }
      this.appender = await this.appendConn!.createAppender('events');
      throw new NetraError('STORE', `DuckDB: committing ${rows} appended events failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private scheduleFlush(): void {
    if (this.timer || this.closing) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.enqueue(() => this.flushNow()).catch((err: unknown) => {
        if (!this.closing) this.flushError = err;
      });
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  append(events: readonly WorkloadEvent[]): Promise<AppendResult> {
    if (this.loader) return this.appendSpooled(events);
    return this.enqueue(async () => {
      if (!this.appender) this.db();
      validateEvents(events);
      const n = events.length;
      if (n === 0) return { inserted: 0, duplicates: 0 };
      await this.loadKeysNow();
      const hashes = new Float64Array(n);
      let suspects: number[] | null = null;
      for (let i = 0; i < n; i++) {
        const e = events[i]!;
        const h = keyHash(e.workspace, e.event_id);
        hashes[i] = h;
        if (!this.keys.add(h)) (suspects ??= []).push(i);
      }
      let rows = events;
      let rowHashes = hashes;
      if (suspects) {
        const keep = await settleSuspects(events, hashes, suspects, (h) => this.storedKeys(h));
        rows = keep.map((i) => events[i]!);
        rowHashes = Float64Array.from(keep, (i) => hashes[i]!);
      }
      if (rows.length > 0) {
        appendEventRows(this.appender!, rows, rowHashes);
        this.pendingRows += rows.length;
        if (this.flushIntervalMs === 0 || this.pendingRows >= this.flushRows) await this.flushNow();
        else this.scheduleFlush();
      }
      return { inserted: rows.length, duplicates: n - rows.length };
    });
  }

  /**
   * Appends a column batch (workload/event-columns.ts) through the columnar stage: no JS value per cell. Staged rows
   * are committed like appended ones (flushRows / flushIntervalMs, and before every read); a file-backed store commits
   * before resolving, so they are as durable as spooled rows. A batch with a key that may be stored already, or with
   * block chains, goes through append() instead.
   */
  appendColumns(batch: EventColumns): Promise<AppendResult> {
    if (this.closing) return Promise.reject(new NetraError('STORE', 'the DuckDB store is closed'));
    if (batch.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    if (!columnarFits(batch)) return this.append(toEvents(batch));
    try {
      checkColumns(batch);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.keysLoaded) return this.ensureKeys().then(() => this.appendColumns(batch));
    const hashes = newKeyHashes(batch, this.keys);
    if (!hashes) return this.append(toEvents(batch));
    return this.enqueue(async () => {
      if (!this.stage) {
        this.stageConn = await this.instanceOrThrow().connect();
        this.stage = new ColumnarStage(this.stageConn, this.scanThreads);
      }
      if (!this.stage.fits(batch)) await this.stage.commit();
      this.stage.add(batch, hashes);
      if (this.loader || this.flushIntervalMs === 0 || this.stage.rows >= this.flushRows) await this.stage.commit();
      else this.scheduleFlush();
      return { inserted: batch.length, duplicates: 0 };
    });
  }

  private instanceOrThrow(): DuckDBInstance {
    if (!this.instance) throw new NetraError('STORE', 'the DuckDB store is not initialised: call init() first');
    return this.instance;
  }

  /**
   * File-backed append: the de-duplication index and the spool write happen in one synchronous step (no await between),
   * so a later commit, and the table check of a later batch repeating these keys, cover these rows. Batches with
   * suspected repeats go through the operation queue (their check needs the table) and spool in the same step.
   */
  private async appendSpooled(events: readonly WorkloadEvent[]): Promise<AppendResult> {
    if (this.closing) throw new NetraError('STORE', 'the DuckDB store is closed');
    validateEvents(events);
    const n = events.length;
    if (n === 0) return { inserted: 0, duplicates: 0 };
    // after this, hashing, the index and the spool write are one synchronous step again
    if (!this.keysLoaded) {
      await this.ensureKeys();
      if (this.closing || !this.loader) throw new NetraError('STORE', 'the DuckDB store is closed');
    }
    const hashes = new Float64Array(n);
    for (let i = 0; i < n; i++) hashes[i] = keyHash(events[i]!.workspace, events[i]!.event_id);
    const suspects = this.addKeys(hashes);
    if (!suspects) {
      await this.loader!.write(spoolLine(events, hashes), n);
      return { inserted: n, duplicates: 0 };
    }
    return this.spoolSettled(events, hashes, suspects);
  }

  /**
   * Stores a batch encoded off the event loop (duckdb-bulk-load.ts `encodeSpoolBatch`, validated there): the spool
   * takes its bytes as they are, with the same de-duplication as append(), and DuckDB later loads the rows from the
   * batch's columns (duckdb-spool-loader.ts). A batch with suspected repeats is settled on its spool line's events,
   * and its kept rows are loaded from the spool file.
   */
  private async appendEncodedSpooled(batch: EncodedBatch): Promise<AppendResult> {
    if (this.closing || !this.loader) throw new NetraError('STORE', 'the DuckDB store is closed');
    if (batch.rows === 0) return { inserted: 0, duplicates: 0 };
    if (!this.keysLoaded) {
      await this.ensureKeys();
      if (this.closing || !this.loader) throw new NetraError('STORE', 'the DuckDB store is closed');
    }
    const suspects = this.addKeys(batch.hashes);
    if (!suspects) {
      const live = batch.columns && batch.columns.rows === batch.rows ? { columns: batch.columns, hashes: batch.hashes } : undefined;
      await this.loader.write(batch.bytes, batch.rows, live);
      return { inserted: batch.rows, duplicates: 0 };
    }
    return this.spoolSettled(decodeSpoolBatch(batch), batch.hashes, suspects, batch.columns !== undefined);
  }

  /** Adds the batch's key hashes to the index; returns the rows whose hash was already known (null: none). */
  private addKeys(hashes: Float64Array): number[] | null {
    let suspects: number[] | null = null;
    for (let i = 0; i < hashes.length; i++) if (!this.keys.add(hashes[i]!)) (suspects ??= []).push(i);
    return suspects;
  }

  /**
   * Spools the rows of a batch with suspected repeats that are really new (settled exactly, in the operation queue).
   * `withColumns`: the kept rows also get their column copy (a retried batch keeps the rest of its spool segment on
   * the column load; the kept rows are usually few, so building it here costs the event loop little).
   */
  private async spoolSettled(
    events: readonly WorkloadEvent[],
    hashes: Float64Array,
    suspects: number[],
    withColumns = false,
  ): Promise<AppendResult> {
    const loader = this.loader!;
    const n = events.length;
    const { inserted, durable } = await this.enqueue(async () => {
      const keep = await settleSuspects(events, hashes, suspects, (h) => this.storedKeys(h));
      if (keep.length === 0) return { inserted: 0, durable: null };
      const rows = keep.map((i) => events[i]!);
      const rowHashes = Float64Array.from(keep, (i) => hashes[i]!);
      const live = withColumns ? { columns: encodeLoadColumns(rows), hashes: rowHashes } : undefined;
      return { inserted: rows.length, durable: loader.write(spoolLine(rows, rowHashes), rows.length, live) };
    });
    if (durable) await durable;
    return { inserted, duplicates: n - inserted };
  }

  /** Exact (workspace, event_id) keys stored under the given hashes (pending rows are committed first). */
  private async storedKeys(hashes: number[]): Promise<Set<string>> {
    await this.flushNow();
    const reader = await this.db().runAndReadAll('SELECT workspace, event_id FROM events WHERE key_hash IN (SELECT unnest($h::DOUBLE[]))', {
      h: listValue(hashes),
    });
    const out = new Set<string>();
    for (const [ws, id] of reader.getRowsJS()) out.add(fullKey(ws as string, id as string));
    return out;
  }

  /**
   * Runs a read after committing pending appends; `urgent` for short interactive reads (see enqueue). It runs with the
   * instance's threads even while a load started by the spool's timer runs beside it (ScanThreads).
   */
  private read<T>(fn: (conn: DuckDBConnection) => Promise<T>, urgent = false): Promise<T> {
    return this.enqueue(
      async () => {
        await this.flushNow();
        const conn = this.db();
        return this.scanThreads.reading(conn, () => fn(conn));
      },
      false,
      urgent,
    );
  }

  /**
   * One snapshot for several queries: pending appends are committed once, then every query of `fn` reads inside one
   * read transaction on a connection of its own (DuckDB's MVCC), still in turn on the read queue. Events accepted
   * meanwhile are loaded by the spool's timer as usual but not seen, so the stages of one analysis agree and none of
   * them waits for a load (per-query commits made an analysis under ingest wait for one load per query).
   */
  async analysisSnapshot<T>(fn: (q: AnalysisQueries) => Promise<T>): Promise<T> {
    const conn = await this.enqueue(async () => {
      await this.flushNow();
      const c = await this.instanceOrThrow().connect();
      // DuckDB takes a transaction's snapshot at its first read, not at BEGIN
      await c.run('BEGIN TRANSACTION');
      await c.run('SELECT 1 FROM events LIMIT 0');
      return c;
    });
    try {
      return await fn(
        this.queriesOver((query, urgent) => this.enqueue(() => this.scanThreads.reading(conn, () => query(conn)), false, urgent)),
      );
    } finally {
      await conn.run('ROLLBACK').catch(() => undefined);
      conn.closeSync();
    }
  }

  stats(scope: Scope): Promise<WorkspaceStats> {
    return this.timings.time('stats', () => this.read((conn) => queryStats(conn, scope), true));
  }

  /** What DuckDB's buffer manager holds, per tag (duckdb_memory()): memory it tracks and what it spilled to disk. */
  trackedMemory(): Promise<{ tag: string; memory_bytes: number; temporary_bytes: number }[]> {
    return this.read(async (conn) => {
      const r = await conn.runAndReadAll('SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory()');
      return r.getRowsJS().map(([tag, mem, tmp]) => ({ tag: String(tag), memory_bytes: toNumber(mem), temporary_bytes: toNumber(tmp) }));
    }, true);
  }

  queryTimings(): StoreQueryTiming[] {
    return this.timings.recent();
  }

  /** Background maintenance (startup tasks): writes the WAL into the file (CHECKPOINT) and refreshes statistics (ANALYZE). */
  maintain(): Promise<Record<string, unknown>> {
    return this.timings.time('maintenance', () =>
      this.read(async (conn) => {
        const t0 = performance.now();
        await conn.run('CHECKPOINT');
        const t1 = performance.now();
        await conn.run('ANALYZE');
        return { engine: 'duckdb', checkpoint_ms: Math.round(t1 - t0), analyze_ms: Math.round(performance.now() - t1) };
      }),
    );
  }

  listEvents(scope: Scope, opts: { limit?: number; offset?: number } = {}): Promise<WorkloadEvent[]> {
    return this.read((conn) => queryEvents(conn, scope, opts));
  }

  workspaces(): Promise<WorkspaceInfo[]> {
    return this.read((conn) => queryWorkspaces(conn), true);
  }

  models(workspace: string): Promise<string[]> {
    return this.read((conn) => queryModels(conn, workspace));
  }

  reprice(workspace: string, rates: ReadonlyMap<string, ModelRates>): Promise<RepriceResult> {
    return this.read((conn) => repriceWorkspace(conn, workspace, rates));
  }

  chainlessPrompts(workspace: string, after: PromptCursor | null, limit: number): Promise<ChainlessPrompt[]> {
    return this.read((conn) => queryChainlessPrompts(conn, workspace, after, limit));
  }

  countChainlessPrompts(workspace: string, after: PromptCursor | null): Promise<number> {
    return this.read((conn) => countChainlessPrompts(conn, workspace, after));
  }

  setPrefixBlocks(workspace: string, chains: readonly DerivedChain[]): Promise<number> {
    return this.read((conn) => setPrefixBlocks(conn, workspace, chains));
  }

  deleteWorkspace(workspace: string): Promise<number> {
    return this.deleteWhere(WORKSPACE_ROWS, { ws: workspace });
  }

  datasets(workspace: string): Promise<DatasetInfo[]> {
    if (typeof workspace !== 'string') return Promise.reject(new NetraError('VALIDATION', 'workspace is required', { field: 'workspace' }));
    return this.read((conn) => queryDatasets(conn, workspace));
  }

  async deleteEvents(workspace: string, filter: Parameters<typeof filterRows>[1]): Promise<number> {
    if (typeof workspace !== 'string') throw new NetraError('VALIDATION', 'workspace is required', { field: 'workspace' });
    const { pred, params } = filterRows(workspace, filter);
    return this.deleteWhere(pred, params);
  }

  /**
   * Deletes rows (pending appends are committed first) and drops their key hashes from the de-duplication index, so a
   * re-sent event is a plain miss again (no table lookup); hashes another stored row shares stay in the index.
   */
  private deleteWhere(pred: DeletePredicate, params: Record<string, DuckDBValue>): Promise<number> {
    return this.read(async (conn) => {
      const { deleted, freedHashes } = await deleteRows(conn, pred, params);
      // an index not loaded yet will be read from the table after this delete
      if (this.keysLoaded) for (const h of freedHashes) this.keys.delete(h);
      return deleted;
    });
  }

  async health(): Promise<StoreHealth> {
    if (this.closing) return { ok: false, engine: 'duckdb', detail: 'closed' };
    try {
      const v = await this.enqueue(async () => toNumber((await this.db().runAndReadAll('SELECT 1')).getRowsJS()[0]![0]));
      return v === 1
        ? { ok: true, engine: 'duckdb', detail: this.path }
        : { ok: false, engine: 'duckdb', detail: `SELECT 1 returned ${v}` };
    } catch (err) {
      return { ok: false, engine: 'duckdb', detail: (err as Error).message };
    }
  }

  close(): Promise<void> {
    this.closing ??= this.enqueue(async () => {
      const earlier = this.flushError;
      this.flushError = null;
      try {
        await this.flushNow();
        if (earlier) throw earlier;
      } finally {
        // releases the spool file; rows a failed commit left stay in it for the next start's replay
        await this.loader?.close().catch(() => undefined);
        this.loader = null;
        this.appender?.closeSync();
        this.stage?.close();
        this.stageConn?.closeSync();
        this.stage = null;
        this.stageConn = null;
        this.conn?.closeSync();
        this.appendConn?.closeSync();
        this.instance?.closeSync();
        this.appender = null;
        this.conn = null;
        this.appendConn = null;
        this.instance = null;
        this.keys = new KeyHashSet();
        this.keysLoaded = false;
        this.keysLoading = null;
      }
    }, true);
    return this.closing;
  }
}

/** Creates the DuckDB store; call init() before use. */
export function createDuckDbStore(opts: DuckDbStoreOptions): DuckDbStore {
  return new DuckDbStore(opts);
}
