/**
 * The one ingest path: every source (HTTP JSON/NDJSON, OTLP, OpenAI logs, CSV and trace files) writes through here.
 *
 * Items from a parser are validated and normalised with `normalizeEvent` under the caller's workspace, buffered into
 * batches and written with `store.append`. One append is in flight at a time while the next batch fills, and the
 * source is not read further until the previous append is done, so memory stays bounded (two batches) however large
 * the input. Bad rows never stop the valid ones: they are counted and their errors kept (capped; the total is reported).
 *
 * Counts: `accepted` = events newly stored, `duplicates` = valid events whose (workspace, event_id) was already stored
 * (or repeated in the input), `rejected` = invalid rows. accepted + duplicates + rejected = rows read.
 */
import { randomUUID } from 'node:crypto';
import type { FieldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AnalyticsStore } from '../store/types.js';
import { type NormalizeContext, normalizeEvent, type Pricer, type WorkloadEvent } from '../workload/event.js';
import type { IngestItem, ItemError } from './types.js';

/**
 * The pipeline's own cost per event is flat from 500 to 5,000 (bench/normalize.ts: ≈ 0.5 µs); batch size trades the
 * store's per-append overhead against memory (two batches held) and progress granularity. 2,000 is the default.
 */
export const DEFAULT_BATCH_SIZE = 2_000;
export const DEFAULT_MAX_ERRORS = 1_000;
/** Text-heavy events (prompts of up to a million characters) flush batches by size: two batches are held at most. */
export const DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** Rough bytes an event holds in memory: its texts (UTF-16) and tags, plus a fixed part for the other fields. */
export function eventBytes(e: WorkloadEvent): number {
  let n = 400 + 2 * ((e.prompt_text?.length ?? 0) + (e.response_text?.length ?? 0));
  for (const k in e.tags) n += 2 * (k.length + (e.tags[k]?.length ?? 0));
  return n;
}

export interface IngestProgress {
  /** rows read from the source so far (valid or not) */
  processed: number;
  accepted: number;
  rejected: number;
  duplicates: number;
}

export interface IngestOptions {
  batchSize?: number;
  /** a batch is stored once its events' text reaches this many bytes (default DEFAULT_MAX_BATCH_BYTES) */
  maxBatchBytes?: number;
  /** at most this many errors are returned (default 1,000); `errors_total` counts them all */
  maxErrors?: number;
  /** called after each batch is stored, and once at the end */
  onProgress?: (p: IngestProgress) => void;
  /** checked between batches: once aborted, no further batch is stored and ingest rejects with the signal's reason
   *  (batches stored before stay stored; onProgress has reported them) */
  signal?: AbortSignal;
}

export interface IngestResult extends IngestProgress {
  errors: FieldError[];
  errors_total: number;
  errors_truncated: boolean;
}

/** What a caller is told of an ingestion (HTTP response, CLI import, job summary). */
export interface IngestSummary {
  accepted: number;
  rejected: number;
  duplicates: number;
  errors: FieldError[];
  /** total number of errors when `errors` was capped */
  errors_total?: number;
}

export interface IngestorDeps {
  store: Pick<AnalyticsStore, 'append'>;
  pricer: Pricer;
  /** event id for events sent without one (default crypto.randomUUID) */
  newId?: () => string;
  logger?: Pick<Logger, 'debug'>;
  /** default batch size for this ingestor */
  batchSize?: number;
  /** default byte cap of a batch */
  maxBatchBytes?: number;
}

/** Items one by one, or (async sources) also whole arrays at a time, e.g. one per chunk from parseNdjsonBatches. */
export type IngestSource = Iterable<IngestItem> | AsyncIterable<IngestItem | readonly IngestItem[]>;

export interface Ingestor {
  ingest(workspace: string, items: IngestSource, opts?: IngestOptions): Promise<IngestResult>;
}

export function createIngestor(deps: IngestorDeps): Ingestor {
  const newId = deps.newId ?? randomUUID;
  const defaultBatch = deps.batchSize ?? DEFAULT_BATCH_SIZE;

  async function ingest(workspace: string, items: IngestSource, opts: IngestOptions = {}): Promise<IngestResult> {
    const batchSize = Math.max(1, opts.batchSize ?? defaultBatch);
    const maxBatchBytes = Math.max(1, opts.maxBatchBytes ?? deps.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    let batchBytes = 0;
    const maxErrors = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
    const ctx: NormalizeContext = { workspace, pricer: deps.pricer, newId };
    const r: IngestResult = { processed: 0, accepted: 0, rejected: 0, duplicates: 0, errors: [], errors_total: 0, errors_truncated: false };
    let reported = -1;
    const progress = (): void => {
      reported = r.processed;
      opts.onProgress?.({ processed: r.processed, accepted: r.accepted, rejected: r.rejected, duplicates: r.duplicates });
    };

    let batch: WorkloadEvent[] = [];
    let pending: Promise<void> | null = null;

    const addErrors = (item: IngestItem, errs: readonly ItemError[]): void => {
      r.rejected++;
      r.errors_total += errs.length;
      for (const e of errs) {
        if (r.errors.length >= maxErrors) {
          r.errors_truncated = true;
          break;
        }
        r.errors.push(
          item.line !== undefined
            ? { line: item.line, field: e.field, message: e.message }
            : { index: item.index, field: e.field, message: e.message },
        );
      }
    };

    /** Returns true when the batch is full. */
    const handle = (item: IngestItem): boolean => {
      r.processed++;
      if (item.errors !== undefined) {
        addErrors(item, item.errors);
        return false;
      }
      const n = normalizeEvent(item.raw, ctx);
      if (!n.ok) {
        addErrors(item, n.errors);
        return false;
      }
      batch.push(n.event);
      batchBytes += eventBytes(n.event);
      return batch.length >= batchSize || batchBytes >= maxBatchBytes;
    };

    const flush = async (): Promise<void> => {
      if (pending) await pending;
      pending = null;
      opts.signal?.throwIfAborted();
      if (batch.length === 0) return;
      const b = batch;
      batch = [];
      batchBytes = 0;
      pending = deps.store.append(b).then((res) => {
        r.accepted += res.inserted;
        r.duplicates += res.duplicates;
        progress();
      });
    };

    try {
      if (isAsyncIterable(items)) {
        for await (const x of items) {
          if (isItemArray(x)) {
            for (const item of x) if (handle(item)) await flush();
          } else if (handle(x)) await flush();
        }
      } else {
        for (const item of items) if (handle(item)) await flush();
      }
      await flush();
      if (pending) await pending;
      pending = null;
    } finally {
      // the source failed mid-way: let the append in flight settle (its own error, if any, is secondary)
      if (pending) await (pending as Promise<void>).catch(() => undefined);
    }
    if (reported !== r.processed) progress();
    deps.logger?.debug(
      { workspace, processed: r.processed, accepted: r.accepted, rejected: r.rejected, duplicates: r.duplicates },
      'ingest done',
    );
    return r;
  }

  return { ingest };
}

function isAsyncIterable(x: IngestSource): x is AsyncIterable<IngestItem | readonly IngestItem[]> {
  return typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function isItemArray(x: IngestItem | readonly IngestItem[]): x is readonly IngestItem[] {
  return Array.isArray(x);
}
