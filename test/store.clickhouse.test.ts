/**
 * The ClickHouse analytics store over chdb (embedded ClickHouse, the same SQL a server runs): the shared
 * AnalyticsStore suite, plus ClickHouse-specific checks: table layout (MergeTree by month, ordered by workspace and
 * time), schema version table and refusal of a newer one, TTL from config, validation before writing, bound
 * parameters only, chdb never loaded by production code, and the HTTP executor's failure path.
 *
 * libchdb binds one data directory per process: every store here opens a session on the same directory and gets
 * its own database (fresh storage = a fresh database; "reopen" = a new session and store on the same database).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChdbExecutor } from '../src/store/clickhouse-chdb-executor.js';
import { createHttpExecutor, type Row } from '../src/store/clickhouse-executor.js';
import { SCHEMA_VERSION } from '../src/store/clickhouse-schema.js';
import { createClickHouseStore, type ClickHouseStoreOptions } from '../src/store/clickhouse-store.js';
import { configFromEnv, describeConfig } from '../src/config.js';
import { startTestApp } from './helpers/app.js';
import { makeEvent, runStoreSuite, T0 } from './store.suite.js';

const dir = mkdtempSync(join(tmpdir(), 'netra-chdb-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshDb = () => `t${++n}_${process.pid}`;

async function open(database: string, opts: Partial<ClickHouseStoreOptions> = {}) {
  const store = createClickHouseStore({ executor: createChdbExecutor(dir), database, ...opts });
  await store.init();
  return store;
}

/** A raw query on the shared data directory (own session). */
async function raw(sql: string, params: Record<string, unknown> = {}): Promise<Row[]> {
  const ex = createChdbExecutor(dir);
  try {
    return await ex.query<Row>(sql, params);
  } finally {
    await ex.close();
  }
}

runStoreSuite('clickhouse (chdb)', () => open(freshDb()), {
  openPersistent: (key) => open(`p_${key.replace(/[^A-Za-z0-9_]/g, '_')}`),
});
runStoreSuite('clickhouse (chdb), small insert and lookup chunks', () => open(freshDb(), { insertChunkRows: 700, lookupChunk: 333 }));

// A real server, when one is given (none is reachable on the build machine): the same suite over HTTP.
const serverUrl = process.env.CLICKHOUSE_URL;
if (serverUrl) {
  const openHttp = async (database: string) => {
    const store = createClickHouseStore({ executor: createHttpExecutor({ url: serverUrl }), database });
    await store.init();
    return store;
  };
  runStoreSuite('clickhouse (HTTP server)', () => openHttp(`netra_test_${freshDb()}`), {
    openPersistent: (key) => openHttp(`netra_test_p_${key.replace(/[^A-Za-z0-9_]/g, '_')}`),
  });
} else {
  describe.skip('AnalyticsStore contract: clickhouse (HTTP server): skipped, CLICKHOUSE_URL is not set', () => {
    it('needs CLICKHOUSE_URL', () => undefined);
  });
}

describe('ClickHouse store specifics', () => {
  it('creates a MergeTree partitioned by month, ordered by (workspace, timestamp), and records the schema version once', async () => {
    const db = freshDb();
    await (await open(db)).close();
    const s2 = await open(db);
    await s2.init();
    await s2.close();
    expect((await raw(`SELECT version FROM ${db}.netra_schema ORDER BY version`)).map((r) => r.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
    );
    const [t] = await raw(`SELECT engine, partition_key, sorting_key FROM system.tables WHERE database = {db:String} AND name = 'events'`, {
      db,
    });
    expect(t).toEqual({ engine: 'MergeTree', partition_key: 'toYYYYMM(timestamp)', sorting_key: 'workspace, timestamp' });
    const cols = await raw(`SELECT name, type FROM system.columns WHERE database = {db:String} AND table = 'events'`, { db });
    expect(Object.fromEntries(cols.map((c) => [c.name, c.type]))).toMatchObject({
      timestamp: "DateTime64(6, 'UTC')",
      workspace: 'LowCardinality(String)',
      prompt_tokens: 'UInt32',
      cost_usd: 'Float64',
      stream: 'Nullable(Bool)',
      tags: 'Nullable(String)',
      end_user: 'Nullable(String)',
      http_status: 'Nullable(UInt16)',
    });
    const idx = await raw(`SELECT name, type FROM system.data_skipping_indices WHERE database = {db:String} AND table = 'events'`, { db });
    expect(idx).toEqual([{ name: 'idx_event_id', type: 'bloom_filter' }]);
  });

  it('refuses a database with a newer schema version', async () => {
    const db = freshDb();
    await (await open(db)).close();
    const ex = createChdbExecutor(dir);
    await ex.command(`INSERT INTO ${db}.netra_schema (version) VALUES ({v:UInt32})`, { v: SCHEMA_VERSION + 1 });
    await ex.close();
    const store = createClickHouseStore({ executor: createChdbExecutor(dir), database: db });
    await expect(store.init()).rejects.toMatchObject({ code: 'NETRA_E_STORE' });
    await store.close();
  });

  it('applies the configured TTL: expired events are dropped, and a changed TTL is applied on init', async () => {
    const db = freshDb();
    const day = 86_400_000;
    const store = await open(db, { ttlDays: 30 });
    const engine = async () =>
      String((await raw(`SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'events'`, { db }))[0]!.engine_full);
    expect(await engine()).toMatch(/TTL toDateTime\(timestamp\) \+ toIntervalDay\(30\)/);
    await store.append([
      makeEvent({ event_id: 'old', timestamp: Date.now() - 40 * day }),
      makeEvent({ event_id: 'new', timestamp: Date.now() - 1 * day }),
    ]);
    // TTL deletes at merge time, in the background (an expired row may be visible until then): force the merge
    const ex = createChdbExecutor(dir);
    await ex.command(`OPTIMIZE TABLE ${db}.events FINAL`);
    await ex.close();
    expect((await store.listEvents({ workspace: 'ws-a' })).map((e) => e.event_id)).toEqual(['new']);
    await store.close();
    await (await open(db, { ttlDays: 7 })).close();
    expect(await engine()).toMatch(/toIntervalDay\(7\)/);
    await (await open(db, { ttlDays: 0 })).close();
    expect(await engine()).not.toMatch(/TTL/);
  });

  it('refuses a malformed event before writing anything from the batch', async () => {
    const store = await open(freshDb());
    const bad = { ...makeEvent(), model: undefined } as unknown as ReturnType<typeof makeEvent>;
    await expect(store.append([makeEvent({ event_id: 'ok-1' }), bad])).rejects.toMatchObject({
      code: 'NETRA_E_VALIDATION',
      field: 'model',
    });
    await expect(store.append([makeEvent({ prompt_tokens: -1 })])).rejects.toMatchObject({ field: 'prompt_tokens' });
    expect((await store.stats({ workspace: 'ws-a' })).events).toBe(0);
    expect(await store.append([makeEvent({ event_id: 'ok-1' })])).toEqual({ inserted: 1, duplicates: 0 });
    await store.close();
  });

  it('keeps sub-millisecond timestamps and scopes on them exactly', async () => {
    const store = await open(freshDb());
    await store.append([makeEvent({ event_id: 'q', timestamp: T0 + 0.25 }), makeEvent({ event_id: 'r', timestamp: T0 + 0.5 })]);
    expect((await store.listEvents({ workspace: 'ws-a' })).map((e) => e.timestamp)).toEqual([T0 + 0.25, T0 + 0.5]);
    expect((await store.listEvents({ workspace: 'ws-a', from: T0 + 0.5 })).map((e) => e.event_id)).toEqual(['r']);
    await store.close();
  });

  it('binds every value: analysis SQL text never contains the workspace or range', async () => {
    const store = await open(freshDb());
    const ws = "ws-x' OR 1=1 --";
    await store.append([makeEvent({ workspace: ws, max_tokens: 100, status: 'error', session_id: 's' })]);
    const scope = { workspace: ws, from: T0 - 1000, to: T0 + 1e9 };
    const routing = await store.analysis.routingSegments(scope);
    const retry = await store.analysis.retryWaste(scope);
    const results = [
      routing,
      retry,
      await store.analysis.maxTokensGroups(scope),
      await store.analysis.contextGrowth(scope),
      await store.analysis.latencyByAppModel(scope),
    ];
    for (const r of results) {
      expect(r.sql).not.toContain(ws);
      expect(r.sql).not.toContain(String(T0 - 1000));
    }
    expect(routing.rows.map((r) => r.events)).toEqual([1]);
    expect(retry.rows.map((r) => r.errors)).toEqual([1]);
    await store.close();
  });

  it('records query timings by kind', async () => {
    const store = await open(freshDb());
    await store.append([makeEvent()]);
    await store.stats({ workspace: 'ws-a' });
    await store.analysis.windowPercentiles({ workspace: 'ws-a', from: 0, to: T0 + 1e9 });
    expect(store.queryTimings().map((t) => t.kind)).toEqual(['stats', 'window_percentiles']);
    await store.close();
  });

  it('production code never loads chdb: importing the app leaves it out of the module cache', () => {
    const script = `
      await import('./src/app.ts');
      await import('./src/store/clickhouse-store.ts');
      const { createRequire } = await import('node:module');
      const cache = createRequire(import.meta.url).cache;
      process.stdout.write(String(Object.keys(cache).filter((k) => k.includes('/node_modules/chdb/')).length));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('0');
  });

  it('over HTTP: an unreachable server fails init and health with NETRA_E_STORE, without leaking the password', async () => {
    const store = createClickHouseStore({
      executor: createHttpExecutor({ url: 'http://netra:s3cret-pw@127.0.0.1:9/', requestTimeoutMs: 2000 }),
      database: 'netra',
    });
    const err = await store.init().then(
      () => null,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err).toMatchObject({ code: 'NETRA_E_STORE' });
    expect(err!.message).not.toContain('s3cret-pw');
    const h = await store.health();
    expect(h.ok).toBe(false);
    expect(JSON.stringify(h)).not.toContain('s3cret-pw');
    await store.close();
  });

  it('config: CLICKHOUSE_URL selects the ClickHouse store, and its password is masked in the effective config', () => {
    const c = configFromEnv({ CLICKHOUSE_URL: 'http://netra:pw-123@ch.internal:8123', CLICKHOUSE_TTL_DAYS: '90' });
    expect(c.store).toMatchObject({ engine: 'clickhouse', clickhouseDatabase: 'netra', clickhouseTtlDays: 90 });
    expect(JSON.stringify(describeConfig(c))).not.toContain('pw-123');
    expect(configFromEnv({ CLICKHOUSE_URL: 'http://ch:8123', NETRA_STORE: 'duckdb' }).store.engine).toBe('duckdb');
    expect(configFromEnv({}).store.engine).toBe('duckdb');
    expect(() => configFromEnv({ NETRA_STORE: 'clickhouse' })).toThrow(/CLICKHOUSE_URL/);
    expect(() => configFromEnv({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_DATABASE: 'x; DROP' })).toThrow(/clickhouseDatabase/);
  });

  it('the app opens the store the config picks: an unreachable ClickHouse fails start-up with NETRA_E_STORE', async () => {
    const started = startTestApp({ store: { engine: 'clickhouse', clickhouseUrl: 'http://netra:pw-456@127.0.0.1:9' } });
    const err = await started.then(
      async (t) => {
        await t.close();
        return null;
      },
      (e: unknown) => e as Error & { code: string },
    );
    expect(err).toMatchObject({ code: 'NETRA_E_STORE' });
    expect(err!.message).toMatch(/ClickHouse/);
    expect(err!.message).not.toContain('pw-456');
  });
});
