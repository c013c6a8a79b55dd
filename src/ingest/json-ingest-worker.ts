/**
 * The JSON ingest worker thread: takes request bodies from json-ingest-pool.ts, answers each with an encoded batch
 * (json-batch.ts) or `ok: false`. Prices with the catalog the main thread last sent (its generation rides along with
 * every answer, so the main thread can tell a batch priced with a catalog that changed meanwhile).
 */
import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { PriceCatalog, type PriceCatalogData } from '../workload/price-catalog.js';
import { prepareJsonBatch } from './json-batch.js';
import { type LoadColumns, loadColumnsBuffers } from '../store/duckdb-load-columns.js';

export interface JsonJob {
  id: number;
  workspace: string;
  body: Uint8Array;
  maxEvents: number;
  catalogGen: number;
  /** sent when this worker has not seen catalogGen yet */
  catalog?: PriceCatalogData;
}

export type JsonJobAnswer =
  | { id: number; ok: true; catalogGen: number; rows: number; hashes: Float64Array; bytes: Uint8Array; columns?: LoadColumns }
  | { id: number; ok: false; reason: string };

let catalog: PriceCatalog | null = null;
let catalogGen = -1;

function answer(job: JsonJob): JsonJobAnswer {
  if (job.catalog) {
    catalog = PriceCatalog.fromData(job.catalog);
    catalogGen = job.catalogGen;
  }
  if (!catalog || catalogGen !== job.catalogGen) return { id: job.id, ok: false, reason: 'no catalog' };
  const r = prepareJsonBatch(job.body, job.maxEvents, { workspace: job.workspace, pricer: catalog, newId: randomUUID });
  if (!r.ok) return { id: job.id, ok: false, reason: r.reason };
  const { rows, hashes, bytes, columns } = r.batch;
  return { id: job.id, ok: true, catalogGen, rows, hashes, bytes, columns };
}

/** The answer's buffers move to the main thread (no copy) when the views span them whole. */
function transferables(a: JsonJobAnswer): ArrayBuffer[] {
  if (!a.ok) return [];
  const whole = [a.hashes, a.bytes]
    .filter((v) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength)
    .map((v) => v.buffer as ArrayBuffer);
  return a.columns ? [...whole, ...loadColumnsBuffers(a.columns)] : whole;
}

parentPort!.on('message', (job: JsonJob) => {
  let a: JsonJobAnswer;
  try {
    a = answer(job);
  } catch (err) {
    a = { id: job.id, ok: false, reason: `worker error: ${(err as Error).message}` };
  }
  parentPort!.postMessage(a, transferables(a));
});
