/**
 * Records gateway calls without ever delaying or failing a response: `record()` only pushes onto a bounded in-memory
 * queue. A timer writes the queue in batches through the one ingest path. When the store cannot take a batch (closed,
 * failing) or the queue is full, the events go to an on-disk spool (NDJSON files), which is replayed in order once the
 * store answers again, also after a restart. Every event carries its event_id from the start, so a batch written twice
 * (a replay after a partial write) is stored once. An event is dropped only when the spool cannot be written either;
 * that is counted (`dropped`) and logged.
 */
import { appendFile, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';

/** Stores events of one workspace; rejects when the store is unavailable. */
export type RecordSink = (
  workspace: string,
  events: readonly Record<string, unknown>[],
) => Promise<{ accepted: number; rejected: number; duplicates: number }>;

export interface RecorderOptions {
  sink: RecordSink;
  spoolDir: string;
  maxQueue: number;
  batchSize: number;
  flushIntervalMs: number;
  spoolRetryMs: number;
  spoolMaxBytes: number;
  log: Logger;
}

export interface RecorderStats {
  /** events handed to record() */
  received: number;
  /** accepted by the store (new or duplicates of already stored ones) */
  stored: number;
  /** refused by validation (logged with their errors) */
  rejected: number;
  /** written to the spool */
  spooled: number;
  /** read back from the spool and stored */
  replayed: number;
  /** lost: neither the store nor the spool took them */
  dropped: number;
  queued: number;
  spoolBytes: number;
}

interface Item {
  workspace: string;
  event: Record<string, unknown>;
}

export class GatewayRecorder {
  private queue: Item[] = [];
  private overflow: Item[] = [];
  private readonly s: RecorderStats = {
    received: 0,
    stored: 0,
    rejected: 0,
    spooled: 0,
    replayed: 0,
    dropped: 0,
    queued: 0,
    spoolBytes: 0,
  };
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private spoolFiles = 0;
  private seq = 0;
  private closed = false;

  constructor(private readonly o: RecorderOptions) {}

  /** Reads the spool left by an earlier run and starts the timers. */
  async start(): Promise<void> {
    await mkdir(this.o.spoolDir, { recursive: true, mode: 0o700 });
    for (const f of await this.spoolList()) {
      this.spoolFiles++;
      this.s.spoolBytes += (await stat(join(this.o.spoolDir, f))).size;
    }
    this.flushTimer = setInterval(() => void this.flush(), this.o.flushIntervalMs);
    this.flushTimer.unref();
    this.retryTimer = setInterval(() => {
      if (this.spoolFiles > 0) void this.replay();
    }, this.o.spoolRetryMs);
    this.retryTimer.unref();
    if (this.spoolFiles > 0) void this.replay();
  }

  stats(): RecorderStats {
    return { ...this.s, queued: this.queue.length + this.overflow.length };
  }

  /** Never throws, never waits. */
  record(workspace: string, event: Record<string, unknown>): void {
    this.s.received++;
    if (this.closed) {
      this.overflow.push({ workspace, event });
      void this.serial(() => this.spoolOverflow());
      return;
    }
    if (this.queue.length < this.o.maxQueue) {
      this.queue.push({ workspace, event });
      if (this.queue.length >= this.o.batchSize) void this.flush();
      return;
    }
    // full: to the spool, in one write per turn of the event loop
    if (this.overflow.push({ workspace, event }) === 1) setImmediate(() => void this.serial(() => this.spoolOverflow()));
  }

  /** Writes what is queued (to the store, or the spool if it refuses); resolves when done. */
  flush(): Promise<void> {
    return this.serial(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.o.batchSize);
        const failed = await this.store(batch);
        if (failed.length > 0) await this.toSpool(failed);
      }
      await this.spoolOverflow();
    });
  }

  /** Replays the spool, oldest file first, until the store refuses; resolves when done. */
  replay(): Promise<void> {
    return this.serial(async () => {
      for (const f of await this.spoolList()) {
        const path = join(this.o.spoolDir, f);
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch {
          continue;
        } // replayed by another process meanwhile
        const items: Item[] = [];
        for (const line of text.split('\n')) {
          if (!line) continue;
          try {
            items.push(JSON.parse(line) as Item);
          } catch {
            this.s.dropped++;
            this.o.log.error({ file: f }, 'unreadable line in the gateway spool; skipped');
          }
        }
        const failed = await this.store(items);
        if (failed.length > 0) return; // still unavailable: keep the file, try again later
        this.s.replayed += items.length;
        this.s.spoolBytes = Math.max(0, this.s.spoolBytes - Buffer.byteLength(text));
        this.spoolFiles = Math.max(0, this.spoolFiles - 1);
        await unlink(path).catch(() => undefined);
        this.o.log.info({ file: f, events: items.length }, 'gateway spool replayed');
      }
    });
  }

  /** Flushes the queue (to the store or the spool) and stops the timers. */
  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.retryTimer) clearInterval(this.retryTimer);
    await this.flush();
    this.closed = true;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch((err: unknown) => this.o.log.error({ err }, 'gateway recorder step failed'));
    return this.chain;
  }

  /** Stores items grouped by workspace; returns the items whose workspace's write failed. */
  private async store(items: readonly Item[]): Promise<Item[]> {
    const by = new Map<string, Item[]>();
    for (const it of items) {
      const list = by.get(it.workspace);
      if (list) list.push(it);
      else by.set(it.workspace, [it]);
    }
    const failed: Item[] = [];
    for (const [ws, list] of by) {
      try {
        const r = await this.o.sink(
          ws,
          list.map((x) => x.event),
        );
        this.s.stored += r.accepted + r.duplicates;
        if (r.rejected > 0) {
          this.s.rejected += r.rejected;
          this.o.log.warn({ workspace: ws, rejected: r.rejected }, 'gateway events refused by validation');
        }
      } catch (err) {
        this.o.log.warn(
          { workspace: ws, events: list.length, err: (err as Error).message },
          'store unavailable; gateway events go to the spool',
        );
        failed.push(...list);
      }
    }
    return failed;
  }

  private async spoolOverflow(): Promise<void> {
    if (this.overflow.length === 0) return;
    const items = this.overflow;
    this.overflow = [];
    await this.toSpool(items);
  }

  private async toSpool(items: readonly Item[]): Promise<void> {
    const text = items.map((x) => JSON.stringify(x)).join('\n') + '\n';
    const bytes = Buffer.byteLength(text);
    if (this.s.spoolBytes + bytes > this.o.spoolMaxBytes) {
      this.s.dropped += items.length;
      this.o.log.error({ events: items.length, spool_bytes: this.s.spoolBytes }, 'gateway spool full; events dropped');
      return;
    }
    const name = `spool-${Date.now().toString().padStart(15, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}.ndjson`;
    try {
      await mkdir(this.o.spoolDir, { recursive: true, mode: 0o700 });
      await appendFile(join(this.o.spoolDir, name), text, { mode: 0o600 });
      this.s.spooled += items.length;
      this.s.spoolBytes += bytes;
      this.spoolFiles++;
    } catch (err) {
      this.s.dropped += items.length;
      this.o.log.error({ err, events: items.length }, 'gateway spool not writable; events dropped');
    }
  }

  private async spoolList(): Promise<string[]> {
    try {
      return (await readdir(this.o.spoolDir)).filter((f) => f.startsWith('spool-') && f.endsWith('.ndjson')).sort();
    } catch {
      return [];
    }
  }
}
