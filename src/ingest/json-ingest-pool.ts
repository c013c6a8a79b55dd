/**
 * JSON ingestion off the event loop: worker threads (json-ingest-worker.ts) turn request bodies into encoded store
 * batches (decode, parse, validate, normalise, price, encode: ~25 µs per 1 KB event, bench/ingest-stages.ts), and the
 * main thread only de-duplicates and hands the bytes to the store (store.appendEncoded: the spool write and its sync
 * on libuv's threads, DuckDB's load on DuckDB's threads). The answer to the client is the same as the main-thread
 * path's; whatever the worker does not take (json-batch.ts: any invalid or unusual body) runs that path.
 *
 * Pricing: each worker holds a copy of the price catalog (with the workspaces' overrides), sent again whenever the
 * catalog object changes. A batch priced with a catalog that changed before its answer arrived is dropped and the
 * body taken by the main thread, so an override's reprice never misses a batch priced at the old rates.
 *
 * Workers start when the server listens (`start()`), or with the first body that needs them; one that dies is replaced
 * on the next request (its requests run on the main thread).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import type { AnalyticsStore, EncodedBatch } from '../store/types.js';
import type { PriceCatalog } from '../workload/price-catalog.js';
import type { JsonJob, JsonJobAnswer } from './json-ingest-worker.js';
import type { IngestResult } from './pipeline.js';

const WORKER_ENTRY = new URL('./json-ingest-worker.mjs', import.meta.url);

interface Slot {
  worker: Worker;
  inFlight: Map<number, (a: JsonJobAnswer | null) => void>;
  catalogGen: number;
  dead: boolean;
}

export interface JsonIngestPoolOptions {
  threads: number;
  /** the current catalog (with every workspace's overrides) */
  catalog: () => PriceCatalog;
  log?: Pick<Logger, 'warn'>;
}

export class JsonIngestPool {
  private slots: Slot[] = [];
  private nextId = 1;
  private catalogObj: PriceCatalog | null = null;
  private catalogGen = 0;
  private closed = false;
  /** bodies encoded by a worker / handed back to the main thread (tests, metrics) */
  readonly counts = { encoded: 0, declined: 0 };

  constructor(private readonly opts: JsonIngestPoolOptions) {}

  /** An encoded batch of every event of the body, or null: the caller takes the body on the main thread. */
  async encode(workspace: string, body: Uint8Array, maxEvents: number): Promise<EncodedBatch | null> {
    if (this.closed || this.opts.threads < 1) return null;
    const catalog = this.opts.catalog();
    if (catalog !== this.catalogObj) {
      this.catalogObj = catalog;
      this.catalogGen++;
    }
    const gen = this.catalogGen;
    const slot = this.pick();
    const id = this.nextId++;
    // a copy the worker owns (the caller keeps the body for the main-thread path): ~0.1 ms per MB
    const copy = new Uint8Array(body);
    const job: JsonJob = { id, workspace, body: copy, maxEvents, catalogGen: gen };
    if (slot.catalogGen !== gen) {
      job.catalog = catalog.toData();
      slot.catalogGen = gen;
    }
    const answer = await new Promise<JsonJobAnswer | null>((resolve) => {
      slot.inFlight.set(id, resolve);
      slot.worker.postMessage(job, [copy.buffer]);
    });
    // priced with a catalog that has changed since: the main thread prices it again
    if (!answer?.ok || answer.catalogGen !== gen || this.opts.catalog() !== catalog) {
      this.counts.declined++;
      return null;
    }
    this.counts.encoded++;
    return { rows: answer.rows, hashes: answer.hashes, bytes: answer.bytes, columns: answer.columns };
  }

  /** Starts the workers now (a serving process), so the first large bodies do not wait for their start (~0.5–1.5 s). */
  start(): void {
    if (this.closed) return;
    this.slots = this.slots.filter((s) => !s.dead);
    while (this.slots.length < this.opts.threads) this.spawn();
  }

  /** The live worker with the fewest bodies in flight (a new one while there are fewer than `threads`). */
  private pick(): Slot {
    this.slots = this.slots.filter((s) => !s.dead);
    let best: Slot | null = null;
    for (const s of this.slots) if (!best || s.inFlight.size < best.inFlight.size) best = s;
    if (best && (best.inFlight.size === 0 || this.slots.length >= this.opts.threads)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_ENTRY);
    worker.unref(); // never holds the process open; close() ends it
    const slot: Slot = { worker, inFlight: new Map(), catalogGen: -1, dead: false };
    worker.on('message', (a: JsonJobAnswer) => {
      const resolve = slot.inFlight.get(a.id);
      slot.inFlight.delete(a.id);
      resolve?.(a);
    });
    const fail = (err: unknown) => {
      if (slot.dead) return;
      slot.dead = true;
      if (!this.closed && err)
        this.opts.log?.warn({ err: (err as Error).message }, 'JSON ingest worker failed; its bodies run on the main thread');
      for (const resolve of slot.inFlight.values()) resolve(null);
      slot.inFlight.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(code === 0 ? null : new Error(`exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

export interface JsonBodyIngestDeps {
  pool: JsonIngestPool;
  store: Pick<AnalyticsStore, 'appendEncoded'>;
  /** bodies smaller than this stay on the main thread (a worker's round trip is not worth it) */
  minBodyBytes: number;
  ensureWorkspace(workspace: string): Promise<void>;
  /** told when the batch stored events (the workspace-changes path) */
  changed(workspace: string): Promise<void>;
  record(r: IngestResult): void;
}

/**
 * `POST /api/v1/events` JSON bodies through the pool: the ingest result, or null when the body is for the main
 * thread's path (small, unusual or invalid, or no worker).
 */
export function jsonBodyIngest(deps: JsonBodyIngestDeps) {
  const append = deps.store.appendEncoded?.bind(deps.store);
  return async (workspace: string, body: Uint8Array, maxEvents: number): Promise<IngestResult | null> => {
    if (!append || body.byteLength < deps.minBodyBytes) return null;
    await deps.ensureWorkspace(workspace);
    const batch = await deps.pool.encode(workspace, body, maxEvents);
    if (!batch) return null;
    const stored = await append(batch);
    if (stored.inserted > 0) await deps.changed(workspace);
    const r: IngestResult = {
      processed: batch.rows,
      accepted: stored.inserted,
      duplicates: stored.duplicates,
      rejected: 0,
      errors: [],
      errors_total: 0,
      errors_truncated: false,
    };
    deps.record(r);
    return r;
  };
}
