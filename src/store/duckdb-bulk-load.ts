/**
 * The spool's line format and DuckDB's bulk load of it.
 *
 * One line per accepted batch, by column: `{"v":2,"h":[key hashes],"t":[timestamps in integer µs],"c":{"event_id":
 * [...],"workspace":[...],...}}` — one array per column of `events` (EVENT_TABLE_COLUMNS, so a new column is spooled
 * and loaded without touching this file). By column rather than one object per event: no key names repeated per
 * event, so the line is ~40% shorter, JSON.stringify of it ~40% cheaper than of the event objects (bench/ingest-
 * stages.ts) and DuckDB's parse of it cheaper too. DuckDB loads whole segments with `read_ndjson` and unnests the arrays
 * side by side in one INSERT: parsing, conversion and compression run on DuckDB's own threads (the Node API runs the
 * statement off the event loop), and a segment of many requests is one commit.
 *
 * The earlier format, one object per event (`{"h":[...],"t":[...],"e":[events]}`, no `"v"`), is still read when a
 * crash left such segments (replay at start).
 *
 * Text must be valid UTF-16 for DuckDB's JSON reader (a lone surrogate makes the whole file unreadable): a batch whose
 * JSON holds a lone-surrogate escape is rebuilt with every string repaired (U+FFFD), as the appender's UTF-8
 * conversion does.
 */
import type { WorkloadEvent } from '../workload/event.js';
import { keyHash } from './duckdb-key-index.js';
import { encodeLoadColumns } from './duckdb-load-columns.js';
import { validateEvents } from './duckdb-row-writer.js';
import { EVENT_TABLE_COLUMNS, FIELD_READERS, q } from './duckdb-schema.js';
import type { EncodedBatch } from './types.js';
import { LONE_SURROGATE_ESCAPE, repairedValue } from './well-formed-json.js';

/** The first bytes of a line (and so of a segment) in the by-column format. */
export const COLUMNAR_LINE_START = '{"v":2,';

/** The event columns the line carries (timestamp and key_hash ride as `t` and `h`). */
const LINE_COLUMNS = EVENT_TABLE_COLUMNS.filter((c) => c.name !== 'timestamp' && c.name !== 'key_hash');
const LINE_NAMES = LINE_COLUMNS.map((c) => c.name as keyof WorkloadEvent);
const LINE_READERS = LINE_NAMES.map((name) => FIELD_READERS[name] as (e: WorkloadEvent) => unknown);

/** One spool line holding the rows (validated events; hashes[i] belongs to rows[i]). */
export function spoolLine(rows: readonly WorkloadEvent[], hashes: Float64Array): string {
  const n = rows.length;
  const h = new Array<number>(n);
  const t = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    h[i] = hashes[i]!;
    t[i] = Math.round(rows[i]!.timestamp * 1000);
  }
  // column by column, each with its own reader (FIELD_READERS: no megamorphic `e[name]`)
  const cols: Record<string, unknown[]> = {};
  for (let k = 0; k < LINE_NAMES.length; k++) {
    const read = LINE_READERS[k]!;
    const col = new Array<unknown>(n);
    for (let i = 0; i < n; i++) col[i] = read(rows[i]!) ?? null;
    cols[LINE_NAMES[k]!] = col;
  }
  let c = JSON.stringify(cols);
  if (LONE_SURROGATE_ESCAPE.test(c)) {
    for (const name of LINE_NAMES) cols[name] = cols[name]!.map(repairedValue);
    c = JSON.stringify(cols);
  }
  return `${COLUMNAR_LINE_START}"h":${JSON.stringify(h)},"t":${JSON.stringify(t)},"c":${c}}\n`;
}

/**
 * Validated events as a spool line in UTF-8 with their key hashes and the same rows by column for DuckDB's live load
 * (duckdb-load-columns.ts): what DuckDbStore.appendEncoded() takes. Pure (no store state), so a worker thread can run
 * it; throws NetraError('VALIDATION') like append() for a row that does not fit.
 */
export function encodeSpoolBatch(events: readonly WorkloadEvent[]): EncodedBatch {
  validateEvents(events);
  const hashes = new Float64Array(events.length);
  for (let i = 0; i < events.length; i++) hashes[i] = keyHash(events[i]!.workspace, events[i]!.event_id);
  return { rows: events.length, hashes, bytes: Buffer.from(spoolLine(events, hashes), 'utf8'), columns: encodeLoadColumns(events) };
}

/** The events of an encoded batch (the rare path: a batch with repeated keys is settled against the table). */
export function decodeSpoolBatch(batch: EncodedBatch): WorkloadEvent[] {
  const text = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength).toString('utf8');
  const line = JSON.parse(text) as { t: number[]; c: Record<string, unknown[]> };
  return line.t.map((us, i) => {
    const e: Record<string, unknown> = { timestamp: us / 1000 };
    for (const name of LINE_NAMES) e[name] = line.c[name]![i];
    if (e.tags == null) e.tags = {};
    return e as unknown as WorkloadEvent;
  });
}

/** Largest line DuckDB's reader accepts: events may carry up to ~1M-character texts, escaped in JSON. */
const MAX_LINE_BYTES = 256 * 1024 * 1024;

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

const sqlTypeOf = (c: (typeof LINE_COLUMNS)[number]): string => (c.kind === 'json' ? 'JSON' : c.sqlType);

const reader = (paths: readonly string[], columns: string): string =>
  `read_ndjson([${paths.map(sqlString).join(', ')}], columns=${columns}, maximum_object_size=${MAX_LINE_BYTES})`;

/** One row per spooled event, by-column lines: `key_hash`, `ts_us` and every event column by name. */
function columnarRows(paths: readonly string[]): string {
  const struct = `STRUCT(${LINE_COLUMNS.map((c) => `${q(c.name)} ${sqlTypeOf(c)}[]`).join(', ')})`;
  const columns = `{'v': 'INTEGER', 'h': 'DOUBLE[]', 't': 'BIGINT[]', 'c': ${sqlString(struct)}}`;
  const unnested = LINE_COLUMNS.map((c) => `unnest(c.${q(c.name)}) AS ${q(c.name)}`).join(', ');
  return `(SELECT unnest(h) AS key_hash, unnest(t) AS ts_us, ${unnested} FROM ${reader(paths, columns)})`;
}

/** The same from lines of the earlier format (one object per event). */
function eventRows(paths: readonly string[]): string {
  const struct = `STRUCT(${LINE_COLUMNS.map((c) => `${q(c.name)} ${sqlTypeOf(c)}`).join(', ')})`;
  const columns = `{'h': 'DOUBLE[]', 't': 'BIGINT[]', 'e': ${sqlString(`${struct}[]`)}}`;
  return `(SELECT key_hash, ts_us, unnest(ev) FROM (SELECT unnest(h) AS key_hash, unnest(t) AS ts_us, unnest(e) AS ev FROM ${reader(paths, columns)}))`;
}

/** The events columns in table order, from one row of columnarRows / eventRows. */
const SELECT_LIST = EVENT_TABLE_COLUMNS.map((c) => {
  if (c.name === 'timestamp') return `make_timestamp(ts_us) AS ${q('timestamp')}`;
  if (c.name === 'key_hash') return q('key_hash');
  // the appender path stores no tags as NULL, never '{}'
  if (c.kind === 'json') return `nullif(${q(c.name)}::VARCHAR, '{}')::JSON AS ${q(c.name)}`;
  return q(c.name);
}).join(', ');

/** One INSERT of every row of the segments (rows were de-duplicated before they were spooled). */
export function bulkLoadSql(paths: readonly string[]): string {
  return `INSERT INTO events SELECT ${SELECT_LIST} FROM ${columnarRows(paths)}`;
}

/**
 * Replay of segments a crashed process left (`columnar`: by-column lines, else the earlier format): rows already
 * committed (the crash came after DuckDB's commit and before the segment was removed) or repeated are skipped, so
 * replay stores every spooled event exactly once.
 */
export function replaySql(paths: readonly string[], columnar = true): string {
  return `INSERT INTO events SELECT ${SELECT_LIST} FROM (
    SELECT *, row_number() OVER (PARTITION BY workspace, event_id) AS netra_rn FROM ${columnar ? columnarRows(paths) : eventRows(paths)}
  ) s
  WHERE netra_rn = 1 AND NOT EXISTS (
    SELECT 1 FROM events e WHERE e.key_hash = s.key_hash AND e.workspace = s.workspace AND e.event_id = s.event_id
  )`;
}
