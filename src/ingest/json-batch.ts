/**
 * A JSON ingest body (the bytes of `POST /api/v1/events`) → one encoded store batch, for a worker thread: decode,
 * parse, validate and normalise every event, then encode the batch in the store's write format
 * (store/duckdb-bulk-load.ts `encodeSpoolBatch`). Pure apart from the id maker: no I/O, no shared state.
 *
 * Only the common case is done here, and done exactly as the main thread would: a body whose every event is valid.
 * Anything else (malformed JSON, a byte-order mark or a prototype-poisoning key the server's JSON parser treats
 * specially, a wrong shape, too many or no events, an invalid event) is answered `ok: false`, and the caller runs the
 * ordinary path on the main thread, which writes every error message; so the answer never depends on which thread
 * parsed the body.
 */
import { encodeSpoolBatch } from '../store/duckdb-bulk-load.js';
import type { EncodedBatch } from '../store/types.js';
import { type NormalizeContext, normalizeEvent, type WorkloadEvent } from '../workload/event.js';
import { parseJsonBody } from './json-body.js';

export type PreparedJson = { ok: true; batch: EncodedBatch } | { ok: false; reason: string };

export function prepareJsonBatch(body: Uint8Array, maxEvents: number, ctx: NormalizeContext): PreparedJson {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  // the server's parser strips a BOM and removes `__proto__` / `constructor.prototype` keys: left to it
  if (text.charCodeAt(0) === 0xfeff || text.includes('__proto__') || text.includes('constructor')) {
    return { ok: false, reason: 'special keys' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed JSON' };
  }
  const parsed = parseJsonBody(value);
  if (!parsed.ok) return { ok: false, reason: 'shape' };
  const n = parsed.items.length;
  if (n === 0 || n > maxEvents) return { ok: false, reason: 'event count' };
  const events = new Array<WorkloadEvent>(n);
  for (let i = 0; i < n; i++) {
    const r = normalizeEvent(parsed.items[i]!.raw, ctx);
    if (!r.ok) return { ok: false, reason: 'invalid event' };
    events[i] = r.event;
  }
  try {
    return { ok: true, batch: encodeSpoolBatch(events) };
  } catch {
    return { ok: false, reason: 'invalid event' };
  }
}
