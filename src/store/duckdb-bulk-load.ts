/**
 * The spool's line format and DuckDB's bulk load of it.
 *
 * A line is the event's own JSON (JSON.stringify, V8's fast path) prefixed with two computed fields: `key_hash` (the
 * de-duplication hash) and `ts_us` (the timestamp in integer microseconds, rounded like the appender path does).
 * DuckDB loads whole segments with `read_ndjson` in one INSERT: parsing, conversion and compression run on DuckDB's own
 * threads (the Node API runs the statement off the event loop), and a segment of many requests is one commit.
 *
 * Text must be valid UTF-16 for DuckDB's JSON reader (a lone surrogate makes the whole file unreadable): lines whose
 * JSON holds a lone-surrogate escape are rebuilt with every string repaired (U+FFFD), as the appender's UTF-8
 * conversion does.
 */
import type { WorkloadEvent } from '../workload/event.js';
import { EVENT_TABLE_COLUMNS, q } from './duckdb-schema.js';

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
      for (const [tk, tv] of Object.entries(v as Record<string, unknown>)) tags[wellFormed(tk)] = typeof tv === 'string' ? wellFormed(tv) : tv;
      out[k] = tags;
    } else out[k] = v;
  }
  return out;
}

function line(e: WorkloadEvent, hash: number): string {
  let json = JSON.stringify(e);
  if (LONE_SURROGATE_ESCAPE.test(json)) json = JSON.stringify(repaired(e));
  return `{"key_hash":${hash},"ts_us":${Math.round(e.timestamp * 1000)},${json.slice(1)}\n`;
}

/** NDJSON text of the rows (validated events; hashes[i] belongs to rows[i]). */
export function spoolLines(rows: readonly WorkloadEvent[], hashes: Float64Array): string {
  let out = '';
  for (let i = 0; i < rows.length; i++) out += line(rows[i]!, hashes[i]!);
  return out;
}

/** Largest line DuckDB's reader accepts: events may carry up to ~1M-character texts, escaped in JSON. */
const MAX_LINE_BYTES = 256 * 1024 * 1024;

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

const JSON_COLUMNS = `{${[
  ...EVENT_TABLE_COLUMNS.filter((c) => c.name !== 'timestamp').map((c) => `${sqlString(c.name)}: ${sqlString(c.kind === 'json' ? 'JSON' : c.sqlType)}`),
  `'ts_us': 'BIGINT'`,
].join(', ')}}`;

/** The events columns in table order, from the reader's columns. */
const SELECT_LIST = EVENT_TABLE_COLUMNS.map((c) => {
  if (c.name === 'timestamp') return `make_timestamp(ts_us) AS ${q('timestamp')}`;
  // the appender path stores no tags as NULL, never '{}'
  if (c.kind === 'json') return `nullif(${q(c.name)}::VARCHAR, '{}')::JSON AS ${q(c.name)}`;
  return q(c.name);
}).join(', ');

function reader(paths: readonly string[]): string {
  return `read_ndjson([${paths.map(sqlString).join(', ')}], columns=${JSON_COLUMNS}, maximum_object_size=${MAX_LINE_BYTES})`;
}

/** One INSERT of every row of the segments (rows were de-duplicated before they were spooled). */
export function bulkLoadSql(paths: readonly string[]): string {
  return `INSERT INTO events SELECT ${SELECT_LIST} FROM ${reader(paths)}`;
}

/**
 * Replay of segments a crashed process left: rows already committed (the crash came after DuckDB's commit and before
 * the segment was removed) or repeated are skipped, so replay stores every spooled event exactly once.
 */
export function replaySql(paths: readonly string[]): string {
  return `INSERT INTO events SELECT ${SELECT_LIST} FROM (
    SELECT *, row_number() OVER (PARTITION BY workspace, event_id) AS netra_rn FROM ${reader(paths)}
  ) s
  WHERE netra_rn = 1 AND NOT EXISTS (
    SELECT 1 FROM events e WHERE e.key_hash = s.key_hash AND e.workspace = s.workspace AND e.event_id = s.event_id
  )`;
}
