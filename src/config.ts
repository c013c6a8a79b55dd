/**
 * One validated configuration, read from environment variables. Defaults give the embedded setup:
 * PGlite + DuckDB files under NETRA_DATA_DIR, HTTP on NETRA_PORT, no external services.
 * The original system's operational figures (pool sizes, timeouts) are defaults here, never constants elsewhere.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { NetraError } from './errors.js';
import { GOALS, type Goal } from './optimize/ranking.js';

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
    // -- observability helper (issue 3): validate-before-use and saturation warning
    /** a connection idle longer than this is pinged (`SELECT 1`) before use */
    prePingIdleMs: int(30_000, 0),
    prePingTimeoutMs: int(5_000, 1),
    /** warn when connections in use / max passes this */
    saturationWarnRatio: z.coerce.number().min(0).max(1).default(0.8),
  }).prefault({}),
  redisUrl: z.string().url().optional(),

  // -- observability helper (issue 3): query cache, metrics, startup tasks
  /** Analytics query cache: in memory, or shared through Redis when redisUrl is set. */
  cache: z.object({
    enabled: bool.default(true),
    ttlMs: int(5 * 60_000, 1),
    maxEntries: int(1_000, 1),
    redisPrefix: z.string().default('netra:'),
  }).prefault({}),
  observability: z.object({
    /** a performance snapshot every this often, kept for historyMs (GET /api/v1/system/performance) */
    snapshotIntervalMs: int(10_000, 100),
    historyMs: int(60 * 60_000, 1_000),
    /** memory health: heap used / heap limit, and event-loop lag p99 */
    heapDegradedRatio: z.coerce.number().min(0).max(1).default(0.85),
    heapCriticalRatio: z.coerce.number().min(0).max(1).default(0.95),
    eventLoopLagDegradedMs: int(200, 1),
    eventLoopLagCriticalMs: int(1_000, 1),
  }).prefault({}),
  /** The LLM layer (src/llm, docs/LLM.md): remote providers in order, always ending at the built-in model. */
  llm: z.object({
    providers: z.string().default('').transform((v, ctx) => {
      const list = v.split(',').map((x) => x.trim()).filter(Boolean);
      for (const x of list) if (x !== 'openai-compatible' && x !== 'anthropic') ctx.addIssue({ code: 'custom', message: `unknown provider '${x}' (openai-compatible | anthropic)` });
      return list as ('openai-compatible' | 'anthropic')[];
    }),
    openaiBaseUrl: z.string().url().default('https://api.openai.com/v1'),
    openaiApiKey: z.string().min(1).optional(),
    openaiModel: z.string().min(1).default('gpt-4o-mini'),
    anthropicBaseUrl: z.string().url().default('https://api.anthropic.com'),
    anthropicApiKey: z.string().min(1).optional(),
    anthropicModel: z.string().min(1).default('claude-3-5-haiku-latest'),
    timeoutMs: int(30_000, 1),
    maxRetries: int(2, 0),
    baseDelayMs: int(500, 0),
    maxDelayMs: int(15_000, 0),
    backoffExponent: z.coerce.number().min(1).default(1.5),
    breakerThreshold: int(5, 1),
    halfOpenAfterMs: int(30_000, 1),
    cacheTtlMs: int(3_600_000, 0),
    cacheMaxEntries: int(1_000, 1),
    maxTokens: int(1024, 1),
    temperature: z.coerce.number().min(0).max(2).default(0),
    jitter: z.coerce.number().min(0).max(1).default(0.5),
  }).prefault({}),
  /** Background maintenance after boot (src/jobs/startup-tasks.ts). */
  startup: z.object({
    enabled: bool.default(true),
    delayMs: int(60_000, 0),
    timeoutMs: int(90_000, 1),
    retryBackoffMs: int(5 * 60_000, 0),
    /** attempts per task including the first */
    maxAttempts: int(3, 1),
    /** cache warm-up: analyses of this many most recently active workspaces */
    warmWorkspaces: int(3, 0),
  }).prefault({}),
  // -- analysis precompute (issue 5 "How fast"; src/services/analysis-precompute.ts)
  /** After events land in a workspace (and at start), compute what a chat turn asks for before anyone asks. */
  precompute: z.object({
    enabled: bool.default(true),
    /** quiet time after the last ingest into a workspace before its precompute starts */
    debounceMs: int(5_000, 0),
    /** under continuous ingest, the precompute starts at the latest this long after the first pending ingest */
    maxWaitMs: int(60_000, 0),
    /** TTL of precomputed cache entries (they are retired anyway by the workspace's next ingest or reprice) */
    ttlMs: int(24 * 3_600_000, 1),
    /** the chat (never the REST API) may answer from the workspace's last completed precompute while a newer one is due,
     * if it is at most this old (ms); 0: the chat always computes current figures */
    staleMaxMs: int(600_000, 0),
    /** goals whose recommended policy is replayed ahead (comma-separated; each goal orders the recommendations) */
    goals: z.string().default('balanced,cost,latency,quality').transform((v, ctx) => {
      const list = [...new Set(v.split(',').map((x) => x.trim()).filter(Boolean))];
      for (const x of list) if (!(GOALS as readonly string[]).includes(x)) ctx.addIssue({ code: 'custom', message: `unknown goal '${x}' (${GOALS.join(' | ')})` });
      return list as Goal[];
    }),
  }).prefault({}),
  /** Background jobs: generation (and CLI imports) with progress and cancel (src/jobs/job-runner.ts; issue 3). */
  jobs: z.object({
    /** jobs running at once in this process; the rest wait queued */
    concurrency: int(1, 1),
    /** largest `events` a POST /api/v1/jobs generation may ask for */
    maxGenerateEvents: int(10_000_000, 1),
    /** progress is written to the job row at most this often */
    progressIntervalMs: int(250, 0),
    /** this process refreshes the heartbeat of its queued and running jobs this often, and sweeps for stale ones */
    heartbeatIntervalMs: int(10_000, 10),
    /** a queued/running job of another process whose heartbeat is older than this is marked failed (its process stopped) */
    staleAfterMs: int(60_000, 20),
  }).refine((j) => j.staleAfterMs >= 2 * j.heartbeatIntervalMs, {
    message: 'must be at least twice heartbeatIntervalMs (NETRA_JOBS_HEARTBEAT_MS), or a live process\'s jobs could be taken for stale',
    path: ['staleAfterMs'],
  }).prefault({}),
  /** Agent runs of the chat: ownership and heartbeat on a shared database (src/chat/run-service.ts; issue 3). */
  runs: z.object({
    /** this process refreshes the heartbeat of the runs it executes this often, and sweeps for stale ones */
    heartbeatIntervalMs: int(10_000, 10),
    /** a queued/running run of another process whose heartbeat is older than this is recorded failed (its process stopped) */
    staleAfterMs: int(60_000, 20),
  }).refine((r) => r.staleAfterMs >= 2 * r.heartbeatIntervalMs, {
    message: 'must be at least twice heartbeatIntervalMs (NETRA_RUNS_HEARTBEAT_MS), or a live process\'s runs could be taken for stale',
    path: ['staleAfterMs'],
  }).prefault({}),
  /** The chat WebSocket at /ws (src/server/ws; docs/PROTOCOL.md; issue 5). */
  ws: z.object({
    /** largest frame a client may send; bigger ones get an error envelope (close 1009 when repeated) */
    maxFrameBytes: int(64 * 1024, 256),
    /** open connections per user (or API key); one more is closed 1008 */
    maxConnectionsPerUser: int(5, 1),
    /** the server pings every connection this often */
    heartbeatIntervalMs: int(30_000, 10),
    /** a connection silent this long (no message, no pong) is dropped */
    idleTimeoutMs: int(60_000, 20),
    /** messages per second a connection may send (a burst of twice that); more get `error` RATE_LIMITED */
    messagesPerSecond: int(20, 1),
    /** protocol errors (bad JSON, unknown type, over the rate) a connection may make before it is closed 1008 */
    maxViolations: int(1000, 1),
  }).prefault({}),

  store: z.object({
    engine: z.enum(['duckdb', 'clickhouse']).default('duckdb'),
    /** DuckDB file; default <dataDir>/events.duckdb. ':memory:' for an in-memory store. */
    duckdbPath: z.string().optional(),
    // ClickHouse, the scale-out store (issue 3; docs/OPERATIONS.md): engine 'clickhouse' needs CLICKHOUSE_URL
    /** http(s)://user:password@host:8123 (credentials in the URL; masked in logs) */
    clickhouseUrl: z.string().url().optional(),
    /** database holding the events table (created when missing) */
    clickhouseDatabase: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain identifier').default('netra'),
    /** drop events older than this many days (MergeTree TTL, applied at merges); 0 keeps them forever */
    clickhouseTtlDays: int(0, 0),
  }).refine((s) => s.engine !== 'clickhouse' || s.clickhouseUrl !== undefined, { message: 'engine clickhouse needs CLICKHOUSE_URL', path: ['clickhouseUrl'] }).prefault({}),

  ingest: z.object({
    maxEventsPerRequest: int(10_000, 1),
    maxBodyBytes: int(10 * 1024 * 1024, 1024),
    /** NDJSON bodies stream; they may be larger than a JSON body. */
    maxNdjsonBodyBytes: int(512 * 1024 * 1024, 1024),
  }).prefault({}),

  /** OpenTelemetry receivers: OTLP/HTTP at POST /v1/traces and OTLP/gRPC (docs/OPERATIONS.md) */
  otlp: z.object({
    /** OTLP/gRPC TraceService port; 0 turns the gRPC receiver off */
    grpcPort: int(4317, 0).pipe(z.number().max(65535)),
    /** address the gRPC receiver binds; default the HTTP host */
    grpcHost: z.string().min(1).optional(),
    /** an OTLP request (HTTP body as received, gzip inflated, or gRPC message) larger than this is refused (413 / RESOURCE_EXHAUSTED) */
    maxBodyBytes: int(64 * 1024 * 1024, 1024),
    /** spans read from one request; the ones beyond are rejected in partial_success (the first ones are kept) */
    maxSpansPerRequest: int(100_000, 1),
    /** exports processed at once (HTTP and gRPC together); beyond, 429 / UNAVAILABLE with a retry delay */
    maxConcurrentExports: int(8, 1),
    /** the retry delay offered to exporters when the store is saturated (Retry-After, seconds) */
    retryAfterSec: int(5, 1),
  }).prefault({}),

  // ── accounts and security (issue 3; see docs/SECURITY.md) ──
  auth: z.object({
    /** HS256 signing secret. Default: generated once into <dataDir>/secrets/jwt-secret (0600) so restarts keep tokens valid. */
    jwtSecret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** 32 bytes (64 hex characters or base64) for AES-256-GCM of stored provider keys. Default: generated like jwtSecret. */
    secretKey: z.string().min(1).optional(),
    issuer: z.string().min(1).default('netra'),
    audience: z.string().min(1).default('netra-api'),
    accessTokenTtlSec: int(30 * 60, 10),
    refreshTokenTtlSec: int(30 * 24 * 3600, 60),
    /** the embedded default's one owner, created on first start with a random password that is never printed */
    localOwnerEmail: z.string().min(3).default('local@netra'),
    /** the local UI may sign in as the local owner without a password when server, client and Host are all loopback */
    localAutoSignIn: bool.default(true),
  }).prefault({}),
  security: z.object({
    /** origins allowed to call the API from a browser; default none (same origin only) */
    corsOrigins: z.union([z.array(z.string().min(1)), z.string()]).default([])
      .transform((v) => (Array.isArray(v) ? v : v.split(',').map((x) => x.trim()).filter(Boolean))),
    /** take the client address from X-Forwarded-For (behind a reverse proxy) */
    trustProxy: bool.default(false),
    /** requests per window per API key or user; 0 turns the limit off */
    rateLimitPerKey: int(600, 0),
    /** requests per window per client IP; 0 turns the limit off */
    rateLimitPerIp: int(1200, 0),
    rateLimitWindowMs: int(60_000, 1000),
    /** loopback clients (the local UI, tests) are not rate limited */
    rateLimitExemptLoopback: bool.default(true),
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
      prePingIdleMs: env.NETRA_PG_PRE_PING_IDLE_MS,
      prePingTimeoutMs: env.NETRA_PG_PRE_PING_TIMEOUT_MS,
      saturationWarnRatio: env.NETRA_PG_SATURATION_WARN_RATIO,
    },
    redisUrl: env.REDIS_URL || undefined,
    // -- observability helper (issue 3)
    cache: { enabled: env.NETRA_CACHE_ENABLED, ttlMs: env.NETRA_CACHE_TTL_MS, maxEntries: env.NETRA_CACHE_MAX_ENTRIES, redisPrefix: env.NETRA_REDIS_PREFIX },
    observability: {
      snapshotIntervalMs: env.NETRA_METRICS_SNAPSHOT_INTERVAL_MS,
      historyMs: env.NETRA_METRICS_HISTORY_MS,
      heapDegradedRatio: env.NETRA_MEMORY_HEAP_DEGRADED_RATIO,
      heapCriticalRatio: env.NETRA_MEMORY_HEAP_CRITICAL_RATIO,
      eventLoopLagDegradedMs: env.NETRA_EVENT_LOOP_LAG_DEGRADED_MS,
      eventLoopLagCriticalMs: env.NETRA_EVENT_LOOP_LAG_CRITICAL_MS,
    },
    llm: {
      providers: env.NETRA_LLM_PROVIDERS,
      openaiBaseUrl: env.NETRA_LLM_OPENAI_BASE_URL, openaiApiKey: env.NETRA_LLM_OPENAI_API_KEY || env.OPENAI_API_KEY || undefined, openaiModel: env.NETRA_LLM_OPENAI_MODEL,
      anthropicBaseUrl: env.NETRA_LLM_ANTHROPIC_BASE_URL, anthropicApiKey: env.NETRA_LLM_ANTHROPIC_API_KEY || env.ANTHROPIC_API_KEY || undefined, anthropicModel: env.NETRA_LLM_ANTHROPIC_MODEL,
      timeoutMs: env.NETRA_LLM_TIMEOUT_MS, maxRetries: env.NETRA_LLM_RETRIES, baseDelayMs: env.NETRA_LLM_RETRY_BASE_MS, maxDelayMs: env.NETRA_LLM_RETRY_MAX_MS,
      backoffExponent: env.NETRA_LLM_RETRY_EXPONENT, breakerThreshold: env.NETRA_LLM_BREAKER_FAILURES, halfOpenAfterMs: env.NETRA_LLM_BREAKER_HALF_OPEN_MS,
      cacheTtlMs: env.NETRA_LLM_CACHE_TTL_MS, cacheMaxEntries: env.NETRA_LLM_CACHE_MAX_ENTRIES,
      maxTokens: env.NETRA_LLM_MAX_TOKENS, temperature: env.NETRA_LLM_TEMPERATURE, jitter: env.NETRA_LLM_RETRY_JITTER,
    },
    startup: {
      enabled: env.NETRA_STARTUP_TASKS,
      delayMs: env.NETRA_STARTUP_DELAY_MS,
      timeoutMs: env.NETRA_STARTUP_TIMEOUT_MS,
      retryBackoffMs: env.NETRA_STARTUP_RETRY_BACKOFF_MS,
      maxAttempts: env.NETRA_STARTUP_MAX_ATTEMPTS,
      warmWorkspaces: env.NETRA_STARTUP_WARM_WORKSPACES,
    },
    precompute: {
      enabled: env.NETRA_PRECOMPUTE_ENABLED, debounceMs: env.NETRA_PRECOMPUTE_DEBOUNCE_MS, maxWaitMs: env.NETRA_PRECOMPUTE_MAX_WAIT_MS,
      ttlMs: env.NETRA_PRECOMPUTE_TTL_MS, staleMaxMs: env.NETRA_PRECOMPUTE_STALE_MAX_MS, goals: env.NETRA_PRECOMPUTE_GOALS,
    },
    jobs: {
      concurrency: env.NETRA_JOBS_CONCURRENCY, maxGenerateEvents: env.NETRA_JOBS_MAX_GENERATE_EVENTS, progressIntervalMs: env.NETRA_JOBS_PROGRESS_INTERVAL_MS,
      heartbeatIntervalMs: env.NETRA_JOBS_HEARTBEAT_MS, staleAfterMs: env.NETRA_JOBS_STALE_AFTER_MS,
    },
    runs: { heartbeatIntervalMs: env.NETRA_RUNS_HEARTBEAT_MS, staleAfterMs: env.NETRA_RUNS_STALE_AFTER_MS },
    ws: {
      maxFrameBytes: env.NETRA_WS_MAX_FRAME_BYTES, maxConnectionsPerUser: env.NETRA_WS_MAX_CONNECTIONS_PER_USER,
      heartbeatIntervalMs: env.NETRA_WS_HEARTBEAT_MS, idleTimeoutMs: env.NETRA_WS_IDLE_TIMEOUT_MS,
      messagesPerSecond: env.NETRA_WS_MESSAGES_PER_SECOND, maxViolations: env.NETRA_WS_MAX_VIOLATIONS,
    },
    store: {
      engine: env.NETRA_STORE || (env.CLICKHOUSE_URL ? 'clickhouse' : undefined), duckdbPath: env.NETRA_DUCKDB_PATH,
      clickhouseUrl: env.CLICKHOUSE_URL || undefined, clickhouseDatabase: env.CLICKHOUSE_DATABASE, clickhouseTtlDays: env.CLICKHOUSE_TTL_DAYS,
    },
    ingest: {
      maxEventsPerRequest: env.NETRA_INGEST_MAX_EVENTS,
      maxBodyBytes: env.NETRA_INGEST_MAX_BODY_BYTES,
      maxNdjsonBodyBytes: env.NETRA_INGEST_MAX_NDJSON_BYTES,
    },
    otlp: {
      grpcPort: env.NETRA_OTLP_GRPC_PORT, grpcHost: env.NETRA_OTLP_GRPC_HOST || undefined, maxBodyBytes: env.NETRA_OTLP_MAX_BODY_BYTES,
      maxSpansPerRequest: env.NETRA_OTLP_MAX_SPANS, maxConcurrentExports: env.NETRA_OTLP_MAX_CONCURRENT_EXPORTS, retryAfterSec: env.NETRA_OTLP_RETRY_AFTER_S,
    },
    auth: {
      jwtSecret: env.NETRA_JWT_SECRET || undefined,
      secretKey: env.NETRA_SECRET_KEY || undefined,
      issuer: env.NETRA_JWT_ISSUER,
      audience: env.NETRA_JWT_AUDIENCE,
      accessTokenTtlSec: env.NETRA_ACCESS_TOKEN_TTL_S,
      refreshTokenTtlSec: env.NETRA_REFRESH_TOKEN_TTL_S,
      localOwnerEmail: env.NETRA_LOCAL_OWNER_EMAIL,
      localAutoSignIn: env.NETRA_LOCAL_AUTO_SIGN_IN,
    },
    security: {
      corsOrigins: env.NETRA_CORS_ORIGINS,
      trustProxy: env.NETRA_TRUST_PROXY,
      rateLimitPerKey: env.NETRA_RATE_LIMIT_PER_KEY,
      rateLimitPerIp: env.NETRA_RATE_LIMIT_PER_IP,
      rateLimitWindowMs: env.NETRA_RATE_LIMIT_WINDOW_MS,
      rateLimitExemptLoopback: env.NETRA_RATE_LIMIT_EXEMPT_LOOPBACK,
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
  return {
    ...c, databaseUrl: maskUrl(c.databaseUrl), redisUrl: maskUrl(c.redisUrl),
    store: { ...c.store, clickhouseUrl: maskUrl(c.store.clickhouseUrl) },
    // secrets: only whether they were configured (issue 3)
    auth: { ...c.auth, jwtSecret: c.auth.jwtSecret ? '****' : '(generated under dataDir)', secretKey: c.auth.secretKey ? '****' : '(generated under dataDir)' },
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
