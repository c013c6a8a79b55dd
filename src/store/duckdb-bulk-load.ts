/**
 * The spool's line format and DuckDB's bulk load of it.
 *
 * One line per accepted batch: `{"h":[key hashes],"t":[timestamps in integer µs],"e":[the events]}`. One
 * JSON.stringify of the whole event array (V8's fast path) costs ~30% less than a line per event (measured 7.3 vs
 * 10.1 µs per 1 KB event with the UTF-8 encoding), and the computed columns ride along as two arrays. DuckDB loads
 * whole segments with `read_ndjson` and unnests the three arrays side by side in one INSERT: parsing, conversion and
 * compression run on DuckDB's own threads (the Node API runs the statement off the event loop), and a segment of
 * many requests is one commit.
 *
 * Text must be valid UTF-16 for DuckDB's JSON reader (a lone surrogate makes the whole file unreadable): a batch whose
 * JSON holds a lone-surrogate escape is rebuilt with every string repaired (U+FFFD), as the appender's UTF-8
 * conversion does.
 */
import type { WorkloadEvent } from '../workload/event.js';
import { keyHash } from './duckdb-key-index.js';
import { validateEvents } from './duckdb-row-writer.js';
import { EVENT_TABLE_COLUMNS, q } from './duckdb-schema.js';
import type { EncodedBatch } from './types.js';

/** JSON.stringify writes a lone surrogate as a lowercase \udXXX escape; a false hit (an escaped backslash) only costs a rebuild. */
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/;

function wellFormed(s: string): string {
  return (s as string & { toWellFormed(): string }).toWellFormed();
}

function repaired(e: WorkloadEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (typeof v === 'string') out[wellFormed(k)] = wellFormed(v);
    else if (k === 'tags' && v !== null && typeof v === 'object') {
      const tags: Record<string, unknown> = {};
      for (const [tk, tv] of Object.entries(v as Record<string, unknown>))
        tags[wellFormed(tk)] = typeof tv === 'string' ? wellFormed(tv) : tv;
      out[k] = tags;
    } else out[k] = v;
  }
  return out;
}

/** One spool line holding the rows (validated events; hashes[i] belongs to rows[i]). */
export function spoolLine(rows: readonly WorkloadEvent[], hashes: Float64Array): string {
  const n = rows.length;
  const h = new Array<number>(n);
  const t = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    h[i] = hashes[i]!;
    t[i] = Math.round(rows[i]!.timestamp * 1000);
  }
  let events = JSON.stringify(rows);
  if (LONE_SURROGATE_ESCAPE.test(events)) events = JSON.stringify(rows.map(repaired));
  return `{"h":${JSON.stringify(h)},"t":${JSON.stringify(t)},"e":${events}}\n`;
}

/**
 * Validated events as a spool line in UTF-8 with their key hashes: what DuckDbStore.appendEncoded() takes. Pure (no
 * store state), so a worker thread can run it; throws NetraError('VALIDATION') like append() for a row that does not fit.
 */
export function encodeSpoolBatch(events: readonly WorkloadEvent[]): EncodedBatch {
  validateEvents(events);
  const hashes = new Float64Array(events.length);
  for (let i = 0; i < events.length; i++) hashes[i] = keyHash(events[i]!.workspace, events[i]!.event_id);
  return { rows: events.length, hashes, bytes: Buffer.from(spoolLine(events, hashes), 'utf8') };
}

/** The events of an encoded batch (the rare path: a batch with repeated keys is settled against the table). */
export function decodeSpoolBatch(batch: EncodedBatch): WorkloadEvent[] {
  const text = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength).toString('utf8');
  return (JSON.parse(text) as { e: WorkloadEvent[] }).e;
}

/** Largest line DuckDB's reader accepts: events may carry up to ~1M-character texts, escaped in JSON. */
const MAX_LINE_BYTES = 256 * 1024 * 1024;

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

const EVENT_STRUCT = `STRUCT(${EVENT_TABLE_COLUMNS.filter((c) => c.name !== 'timestamp' && c.name !== 'key_hash')
  .map((c) => `${q(c.name)} ${c.kind === 'json' ? 'JSON' : c.sqlType}`)
  .join(', ')})`;

const COLUMNS = `{'h': 'DOUBLE[]', 't': 'BIGINT[]', 'e': ${sqlString(`${EVENT_STRUCT}[]`)}}`;

/** The events columns in table order, from one unnested row (`key_hash`, `ts_us`, `ev`). */
const SELECT_LIST = EVENT_TABLE_COLUMNS.map((c) => {
  if (c.name === 'timestamp') return `make_timestamp(ts_us) AS ${q('timestamp')}`;
  if (c.name === 'key_hash') return q('key_hash');
  // the appender path stores no tags as NULL, never '{}'
  if (c.kind === 'json') return `nullif(ev.${q(c.name)}::VARCHAR, '{}')::JSON AS ${q(c.name)}`;
  return `ev.${q(c.name)} AS ${q(c.name)}`;
}).join(', ');

/** One row per spooled event. */
function rows(paths: readonly string[]): string {
  return `(SELECT unnest(h) AS key_hash, unnest(t) AS ts_us, unnest(e) AS ev
    FROM read_ndjson([${paths.map(sqlString).join(', ')}], columns=${COLUMNS}, maximum_object_size=${MAX_LINE_BYTES}))`;
}

/** One INSERT of every row of the segments (rows were de-duplicated before they were spooled). */
export function bulkLoadSql(paths: readonly string[]): string {
  return `INSERT INTO events SELECT ${SELECT_LIST} FROM ${rows(paths)}`;
}

/**
 * Replay of segments a crashed process left: rows already committed (the crash came after DuckDB's commit and before
 * the segment was removed) or repeated are skipped, so replay stores every spooled event exactly once.
 */
export function replaySql(paths: readonly string[]): string {
  return `INSERT INTO events SELECT ${SELECT_LIST} FROM (
    SELECT *, row_number() OVER (PARTITION BY ev.workspace, ev.event_id) AS netra_rn FROM ${rows(paths)}
  ) s
  WHERE netra_rn = 1 AND NOT EXISTS (
    SELECT 1 FROM events e WHERE e.key_hash = s.key_hash AND e.workspace = s.ev.workspace AND e.event_id = s.ev.event_id
  )`;
}
