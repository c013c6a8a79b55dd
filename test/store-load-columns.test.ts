/**
 * DuckDB's live load from column copies (src/store/duckdb-load-columns.ts): batches that come with their rows by
 * column (appendEncoded, as the ingest workers send them) are loaded from those columns, and the spool file is read
 * only after a crash. The rows must be identical to the ones the spool file's own load stores, and a crash between the
 * spool's sync and DuckDB's load must replay every acknowledged row exactly once.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSpoolBatch } from '../src/store/duckdb-bulk-load.js';
import { createDuckDbStore, type DuckDbStore, type DuckDbStoreOptions } from '../src/store/duckdb-store.js';
import type { SpoolLoader } from '../src/store/duckdb-spool-loader.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { makeEvent, makeFullEvent, T0 } from './store.suite.js';

const dir = mkdtempSync(join(tmpdir(), 'netra-load-columns-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `d-${++n}.duckdb`);
/** Long commit delay: rows stay in the spool until a read or close commits them. */
const LAZY = { flushIntervalMs: 600_000, flushRows: 10_000_000 };

async function open(opts: DuckDbStoreOptions): Promise<DuckDbStore> {
  const store = createDuckDbStore(opts);
  await store.init();
  return store;
}
const loaderOf = (s: DuckDbStore) => (s as unknown as { loader: SpoolLoader }).loader;
const segments = (path: string) => readdirSync(`${path}.spool`).filter((f) => f.endsWith('.ndjson'));

/**
 * Events with every kind of value: nulls, non-ASCII and lone surrogates (in text and in dictionary-coded columns), empty
 * and odd tags, block chains, fractions of a ms.
 */
function edgeEvents(prefix: string): WorkloadEvent[] {
  const out: WorkloadEvent[] = [];
  for (let i = 0; i < 40; i++) {
    const base = { event_id: `${prefix}-${i}`, workspace: i % 3 === 0 ? 'w2' : 'w', timestamp: T0 + i * 0.3337 };
    if (i % 4 === 0) out.push(makeFullEvent({ ...base, stream: i % 8 === 0 ? true : null }));
    else if (i % 4 === 1) out.push(makeEvent({ ...base, tags: {}, prompt_text: '', response_text: null, http_status: 0 }));
    else if (i % 4 === 2)
      out.push(
        makeEvent({
          ...base,
          prompt_text: `a\ud800b ${i} é`,
          tags: { 'k\udc00': 'x\udc00', n: String(i) },
          temperature: 0,
          // the dictionary-coded text columns: a lone surrogate, non-ASCII, a quote, null and set
          app: i % 8 === 2 ? 'app\ud800' : "it's",
          model: `modèle-😀-${i % 3}`,
          error_type: i % 8 === 2 ? null : 'timeout',
        }),
      );
    else out.push(makeEvent({ ...base, end_user: '日本語 😀', prefix_block_hashes: [i, 2 ** 53 - 1], quality_score: 1e-9 }));
  }
  return out;
}

async function allRows(path: string): Promise<unknown[][]> {
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  const reader = await conn.runAndReadAll('SELECT * FROM events ORDER BY workspace, event_id');
  const rows = reader.getRowsJS();
  conn.closeSync();
  inst.closeSync();
  return rows;
}

describe('DuckDB store: live load from column copies', () => {
  it('stores the same rows, column for column, as the load of the spool file', async () => {
    const viaColumns = freshPath();
    const viaFile = freshPath();
    const viaAppend = freshPath();
    const a = await open({ path: viaColumns, ...LAZY });
    const b = await open({ path: viaFile, ...LAZY });
    const c = await open({ path: viaAppend, ...LAZY });
    for (const part of ['p', 'q']) {
      const batch = encodeSpoolBatch(edgeEvents(part));
      expect(batch.columns?.rows).toBe(40);
      expect(await a.appendEncoded!(batch)).toEqual({ inserted: 40, duplicates: 0 });
      expect(await b.appendEncoded!({ ...encodeSpoolBatch(edgeEvents(part)), columns: undefined })).toEqual({
        inserted: 40,
        duplicates: 0,
      });
      // append(): loaded from the spool file (no column copy is built on the event loop)
      expect(await c.append(edgeEvents(part))).toEqual({ inserted: 40, duplicates: 0 });
    }
    const late = () => makeEvent({ event_id: 'late', workspace: 'w', timestamp: T0 });
    expect(await c.append([...edgeEvents('p').slice(0, 3), late()])).toEqual({ inserted: 1, duplicates: 3 });
    // a retried batch: its repeats are settled exactly, the new row keeps the column load
    expect(await a.appendEncoded!(encodeSpoolBatch([...edgeEvents('p').slice(0, 3), late()]))).toEqual({ inserted: 1, duplicates: 3 });
    expect(await b.appendEncoded!({ ...encodeSpoolBatch([late()]), columns: undefined })).toEqual({ inserted: 1, duplicates: 0 });
    for (const s of [a, b, c]) await s.flush();
    expect(loaderOf(a).loaded).toEqual({ columns: 81, files: 0 });
    expect(loaderOf(b).loaded).toEqual({ columns: 0, files: 81 });
    expect(loaderOf(c).loaded).toEqual({ columns: 0, files: 81 });
    const got = await a.listEvents({ workspace: 'w' }, { limit: 1000 });
    expect(got).toEqual(await b.listEvents({ workspace: 'w' }, { limit: 1000 }));
    expect(got.find((e) => e.event_id === 'p-2')!.tags).toEqual({ 'k\ufffd': 'x\ufffd', n: '2' });
    expect(got.find((e) => e.event_id === 'p-2')!.prompt_text).toBe('a\ufffdb 2 é');
    expect(await c.listEvents({ workspace: 'w' }, { limit: 1000 })).toEqual(got);
    for (const s of [a, b, c]) await s.close();
    // every stored value, key hashes and JSON text included
    const rowsA = await allRows(viaColumns);
    expect(rowsA).toHaveLength(81);
    expect(rowsA).toEqual(await allRows(viaFile));
    expect(rowsA).toEqual(await allRows(viaAppend));
  });

  it('loads a segment with a write that came without columns from its file, every row exactly once', async () => {
    const path = freshPath();
    const store = await open({ path, ...LAZY });
    await store.appendEncoded!(encodeSpoolBatch(edgeEvents('c1')));
    await store.appendEncoded!({
      ...encodeSpoolBatch([makeEvent({ event_id: 'plain', workspace: 'w', timestamp: T0 })]),
      columns: undefined,
    });
    await store.appendEncoded!(encodeSpoolBatch(edgeEvents('c2')));
    expect((await store.stats({ workspace: 'w' })).events + (await store.stats({ workspace: 'w2' })).events).toBe(81);
    expect(loaderOf(store).loaded).toEqual({ columns: 0, files: 81 });
    // the next segment has columns only
    await store.appendEncoded!(encodeSpoolBatch(edgeEvents('c3')));
    await store.flush();
    expect(loaderOf(store).loaded).toEqual({ columns: 40, files: 81 });
    expect(segments(path)).toEqual([]);
    await store.close();
  });

  it('holds at most liveLoadMaxBytes of column copies: beyond it (here 0) the file is loaded', async () => {
    const path = freshPath();
    const store = await open({ path, ...LAZY, liveLoadMaxBytes: 0 });
    const loader = loaderOf(store);
    await store.appendEncoded!(encodeSpoolBatch(edgeEvents('m')));
    await store.flush();
    expect(loader.loaded).toEqual({ columns: 0, files: 40 });
    expect((loader as unknown as { liveBytes: number }).liveBytes).toBe(0);
    await store.close();
  });

  it('replays every acknowledged row exactly once after a crash between the spool sync and the load', async () => {
    const path = freshPath();
    const saved = join(dir, `saved-${n}`);
    const store = await open({ path, ...LAZY });
    await store.appendEncoded!(encodeSpoolBatch(edgeEvents('k1')));
    await store.appendEncoded!(encodeSpoolBatch(edgeEvents('k2')));
    // acknowledged: on disk in the spool, not in DuckDB yet
    cpSync(`${path}.spool`, saved, { recursive: true });
    await store.close();
    expect(loaderOf(store) ?? null).toBe(null);
    const expected = await allRows(path);
    expect(expected).toHaveLength(80);

    // crash before the load: a database without the rows, the spool as it was
    const before = freshPath();
    cpSync(saved, `${before}.spool`, { recursive: true });
    const a = await open({ path: before, ...LAZY });
    expect(a.lastReplay).toEqual({ segments: 1, rows: 80 });
    await a.close();
    expect(await allRows(before)).toEqual(expected);

    // crash after the load's commit, before the segment's removal: nothing is stored twice
    rmSync(`${path}.spool`, { recursive: true });
    cpSync(saved, `${path}.spool`, { recursive: true });
    const b = await open({ path, ...LAZY });
    expect(b.lastReplay).toEqual({ segments: 1, rows: 0 });
    expect(await b.appendEncoded!(encodeSpoolBatch(edgeEvents('k1')))).toEqual({ inserted: 0, duplicates: 40 });
    await b.close();
    expect(await allRows(path)).toEqual(expected);
  });
});
