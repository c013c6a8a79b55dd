/**
 * DuckDB schema of the analytics store: the `events` column list (one column per `WorkloadEvent` field, in
 * EVENT_COLUMNS order, plus the internal `key_hash`), the versioned migrations and the `netra_schema` table.
 *
 * Storage choices:
 * - `timestamp` is TIMESTAMP (microseconds, UTC), so fractional epoch milliseconds survive a round trip;
 * - token counts are UINTEGER (inputs are capped at 1e8), `http_status` USMALLINT, money/latency DOUBLE;
 * - optional strings are nullable VARCHAR; `tags` is JSON text (NULL when the event has no tags): the
 *   appender writes it as one string per row, and `tags->>'team'` still works in SQL;
 * - `prefix_block_hashes` is DOUBLE[] (NULL when the event has no chain): the hashes are integers below 2^53
 *   (workload/prefix-blocks.ts), exact in a DOUBLE and read back as JS numbers, like key_hash;
 * - `key_hash` is a 53-bit hash of (workspace, event_id) (see duckdb-key-index.ts), an exact integer stored as
 *   DOUBLE so that it is written and read without BigInt; it backs de-duplication.
 * - No ART index: DuckDB's zone maps (per row group min/max) prune `timestamp` range scans because events
 *   arrive roughly in time order, and an index on (workspace, event_id) would cost insert throughput and RAM
 *   without helping the anti-join (DuckDB does not use ART indexes for joins or IN lists).
 */
import { BOOLEAN, DOUBLE, LIST, TIMESTAMP, UINTEGER, USMALLINT, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { NetraError } from '../errors.js';
import { EVENT_COLUMNS, type WorkloadEvent } from '../workload/event.js';
import { toNumber } from './duckdb-rows.js';

/** How a column is written by the chunk writer and read back. */
export type ColumnKind = 'string' | 'timestamp' | 'uint' | 'double' | 'boolean' | 'json' | 'double_list';

export interface ColumnDef {
  name: keyof WorkloadEvent | 'key_hash';
  sqlType: string;
  kind: ColumnKind;
  nullable: boolean;
  /** type of the DataChunk vector the appender receives (JSON is sent as VARCHAR and cast by the appender) */
  vectorType: DuckDBType;
}

const S = (name: ColumnDef['name'], nullable = false): ColumnDef => ({
  name,
  sqlType: 'VARCHAR',
  kind: 'string',
  nullable,
  vectorType: VARCHAR,
});
const U = (name: ColumnDef['name'], nullable = false): ColumnDef => ({
  name,
  sqlType: 'UINTEGER',
  kind: 'uint',
  nullable,
  vectorType: UINTEGER,
});
const D = (name: ColumnDef['name'], nullable = false): ColumnDef => ({
  name,
  sqlType: 'DOUBLE',
  kind: 'double',
  nullable,
  vectorType: DOUBLE,
});

/** Columns of `events`, in storage order: EVENT_COLUMNS, then `key_hash`. */
export const EVENT_TABLE_COLUMNS: readonly ColumnDef[] = [
  S('event_id'),
  { name: 'timestamp', sqlType: 'TIMESTAMP', kind: 'timestamp', nullable: false, vectorType: TIMESTAMP },
  S('workspace'),
  S('app'),
  S('environment'),
  S('end_user', true),
  S('session_id', true),
  S('trace_id', true),
  S('span_id', true),
  S('provider'),
  S('model'),
  S('operation'),
  U('prompt_tokens'),
  U('completion_tokens'),
  U('cached_prompt_tokens'),
  D('latency_ms', true),
  D('ttft_ms', true),
  S('status'),
  S('error_type', true),
  { name: 'http_status', sqlType: 'USMALLINT', kind: 'uint', nullable: true, vectorType: USMALLINT },
  S('finish_reason', true),
  U('max_tokens', true),
  D('temperature', true),
  { name: 'stream', sqlType: 'BOOLEAN', kind: 'boolean', nullable: true, vectorType: BOOLEAN },
  D('cost_usd'),
  S('cost_source'),
  S('token_source'),
  S('prompt_hash', true),
  S('prefix_hash', true),
  U('prefix_tokens', true),
  { name: 'prefix_block_hashes', sqlType: 'DOUBLE[]', kind: 'double_list', nullable: true, vectorType: LIST(DOUBLE) },
  U('prefix_block_size', true),
  S('prompt_text', true),
  S('response_text', true),
  D('quality_score', true),
  { name: 'tags', sqlType: 'JSON', kind: 'json', nullable: true, vectorType: VARCHAR },
  D('key_hash'),
];

// The table must hold every field of WorkloadEvent, in the shared column order.
const storedNames = EVENT_TABLE_COLUMNS.slice(0, -1)
  .map((c) => c.name)
  .join(',');
if (storedNames !== EVENT_COLUMNS.join(',')) {
  throw new Error(`duckdb-schema: events columns out of sync with EVENT_COLUMNS: ${storedNames}`);
}

/**
 * One reader per event field. Encoders that walk the rows one column at a time call the column's reader: each reads
 * one property name, so its load stays monomorphic, where `e[name]` with a changing name goes megamorphic (perf of the
 * ingest worker during bench/ingest-http.ts: ~10% of its CPU in V8's megamorphic keyed load).
 */
export const FIELD_READERS: { readonly [K in keyof WorkloadEvent]-?: (e: WorkloadEvent) => WorkloadEvent[K] } = {
  event_id: (e) => e.event_id,
  timestamp: (e) => e.timestamp,
  workspace: (e) => e.workspace,
  app: (e) => e.app,
  environment: (e) => e.environment,
  end_user: (e) => e.end_user,
  session_id: (e) => e.session_id,
  trace_id: (e) => e.trace_id,
  span_id: (e) => e.span_id,
  provider: (e) => e.provider,
  model: (e) => e.model,
  operation: (e) => e.operation,
  prompt_tokens: (e) => e.prompt_tokens,
  completion_tokens: (e) => e.completion_tokens,
  cached_prompt_tokens: (e) => e.cached_prompt_tokens,
  latency_ms: (e) => e.latency_ms,
  ttft_ms: (e) => e.ttft_ms,
  status: (e) => e.status,
  error_type: (e) => e.error_type,
  http_status: (e) => e.http_status,
  finish_reason: (e) => e.finish_reason,
  max_tokens: (e) => e.max_tokens,
  temperature: (e) => e.temperature,
  stream: (e) => e.stream,
  cost_usd: (e) => e.cost_usd,
  cost_source: (e) => e.cost_source,
  token_source: (e) => e.token_source,
  prompt_hash: (e) => e.prompt_hash,
  prefix_hash: (e) => e.prefix_hash,
  prefix_tokens: (e) => e.prefix_tokens,
  prefix_block_hashes: (e) => e.prefix_block_hashes,
  prefix_block_size: (e) => e.prefix_block_size,
  prompt_text: (e) => e.prompt_text,
  response_text: (e) => e.response_text,
  quality_score: (e) => e.quality_score,
  tags: (e) => e.tags,
};

/** SQL identifier of a column (timestamp is a keyword, so everything is quoted). */
export const q = (name: string): string => `"${name}"`;

function eventsDdl(table: string): string {
  const cols = EVENT_TABLE_COLUMNS.map((c) => `${q(c.name)} ${c.sqlType}${c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE IF NOT EXISTS ${table} (\n  ${cols.join(',\n  ')}\n)`;
}

export interface Migration {
  version: number;
  description: string;
  statements: readonly string[];
}

const V3_COLUMNS: ReadonlySet<string> = new Set(['prefix_block_hashes', 'prefix_block_size']);

/** Forward-only migrations; init() applies those above the stored version, each in one transaction. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'events table', statements: [eventsDdl('events')] },
  {
    // the appender writes columns by position, so the new column goes in its EVENT_COLUMNS place: the table is rebuilt
    version: 2,
    description: 'token_source column (reported | estimated), after cost_source',
    statements: [
      'DROP TABLE IF EXISTS events_v2',
      eventsDdl('events_v2'),
      // the DDL is today's table: columns of later migrations are NULL here (a v1 table has none of them)
      `INSERT INTO events_v2 SELECT ${EVENT_TABLE_COLUMNS.map((c) => (c.name === 'token_source' ? `'reported'` : V3_COLUMNS.has(c.name) ? 'NULL' : q(c.name))).join(', ')} FROM events`,
      'DROP TABLE events',
      'ALTER TABLE events_v2 RENAME TO events',
    ],
  },
  {
    version: 3,
    description: 'prefix_block_hashes and prefix_block_size columns (prompt as a chain of block hashes), after prefix_tokens',
    statements: [
      'DROP TABLE IF EXISTS events_v3',
      eventsDdl('events_v3'),
      `INSERT INTO events_v3 SELECT ${EVENT_TABLE_COLUMNS.map((c) => (V3_COLUMNS.has(c.name) ? 'NULL' : q(c.name))).join(', ')} FROM events`,
      'DROP TABLE events',
      'ALTER TABLE events_v3 RENAME TO events',
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const SCHEMA_TABLE_DDL =
  'CREATE TABLE IF NOT EXISTS netra_schema (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)';

/** Select list that reads a row back in EVENT_COLUMNS order, with the timestamp as epoch milliseconds. */
export const EVENT_SELECT_LIST = EVENT_COLUMNS.map((name) =>
  name === 'timestamp' ? `epoch_us("timestamp")::DOUBLE / 1000 AS "timestamp"` : q(name),
).join(', ');

/** DDL of a plain table with the same columns (no key_hash): used by the bare-appender benchmark baseline. */
export function plainEventsDdl(table: string): string {
  const cols = EVENT_TABLE_COLUMNS.filter((c) => c.name !== 'key_hash').map((c) => `${q(c.name)} ${c.sqlType}`);
  return `CREATE TABLE ${table} (${cols.join(', ')})`;
}

/** Creates the schema table and applies the migrations above the stored version, each in one transaction. */
export async function migrateSchema(conn: DuckDBConnection, path: string): Promise<void> {
  await conn.run(SCHEMA_TABLE_DDL);
  const current = toNumber((await conn.runAndReadAll('SELECT coalesce(max(version), 0) FROM netra_schema')).getRowsJS()[0]![0]);
  if (current > SCHEMA_VERSION) {
    throw new NetraError('STORE', `database ${path} has schema version ${current}; this build knows up to ${SCHEMA_VERSION}`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    await conn.run('BEGIN TRANSACTION');
    try {
      for (const sql of m.statements) await conn.run(sql);
      await conn.run('INSERT INTO netra_schema (version) VALUES ($v)', { v: m.version });
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK');
      throw err;
    }
  }
}
