/**
 * Chaos: PostgreSQL and Redis behind a fault proxy (test/helpers/fault-proxy.ts) that refuses or black-holes.
 * Redis down → the API keeps answering (cache and fan-out degrade), readiness 200 'degraded' (503 when required).
 * PostgreSQL down → authenticated calls 503 NETRA_E_UNAVAILABLE (never 500), readiness false within 2 s, ingestion with
 * a recently verified API key goes on, a key revoked before the outage stays refused; recovery without restart.
 * Readiness answers within 1 s throughout. Needs REDIS_URL / DATABASE_URL (skipped without them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { FaultProxy } from './helpers/fault-proxy.js';
import { sharedPostgres } from './helpers/databases.js';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
let seq = 0;
/** figures for docs/RELIABILITY.md: printed when NETRA_CHAOS_FIGURES=1 */
const figures: Record<string, number> = {};
const note = (k: string, ms: number) => {
  figures[k] = Math.round(ms);
};
afterAll(() => {
  if (process.env.NETRA_CHAOS_FIGURES === '1') process.stdout.write(`chaos figures (ms): ${JSON.stringify(figures)}\n`);
});
const events = (n: number) =>
  Array.from({ length: n }, () => ({
    event_id: `f-${++seq}`,
    timestamp: T0 + seq,
    model: 'gpt-4o-mini',
    prompt_tokens: 10,
    completion_tokens: 2,
  }));

async function startApp(extra: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'netra-chaos-'));
  const sink = new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
  const app = await createApp(parseConfig({ dataDir: dir, port: 0, seedDemo: false, otlp: { grpcPort: 0 }, ...extra }), {
    logDestination: sink,
  });
  await app.listen();
  return {
    app,
    dir,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET /health/ready, timed. */
async function ready(app: App) {
  const t0 = performance.now();
  const r = await app.server.inject({ url: '/health/ready' });
  return {
    ms: performance.now() - t0,
    status: r.statusCode,
    body: r.json() as { status: string; degraded?: string[]; dependencies: { name: string; ok: boolean }[] },
  };
}

/** Polls readiness until `pred` holds (bounded); returns how long it took. Each answer must come within 1 s. */
async function until(app: App, pred: (r: Awaited<ReturnType<typeof ready>>) => boolean, maxMs = 10_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = await ready(app);
    expect(r.ms).toBeLessThan(1000);
    if (pred(r)) return performance.now() - t0;
    if (performance.now() - t0 > maxMs) throw new Error(`readiness never reached the state: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe.skipIf(!REDIS_URL)('chaos: Redis refused or black-holed', () => {
  let proxy: FaultProxy;
  let t: Awaited<ReturnType<typeof startApp>>;
  let auth: { authorization: string };
  const prefix = `netra-chaos-${process.pid}-${Date.now()}:`;
  beforeAll(async () => {
    proxy = await FaultProxy.start(REDIS_URL!);
    t = await startApp({
      redisUrl: proxy.url(REDIS_URL!),
      cache: { redisPrefix: prefix },
      redis: { connectTimeoutMs: 500, commandTimeoutMs: 300 },
      health: { probeIntervalMs: 200, probeTimeoutMs: 300 },
    });
    auth = { authorization: `Bearer ${await t.app.accounts.identity.issueAccessToken(t.app.accounts.identity.localOwnerId())}` };
    await t.app.ingest(
      'rc',
      events(200).map((raw, index) => ({ index, raw })),
    );
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
  });

  for (const mode of ['blackhole', 'refuse'] as const) {
    it(`${mode}: every call still answers (200, bounded latency), readiness degraded but ready; recovers`, async () => {
      expect((await ready(t.app)).body.status).toBe('ready');
      await proxy.set(mode);
      const flip = await until(t.app, (r) => r.body.status === 'degraded');
      note(`redis ${mode}: readiness degraded after`, flip);
      expect(flip).toBeLessThan(2000);
      const r = await ready(t.app);
      expect(r.status).toBe(200);
      expect(r.body.degraded!.join(' ')).toMatch(/cache \(redis\) unavailable/);
      for (const req of [
        { url: '/api/v1/analysis?workspace=rc' },
        { url: '/api/v1/stats?workspace=rc' },
        { method: 'POST' as const, url: '/api/v1/events?workspace=rc', payload: events(5) },
      ]) {
        const t0 = performance.now();
        const res = await t.app.server.inject({ ...req, headers: auth });
        expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
        note(`redis ${mode}: ${req.method ?? 'GET'} ${req.url.split('?')[0]}`, performance.now() - t0);
        expect(performance.now() - t0).toBeLessThan(3000);
      }
      await proxy.set('pass');
      note(`redis ${mode}: ready again after`, await until(t.app, (x) => x.body.status === 'ready', 15_000));
    }, 40_000);
  }

  it('required: readiness 503 while Redis is refused', async () => {
    const req = await startApp({
      redisUrl: proxy.url(REDIS_URL!),
      cache: { redisPrefix: prefix },
      redis: { connectTimeoutMs: 500, commandTimeoutMs: 300, required: true },
      health: { probeIntervalMs: 200, probeTimeoutMs: 300 },
    });
    try {
      await proxy.set('refuse');
      await until(req.app, (r) => r.status === 503);
    } finally {
      await proxy.set('pass');
      await req.close();
    }
  }, 90_000); // a second app: its embedded PostgreSQL takes long to create on a loaded machine
});

describe.skipIf(!DATABASE_URL)('chaos: PostgreSQL refused or black-holed', () => {
  const db = sharedPostgres(DATABASE_URL ?? 'postgres://unused', 'chaos');
  let proxy: FaultProxy;
  let t: Awaited<ReturnType<typeof startApp>>;
  let user: { authorization: string };
  let key: { authorization: string };
  let revoked: { authorization: string };
  beforeAll(async () => {
    await db.create();
    const url = await db.url();
    proxy = await FaultProxy.start(url);
    t = await startApp({
      databaseUrl: proxy.url(url),
      pg: { poolTimeoutMs: 1000, queryTimeoutMs: 1500, statementTimeoutMs: 1000, prePingTimeoutMs: 500 },
      health: { probeIntervalMs: 200, probeTimeoutMs: 500 },
      auth: { jwtSecret: 'c'.repeat(40), secretKey: 'b'.repeat(64), apiKeyCacheTtlMs: 60_000 },
    });
    const { identity, access } = t.app.accounts;
    user = { authorization: `Bearer ${await identity.issueAccessToken(identity.localOwnerId())}` };
    await t.app.ingest(
      'pgc',
      events(10).map((raw, index) => ({ index, raw })),
    );
    const k = await access.createApiKey('pgc', { scope: 'ingest' }, null);
    const r = await access.createApiKey('pgc', { scope: 'ingest' }, null);
    key = { authorization: `Bearer ${k.key}` };
    revoked = { authorization: `Bearer ${r.key}` };
    // both keys verified once (the cache is primed), then one is revoked while the database is up
    for (const h of [key, revoked])
      expect(
        (await t.app.server.inject({ method: 'POST', url: '/api/v1/events?workspace=pgc', headers: h, payload: events(2) })).statusCode,
      ).toBe(200);
    await access.revokeApiKey(r.prefix);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await db.drop();
  });

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`${mode}: 503 NETRA_E_UNAVAILABLE (not 500), readiness false within 2 s, API-key ingestion goes on; recovers`, async () => {
      expect((await ready(t.app)).status).toBe(200);
      await proxy.set(mode);
      const flip = await until(t.app, (r) => r.status === 503);
      note(`pg ${mode}: readiness 503 after`, flip);
      expect(flip).toBeLessThan(2000);

      const t0 = performance.now();
      const res = await t.app.server.inject({ url: '/api/v1/workspaces', headers: user });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.code).toBe('NETRA_E_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('5');
      note(`pg ${mode}: GET /api/v1/workspaces (503)`, performance.now() - t0);
      expect(performance.now() - t0).toBeLessThan(4000);

      const t1 = performance.now();
      const ing = await t.app.server.inject({ method: 'POST', url: '/api/v1/events?workspace=pgc', headers: key, payload: events(20) });
      expect(ing.statusCode, ing.body).toBe(200);
      expect(ing.json().accepted).toBe(20);
      note(`pg ${mode}: POST /api/v1/events with an API key (200)`, performance.now() - t1);
      const refused = await t.app.server.inject({
        method: 'POST',
        url: '/api/v1/events?workspace=pgc',
        headers: revoked,
        payload: events(1),
      });
      expect([401, 503]).toContain(refused.statusCode);

      await proxy.set('pass');
      note(`pg ${mode}: ready again after`, await until(t.app, (r) => r.status === 200, 15_000));
      const back = await t.app.server.inject({ url: '/api/v1/workspaces', headers: user });
      expect(back.statusCode).toBe(200);
    }, 40_000);
  }
});
