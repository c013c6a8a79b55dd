/**
 * One validated configuration, read from environment variables. Defaults give the embedded setup:
 * PGlite + DuckDB files under NETRA_DATA_DIR, HTTP on NETRA_PORT, no external services.
 * The original system's operational figures (pool sizes, timeouts) are defaults here, never constants elsewhere.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { NetraError } from './errors.js';

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const ConfigSchema = z.object({
  dataDir: z.string().min(1).default('./.netra'),
  host: z.string().min(1).default('127.0.0.1'),
  port: int(8000).pipe(z.number().max(65535)),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seed the `demo` workspace with a generated week of traffic on first start. */
  seedDemo: bool.default(true),
  demoEvents: int(50_000, 0),
  defaultWorkspace: z.string().min(1).max(200).default('demo'),

  /** PostgreSQL; when absent the embedded PGlite under dataDir is used. */
  databaseUrl: z.string().url().optional(),
  pg: z.object({
    poolSize: int(20, 1),
    maxOverflow: int(30, 0),
    poolTimeoutMs: int(30_000, 1),
    recycleMs: int(30 * 60_000, 1),
    prePing: bool.default(true),
    statementTimeoutMs: int(30_000, 0),
    idleTimeoutMs: int(10 * 60_000, 0),
    idleInTransactionTimeoutMs: int(60_000, 0),
  }).prefault({}),
  redisUrl: z.string().url().optional(),

  store: z.object({
    engine: z.enum(['duckdb']).default('duckdb'),
    /** DuckDB file; default <dataDir>/events.duckdb. ':memory:' for an in-memory store. */
    duckdbPath: z.string().optional(),
  }).prefault({}),

  ingest: z.object({
    maxEventsPerRequest: int(10_000, 1),
    maxBodyBytes: int(10 * 1024 * 1024, 1024),
    /** NDJSON bodies stream; they may be larger than a JSON body. */
    maxNdjsonBodyBytes: int(512 * 1024 * 1024, 1024),
  }).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;

type Env = Record<string, string | undefined>;

/** Maps environment variables onto the schema's shape. Unset variables stay undefined so defaults apply. */
export function configFromEnv(env: Env = process.env): Config {
  const raw = {
    dataDir: env.NETRA_DATA_DIR,
    host: env.NETRA_HOST,
    port: env.NETRA_PORT,
    logLevel: env.NETRA_LOG_LEVEL,
    seedDemo: env.NETRA_SEED_DEMO,
    demoEvents: env.NETRA_DEMO_EVENTS,
    defaultWorkspace: env.NETRA_WORKSPACE,
    databaseUrl: env.DATABASE_URL || undefined,
    pg: {
      poolSize: env.NETRA_PG_POOL_SIZE,
      maxOverflow: env.NETRA_PG_MAX_OVERFLOW,
      poolTimeoutMs: env.NETRA_PG_POOL_TIMEOUT_MS,
      recycleMs: env.NETRA_PG_RECYCLE_MS,
      prePing: env.NETRA_PG_PRE_PING,
      statementTimeoutMs: env.NETRA_PG_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: env.NETRA_PG_IDLE_TIMEOUT_MS,
      idleInTransactionTimeoutMs: env.NETRA_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    redisUrl: env.REDIS_URL || undefined,
    store: { engine: env.NETRA_STORE, duckdbPath: env.NETRA_DUCKDB_PATH },
    ingest: {
      maxEventsPerRequest: env.NETRA_INGEST_MAX_EVENTS,
      maxBodyBytes: env.NETRA_INGEST_MAX_BODY_BYTES,
      maxNdjsonBodyBytes: env.NETRA_INGEST_MAX_NDJSON_BYTES,
    },
  };
  return parseConfig(raw);
}

/** Validates a config object (tests pass partial objects; defaults fill the rest). */
export function parseConfig(raw: unknown): Config {
  const r = ConfigSchema.safeParse(stripUndefined(raw));
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new NetraError('CONFIG', `invalid configuration: ${first.path.join('.')}: ${first.message}`, { field: first.path.join('.'), details: r.error.issues });
  }
  return { ...r.data, dataDir: resolve(r.data.dataDir) };
}

function stripUndefined(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stripUndefined(x);
  return out;
}

/** The effective config with secrets masked, for the start-up log line. */
export function describeConfig(c: Config): Record<string, unknown> {
  return { ...c, databaseUrl: maskUrl(c.databaseUrl), redisUrl: maskUrl(c.redisUrl) };
}

export function maskUrl(u: string | undefined): string | undefined {
  if (!u) return u;
  try {
    const url = new URL(u);
    if (url.password) url.password = '****';
    return url.toString();
  } catch {
    return '****';
  }
}
