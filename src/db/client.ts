/**
 * Opens the relational database: PGlite under <dataDir>/pg by default, PostgreSQL (pooled) when DATABASE_URL is set.
 * Both are driven through Drizzle with the same schema and migrations.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import * as schema from './schema.js';
import type { NetraPgPool } from './pool.js';
import { lockPgliteDir } from './pglite-lock.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DbHandle {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Database;
  /** Runs `SELECT 1`. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The PostgreSQL pool (statistics, leak checks); absent for PGlite. */
  readonly pool?: NetraPgPool;
}

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** pg.Pool options from config: pool size + overflow = max, recycle, timeouts (the original system's defaults). */
export function pgPoolOptions(url: string, pg: Config['pg']) {
  return {
    connectionString: url,
    max: pg.poolSize + pg.maxOverflow,
    connectionTimeoutMillis: pg.poolTimeoutMs,
    idleTimeoutMillis: pg.idleTimeoutMs,
    maxLifetimeSeconds: Math.ceil(pg.recycleMs / 1000),
    statement_timeout: pg.statementTimeoutMs,
    query_timeout: pg.queryTimeoutMs || undefined,
    keepAlive: true,
    idle_in_transaction_session_timeout: pg.idleInTransactionTimeoutMs,
    application_name: 'netra',
  };
}

export async function openDatabase(
  config: Pick<Config, 'dataDir' | 'databaseUrl' | 'pg'>,
  log?: Logger,
  opts: { pgliteDir?: string } = {},
): Promise<DbHandle> {
  if (config.databaseUrl) {
    const { NetraPgPool } = await import('./pool.js');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const { migrate } = await import('drizzle-orm/node-postgres/migrator');
    const pool = new NetraPgPool(
      pgPoolOptions(config.databaseUrl, config.pg),
      {
        prePing: config.pg.prePing,
        prePingIdleMs: config.pg.prePingIdleMs,
        prePingTimeoutMs: config.pg.prePingTimeoutMs,
        saturationWarnRatio: config.pg.saturationWarnRatio,
      },
      log,
    );
    pool.on('error', (err) => log?.warn({ err: err.message }, 'idle postgres client error'));
    const db = drizzle(pool, { schema });
    await migrate(db, { migrationsFolder: MIGRATIONS });
    let closed = false;
    return {
      kind: 'postgres',
      pool,
      db: db as unknown as Database,
      ping: async () => {
        await pool.query('SELECT 1');
      },
      close: async () => {
        if (!closed) {
          closed = true;
          await pool.end();
        }
      },
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const dir = opts.pgliteDir ?? join(config.dataDir, 'pg');
  let unlock = () => {};
  if (dir !== 'memory://') {
    mkdirSync(dir, { recursive: true });
    unlock = lockPgliteDir(dir);
  }
  let client: Awaited<ReturnType<typeof PGlite.create>>;
  let db: ReturnType<typeof drizzle>;
  try {
    client = await PGlite.create(dir);
    db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder: MIGRATIONS });
  } catch (err) {
    unlock();
    throw err;
  }
  let closed = false;
  return {
    kind: 'pglite',
    db: db as unknown as Database,
    ping: async () => {
      await client.query('SELECT 1');
    },
    close: async () => {
      if (!closed) {
        closed = true;
        try {
          await client.close();
        } finally {
          unlock();
        }
      }
    },
  };
}
