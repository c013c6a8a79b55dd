/**
 * Moves spooled events into DuckDB: the write path of a file-backed DuckDB store.
 *
 * `write()` puts de-duplicated rows in the spool (event-spool.ts) and resolves once they are durable there: that is
 * when HTTP ingestion acknowledges them. Loads then take every sealed segment into `events` with one `INSERT ...
 * read_ndjson(...)` on the loader's own connection, run by DuckDB's threads (not the event loop), and remove the
 * segments after the commit. A load starts when `commitRows` rows are waiting, `commitIntervalMs` after the first one,
 * and before every read (`commit()`), so a read sees every acknowledged event.
 *
 * Crash safety: a segment is removed only after DuckDB committed its rows. At start, `replay()` loads what a crashed
 * process left with an anti-join on (workspace, event_id), so each spooled event is stored exactly once.
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

export interface SpoolLoaderOptions {
  dir: string;
  durability: SpoolDurability;
  /** start a load once this many rows wait */
  commitRows: number;
  /** start a load at most this long after a row was spooled; 0: every write waits for its load */
  commitIntervalMs: number;
}

export interface ReplayResult {
  segments: number;
  /** rows stored by the replay (rows that were already committed are not counted) */
  rows: number;
}

export class SpoolLoader {
  readonly spool: EventSpool;
  private sealed: SealedSegment[] = [];
  private sealedRows = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** a background load's failure, reported to the store's next operation */
  error: unknown = null;
  /** loads committed (for tests and metrics) */
  loads = 0;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly opts: SpoolLoaderOptions,
  ) {
    this.spool = new EventSpool(opts.dir, opts.durability);
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
      const reader = await this.conn.runAndReadAll(replaySql(paths, isColumnar));
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
   * Spools NDJSON text (or its UTF-8 bytes) of `rows` events. Must be called synchronously after the rows' keys entered the de-duplication
   * index (so a later `commit()` covers them); resolves when the rows are durable in the spool.
   */
  async write(text: string | Uint8Array, rows: number): Promise<void> {
    if (this.closed) throw new NetraError('STORE', 'the DuckDB store is closed');
    const durable = this.spool.write(text, rows);
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
    const seg = await this.spool.seal();
    if (seg) {
      this.sealed.push(seg);
      this.sealedRows += seg.rows;
    }
    if (this.sealed.length === 0) return;
    const batch = this.sealed.slice();
    try {
      await this.conn.run(bulkLoadSql(batch.map((s) => s.path)));
    } catch (err) {
      // the segments stay: the next commit (or the next start's replay) tries them again
      throw new NetraError(
        'STORE',
        `DuckDB: loading ${batch.reduce((a, s) => a + s.rows, 0)} spooled events failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.loads++;
    this.sealed = this.sealed.slice(batch.length);
    for (const s of batch) {
      this.sealedRows -= s.rows;
      await this.spool.remove(s);
    }
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
