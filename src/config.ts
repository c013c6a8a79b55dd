// Longer than ~400 lines: the settings table: one entry per setting by design (schema, env mapping and docs come from it).
/**
 * One validated configuration, read from environment variables. Defaults give the embedded setup:
 * PGlite + DuckDB files under NETRA_DATA_DIR, HTTP on NETRA_PORT, no external services.
 * The original system's operational figures (pool sizes, timeouts) are defaults here, never constants elsewhere.
 *
 * SETTINGS is the one table of every setting (field, env var, schema with its default, doc line); the zod schema, the env
 * mapping and the docs tables (docs/OPERATIONS.md "Configuration reference", the README's table) all come from it.
 * Adding a setting is one entry in SETTINGS (in a new section: also one line in ConfigSchema) plus `npm run docs:tables`.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { NetraError } from './errors.js';
import { GOALS, type Goal } from './optimize/ranking.js';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const ratio = (def: number) => z.coerce.number().min(0).max(1).default(def);

type Env = Record<string, string | undefined>;

const SIZE_UNITS: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
/** Bytes of a size as DuckDB reads it (`1GB` = 10^9, `1GiB` = 2^30); NaN when it is not one. */
export function sizeBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(v.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit ? Number(m[1]) * unit : Number.NaN;
}

/** One setting: where it comes from, how it is validated (its default included), and what the docs say about it. */
export interface Setting<S extends z.ZodType = z.ZodType> {
  /** environment variables, first set one wins */
  readonly env: readonly string[];
  readonly schema: S;
  /** one line for the docs tables */
  readonly doc: string;
  /** the default as the docs show it, when the schema's value says it badly (paths, generated secrets, derived values) */
  readonly shownDefault?: string;
  /** an empty variable counts as unset (URLs, secrets) */
  readonly emptyIsUnset?: boolean;
  /** a value derived from other variables when none of `env` is set */
  readonly derive?: (env: Env) => string | undefined;
  /** listed in the README's short configuration table too */
  readonly readme?: boolean;
  /** never printed: only whether it is set */
  readonly secret?: boolean;
}

function setting<S extends z.ZodType>(
  env: string | readonly string[],
  schema: S,
  doc: string,
  more: Omit<Setting, 'env' | 'schema' | 'doc'> = {},
): Setting<S> {
  return { env: typeof env === 'string' ? [env] : env, schema, doc, ...more };
}

const providers = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const list = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const x of list)
      if (x !== 'openai-compatible' && x !== 'anthropic')
        ctx.addIssue({ code: 'custom', message: `unknown provider '${x}' (openai-compatible | anthropic)` });
    return list as ('openai-compatible' | 'anthropic')[];
  });
const goals = z
  .string()
  .default('balanced,cost,latency,quality')
  .transform((v, ctx) => {
    const list = [
      ...new Set(
        v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ];
    for (const x of list)
      if (!(GOALS as readonly string[]).includes(x))
        ctx.addIssue({ code: 'custom', message: `unknown goal '${x}' (${GOALS.join(' | ')})` });
    return list as Goal[];
  });

/** `name=url,...` → { name: url } (OpenAI-compatible upstreams of the gateway). */
const gatewayProviders = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const out: Record<string, string> = {};
    for (const part of v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const i = part.indexOf('=');
      const name = i > 0 ? part.slice(0, i).trim() : '';
      const url = i > 0 ? part.slice(i + 1).trim() : '';
      if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name) || !URL.canParse(url)) {
        ctx.addIssue({ code: 'custom', message: `'${part.slice(0, 80)}' is not name=http(s)://base-url` });
        continue;
      }
      out[name] = url.replace(/\/+$/, '');
    }
    return out;
  });

/**
 * Every setting, by its place in `Config`. Top-level entries are settings; nested objects are sections (one level).
 */
export const SETTINGS = {
  dataDir: setting(
    'NETRA_DATA_DIR',
    z.string().min(1).default('./.netra'),
    "PGlite and DuckDB files, generated secrets, the running server's address",
    { readme: true },
  ),
  host: setting('NETRA_HOST', z.string().min(1).default('127.0.0.1'), 'HTTP listener address', { readme: true }),
  port: setting('NETRA_PORT', int(8000).pipe(z.number().max(65535)), 'HTTP listener port', { readme: true }),
  logLevel: setting(
    'NETRA_LOG_LEVEL',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'pino level',
    { readme: true },
  ),
  seedDemo: setting('NETRA_SEED_DEMO', bool.default(true), 'seed the `demo` workspace with a generated week of traffic on first start', {
    readme: true,
  }),
  demoEvents: setting('NETRA_DEMO_EVENTS', int(50_000, 0), 'events in the first-start demo workspace', { readme: true }),
  defaultWorkspace: setting(
    'NETRA_WORKSPACE',
    z.string().min(1).max(200).default('demo'),
    'default workspace for CLI and API calls without one',
    { readme: true },
  ),
  databaseUrl: setting(
    'DATABASE_URL',
    z.string().url().optional(),
    'PostgreSQL; when unset the embedded PGlite under the data directory is used',
    { emptyIsUnset: true, readme: true, shownDefault: '(unset: embedded PGlite)' },
  ),
  redisUrl: setting('REDIS_URL', z.string().url().optional(), 'Redis: query cache and chat run events shared across processes', {
    emptyIsUnset: true,
    readme: true,
    shownDefault: '(unset: in memory)',
  }),
  pg: {
    poolSize: setting('NETRA_PG_POOL_SIZE', int(20, 1), 'PostgreSQL pool size', { readme: true }),
    maxOverflow: setting('NETRA_PG_MAX_OVERFLOW', int(30, 0), 'connections beyond the pool size under load', { readme: true }),
    // pg uses one timeout for both waits; 5 s rather than the original 30 s so an unreachable server answers 503 in seconds
    poolTimeoutMs: setting(
      'NETRA_PG_POOL_TIMEOUT_MS',
      int(5_000, 1),
      'wait for a free connection, or for a new one to connect; short so an unreachable server answers 503 in seconds',
    ),
    recycleMs: setting('NETRA_PG_RECYCLE_MS', int(30 * 60_000, 1), 'a connection is replaced after this age'),
    prePing: setting('NETRA_PG_PRE_PING', bool.default(true), 'validate a connection (`SELECT 1`) before use when it was idle'),
    statementTimeoutMs: setting('NETRA_PG_STATEMENT_TIMEOUT_MS', int(30_000, 0), 'PostgreSQL statement_timeout'),
    queryTimeoutMs: setting(
      'NETRA_PG_QUERY_TIMEOUT_MS',
      int(35_000, 0),
      'client-side bound on one query (a server that accepts and never answers); above the statement timeout (0: none)',
    ),
    idleTimeoutMs: setting('NETRA_PG_IDLE_TIMEOUT_MS', int(10 * 60_000, 0), 'idle connections are closed after this'),
    idleInTransactionTimeoutMs: setting(
      'NETRA_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS',
      int(60_000, 0),
      'PostgreSQL idle_in_transaction_session_timeout',
    ),
    prePingIdleMs: setting('NETRA_PG_PRE_PING_IDLE_MS', int(30_000, 0), 'a connection idle longer than this is pinged before use'),
    prePingTimeoutMs: setting('NETRA_PG_PRE_PING_TIMEOUT_MS', int(5_000, 1), 'timeout of that ping'),
    saturationWarnRatio: setting('NETRA_PG_SATURATION_WARN_RATIO', ratio(0.8), 'warn when connections in use / max passes this'),
  },
  redis: {
    connectTimeoutMs: setting(
      'NETRA_REDIS_CONNECT_TIMEOUT_MS',
      int(2_000, 1),
      'Redis connect timeout (start-up never waits longer; then it reconnects in the background)',
    ),
    commandTimeoutMs: setting(
      'NETRA_REDIS_COMMAND_TIMEOUT_MS',
      int(1_000, 1),
      'one Redis command: a black-holed Redis costs a request at most this',
    ),
    required: setting(
      'NETRA_REDIS_REQUIRED',
      bool.default(false),
      'readiness fails (503) while Redis is down; by default it is optional and readiness says `degraded`',
    ),
  },
  health: {
    probeIntervalMs: setting(
      'NETRA_HEALTH_PROBE_INTERVAL_MS',
      int(1_000, 50),
      'dependencies are probed in the background this often; /health/ready answers from the last probes',
    ),
    probeTimeoutMs: setting('NETRA_HEALTH_PROBE_TIMEOUT_MS', int(800, 10), 'a probe not answered within this counts as failed'),
    storeProbeGraceMs: setting(
      'NETRA_HEALTH_STORE_PROBE_GRACE_MS',
      int(10_000, 0),
      "the analytics store's probe may stay pending (queued behind writes) this long after its last success",
    ),
  },
  cache: {
    enabled: setting('NETRA_CACHE_ENABLED', bool.default(true), 'analytics query cache on/off (the precompute needs it)'),
    ttlMs: setting('NETRA_CACHE_TTL_MS', int(5 * 60_000, 1), 'analytics query cache TTL', { readme: true }),
    maxEntries: setting('NETRA_CACHE_MAX_ENTRIES', int(1_000, 1), 'analytics query cache entries (in memory)', { readme: true }),
    redisPrefix: setting('NETRA_REDIS_PREFIX', z.string().default('netra:'), 'prefix of every Redis key and channel'),
  },
  observability: {
    snapshotIntervalMs: setting(
      'NETRA_METRICS_SNAPSHOT_INTERVAL_MS',
      int(10_000, 100),
      'a performance snapshot every this often (GET /api/v1/system/performance)',
    ),
    historyMs: setting('NETRA_METRICS_HISTORY_MS', int(60 * 60_000, 1_000), 'performance snapshots kept for this long'),
    heapDegradedRatio: setting(
      'NETRA_MEMORY_HEAP_DEGRADED_RATIO',
      ratio(0.85),
      'memory health is `degraded` when heap used / heap limit passes this',
    ),
    heapCriticalRatio: setting(
      'NETRA_MEMORY_HEAP_CRITICAL_RATIO',
      ratio(0.95),
      'memory health is `critical` when heap used / heap limit passes this',
    ),
    eventLoopLagDegradedMs: setting(
      'NETRA_EVENT_LOOP_LAG_DEGRADED_MS',
      int(200, 1),
      'health is `degraded` when the event-loop lag p99 passes this',
    ),
    eventLoopLagCriticalMs: setting(
      'NETRA_EVENT_LOOP_LAG_CRITICAL_MS',
      int(1_000, 1),
      'health is `critical` when the event-loop lag p99 passes this',
    ),
    rssDegradedRatio: setting(
      'NETRA_MEMORY_RSS_DEGRADED_RATIO',
      ratio(0.8),
      'memory health is `degraded` when resident memory / the memory limit (cgroup, else machine) passes this',
    ),
    rssCriticalRatio: setting(
      'NETRA_MEMORY_RSS_CRITICAL_RATIO',
      ratio(0.95),
      'memory health is `critical` when resident memory / the memory limit passes this',
    ),
  },
  llm: {
    providers: setting(
      'NETRA_LLM_PROVIDERS',
      providers,
      'remote LLM providers in fallback order: `openai-compatible`, `anthropic` (docs/LLM.md)',
      { readme: true, shownDefault: '(unset: the built-in model only)' },
    ),
    openaiBaseUrl: setting(
      'NETRA_LLM_OPENAI_BASE_URL',
      z.string().url().default('https://api.openai.com/v1'),
      'OpenAI-compatible endpoint',
    ),
    openaiApiKey: setting(
      ['NETRA_LLM_OPENAI_API_KEY', 'OPENAI_API_KEY'],
      z.string().min(1).optional(),
      'key of the OpenAI-compatible provider',
      { emptyIsUnset: true, secret: true },
    ),
    openaiModel: setting('NETRA_LLM_OPENAI_MODEL', z.string().min(1).default('gpt-4o-mini'), 'model of the OpenAI-compatible provider'),
    anthropicBaseUrl: setting('NETRA_LLM_ANTHROPIC_BASE_URL', z.string().url().default('https://api.anthropic.com'), 'Anthropic endpoint'),
    anthropicApiKey: setting(['NETRA_LLM_ANTHROPIC_API_KEY', 'ANTHROPIC_API_KEY'], z.string().min(1).optional(), 'Anthropic key', {
      emptyIsUnset: true,
      secret: true,
    }),
    anthropicModel: setting('NETRA_LLM_ANTHROPIC_MODEL', z.string().min(1).default('claude-3-5-haiku-latest'), 'Anthropic model'),
    timeoutMs: setting('NETRA_LLM_TIMEOUT_MS', int(30_000, 1), 'timeout of one LLM call'),
    maxRetries: setting('NETRA_LLM_RETRIES', int(2, 0), 'retries of a failed LLM call'),
    baseDelayMs: setting('NETRA_LLM_RETRY_BASE_MS', int(500, 0), 'first retry delay'),
    maxDelayMs: setting('NETRA_LLM_RETRY_MAX_MS', int(15_000, 0), 'longest retry delay'),
    backoffExponent: setting('NETRA_LLM_RETRY_EXPONENT', z.coerce.number().min(1).default(1.5), 'retry delay growth factor'),
    breakerThreshold: setting('NETRA_LLM_BREAKER_FAILURES', int(5, 1), "consecutive failures that open a provider's circuit breaker"),
    halfOpenAfterMs: setting('NETRA_LLM_BREAKER_HALF_OPEN_MS', int(30_000, 1), 'an open breaker tries again after this'),
    cacheTtlMs: setting('NETRA_LLM_CACHE_TTL_MS', int(3_600_000, 0), 'LLM response cache TTL (0: off)'),
    cacheMaxEntries: setting('NETRA_LLM_CACHE_MAX_ENTRIES', int(1_000, 1), 'LLM response cache entries'),
    maxTokens: setting('NETRA_LLM_MAX_TOKENS', int(1024, 1), 'max_tokens of an LLM call'),
    temperature: setting('NETRA_LLM_TEMPERATURE', z.coerce.number().min(0).max(2).default(0), 'temperature of an LLM call'),
    jitter: setting('NETRA_LLM_RETRY_JITTER', ratio(0.5), 'random share of a retry delay'),
  },
  startup: {
    enabled: setting('NETRA_STARTUP_TASKS', bool.default(true), 'background maintenance after boot on/off'),
    delayMs: setting('NETRA_STARTUP_DELAY_MS', int(60_000, 0), 'first run of the startup tasks after boot', { readme: true }),
    timeoutMs: setting('NETRA_STARTUP_TIMEOUT_MS', int(90_000, 1), 'timeout per attempt of a startup task', { readme: true }),
    retryBackoffMs: setting('NETRA_STARTUP_RETRY_BACKOFF_MS', int(5 * 60_000, 0), 'wait before a failed startup task is tried again', {
      readme: true,
    }),
    maxAttempts: setting('NETRA_STARTUP_MAX_ATTEMPTS', int(3, 1), 'attempts per startup task, the first included'),
    warmWorkspaces: setting('NETRA_STARTUP_WARM_WORKSPACES', int(3, 0), 'most recently active workspaces warmed (precomputed) at start'),
  },
  precompute: {
    enabled: setting('NETRA_PRECOMPUTE_ENABLED', bool.default(true), 'compute what a chat turn asks for after events land', {
      readme: true,
    }),
    debounceMs: setting(
      'NETRA_PRECOMPUTE_DEBOUNCE_MS',
      int(5_000, 0),
      'quiet time after the last change of a workspace before its precompute starts',
      { readme: true },
    ),
    maxWaitMs: setting(
      'NETRA_PRECOMPUTE_MAX_WAIT_MS',
      int(60_000, 0),
      'under continuous ingest, the precompute starts at the latest this long after the first pending change',
    ),
    ttlMs: setting(
      'NETRA_PRECOMPUTE_TTL_MS',
      int(24 * 3_600_000, 1),
      'TTL of precomputed cache entries (retired anyway by the next change)',
      { readme: true },
    ),
    staleMaxMs: setting(
      'NETRA_PRECOMPUTE_STALE_MAX_MS',
      int(600_000, 0),
      'the chat may answer from the last completed precompute up to this age, and says so (0: never)',
      { readme: true },
    ),
    goals: setting('NETRA_PRECOMPUTE_GOALS', goals, 'goals whose recommended policy is replayed ahead'),
  },
  jobs: {
    concurrency: setting('NETRA_JOBS_CONCURRENCY', int(1, 1), 'jobs running at once per process; the rest wait queued'),
    maxGenerateEvents: setting('NETRA_JOBS_MAX_GENERATE_EVENTS', int(10_000_000, 1), 'largest generation a POST /api/v1/jobs may ask for'),
    progressIntervalMs: setting('NETRA_JOBS_PROGRESS_INTERVAL_MS', int(250, 0), 'progress is written to the job row at most this often'),
    heartbeatIntervalMs: setting(
      'NETRA_JOBS_HEARTBEAT_MS',
      int(10_000, 10),
      "heartbeat of this process's jobs, and the stale-job sweep, every",
      { readme: true },
    ),
    staleAfterMs: setting(
      'NETRA_JOBS_STALE_AFTER_MS',
      int(60_000, 20),
      'a job of another process whose heartbeat is older is marked failed (at least twice the heartbeat)',
    ),
  },
  runs: {
    heartbeatIntervalMs: setting(
      'NETRA_RUNS_HEARTBEAT_MS',
      int(10_000, 10),
      "heartbeat of this process's chat runs, and the stale-run sweep, every",
      { readme: true },
    ),
    staleAfterMs: setting(
      'NETRA_RUNS_STALE_AFTER_MS',
      int(60_000, 20),
      'a run of another process whose heartbeat is older is recorded failed (at least twice the heartbeat)',
    ),
    groupCommitMaxRows: setting(
      'NETRA_RUNS_GROUP_COMMIT_MAX_ROWS',
      int(256, 1).pipe(z.number().max(10_000)),
      'most chat writes of one kind (turns opened, run events, assistant messages, run status) committed together in one statement under load; 1 commits each alone',
      { readme: true },
    ),
  },
  ws: {
    maxFrameBytes: setting('NETRA_WS_MAX_FRAME_BYTES', int(64 * 1024, 256), 'largest frame a client may send on /ws'),
    maxConnectionsPerUser: setting('NETRA_WS_MAX_CONNECTIONS_PER_USER', int(5, 1), 'open /ws connections per user or API key'),
    heartbeatIntervalMs: setting('NETRA_WS_HEARTBEAT_MS', int(30_000, 10), 'the server pings every connection this often'),
    idleTimeoutMs: setting('NETRA_WS_IDLE_TIMEOUT_MS', int(60_000, 20), 'a connection silent this long is dropped'),
    messagesPerSecond: setting('NETRA_WS_MESSAGES_PER_SECOND', int(20, 1), 'messages per second a connection may send (burst twice that)'),
    maxViolations: setting('NETRA_WS_MAX_VIOLATIONS', int(1000, 1), 'protocol errors a connection may make before it is closed 1008'),
    recheckIntervalMs: setting(
      'NETRA_WS_RECHECK_INTERVAL_MS',
      int(60_000, 0),
      "an open connection's rights are re-read at least this often even without an announced change (0: every message)",
    ),
  },
  store: {
    engine: setting('NETRA_STORE', z.enum(['duckdb', 'clickhouse']).default('duckdb'), 'analytics store: `duckdb` or `clickhouse`', {
      emptyIsUnset: true,
      derive: (env) => (env.CLICKHOUSE_URL ? 'clickhouse' : undefined),
      shownDefault: '`duckdb` (`clickhouse` when `CLICKHOUSE_URL` is set)',
    }),
    duckdbPath: setting('NETRA_DUCKDB_PATH', z.string().optional(), 'DuckDB file (`:memory:` for none)', {
      readme: true,
      shownDefault: '`<data dir>/events.duckdb`',
    }),
    duckdbMemoryLimit: setting(
      'NETRA_DUCKDB_MEMORY_LIMIT',
      z
        .string()
        .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be a size such as 1500MB or 2GiB')
        .optional(),
      "DuckDB's buffer-manager limit, at least 128 MiB (sorts, windows, aggregates and joins past it spill to `<file>.tmp`; loads of the spool's files raise it to 512 MiB per DuckDB thread + 256 MiB while they run); it bounds DuckDB's buffers, not the whole process",
      { emptyIsUnset: true, shownDefault: "(unset: DuckDB's own, 80% of RAM)" },
    ),
    duckdbThreads: setting('NETRA_DUCKDB_THREADS', int(0, 0), 'threads DuckDB runs a query on (0: one per core)'),
    // when ingestion answers 2xx with the DuckDB file store; docs/ARCHITECTURE.md "Durability"
    durability: setting(
      'NETRA_STORE_DURABILITY',
      z.enum(['fsync', 'write']).default('fsync'),
      "when ingestion answers 2xx: `fsync` = events synced to the store's write-ahead spool (survive kill -9, OS crash, power loss); `write` = written without a sync (survive a crash of the process only)",
      { readme: true },
    ),
    liveLoadMaxBytes: setting(
      'NETRA_DUCKDB_LIVE_LOAD_MAX_BYTES',
      int(128 * 1024 * 1024, 0),
      "most bytes of ingest-worker batches held by column for DuckDB's load, which then skips re-reading the spool (less CPU, more event-loop time); beyond it, or at 0, spooled rows are loaded from the spool's files",
    ),
    clickhouseUrl: setting(
      'CLICKHOUSE_URL',
      z.string().url().optional(),
      '`http(s)://user:password@host:8123` of ClickHouse (password masked in logs)',
      { emptyIsUnset: true, readme: true, shownDefault: '(unset: DuckDB)' },
    ),
    clickhouseDatabase: setting(
      'CLICKHOUSE_DATABASE',
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain identifier')
        .default('netra'),
      'ClickHouse database holding the events (created when missing)',
    ),
    clickhouseTtlDays: setting('CLICKHOUSE_TTL_DAYS', int(0, 0), 'drop ClickHouse events older than this many days (0: keep)'),
  },
  ingest: {
    maxEventsPerRequest: setting('NETRA_INGEST_MAX_EVENTS', int(10_000, 1), 'events per ingestion request', { readme: true }),
    maxBodyBytes: setting('NETRA_INGEST_MAX_BODY_BYTES', int(10 * 1024 * 1024, 1024), 'JSON request body size', { readme: true }),
    maxNdjsonBodyBytes: setting('NETRA_INGEST_MAX_NDJSON_BYTES', int(512 * 1024 * 1024, 1024), 'NDJSON request body size (it streams)'),
    maxBatchBytes: setting(
      'NETRA_INGEST_MAX_BATCH_BYTES',
      int(16 * 1024 * 1024, 1024),
      "a batch is stored once its events' text reaches this (bounds one request's memory: two batches)",
    ),
    workerThreads: setting(
      'NETRA_INGEST_WORKER_THREADS',
      int(1, 0),
      'worker threads that parse, validate, price and encode JSON ingest bodies off the event loop (embedded DuckDB file store; ~140 MB of memory each once the tokenizer is loaded; 0: on the main thread)',
    ),
    workerMinBodyBytes: setting(
      'NETRA_INGEST_WORKER_MIN_BODY_BYTES',
      int(64 * 1024, 0),
      'JSON ingest bodies smaller than this are parsed on the main thread (a worker round trip is not worth it)',
    ),
    memoryBudgetBytes: setting(
      'NETRA_INGEST_MEMORY_BUDGET_BYTES',
      int(0, 0),
      'memory all ingest requests together may reserve; over it 503 `NETRA_E_OVERLOADED` + Retry-After',
      { shownDefault: '0 (a quarter of the memory limit, at most 2 GiB)' },
    ),
  },
  /** the LLM gateway (src/gateway, docs/GATEWAY.md): OpenAI- and Anthropic-compatible endpoints that record every call */
  gateway: {
    enabled: setting(
      'NETRA_GATEWAY_ENABLED',
      bool.default(true),
      'serve the LLM gateway endpoints (`/v1/chat/completions`, `/v1/messages`, ...; docs/GATEWAY.md)',
    ),
    openaiBaseUrl: setting(
      'NETRA_GATEWAY_OPENAI_BASE_URL',
      z.string().url().default('https://api.openai.com/v1'),
      "the gateway's OpenAI upstream (a workspace's provider secret may carry its own `base_url`)",
      { readme: true },
    ),
    anthropicBaseUrl: setting(
      'NETRA_GATEWAY_ANTHROPIC_BASE_URL',
      z.string().url().default('https://api.anthropic.com'),
      "the gateway's Anthropic upstream",
      { readme: true },
    ),
    providers: setting(
      'NETRA_GATEWAY_PROVIDERS',
      gatewayProviders,
      'more OpenAI-compatible upstreams, `name=url,...`, picked per call with `x-netra-provider`',
      { shownDefault: '(none)' },
    ),
    headersTimeoutMs: setting(
      'NETRA_GATEWAY_HEADERS_TIMEOUT_MS',
      int(120_000, 1),
      "wait for the upstream's response headers (then 504 in the caller's API shape)",
    ),
    bodyTimeoutMs: setting(
      'NETRA_GATEWAY_BODY_TIMEOUT_MS',
      int(300_000, 1),
      'longest silence between two chunks of an upstream response (then the stream ends in error)',
    ),
    connectTimeoutMs: setting('NETRA_GATEWAY_CONNECT_TIMEOUT_MS', int(10_000, 1), 'upstream connect timeout'),
    connectionsPerOrigin: setting('NETRA_GATEWAY_CONNECTIONS', int(256, 1), 'pooled keep-alive connections per upstream origin'),
    maxBodyBytes: setting('NETRA_GATEWAY_MAX_BODY_BYTES', int(32 * 1024 * 1024, 1024), 'largest gateway request body (413 beyond)'),
    queueMaxEvents: setting(
      'NETRA_GATEWAY_QUEUE_MAX',
      int(10_000, 1),
      'recorded calls waiting for the store; beyond, they go to the spool',
    ),
    flushIntervalMs: setting('NETRA_GATEWAY_FLUSH_MS', int(1_000, 1), 'the recorder writes its queue this often'),
    batchSize: setting('NETRA_GATEWAY_BATCH_SIZE', int(2_000, 1), '... or as soon as this many calls are waiting'),
    spoolDir: setting(
      'NETRA_GATEWAY_SPOOL_DIR',
      z.string().optional(),
      'where calls go while the store is unavailable (replayed when it is back, also at start)',
      { emptyIsUnset: true, shownDefault: '`<data dir>/gateway-spool`' },
    ),
    spoolMaxBytes: setting(
      'NETRA_GATEWAY_SPOOL_MAX_BYTES',
      int(1024 * 1024 * 1024, 1024),
      'spool size limit; beyond it calls are dropped and counted (`netra_gateway_events_dropped_total`)',
    ),
    spoolRetryMs: setting('NETRA_GATEWAY_SPOOL_RETRY_MS', int(5_000, 10), 'how often the spool is retried'),
    credentialCacheMs: setting(
      'NETRA_GATEWAY_CREDENTIAL_CACHE_MS',
      int(30_000, 0),
      'authenticated gateway keys, provider secrets and workspace policies are re-read after this long',
    ),
    cacheMaxEntries: setting(
      'NETRA_GATEWAY_CACHE_MAX_ENTRIES',
      int(10_000, 1),
      'exact response cache entries in memory (Redis too when REDIS_URL is set)',
    ),
    cacheMaxEntryBytes: setting('NETRA_GATEWAY_CACHE_MAX_ENTRY_BYTES', int(1024 * 1024, 1), 'larger responses are not cached'),
  },
  otlp: {
    grpcPort: setting('NETRA_OTLP_GRPC_PORT', int(4317, 0).pipe(z.number().max(65535)), 'OTLP/gRPC trace receiver port (0 turns it off)', {
      readme: true,
    }),
    grpcHost: setting('NETRA_OTLP_GRPC_HOST', z.string().min(1).optional(), 'address the OTLP/gRPC receiver binds', {
      emptyIsUnset: true,
      shownDefault: 'the HTTP host (`NETRA_HOST`)',
    }),
    maxBodyBytes: setting(
      'NETRA_OTLP_MAX_BODY_BYTES',
      int(64 * 1024 * 1024, 1024),
      'OTLP request size, as received and once inflated (413 / RESOURCE_EXHAUSTED above)',
      { readme: true },
    ),
    maxSpansPerRequest: setting(
      'NETRA_OTLP_MAX_SPANS',
      int(100_000, 1),
      'spans read from one OTLP request; the rest are rejected in partial_success',
    ),
    maxConcurrentExports: setting(
      'NETRA_OTLP_MAX_CONCURRENT_EXPORTS',
      int(8, 1),
      'OTLP exports processed at once; beyond, 503 + Retry-After / UNAVAILABLE',
    ),
    retryAfterSec: setting('NETRA_OTLP_RETRY_AFTER_S', int(5, 1), 'Retry-After offered to OTLP exporters when saturated (s)'),
  },
  auth: {
    jwtSecret: setting(
      'NETRA_JWT_SECRET',
      z.string().min(32, 'must be at least 32 characters').optional(),
      'HS256 token signing secret (at least 32 characters)',
      {
        emptyIsUnset: true,
        secret: true,
        readme: true,
        shownDefault: 'generated once under `<data dir>/secrets`',
      },
    ),
    secretKey: setting('NETRA_SECRET_KEY', z.string().min(1).optional(), '32 bytes (hex or base64) encrypting stored provider keys', {
      emptyIsUnset: true,
      secret: true,
      readme: true,
      shownDefault: 'generated once under `<data dir>/secrets`',
    }),
    issuer: setting('NETRA_JWT_ISSUER', z.string().min(1).default('netra'), 'token issuer'),
    audience: setting('NETRA_JWT_AUDIENCE', z.string().min(1).default('netra-api'), 'token audience'),
    accessTokenTtlSec: setting('NETRA_ACCESS_TOKEN_TTL_S', int(30 * 60, 10), 'access token lifetime (s)'),
    refreshTokenTtlSec: setting('NETRA_REFRESH_TOKEN_TTL_S', int(30 * 24 * 3600, 60), 'refresh token lifetime (s)'),
    localOwnerEmail: setting(
      'NETRA_LOCAL_OWNER_EMAIL',
      z.string().min(3).default('local@netra'),
      "the embedded setup's one owner (random password, never printed)",
    ),
    localAutoSignIn: setting(
      'NETRA_LOCAL_AUTO_SIGN_IN',
      bool.default(true),
      'the local UI signs in as the local owner when server, client and Host are all loopback',
    ),
    apiKeyCacheTtlMs: setting(
      'NETRA_API_KEY_CACHE_TTL_MS',
      int(60_000, 0),
      'an API key verified within this long keeps authenticating while PostgreSQL is unreachable (revocation here evicts it; 0: off)',
    ),
  },
  security: {
    corsOrigins: setting(
      'NETRA_CORS_ORIGINS',
      z
        .union([z.array(z.string().min(1)), z.string()])
        .default([])
        .transform((v) =>
          Array.isArray(v)
            ? v
            : v
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean),
        ),
      'origins allowed to call the API from a browser (comma-separated)',
      { shownDefault: '(none: same origin only)' },
    ),
    trustProxy: setting('NETRA_TRUST_PROXY', bool.default(false), 'take the client address from X-Forwarded-For (behind a reverse proxy)'),
    rateLimitPerKey: setting('NETRA_RATE_LIMIT_PER_KEY', int(600, 0), 'requests per window per API key or user (0: off)'),
    rateLimitPerIp: setting('NETRA_RATE_LIMIT_PER_IP', int(1200, 0), 'requests per window per client IP (0: off)'),
    rateLimitWindowMs: setting('NETRA_RATE_LIMIT_WINDOW_MS', int(60_000, 1000), 'rate limit window'),
    rateLimitExemptLoopback: setting(
      'NETRA_RATE_LIMIT_EXEMPT_LOOPBACK',
      bool.default(true),
      'loopback clients (the local UI, tests) are not rate limited',
    ),
  },
} as const;

type Section = Record<string, Setting>;
type Schemas<T extends Section> = { [K in keyof T]: T[K]['schema'] };
const schemas = <T extends Section>(section: T): Schemas<T> =>
  Object.fromEntries(Object.entries(section).map(([k, s]) => [k, s.schema])) as Schemas<T>;
const S = SETTINGS;

/** Must be at least twice the heartbeat, or a live process's jobs/runs could be taken for stale. */
const staleAfterTwiceHeartbeat = (env: string) => ({
  message: `must be at least twice heartbeatIntervalMs (${env}), or a live process's ${env.includes('JOBS') ? 'jobs' : 'runs'} could be taken for stale`,
  path: ['staleAfterMs'],
});

export const ConfigSchema = z.object({
  dataDir: S.dataDir.schema,
  host: S.host.schema,
  port: S.port.schema,
  logLevel: S.logLevel.schema,
  seedDemo: S.seedDemo.schema,
  demoEvents: S.demoEvents.schema,
  defaultWorkspace: S.defaultWorkspace.schema,
  databaseUrl: S.databaseUrl.schema,
  pg: z.object(schemas(S.pg)).prefault({}),
  redisUrl: S.redisUrl.schema,
  redis: z.object(schemas(S.redis)).prefault({}),
  health: z.object(schemas(S.health)).prefault({}),
  cache: z.object(schemas(S.cache)).prefault({}),
  observability: z.object(schemas(S.observability)).prefault({}),
  llm: z.object(schemas(S.llm)).prefault({}),
  startup: z.object(schemas(S.startup)).prefault({}),
  precompute: z.object(schemas(S.precompute)).prefault({}),
  jobs: z
    .object(schemas(S.jobs))
    .refine((j) => j.staleAfterMs >= 2 * j.heartbeatIntervalMs, staleAfterTwiceHeartbeat('NETRA_JOBS_HEARTBEAT_MS'))
    .prefault({}),
  runs: z
    .object(schemas(S.runs))
    .refine((r) => r.staleAfterMs >= 2 * r.heartbeatIntervalMs, staleAfterTwiceHeartbeat('NETRA_RUNS_HEARTBEAT_MS'))
    .prefault({}),
  ws: z.object(schemas(S.ws)).prefault({}),
  store: z
    .object(schemas(S.store))
    .refine((s) => s.engine !== 'clickhouse' || s.clickhouseUrl !== undefined, {
      message: 'engine clickhouse needs CLICKHOUSE_URL',
      path: ['clickhouseUrl'],
    })
    .prefault({}),
  ingest: z.object(schemas(S.ingest)).prefault({}),
  gateway: z.object(schemas(S.gateway)).prefault({}),
  otlp: z.object(schemas(S.otlp)).prefault({}),
  auth: z.object(schemas(S.auth)).prefault({}),
  security: z.object(schemas(S.security)).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Every setting with its path in `Config` (`pg.poolSize`), in table order. */
export function settingsList(): { path: string; setting: Setting }[] {
  const out: { path: string; setting: Setting }[] = [];
  for (const [k, v] of Object.entries(SETTINGS)) {
    if (isSetting(v)) out.push({ path: k, setting: v });
    else for (const [k2, s] of Object.entries(v as Section)) out.push({ path: `${k}.${k2}`, setting: s });
  }
  return out;
}

function isSetting(v: unknown): v is Setting {
  return typeof v === 'object' && v !== null && 'env' in v && 'schema' in v;
}

function envValue(s: Setting, env: Env): string | undefined {
  for (const name of s.env) {
    const v = env[name];
    if (v === undefined || (v === '' && (s.emptyIsUnset || s.env.length > 1))) continue;
    return v;
  }
  return s.derive?.(env);
}

/** Maps environment variables onto the schema's shape. Unset variables stay undefined so defaults apply. */
export function configFromEnv(env: Env = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const { path, setting: s } of settingsList()) {
    const [a, b] = path.split('.') as [string, string | undefined];
    const v = envValue(s, env);
    if (b === undefined) raw[a] = v;
    else ((raw[a] ??= {}) as Record<string, unknown>)[b] = v;
  }
  return parseConfig(raw);
}

/** Validates a config object (tests pass partial objects; defaults fill the rest). */
export function parseConfig(raw: unknown): Config {
  const r = ConfigSchema.safeParse(stripUndefined(raw));
  if (!r.success) {
    const first = r.error.issues[0]!;
    throw new NetraError('CONFIG', `invalid configuration: ${first.path.join('.')}: ${first.message}`, {
      field: first.path.join('.'),
      details: r.error.issues,
    });
  }
  return { ...r.data, dataDir: resolve(r.data.dataDir) };
}

function stripUndefined(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stripUndefined(x);
  return out;
}

/** The default as the docs show it: the table's `shownDefault`, else the schema's value for an unset variable. */
export function shownDefault(s: Setting): string {
  if (s.shownDefault !== undefined) return s.shownDefault;
  const r = s.schema.safeParse(undefined);
  if (!r.success || r.data === undefined) return '(unset)';
  const v = Array.isArray(r.data) ? r.data.join(',') : String(r.data);
  return v === '' ? '(empty)' : `\`${v}\``;
}

/** The effective config with secrets masked, for the start-up log line. */
export function describeConfig(c: Config): Record<string, unknown> {
  return {
    ...c,
    databaseUrl: maskUrl(c.databaseUrl),
    redisUrl: maskUrl(c.redisUrl),
    store: { ...c.store, clickhouseUrl: maskUrl(c.store.clickhouseUrl) },
    // secrets: only whether they were configured
    auth: {
      ...c.auth,
      jwtSecret: c.auth.jwtSecret ? '****' : '(generated under dataDir)',
      secretKey: c.auth.secretKey ? '****' : '(generated under dataDir)',
    },
    llm: { ...c.llm, openaiApiKey: c.llm.openaiApiKey ? '****' : undefined, anthropicApiKey: c.llm.anthropicApiKey ? '****' : undefined },
  };
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
