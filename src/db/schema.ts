/**
 * Relational schema (Drizzle): runs on PGlite (embedded default) and PostgreSQL (DATABASE_URL).
 * Migrations are generated from this file into src/db/migrations with `npm run db:generate`.
 */
import { sql } from 'drizzle-orm';
import { boolean, check, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const workspaces = pgTable('workspaces', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  name: text('name').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** IANA time zone of the workspace's calendar ("yesterday", per-day buckets); validated with Intl when set */
  timeZone: text('time_zone').notNull().default('UTC'),
});

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Imports and generations, with progress; survives restarts. */
export const importJobs = pgTable(
  'import_jobs',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(), // 'import' | 'generate' | 'backfill'
    source: text('source').notNull(), // file name, preset, ...
    format: text('format'),
    status: text('status').$type<JobStatus>().notNull().default('queued'),
    accepted: integer('accepted').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    duplicates: integer('duplicates').notNull().default(0),
    progress: doublePrecision('progress').notNull().default(0),
    errors: jsonb('errors').$type<unknown[]>().notNull().default(sql`'[]'::jsonb`),
    result: jsonb('result').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** the instance id of the process whose runner holds the job (queued or running); null for rows no runner created */
    owner: text('owner'),
    /** refreshed by the owner (database clock) while the job is queued or running; a stale one means the owner stopped */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
  },
  (t) => [
    // the heartbeat (by owner) and the stale-job sweep read only unfinished rows
    index('import_jobs_unfinished_owner_idx').on(t.owner).where(sql`${t.status} in ('queued', 'running')`),
  ],
);

/** Per-workspace price overrides (USD per token); unspecified fields fall back to the catalog. */
export const priceOverrides = pgTable(
  'price_overrides',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    input: doublePrecision('input'),
    output: doublePrecision('output'),
    cachedInput: doublePrecision('cached_input'),
    cacheWrite: doublePrecision('cache_write'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.model] })],
);

// ── accounts and security: users, memberships, API keys, refresh tokens, encrypted provider secrets ──

export const ROLES = ['owner', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
/** `gateway`: the key is a virtual key of the LLM gateway (src/gateway): it may only send calls through it. */
export const API_KEY_SCOPES = ['ingest', 'read', 'admin', 'gateway'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** People who sign in. Passwords are argon2id hashes; `is_admin` may manage users (not read workspaces they are not in). */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  email: text('email').notNull().unique(),
  name: text('name').notNull().default(''),
  passwordHash: text('password_hash'),
  isAdmin: boolean('is_admin').notNull().default(false),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Who may do what in a workspace. */
export const memberships = pgTable(
  'memberships',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').$type<Role>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId] }),
    index('memberships_user_idx').on(t.userId),
    check('memberships_role_check', sql`${t.role} in ('owner', 'member', 'viewer')`),
  ],
);

/** Workspace API keys `nk_<prefix>_<secret>`: only the prefix and a SHA-256 of the whole key are stored. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    prefix: text('prefix').notNull().unique(),
    secretHash: text('secret_hash').notNull(),
    scope: text('scope').$type<ApiKeyScope>().notNull(),
    name: text('name').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('api_keys_workspace_idx').on(t.workspaceId),
    check('api_keys_scope_check', sql`${t.scope} in ('ingest', 'read', 'admin', 'gateway')`),
  ],
);

/** Opaque refresh tokens (SHA-256 stored), rotated on every use. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('refresh_tokens_user_idx').on(t.userId)],
);

/** LLM provider API keys a workspace stores: AES-256-GCM ciphertext under NETRA_SECRET_KEY, never returned. */
export const providerSecrets = pgTable(
  'provider_secrets',
  {
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    ciphertext: text('ciphertext').notNull(),
    /** last characters of long secrets, for recognising them in a list; null for short ones */
    hint: text('hint'),
    /** the provider's API base URL for this workspace (the LLM gateway sends its calls there); null: the configured one */
    baseUrl: text('base_url'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.provider] })],
);

// ── conversations: chat threads, their messages, agent runs and every run event, numbered per run ──

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A conversation, private to one caller (`user_id`: a user id, or `key:<prefix>` for an API key) in one workspace. */
export const threads = pgTable(
  'threads',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    title: text('title').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * How many messages the thread has had: every statement that inserts a message adds one in the same statement (messages
     * are never deleted one by one, only with their thread). A process that remembers a thread's history by this number
     * knows it is still the thread's history when the number has not changed (src/chat/history-cache.ts).
     */
    messageCount: integer('message_count').notNull().default(0),
  },
  (t) => [index('threads_owner_idx').on(t.workspaceId, t.userId, t.updatedAt)],
);

/** Agent runs: one request, its status and timings. */
export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    status: text('status').$type<RunStatus>().notNull().default('queued'),
    goal: text('goal'),
    request: text('request').notNull(),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** the instance id of the process executing the run (its RunService); null for rows created before runs had owners */
    owner: text('owner'),
    /** refreshed by the owner (database clock) while the run is queued or running; a stale one means the owner stopped */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
  },
  (t) => [
    // a thread's runs, newest first by an index scan: opening a turn reads the latest run's report (a thread's runs read
    // and sorted on every turn cost more with every turn of a long thread)
    index('runs_thread_created_idx').on(t.threadId, t.createdAt),
    // the heartbeat (by owner) and the stale-run sweep read only unfinished rows
    index('runs_unfinished_owner_idx').on(t.owner).where(sql`${t.status} in ('queued', 'running')`),
    check('runs_status_check', sql`${t.status} in ('queued', 'running', 'completed', 'failed', 'cancelled')`),
  ],
);

/** The messages of a thread; an assistant message names the run that wrote it. */
export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    role: text('role').$type<'user' | 'assistant'>().notNull(),
    content: text('content').notNull(),
    runId: uuid('run_id').references(() => runs.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('messages_thread_idx').on(t.threadId, t.createdAt), check('messages_role_check', sql`${t.role} in ('user', 'assistant')`)],
);

/** Every event a run emitted, numbered 1, 2, ... per run (the `event_id` clients resume after). */
export const runEvents = pgTable(
  'run_events',
  {
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    ts: timestamp('ts', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

// ── the LLM gateway (src/gateway): the policy each workspace applies in the request path, and whether text is recorded ──

export const GATEWAY_MODES = ['off', 'shadow', 'enforce'] as const;
export type GatewayMode = (typeof GATEWAY_MODES)[number];

export const gatewayPolicies = pgTable(
  'gateway_policies',
  {
    workspaceId: uuid('workspace_id')
      .primaryKey()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    mode: text('mode').$type<GatewayMode>().notNull().default('off'),
    /** the replay's policy document (src/optimize/policy.ts), validated before it is stored */
    policy: jsonb('policy').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    /** prompt and response text are recorded with each call unless this is false */
    recordText: boolean('record_text').notNull().default(true),
    /** when the current mode and policy took effect (realized savings are measured from here) */
    activatedAt: timestamp('activated_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [check('gateway_policies_mode_check', sql`${t.mode} in ('off', 'shadow', 'enforce')`)],
);
