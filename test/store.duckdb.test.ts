/**
 * The DuckDB analytics store: the shared AnalyticsStore suite (in memory, in a file, and in commit-per-append mode),
 * plus DuckDB-specific checks: schema version table, migrations refusing a newer database, validation before
 * writing, the key-hash index, and exact sums over 200,000 events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { createDuckDbStore, type DuckDbStoreOptions } from '../src/store/duckdb-store.js';
import { KeyHashSet, keyHash } from '../src/store/duckdb-key-index.js';
import { encodeSpoolBatch } from '../src/store/duckdb-bulk-load.js';
import { EVENT_TABLE_COLUMNS, SCHEMA_VERSION } from '../src/store/duckdb-schema.js';
import { makeEvent, runStoreSuite, T0 } from './store.suite.js';
import { configFromEnv, sizeBytes } from '../src/config.js';
import { openAnalyticsStore } from '../src/bootstrap.js';

const dir = mkdtempSync(join(tmpdir(), 'netra-store-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshPath = () => join(dir, `store-${++n}.duckdb`);

async function open(opts: DuckDbStoreOptions) {
  const store = createDuckDbStore(opts);
  await store.init();
  return store;
}

runStoreSuite('duckdb :memory:', () => open({ path: ':memory:' }));
runStoreSuite('duckdb file', () => open({ path: freshPath() }), {
  openPersistent: (key) => open({ path: join(dir, 'persistent', `${key}.duckdb`) }),
});
runStoreSuite('duckdb file, commit in every append', () => open({ path: freshPath(), flushIntervalMs: 0 }));

async function rawQuery(path: string, sql: string) {
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowsJS();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('DuckDB store specifics', () => {
  it('takes its memory limit and threads from the config, and refuses a limit that is not a size or under 128 MiB', async () => {
    const config = configFromEnv({ NETRA_DUCKDB_PATH: freshPath(), NETRA_DUCKDB_MEMORY_LIMIT: '1.5GB', NETRA_DUCKDB_THREADS: '1' });
    const store = openAnalyticsStore(config);
    await store.init();
    // bench-style reach into the store's read queue: the settings are DuckDB's own, not something the store reports
    const read = (store as unknown as { read: <T>(fn: (c: DuckDBConnection) => Promise<T>) => Promise<T> }).read.bind(store);
    const [limit, threads] = await read(
      async (c) => (await c.runAndReadAll("SELECT current_setting('memory_limit'), current_setting('threads')")).getRowsJS()[0]!,
    );
    expect(limit).toBe('1.3 GiB'); // 1.5 GB in DuckDB's binary units
    const events = Array.from({ length: 2_000 }, (_, i) => makeEvent({ event_id: `m-${i}`, workspace: 'ws-m' }));
    expect((await store.append(events)).inserted).toBe(2_000);
    expect((await store.stats({ workspace: 'ws-m' })).events).toBe(2_000);
    expect(Number(threads)).toBe(1);
    await store.close();
    expect(() => configFromEnv({ NETRA_DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(/store\.duckdbMemoryLimit: must be a size/);
    const tiny = configFromEnv({ NETRA_DUCKDB_PATH: freshPath(), NETRA_DUCKDB_MEMORY_LIMIT: '100MB' });
    expect(() => openAnalyticsStore(tiny)).toThrow(/NETRA_DUCKDB_MEMORY_LIMIT=100MB is too small: at least 128MiB/);
    expect(sizeBytes('2GiB')).toBe(2 ** 31);
    expect(sizeBytes('1.5 GB')).toBe(1.5e9);
  });

  it("loads spooled events from their files under a limit below the JSON reader's need, and sets the limit back", async () => {
    // 2 threads need 1280 MiB to load from the spool's files (two 256 MiB line buffers a thread); without the raise
    // for the load, DuckDB's out-of-memory error (seen at 1GB with 2 threads)
    const config = configFromEnv({
      NETRA_DUCKDB_PATH: freshPath(),
      NETRA_DUCKDB_MEMORY_LIMIT: '300MB',
      NETRA_DUCKDB_THREADS: '2',
      NETRA_DUCKDB_LIVE_LOAD_MAX_BYTES: '0', // no column copies: every load reads the spool's files
    });
    const store = openAnalyticsStore(config);
    await store.init();
    const events = Array.from({ length: 3_000 }, (_, i) => makeEvent({ event_id: `low-${i}`, workspace: 'ws-low' }));
    expect((await store.append(events)).inserted).toBe(3_000);
    expect((await store.stats({ workspace: 'ws-low' })).events).toBe(3_000);
    const read = (store as unknown as { read: <T>(fn: (c: DuckDBConnection) => Promise<T>) => Promise<T> }).read.bind(store);
    const limit = await read(async (c) => (await c.runAndReadAll("SELECT current_setting('memory_limit')")).getRowsJS()[0]![0]);
    expect(limit).toBe('286.1 MiB'); // 300 MB in DuckDB's binary units: back after the load
    await store.close();
  });

  it("reports what DuckDB's buffer manager holds, per tag", async () => {
    const store = await open({ path: freshPath(), duckdb: { memory_limit: '200MB' } });
    await store.append(Array.from({ length: 5_000 }, (_, i) => makeEvent({ event_id: `tm-${i}`, workspace: 'ws-tm' })));
    await store.stats({ workspace: 'ws-tm' });
    const tags = await store.trackedMemory();
    expect(tags.map((t) => t.tag)).toContain('BASE_TABLE');
    for (const t of tags) {
      expect(Number.isFinite(t.memory_bytes) && t.memory_bytes >= 0).toBe(true);
      expect(Number.isFinite(t.temporary_bytes) && t.temporary_bytes >= 0).toBe(true);
    }
    expect(tags.reduce((a, t) => a + t.memory_bytes, 0)).toBeLessThanOrEqual(200e6);
    await store.close();
  });

  it('migrates a version-1 file: token_source added in its column place, stored events kept as reported', async () => {
    const path = freshPath();
    const v1 = EVENT_TABLE_COLUMNS.filter((c) => c.name !== 'token_source');
    await rawQuery(
      path,
      `CREATE TABLE netra_schema (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp);
      INSERT INTO netra_schema (version) VALUES (1);
      CREATE TABLE events (${v1.map((c) => `"${c.name}" ${c.sqlType}`).join(', ')});
      INSERT INTO events ("event_id", "timestamp", "workspace", "app", "environment", "provider", "model", "operation", "prompt_tokens", "completion_tokens", "cached_prompt_tokens", "status", "cost_usd", "cost_source", "key_hash")
        VALUES ('old-1', TIMESTAMP '2026-11-01 00:00:00', 'ws-a', 'a', 'production', 'openai', 'gpt-4o', 'chat', 10, 5, 0, 'ok', 0.5, 'catalog', ${keyHash('ws-a', 'old-1')})`,
    );
    const s = await open({ path });
    await s.init();
    await s.append([makeEvent({ event_id: 'new-1', workspace: 'ws-a', token_source: 'estimated' })]);
    const got = await s.listEvents({ workspace: 'ws-a' }, { limit: 10 });
    expect(Object.fromEntries(got.map((e) => [e.event_id, e.token_source]))).toEqual({ 'old-1': 'reported', 'new-1': 'estimated' });
    await s.close();
    const cols = await rawQuery(
      path,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position",
    );
    expect(cols.map((r) => r[0])).toEqual(EVENT_TABLE_COLUMNS.map((c) => c.name));
  });

  it('records the schema version once, and reopening does not migrate again', async () => {
    const path = freshPath();
    const s1 = await open({ path });
    await s1.init();
    await s1.close();
    const s2 = await open({ path });
    await s2.close();
    const rows = await rawQuery(path, 'SELECT version FROM netra_schema ORDER BY version');
    expect(rows.map((r) => Number(r[0]))).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    const cols = await rawQuery(
      path,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position",
    );
    expect(Object.fromEntries(cols.map((r) => [r[0], r[1]]))).toMatchObject({
      timestamp: 'TIMESTAMP',
      prompt_tokens: 'UINTEGER',
      cost_usd: 'DOUBLE',
      stream: 'BOOLEAN',
      tags: 'JSON',
      end_user: 'VARCHAR',
      key_hash: 'DOUBLE',
    });
  });

  it('refuses a database with a newer schema version', async () => {
    const path = freshPath();
    await (await open({ path })).close();
    const db = await DuckDBInstance.create(path);
    const conn = await db.connect();
    await conn.run(`INSERT INTO netra_schema (version) VALUES (${SCHEMA_VERSION + 1})`);
    conn.closeSync();
    db.closeSync();
    const store = createDuckDbStore({ path });
    await expect(store.init()).rejects.toMatchObject({ code: 'NETRA_E_STORE' });
    await store.close();
  });

  it('refuses a malformed event before writing anything from the batch', async () => {
    const store = await open({ path: ':memory:' });
    const bad = { ...makeEvent(), model: undefined } as unknown as ReturnType<typeof makeEvent>;
    await expect(store.append([makeEvent({ event_id: 'ok-1' }), bad])).rejects.toMatchObject({
      code: 'NETRA_E_VALIDATION',
      field: 'model',
    });
    await expect(store.append([makeEvent({ prompt_tokens: -1 })])).rejects.toMatchObject({ field: 'prompt_tokens' });
    expect((await store.stats({ workspace: 'ws-a' })).events).toBe(0);
    // the refused rows left no trace in the de-duplication index
    expect(await store.append([makeEvent({ event_id: 'ok-1' })])).toEqual({ inserted: 1, duplicates: 0 });
    await store.close();
  });

  it('keeps sub-millisecond timestamps', async () => {
    const store = await open({ path: ':memory:' });
    const e = makeEvent({ timestamp: T0 + 0.25 });
    await store.append([e]);
    expect((await store.listEvents({ workspace: 'ws-a' }))[0]!.timestamp).toBe(T0 + 0.25);
    await store.close();
  });

  it('commits buffered appends on close', async () => {
    const path = freshPath();
    const store = await open({ path, flushIntervalMs: 60_000, flushRows: 1_000_000 });
    await store.append(Array.from({ length: 300 }, (_, i) => makeEvent({ event_id: `buf-${i}` })));
    await store.close();
    expect(Number((await rawQuery(path, 'SELECT count(*) FROM events'))[0]![0])).toBe(300);
  });

  it('builds its de-duplication index at the first append, not at open, and de-duplicates against what was stored', async () => {
    const path = freshPath();
    const first = await open({ path });
    const old = Array.from({ length: 2_000 }, (_, i) =>
      makeEvent({ event_id: `lz-${i}`, workspace: 'ws-lz', app: i < 100 ? 'gone' : 'kept' }),
    );
    expect((await first.append(old)).inserted).toBe(2_000);
    await first.close();

    const store = await open({ path });
    const loaded = () => (store as unknown as { keysLoaded: boolean }).keysLoaded;
    // a process that only reads never holds the index
    expect((await store.stats({ workspace: 'ws-lz' })).events).toBe(2_000);
    expect(loaded()).toBe(false);
    // a delete before the index exists: the re-sent events are new again once it is read from the table
    expect(await store.deleteEvents('ws-lz', { app: 'gone' })).toBe(100);
    expect(loaded()).toBe(false);
    // two first appends at once (spooled and encoded), both repeating stored keys and one new key between them
    const fresh = makeEvent({ event_id: 'lz-new', workspace: 'ws-lz' });
    const [a, b] = await Promise.all([
      store.append([...old.slice(0, 150), ...old.slice(1_000, 1_050), fresh]),
      store.appendEncoded!(encodeSpoolBatch([...old.slice(1_900), fresh])),
    ]);
    expect(loaded()).toBe(true);
    expect(a.inserted + b.inserted).toBe(101); // the 100 deleted ones and lz-new, once
    expect(a.duplicates + b.duplicates).toBe(201 + 101 - 101);
    expect((await store.append(old.slice(0, 10))).duplicates).toBe(10);
    expect((await store.stats({ workspace: 'ws-lz' })).events).toBe(2_001);
    await store.close();
    expect(Number((await rawQuery(path, "SELECT count(*) FROM events WHERE workspace = 'ws-lz'"))[0]![0])).toBe(2_001);
  });

  it('hashes keys without ambiguity and keeps every key in the hash set as it grows', () => {
    expect(keyHash('ab', 'c')).not.toBe(keyHash('a', 'bc'));
    expect(keyHash('ws', 'e1')).toBe(keyHash('ws', 'e1'));
    const set = new KeyHashSet(10);
    const hashes = Array.from({ length: 200_000 }, (_, i) => keyHash('ws', `e${i}`));
    expect(hashes.filter((h) => !set.add(h))).toEqual([]);
    expect(set.size).toBe(200_000);
    expect(hashes.every((h) => set.has(h))).toBe(true);
    expect(set.add(hashes[123]!)).toBe(false);
    expect(set.has(keyHash('ws', 'not-there'))).toBe(false);
  });

  it('appends 200,000 events and returns exact sums', async () => {
    const store = await open({ path: freshPath() });
    const total = 200_000;
    let expectPrompt = 0;
    let expectCompletion = 0;
    let expectSpend = 0;
    let expectErrors = 0;
    let inserted = 0;
    for (let start = 0; start < total; start += 10_000) {
      const batch = [];
      for (let i = start; i < start + 10_000; i++) {
        const e = makeEvent({
          event_id: `bulk-${i}`,
          timestamp: T0 + i,
          model: `m${i % 7}`,
          prompt_tokens: (i * 7919) % 5000,
          completion_tokens: i % 911,
          cost_usd: (i % 64) / 1024,
          status: i % 17 === 0 ? 'error' : 'ok',
          latency_ms: i % 3 === 0 ? null : i % 1000,
          prompt_text: i % 3 === 0 ? `prompt ${i} `.repeat(20) : null,
        });
        expectPrompt += e.prompt_tokens;
        expectCompletion += e.completion_tokens;
        expectSpend += e.cost_usd;
        if (e.status === 'error') expectErrors++;
        batch.push(e);
      }
      inserted += (await store.append(batch)).inserted;
    }
    expect(inserted).toBe(total);
    const s = await store.stats({ workspace: 'ws-a' });
    expect(s.events).toBe(total);
    expect(s.prompt_tokens).toBe(expectPrompt);
    expect(s.completion_tokens).toBe(expectCompletion);
    expect(s.spend_usd).toBe(expectSpend);
    expect(s.errors).toBe(expectErrors);
    expect(s.by_model).toHaveLength(7);
    expect(s.by_model.reduce((a, m) => a + m.events, 0)).toBe(total);
    expect(s.by_model.reduce((a, m) => a + m.prompt_tokens, 0)).toBe(expectPrompt);
    expect(s.first_event).toBe(T0);
    expect(s.last_event).toBe(T0 + total - 1);
    expect(await store.append([makeEvent({ event_id: 'bulk-199999' })])).toEqual({ inserted: 0, duplicates: 1 });
    await store.close();
  });
});
