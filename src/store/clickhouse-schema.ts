/**
 * ClickHouse schema of the analytics store: the `events` table (one column per WorkloadEvent field, EVENT_COLUMNS
 * order), the versioned migrations, the `netra_schema` table, the TTL clause, and the row codec (WorkloadEvent →
 * JSONEachRow line, selected row → WorkloadEvent).
 *
 * Storage choices:
 * - MergeTree, PARTITION BY toYYYYMM(timestamp) (a month per partition: TTL drops whole parts, a month is the unit
 *   of backfills), ORDER BY (workspace, timestamp): every read is one workspace and a time range, which is a
 *   contiguous primary-key range;
 * - `timestamp` is DateTime64(6, 'UTC'), so fractional epoch milliseconds survive a round trip;
 * - repeated short strings (workspace, app, model, status, ...) are LowCardinality; token counts UInt32,
 *   http_status UInt16, money and latency Float64, optional fields Nullable;
 * - `prefix_block_hashes` is Array(Float64) (integers below 2^53, exact, read back as JS numbers); ClickHouse arrays
 *   cannot be Nullable, so an event without a chain stores [] and reads back as null;
 * - `tags` is JSON text (NULL when the event has none), written with JSON.stringify like the DuckDB store, so the
 *   same literal tag tests work;
 * - a bloom_filter skip index on event_id serves the de-duplication lookup (`event_id IN (...)` within a workspace).
 */
import { NetraError } from '../errors.js';
import { EVENT_COLUMNS, type WorkloadEvent } from '../workload/event.js';
import { tagsToJson } from './duckdb-row-writer.js';

const LC = 'LowCardinality(String)';
const NLC = 'LowCardinality(Nullable(String))';

/** Column types of `events`, in EVENT_COLUMNS order. */
export const EVENT_COLUMN_TYPES: Readonly<Record<(typeof EVENT_COLUMNS)[number], string>> = {
  event_id: 'String',
  timestamp: "DateTime64(6, 'UTC')",
  workspace: LC,
  app: LC,
  environment: LC,
  end_user: 'Nullable(String)',
  session_id: 'Nullable(String)',
  trace_id: 'Nullable(String)',
  span_id: 'Nullable(String)',
  provider: LC,
  model: LC,
  operation: LC,
  prompt_tokens: 'UInt32',
  completion_tokens: 'UInt32',
  cached_prompt_tokens: 'UInt32',
  latency_ms: 'Nullable(Float64)',
  ttft_ms: 'Nullable(Float64)',
  status: LC,
  error_type: NLC,
  http_status: 'Nullable(UInt16)',
  finish_reason: NLC,
  max_tokens: 'Nullable(UInt32)',
  temperature: 'Nullable(Float64)',
  stream: 'Nullable(Bool)',
  cost_usd: 'Float64',
  cost_source: LC,
  token_source: LC,
  prompt_hash: 'Nullable(String)',
  prefix_hash: 'Nullable(String)',
  prefix_tokens: 'Nullable(UInt32)',
  prefix_block_hashes: 'Array(Float64)',
  prefix_block_size: 'Nullable(UInt32)',
  prompt_text: 'Nullable(String)',
  response_text: 'Nullable(String)',
  quality_score: 'Nullable(Float64)',
  tags: 'Nullable(String)',
};

/** A database name we can put in SQL text unquoted. */
export function checkDatabaseName(db: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(db)) {
    throw new NetraError('CONFIG', `ClickHouse database name '${db}' must match [A-Za-z_][A-Za-z0-9_]*`, { field: 'clickhouse.database' });
  }
  return db;
}

/** `TTL ...` clause of the events table, or '' for no TTL (keep forever). */
export function ttlClause(ttlDays: number): string {
  if (!Number.isInteger(ttlDays) || ttlDays < 0)
    throw new NetraError('CONFIG', 'ClickHouse TTL must be a whole number of days >= 0', { field: 'clickhouse.ttlDays' });
  return ttlDays > 0 ? `toDateTime("timestamp") + INTERVAL ${ttlDays} DAY` : '';
}

/** TTL days read back from system.tables.engine_full (0: none). */
export function ttlDaysOf(engineFull: string): number {
  const m = /\bTTL\b.*?toIntervalDay\((\d+)\)/.exec(engineFull);
  return m ? Number(m[1]) : 0;
}

function eventsDdl(db: string, ttlDays: number): string {
  const cols = EVENT_COLUMNS.map((c) => `"${c}" ${EVENT_COLUMN_TYPES[c]}`);
  const ttl = ttlClause(ttlDays);
  return `CREATE TABLE IF NOT EXISTS ${db}.events (
  ${cols.join(',\n  ')},
  INDEX idx_event_id event_id TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = MergeTree
PARTITION BY toYYYYMM("timestamp")
ORDER BY (workspace, "timestamp")${ttl ? `\nTTL ${ttl}` : ''}`;
}

export interface Migration {
  version: number;
  description: string;
  /** idempotent statements (ClickHouse has no DDL transactions: a migration interrupted half-way is re-run) */
  statements: (db: string, ttlDays: number) => string[];
}

/** Forward-only migrations; init() applies those above the stored version, then records the version. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'events table', statements: (db, ttl) => [eventsDdl(db, ttl)] },
  {
    version: 2,
    description: 'token_source column (reported | estimated), after cost_source',
    statements: (db) => [`ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS token_source ${LC} DEFAULT 'reported' AFTER cost_source`],
  },
  {
    version: 3,
    description: 'prefix_block_hashes and prefix_block_size columns (prompt as a chain of block hashes), after prefix_tokens',
    statements: (db) => [
      `ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS prefix_block_hashes Array(Float64) AFTER prefix_tokens`,
      `ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS prefix_block_size Nullable(UInt32) AFTER prefix_block_hashes`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const schemaTableDdl = (db: string): string =>
  `CREATE TABLE IF NOT EXISTS ${db}.netra_schema (version UInt32, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version`;

/**
 * Select list that reads a row back in EVENT_COLUMNS order, with the timestamp as epoch milliseconds in `ts_ms`.
 * (Never alias an expression with a column's own name in ClickHouse: aliases are visible in WHERE and ORDER BY and
 * would shadow the column there.)
 */
export const EVENT_SELECT_LIST = EVENT_COLUMNS.map((c) =>
  c === 'timestamp' ? 'toUnixTimestamp64Micro("timestamp") / 1000 AS ts_ms' : `"${c}"`,
).join(', ');

/** Epoch ms → the 'seconds.micros' text DateTime64(6) parses exactly. */
export function timestampText(ms: number): string {
  const us = Math.round(ms * 1000);
  const s = Math.floor(us / 1e6);
  return `${s}.${String(us - s * 1e6).padStart(6, '0')}`;
}

/** One JSONEachRow line of an event (keys in column order). */
export function eventJsonLine(e: WorkloadEvent): string {
  return JSON.stringify({
    event_id: e.event_id,
    timestamp: timestampText(e.timestamp),
    workspace: e.workspace,
    app: e.app,
    environment: e.environment,
    end_user: e.end_user,
    session_id: e.session_id,
    trace_id: e.trace_id,
    span_id: e.span_id,
    provider: e.provider,
    model: e.model,
    operation: e.operation,
    prompt_tokens: e.prompt_tokens,
    completion_tokens: e.completion_tokens,
    cached_prompt_tokens: e.cached_prompt_tokens,
    latency_ms: e.latency_ms,
    ttft_ms: e.ttft_ms,
    status: e.status,
    error_type: e.error_type,
    http_status: e.http_status,
    finish_reason: e.finish_reason,
    max_tokens: e.max_tokens,
    temperature: e.temperature,
    stream: e.stream,
    cost_usd: e.cost_usd,
    cost_source: e.cost_source,
    token_source: e.token_source,
    prompt_hash: e.prompt_hash,
    prefix_hash: e.prefix_hash,
    prefix_tokens: e.prefix_tokens,
    prefix_block_hashes: e.prefix_block_hashes ?? [],
    prefix_block_size: e.prefix_block_size ?? null,
    prompt_text: e.prompt_text,
    response_text: e.response_text,
    quality_score: e.quality_score,
    tags: tagsToJson(e.tags),
  });
}

/** A row selected with EVENT_SELECT_LIST → WorkloadEvent (the JSON values already have the right JS types). */
export function rowToEvent(r: Record<string, unknown>): WorkloadEvent {
  const e: Record<string, unknown> = {};
  for (const c of EVENT_COLUMNS) e[c] = r[c] ?? null;
  e.timestamp = r.ts_ms;
  e.tags = r.tags == null ? {} : JSON.parse(r.tags as string);
  const chain = r.prefix_block_hashes as number[] | null | undefined;
  e.prefix_block_hashes = chain != null && chain.length > 0 ? chain : null;
  return e as unknown as WorkloadEvent;
}
