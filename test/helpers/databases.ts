/**
 * Test databases: PGlite in memory always; a fresh throw-away database on the real PostgreSQL when DATABASE_URL is set.
 */
import pg from 'pg';
import { parseConfig } from '../../src/config.js';
import { openDatabase, type DbHandle } from '../../src/db/client.js';

export interface TestDb {
  name: string;
  open(): Promise<DbHandle>;
  drop(): Promise<void>;
}

export function testDatabases(): TestDb[] {
  const list: TestDb[] = [
    {
      name: 'pglite',
      open: () => openDatabase(parseConfig({}), undefined, { pgliteDir: 'memory://' }),
      drop: async () => {},
    },
  ];
  const url = process.env.DATABASE_URL;
  if (url) {
    const dbName = `netra_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    list.push({
      name: 'postgres',
      open: async () => {
        await adminQuery(url, `CREATE DATABASE ${dbName}`);
        const u = new URL(url);
        u.pathname = `/${dbName}`;
        return openDatabase(parseConfig({ databaseUrl: u.toString() }));
      },
      drop: () => adminQuery(url, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`),
    });
  }
  return list;
}

/**
 * A throw-away database on the PostgreSQL of `url` that several "processes" open at once: each open() is another pool
 * (what a second server process would have). drop() closes every pool it opened and drops the database.
 */
export function sharedPostgres(url: string, label: string) {
  const name = `netra_test_${label}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const handles: DbHandle[] = [];
  return {
    create: () => adminQuery(url, `CREATE DATABASE ${name}`),
    /** the connection URL of the shared database (for a whole second app) */
    async url(): Promise<string> {
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async open(): Promise<DbHandle> {
      const u = new URL(url);
      u.pathname = `/${name}`;
      const h = await openDatabase(parseConfig({ databaseUrl: u.toString() }));
      handles.push(h);
      return h;
    },
    async drop(): Promise<void> {
      for (const h of handles.splice(0)) await h.close();
      await adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
