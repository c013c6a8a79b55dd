/**
 * Moves spooled events into DuckDB: the write path of a file-backed DuckDB store.
 *
 * `write()` puts de-duplicated rows in the spool (event-spool.ts) and resolves once they are durable there: that is
 * when HTTP ingestion acknowledges them. Loads then take every sealed segment into `events` on the loader's own
 * connection, run by DuckDB's threads (not the event loop), and remove the segments after the commit. A segment whose
 * every write came with its rows by column (duckdb-load-columns.ts, built in an ingest worker) is loaded from those
 * columns, one INSERT from a table function for a run of such segments, without reading the file back; any other
 * segment with one `INSERT ... read_ndjson(...)` of its file. A load starts when `commitRows` rows are waiting,
 * `commitIntervalMs` after the first one, and before every read (`commit()`), so a read sees every acknowledged event.
 *
 * Crash safety: a segment is removed only after DuckDB committed its rows, whichever way they were loaded. At start,
 * `replay()` loads what a crashed process left with an anti-join on (workspace, event_id), so each spooled event is
 * stored exactly once. The column copies live in memory only; at most `liveBytesLimit` of them are held, a write
 * beyond it leaves its segment to `read_ndjson`.
 *
 * Why not DuckDB's commit per request (grouped), or a worker thread owning the appender: a DuckDB commit costs
 * ~0.1 ms per column whatever its size plus a WAL sync, and the appender's calls and its commit are synchronous on
 * whichever JS thread makes them (the Node API has no async appender flush); a worker would have to own every read
 * too (one DuckDB instance per file and process, and the Node API's handles cannot cross threads). Here DuckDB's
 * whole write (parse, convert, compress, commit) runs on its own threads. Measurements: docs/BENCHMARKS.md
 * ("Store write path: what was measured before choosing it").
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { NetraError } from '../errors.js';
import { EventSpool, type SealedSegment, type SpoolDurability } from './event-spool.js';
import { open } from 'node:fs/promises';
import { bulkLoadSql, COLUMNAR_LINE_START, replaySql } from './duckdb-bulk-load.js';
import { type LoadColumns, LoadColumnsStage, loadColumnsBytes } from './duckdb-load-columns.js';
import type { ScanThreads } from './duckdb-batch-scan.js';
import { SpoolLoadMemory } from './duckdb-load-memory.js';

/** The rows of one spool write by column, with their key hashes. */
export interface LiveRows {
  columns: LoadColumns;
  hashes: Float64Array;
}

export interface SpoolLoaderOptions {
  dir: string;
  durability: SpoolDurability;
  /** start a load once this many rows wait */
  commitRows: number;
  /** start a load at most this long after a row was spooled; 0: every write waits for its load */
  commitIntervalMs: number;
  /** most bytes of column copies held for loads (default 128 MiB) */
  liveBytesLimit?: number;
  /** the DuckDB instance's guard for statements that read a JS table function (duckdb-batch-scan.ts) */
  scanThreads?: ScanThreads;
  /** DuckDB's configured memory limit, raised for loads from the spool's files when below their need (duckdb-load-memory.ts) */
  memoryLimit?: string;
}

export interface ReplayResult {
  segments: number;
  /** rows stored by the replay (rows that were already committed are not counted) */
  rows: number;
}

export class SpoolLoader {
  readonly spool: EventSpool<LiveRows>;
  private sealed: SealedSegment<LiveRows>[] = [];
  private readonly stage: LoadColumnsStage;
  private readonly memory: SpoolLoadMemory;
  private liveBytes = 0;
  private readonly liveBytesLimit: number;
  private sealedRows = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** a background load's failure, reported to the store's next operation */
  error: unknown = null;
  /** loads committed (for tests and metrics) */
  loads = 0;
  /** rows loaded from column copies / from the spool's files (for tests and metrics) */
  readonly loaded = { columns: 0, files: 0 };

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly opts: SpoolLoaderOptions,
  ) {
    this.spool = new EventSpool(opts.dir, opts.durability);
    this.stage = new LoadColumnsStage(conn, opts.scanThreads);
    this.memory = new SpoolLoadMemory(conn, opts.memoryLimit);
    this.liveBytesLimit = opts.liveBytesLimit ?? 128 * 1024 * 1024;
  }

  /** Loads segments a crashed process left; call once, before the first write. */
  async replay(): Promise<ReplayResult> {
    const left = await this.spool.leftovers();
    if (left.length === 0) return { segments: 0, rows: 0 };
    // segments of an earlier version hold one object per event (oldest first: they come before any by-column one)
    const columnar: string[] = [];
    const earlier: string[] = [];
    for (const s of left) ((await startsWith(s.path, COLUMNAR_LINE_START)) ? columnar : earlier).push(s.path);
    let rows = 0;
    for (const [paths, isColumnar] of [
      [earlier, false],
      [columnar, true],
    ] as const) {
      if (paths.length === 0) continue;
      const reader = await this.memory.run(() => this.conn.runAndReadAll(replaySql(paths, isColumnar)));
      rows += Number(reader.getRowsJS()[0]?.[0] ?? 0);
    }
    for (const s of left) await this.spool.remove(s);
    return { segments: left.length, rows };
  }

  /** Rows spooled and not yet committed to DuckDB. */
  get backlog(): number {
    return this.sealedRows + this.spool.unsealedRows;
  }

  /**
   * Spools NDJSON text (or its UTF-8 bytes) of `rows` events, with the same rows by column when the caller has them.
   * Must be called synchronously after the rows' keys entered the de-duplication index (so a later `commit()` covers
   * them); resolves when the rows are durable in the spool.
   */
  async write(text: string | Uint8Array, rows: number, live?: LiveRows): Promise<void> {
    if (this.closed) throw new NetraError('STORE', 'the DuckDB store is closed');
    let kept = live;
    if (kept) {
      const bytes = loadColumnsBytes(kept.columns);
      if (this.liveBytes + bytes > this.liveBytesLimit) kept = undefined;
      else this.liveBytes += bytes;
    }
    const durable = this.spool.write(text, rows, kept);
    if (this.opts.commitIntervalMs === 0) {
      await durable;
      await this.commit();
      return;
    }
    if (this.backlog >= this.opts.commitRows) this.startLoad();
    else this.schedule();
    await durable;
    // bounded backlog: when loads fall behind by more than a few groups, the writer waits for them
    if (this.backlog > this.opts.commitRows * 4) await this.commit();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.startLoad();
    }, this.opts.commitIntervalMs);
    this.timer.unref();
  }

  private startLoad(): void {
    this.commit().catch((err: unknown) => {
      this.error ??= err;
    });
  }

  /** Commits every row spooled before the call (seal the current segment, load every sealed one). */
  commit(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const run = this.chain.then(
      () => this.loadSealed(),
      () => this.loadSealed(),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async loadSealed(): Promise<void> {
    // a limit an earlier file load could not set back (DuckDB could not free enough then)
    await this.memory.restore().catch(() => undefined);
    const seg = await this.spool.seal();
    if (seg) {
      if (!seg.complete) this.release(seg);
      this.sealed.push(seg);
      this.sealedRows += seg.rows;
    }
    // in spool order: runs of segments loaded from their columns, and runs loaded from their files
    while (this.sealed.length > 0) {
      const fromColumns = this.sealed[0]!.complete;
      let n = 1;
      while (n < this.sealed.length && this.sealed[n]!.complete === fromColumns) n++;
      const run = this.sealed.slice(0, n);
      const rows = run.reduce((a, s) => a + s.rows, 0);
      try {
        if (fromColumns) {
          for (const s of run) for (const l of s.live) this.stage.add(l.columns, l.hashes);
          await this.stage.commit();
        } else await this.memory.run(() => this.conn.run(bulkLoadSql(run.map((s) => s.path))));
      } catch (err) {
        // the segments stay: the next commit (or the next start's replay) tries them again
        throw new NetraError('STORE', `DuckDB: loading ${rows} spooled events failed: ${(err as Error).message}`, { cause: err });
      }
      this.loads++;
      this.loaded[fromColumns ? 'columns' : 'files'] += rows;
      this.sealed = this.sealed.slice(n);
      for (const s of run) {
        this.sealedRows -= s.rows;
        this.release(s);
        await this.spool.remove(s);
      }
    }
  }

  /** Frees a segment's column copies (loaded, or not usable: a write without them). */
  private release(seg: SealedSegment<LiveRows>): void {
    for (const l of seg.live) this.liveBytes -= loadColumnsBytes(l.columns);
    seg.live = [];
  }

  /** Commits what is spooled and closes the spool; on failure the segments stay for the next start's replay. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.commit();
    } finally {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      await this.spool.close();
    }
  }
}

/** Whether the file begins with `prefix` (ASCII). */
async function startsWith(path: string, prefix: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(prefix.length);
    const { bytesRead } = await fh.read(buf, 0, prefix.length, 0);
    return bytesRead === prefix.length && buf.toString('latin1') === prefix;
  } finally {
    await fh.close();
  }
}
