/**
 * Relational schema (Drizzle): runs on PGlite (embedded default) and PostgreSQL (DATABASE_URL).
 * Migrations are generated from this file into src/db/migrations with `npm run db:generate`.
 */
import { sql } from 'drizzle-orm';
import { doublePrecision, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const workspaces = pgTable('workspaces', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  name: text('name').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Imports and generations, with progress; survives restarts. */
export const importJobs = pgTable('import_jobs', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  kind: text('kind').notNull(), // 'import' | 'generate'
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
});

/** Per-workspace price overrides (USD per token); unspecified fields fall back to the catalog. */
export const priceOverrides = pgTable('price_overrides', {
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id, { onDelete: 'cascade' }),
  model: text('model').notNull(),
  input: doublePrecision('input'),
  output: doublePrecision('output'),
  cachedInput: doublePrecision('cached_input'),
  cacheWrite: doublePrecision('cache_write'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.workspaceId, t.model] })]);
