/**
 * The analytics store's write-ahead spool: accepted events, as NDJSON lines, in segment files next to the DuckDB file
 * (`<db>.spool/000001.ndjson`, ...). A write resolves once its bytes are on disk (`fdatasync`, mode 'fsync') or in the
 * operating system (mode 'write'), so an acknowledged event survives a crash of the process before DuckDB has committed it.
 *
 * Group commit: writes that arrive while one write + sync is in flight are joined into the next one, so concurrent
 * requests share a sync (one `fdatasync` per round, however many requests it covers). All file I/O runs on libuv's
 * thread pool (fs/promises), never on the event loop.
 *
 * Segments: the current segment takes writes; `seal()` closes it after its writes are done and opens the next, so a
 * sealed segment is complete and can be bulk-loaded and then removed. At start, segments left by a crash are listed
 * by `leftovers()` (their torn tail, a last line without its newline, was never acknowledged and is cut off).
 *
 * A write may bring the same rows in another form (`live`, e.g. by column for a faster load); the spool keeps those
 * with the segment its bytes landed in and hands them back when sealing it, so its reader can load the live copy and
 * read the file only after a crash.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { open, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export type SpoolDurability = 'fsync' | 'write';

export interface SealedSegment<L = unknown> {
  path: string;
  /** rows written to it (unknown, -1, for leftovers of an earlier process) */
  rows: number;
  /** the live copies its writes came with, in write order */
  live: L[];
  /** whether every write to it came with a live copy (false for leftovers) */
  complete: boolean;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

const SEGMENT = /^(\d{6,})\.ndjson$/;

export class EventSpool<L = unknown> {
  private fh: FileHandle | null = null;
  private seq = 0;
  private segmentRows = 0;
  private segmentLive: L[] = [];
  private segmentComplete = true;
  private pendingText: Array<string | Uint8Array> = [];
  private pendingLive: Array<L | undefined> = [];
  private pendingRows = 0;
  private waiters: Waiter[] = [];
  private draining: Promise<void> | null = null;
  private failed: unknown = null;
  /** rounds of write + sync done (for tests and metrics) */
  syncs = 0;

  constructor(
    readonly dir: string,
    private readonly durability: SpoolDurability,
  ) {}

  /** Creates the directory (0700) and returns segments left by an earlier process, oldest first, torn tails repaired. */
  async leftovers(): Promise<SealedSegment<L>[]> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const names = readdirSync(this.dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    const out: SealedSegment<L>[] = [];
    for (const name of names) {
      this.seq = Math.max(this.seq, Number(SEGMENT.exec(name)![1]));
      const path = join(this.dir, name);
      if (await repairTail(path)) out.push({ path, rows: -1, live: [], complete: false });
      else await unlink(path);
    }
    return out;
  }

  private async current(): Promise<FileHandle> {
    if (!this.fh) {
      this.seq++;
      this.segmentRows = 0;
      this.segmentLive = [];
      this.segmentComplete = true;
      this.fh = await open(this.segmentPath(this.seq), 'a', 0o600);
    }
    return this.fh;
  }

  private segmentPath(seq: number): string {
    return join(this.dir, `${String(seq).padStart(6, '0')}.ndjson`);
  }

  /** Rows written to the current segment, including writes not yet on disk. */
  get unsealedRows(): number {
    return this.segmentRows + this.pendingRows;
  }

  /**
   * Appends NDJSON text or its UTF-8 bytes (`rows` events, each line ending in '\n'), with the rows' live copy if
   * there is one; resolves when it is durable.
   */
  write(text: string | Uint8Array, rows: number, live?: L): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<void>((resolve, reject) => {
      this.pendingText.push(text);
      this.pendingLive.push(live);
      this.pendingRows += rows;
      this.waiters.push({ resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiters.length > 0) {
        // one gathered write of every waiting line: no joined copy of the texts
        const parts = this.pendingText.map((t) => (typeof t === 'string' ? Buffer.from(t, 'utf8') : t));
        const rows = this.pendingRows;
        const live = this.pendingLive;
        const waiters = this.waiters;
        this.pendingText = [];
        this.pendingLive = [];
        this.pendingRows = 0;
        this.waiters = [];
        try {
          const fh = await this.current();
          if (parts.length === 1) await fh.write(parts[0]!);
          else await fh.writev(parts);
          if (this.durability === 'fsync') await fh.datasync();
          this.segmentRows += rows;
          for (const l of live) {
            if (l === undefined) this.segmentComplete = false;
            else this.segmentLive.push(l);
          }
          this.syncs++;
        } catch (err) {
          // The segment may now hold a partial write: no later write may land after it (a torn line mid-file would
          // stop its load). The spool refuses writes from here on; the store reports the error.
          this.failed = err;
          for (const w of [...waiters, ...this.waiters]) w.reject(err);
          this.waiters = [];
          this.pendingText = [];
          this.pendingLive = [];
          this.pendingRows = 0;
          return;
        }
        for (const w of waiters) w.resolve();
      }
    } finally {
      this.draining = null;
    }
  }

  /** Waits for writes in flight, closes the current segment and returns it (null when it holds no rows). */
  async seal(): Promise<SealedSegment<L> | null> {
    while (this.draining) await this.draining;
    if (this.failed) throw this.failed;
    if (!this.fh) return null;
    // taken before the first await: a write arriving meanwhile opens the next segment
    const fh = this.fh;
    const rows = this.segmentRows;
    const live = this.segmentLive;
    const complete = this.segmentComplete;
    const path = this.segmentPath(this.seq);
    this.fh = null;
    this.segmentRows = 0;
    this.segmentLive = [];
    this.segmentComplete = true;
    await fh.close();
    if (rows === 0) {
      await unlink(path);
      return null;
    }
    return { path, rows, live, complete };
  }

  async remove(segment: SealedSegment<L>): Promise<void> {
    await unlink(segment.path);
  }

  /** Closes the current segment (its rows stay on disk for the next start unless sealed and loaded first). */
  async close(): Promise<void> {
    while (this.draining) await this.draining.catch(() => undefined);
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }
}

/**
 * Cuts a segment back to its last complete line (a crash during a write leaves a partial line, never acknowledged).
 * Returns false when nothing complete is left.
 */
async function repairTail(path: string): Promise<boolean> {
  const size = (await stat(path)).size;
  if (size === 0) return false;
  const fh = await open(path, 'r');
  try {
    const tailSize = Math.min(size, 1 << 16);
    let end = size;
    // scan backwards for the last '\n' in 64 KiB steps
    for (let pos = size; pos > 0; ) {
      const len = Math.min(tailSize, pos);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos - len);
      const i = buf.lastIndexOf(0x0a);
      if (i >= 0) {
        end = pos - len + i + 1;
        break;
      }
      pos -= len;
      if (pos === 0) end = 0;
    }
    if (end === size) return true;
    await fh.close().catch(() => undefined);
    await truncate(path, end);
    return end > 0;
  } finally {
    await fh.close().catch(() => undefined);
  }
}
