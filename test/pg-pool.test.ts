/**
 * The PostgreSQL pool against the real server (DATABASE_URL): no leaked connections, pool timeout, statement timeout,
 * pre-ping replacing dead connections (terminated by the server, or silently dropped by the network), recycle, and
 * the saturation warning. Skipped, with the reason printed, when DATABASE_URL is not set.
 */
import { once } from 'node:events';
import { createServer, Socket, type Server } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { pgPoolOptions } from '../src/db/client.js';
import { NetraPgPool } from '../src/db/pool.js';
import { Repository } from '../src/db/repository.js';
import { createLogger } from '../src/logger.js';
import { testDatabases } from './helpers/databases.js';

const URL_ = process.env.DATABASE_URL;
if (!URL_) console.warn('[pg-pool.test] skipped: DATABASE_URL is not set (CI sets postgres://postgres@127.0.0.1:5432/test)');

function captureLog() {
  const lines: string[] = [];
  const log = createLogger(
    'info',
    new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    }),
  );
  return { log, lines };
}

const pools: NetraPgPool[] = [];
function makePool(pgOverrides: Record<string, unknown> = {}, url = URL_!, log?: ReturnType<typeof createLogger>) {
  const cfg = parseConfig({ databaseUrl: url, pg: pgOverrides }).pg;
  const pool = new NetraPgPool(
    pgPoolOptions(url, cfg),
    {
      prePing: cfg.prePing,
      prePingIdleMs: cfg.prePingIdleMs,
      prePingTimeoutMs: cfg.prePingTimeoutMs,
      saturationWarnRatio: cfg.saturationWarnRatio,
    },
    log,
  );
  pool.on('error', () => {}); // idle connections killed by a test
  pools.push(pool);
  return pool;
}

async function backendPid(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
}

async function admin<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** A TCP proxy to PostgreSQL whose connections can be frozen: bytes stop flowing both ways, as on a dead network path. */
async function freezableProxy(target: URL) {
  const links: { client: Socket; upstream: Socket; frozen: boolean }[] = [];
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    const link = { client, upstream, frozen: false };
    links.push(link);
    upstream.connect(Number(target.port || 5432), target.hostname);
    client.on('data', (d) => {
      if (!link.frozen) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!link.frozen) client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const u = new URL(target.toString());
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return {
    url: u.toString(),
    freezeAll() {
      for (const l of links) l.frozen = true;
    },
    async close() {
      for (const l of links) {
        l.client.destroy();
        l.upstream.destroy();
      }
      server.close();
    },
  };
}

describe.skipIf(!URL_)('PostgreSQL pool (real server)', () => {
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => (p.ending ? Promise.resolve() : p.end())));
  });

  // pool size, statement timeout, recycle and pre-ping are the original system's; the pool wait (which is also the connect
  // wait in pg) is short so an unreachable server costs a request seconds; a client-side query bound catches a black hole
  it('config defaults: 20 + 30 overflow, 5 s pool timeout, 30 s statement / 35 s query timeout, 30 min recycle, pre-ping', () => {
    const cfg = parseConfig({ databaseUrl: URL_ }).pg;
    const o = pgPoolOptions(URL_!, cfg);
    expect(o.max).toBe(50);
    expect(o.connectionTimeoutMillis).toBe(5_000);
    expect(o.maxLifetimeSeconds).toBe(1800);
    expect(o.statement_timeout).toBe(30_000);
    expect(o.query_timeout).toBe(35_000);
    expect(o.idle_in_transaction_session_timeout).toBe(60_000);
    expect(cfg.prePing).toBe(true);
  });

  it('leaves no connection checked out after a concurrent workload, and detects a deliberately leaked one', async () => {
    const pool = makePool({ poolSize: 4, maxOverflow: 2 });
    pool.traceCheckouts = true;
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        if (i % 4 === 0) {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('SELECT $1::int AS n', [i]);
            await c.query('COMMIT');
          } finally {
            c.release();
          }
        } else {
          await pool.query('SELECT $1::int AS n', [i]);
        }
      }),
    );
    expect(pool.totalCount - pool.idleCount).toBe(0);
    expect(pool.checkedOut()).toBe(0);
    expect(() => pool.assertNoLeaks()).not.toThrow();
    expect(pool.stats().checkouts).toBeGreaterThanOrEqual(40);

    const leaked = await pool.connect();
    expect(pool.checkedOut()).toBe(1);
    expect(() => pool.assertNoLeaks()).toThrow(/1 connection\(s\) still checked out[\s\S]*checked out here[\s\S]*pg-pool\.test\.ts/);
    leaked.release();
    expect(() => pool.assertNoLeaks()).not.toThrow();
  });

  it('leaves no connection checked out after repository work through openDatabase', async () => {
    const [, pgDb] = testDatabases();
    const handle = await pgDb!.open();
    try {
      expect(handle.kind).toBe('postgres');
      expect(handle.pool).toBeDefined();
      const repo = new Repository(handle.db);
      await Promise.all(Array.from({ length: 10 }, (_, i) => repo.ensureWorkspace(`ws-${i % 3}`)));
      expect((await repo.listWorkspaces()).length).toBe(3);
      handle.pool!.assertNoLeaks();
      expect(handle.pool!.stats()).toMatchObject({ in_use: 0, waiting: 0, max: 50 });
    } finally {
      await handle.close();
      await pgDb!.drop();
    }
  });

  it('fails a checkout after the configured pool timeout when every connection is held', async () => {
    const pool = makePool({ poolSize: 1, maxOverflow: 0, poolTimeoutMs: 300 });
    const held = await pool.connect();
    const t0 = performance.now();
    const err = await pool.query('SELECT 1').then(
      () => null,
      (e: Error) => e,
    );
    const ms = performance.now() - t0;
    expect(err).toMatchObject({ code: 'NETRA_E_STORE' });
    expect(err!.message).toMatch(/no connection free within 300 ms \(max 1/);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5_000);
    expect(pool.stats().timeouts).toBe(1);
    held.release();
    expect(await backendPid(pool)).toBeGreaterThan(0); // usable again
    pool.assertNoLeaks();
  });

  it('cancels a statement that runs past the statement timeout and keeps the pool usable', async () => {
    const pool = makePool({ statementTimeoutMs: 200 });
    const err = await pool.query('SELECT pg_sleep(5)').then(
      () => null,
      (e: { code?: string; message: string }) => e,
    );
    expect(err?.code).toBe('57014'); // query_canceled
    expect(err?.message).toMatch(/statement timeout/);
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    pool.assertNoLeaks();
  });

  it('replaces a connection the server terminated (pg_terminate_backend) without failing the caller', async () => {
    const pool = makePool({ poolSize: 1, maxOverflow: 0, prePingIdleMs: 0 });
    const pid = await backendPid(pool);
    const [row] = await admin<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
    expect(row!.ok).toBe(true);
    const pid2 = await backendPid(pool);
    expect(pid2).not.toBe(pid);
    pool.assertNoLeaks();
  });

  it('pre-ping finds a silently dead connection (network drop) and checks out a fresh one', async () => {
    const proxy = await freezableProxy(new URL(URL_!));
    try {
      const pool = makePool({ poolSize: 2, maxOverflow: 0, prePingIdleMs: 0, prePingTimeoutMs: 300 }, proxy.url);
      const pid = await backendPid(pool);
      expect(pool.idleCount).toBe(1);
      proxy.freezeAll(); // the idle connection now swallows every byte, like a half-open TCP connection
      const pid2 = await backendPid(pool);
      expect(pid2).not.toBe(pid);
      expect(pool.stats()).toMatchObject({ pre_ping_failures: 1 });
      expect(pool.stats().pre_pings).toBeGreaterThanOrEqual(1);
      pool.assertNoLeaks();
      await admin('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await proxy.close();
    }
  });

  it('without pre-ping the same dead connection is handed out (control for the test above)', async () => {
    const proxy = await freezableProxy(new URL(URL_!));
    try {
      const pool = makePool({ poolSize: 1, maxOverflow: 0, prePing: false, statementTimeoutMs: 0 }, proxy.url);
      const pid = await backendPid(pool);
      proxy.freezeAll();
      const c = await pool.connect();
      const r = await Promise.race([
        c.query('SELECT 1').then(
          () => 'answered',
          () => 'failed',
        ),
        new Promise((res) => setTimeout(res, 500, 'hung')),
      ]);
      expect(r).toBe('hung');
      expect(pool.stats().pre_pings).toBe(0);
      c.release(new Error('dead'));
      await admin('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await proxy.close();
    }
  });

  it('recycles a connection after its lifetime (recycleMs)', async () => {
    const pool = makePool({ recycleMs: 1000 });
    const pid = await backendPid(pool);
    await once(pool, 'remove'); // pg-pool ends the connection when its lifetime is over
    expect(pool.totalCount).toBe(0);
    expect(await backendPid(pool)).not.toBe(pid);
  });

  it('warns once when saturation passes 80%, and again only after it fell well below', async () => {
    const { log, lines } = captureLog();
    const pool = makePool({ poolSize: 5, maxOverflow: 0 }, URL_, log);
    const warnings = () => lines.filter((l) => l.includes('postgres pool saturation')).length;
    const held: pg.PoolClient[] = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await pool.connect());
      expect(pool.stats().saturation).toBe(0.8);
      expect(warnings()).toBe(0); // exactly 80% is not above
      held.push(await pool.connect());
      expect(pool.stats()).toMatchObject({ in_use: 5, saturation: 1 });
      expect(warnings()).toBe(1);
      const line = JSON.parse(lines.find((l) => l.includes('postgres pool saturation'))!);
      expect(line.level).toBe(40);
      expect(line.pool).toMatchObject({ in_use: 5, max: 5 });
      held.pop()!.release(); // 80%: not re-armed
      held.push(await pool.connect());
      expect(warnings()).toBe(1);
      held.pop()!.release();
      held.pop()!.release();
      held.pop()!.release(); // 40%: re-armed
      for (let i = 0; i < 3; i++) held.push(await pool.connect());
      expect(warnings()).toBe(2);
    } finally {
      for (const c of held) c.release();
    }
    pool.assertNoLeaks();
  });
});

afterAll(async () => {
  await Promise.all(pools.splice(0).map((p) => (p.ending ? Promise.resolve() : p.end())));
});
