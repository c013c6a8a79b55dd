/**
 * Durable acknowledgement of the file-backed DuckDB store: append() resolves once the rows are in the write-ahead
 * spool (synced), a read right after sees them, concurrent appends share syncs, and segments left by a crash are
 * replayed at the next start exactly once (rows DuckDB had already committed are not stored twice, a torn last line,
 * never acknowledged, is dropped). The kill -9 test of the real server is test/chaos-kill.test.ts.
 */
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDuckDbStore, type DuckDbStore, type DuckDbStoreOptions } from '../src/store/duckdb-store.js';
import { keyHash } from '../src/store/duckdb-key-index.js';
import { encodeSpoolBatch, spoolLine } from '../src/store/duckdb-bulk-load.js';
import type { BreakdownQuery } from '../src/optimize/ports/breakdown.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { makeEvent, makeFullEvent, T0 } from './store.suite.js';

const dir = mkdtempSync(join(tmpdir(), 'netra-durable-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `d-${++n}.duckdb`);

async function open(opts: DuckDbStoreOptions): Promise<DuckDbStore> {
  const store = createDuckDbStore(opts);
  await store.init();
  return store;
}

const batch = (prefix: string, count: number, workspace = 'w'): WorkloadEvent[] =>
  Array.from({ length: count }, (_, i) => makeEvent({ event_id: `${prefix}-${i}`, workspace, timestamp: T0 + i, prompt_tokens: 10 + i }));

const segments = (path: string): string[] =>
  readdirSync(`${path}.spool`)
    .filter((f) => f.endsWith('.ndjson'))
    .sort();

/** Long commit delay: appended rows stay in the spool until a read or close commits them. */
const LAZY = { flushIntervalMs: 600_000, flushRows: 10_000_000 };

describe('DuckDB store: durable acknowledgement through the spool', () => {
  it('acknowledges rows once they are in a synced spool segment, and a read right after sees them', async () => {
    const path = freshPath();
    const store = await open({ path, ...LAZY });
    expect(await store.append(batch('a', 50))).toEqual({ inserted: 50, duplicates: 0 });
    // acknowledged, not yet loaded into DuckDB: the rows are in the spool, on disk
    const segs = segments(path);
    expect(segs).toHaveLength(1);
    expect(statSync(join(`${path}.spool`, segs[0]!)).size).toBeGreaterThan(50 * 100);
    expect((await store.stats({ workspace: 'w' })).events).toBe(50);
    // the read committed the segment and removed it
    expect(segments(path)).toEqual([]);
    await store.close();
  });

  it.each([
    ['file store (spool)', () => freshPath()],
    ['in-memory store (appender)', () => ':memory:'],
  ])(
    '%s: an analysis snapshot reads what was acknowledged before it, not rows accepted during it; later reads see both',
    async (_, path) => {
      const store = await open({ path: path(), ...LAZY });
      await store.append(batch('before', 30));
      const scope = { workspace: 'w', from: T0, to: T0 + 1000 };
      const total: BreakdownQuery = { dimension: null, granularity: null, filters: [], rank_by: 'spend', top: null };
      const seen = await store.analysisSnapshot(async (q) => {
        const first = (await q.breakdown(scope, total)).total.events;
        await store.append(batch('during', 20));
        await store.flush();
        // a read outside the snapshot sees the new rows at once
        expect((await store.analysis.breakdown(scope, total)).total.events).toBe(50);
        return [first, (await q.breakdown(scope, total)).total.events];
      });
      expect(seen).toEqual([30, 30]);
      expect((await store.analysis.breakdown(scope, total)).total.events).toBe(50);
      await store.close();
    },
  );

  it('joins concurrent appends into shared syncs', async () => {
    const path = freshPath();
    const store = await open({ path, ...LAZY });
    const loader = (store as unknown as { loader: { spool: { syncs: number } } }).loader;
    const before = loader.spool.syncs;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.append(batch(`c${i}`, 25))));
    expect(results.every((r) => r.inserted === 25)).toBe(true);
    expect(loader.spool.syncs - before).toBeLessThan(40);
    expect((await store.stats({ workspace: 'w' })).events).toBe(1000);
    await store.close();
  });

  it('replays segments a crash left: committed rows are not stored twice, new rows are, a torn tail is dropped', async () => {
    const path = freshPath();
    const spoolDir = `${path}.spool`;
    const saved = join(dir, `saved-${n}`);
    const store = await open({ path, ...LAZY });
    await store.append(batch('r', 100));
    await store.append([makeFullEvent({ event_id: 'full-1', workspace: 'w', timestamp: T0 + 0.25 })]);
    // the spool as a crash right after DuckDB's commit (and before the segment's removal) would leave it
    cpSync(spoolDir, saved, { recursive: true });
    await store.close();
    expect(segments(path)).toEqual([]);
    rmSync(spoolDir, { recursive: true });
    cpSync(saved, spoolDir, { recursive: true });
    // plus a later segment: 30 new rows, 10 repeats of committed ones, and a half-written line (never acknowledged)
    const later = [...batch('new', 30), ...batch('r', 10)];
    const laterLine = spoolLine(
      later,
      Float64Array.from(later, (e) => keyHash(e.workspace, e.event_id)),
    );
    const torn = spoolLine(batch('torn', 5), new Float64Array(5).fill(1));
    writeFileSync(join(spoolDir, '000099.ndjson'), laterLine);
    appendFileSync(join(spoolDir, '000099.ndjson'), torn.slice(0, torn.length >> 1));

    const reopened = await open({ path, ...LAZY });
    expect(reopened.lastReplay).toEqual({ segments: 2, rows: 30 });
    expect(segments(path)).toEqual([]);
    const stats = await reopened.stats({ workspace: 'w' });
    expect(stats.events).toBe(131);
    const ids = (await reopened.listEvents({ workspace: 'w' }, { limit: 1000 })).map((e) => e.event_id);
    expect(new Set(ids).size).toBe(131);
    expect(ids.some((id) => id.startsWith('torn'))).toBe(false);
    // the full event came back field for field through the spool format
    const full = (await reopened.listEvents({ workspace: 'w', from: T0 + 0.2, to: T0 + 0.3 }))[0]!;
    expect(full).toEqual(makeFullEvent({ event_id: 'full-1', workspace: 'w', timestamp: T0 + 0.25 }));
    // de-duplication holds after the replay: re-sent events are refused
    expect(await reopened.append(batch('new', 30))).toEqual({ inserted: 0, duplicates: 30 });
    await reopened.close();
  });

  it('replays a segment an earlier version wrote (one object per event) alongside by-column ones', async () => {
    const path = freshPath();
    const store = await open({ path, ...LAZY });
    await store.append(batch('kept', 5));
    await store.close();
    // the earlier format, as a crash of the previous version left it: {"h":[...],"t":[...],"e":[events]}
    const old = [...batch('old', 20), makeFullEvent({ event_id: 'old-full', workspace: 'w', timestamp: T0 + 0.75 })];
    const oldLine = `{"h":${JSON.stringify(old.map((e) => keyHash(e.workspace, e.event_id)))},"t":${JSON.stringify(old.map((e) => Math.round(e.timestamp * 1000)))},"e":${JSON.stringify(old)}}\n`;
    writeFileSync(join(`${path}.spool`, '000001.ndjson'), oldLine);
    const later = [...batch('new', 7), ...batch('old', 3)];
    writeFileSync(
      join(`${path}.spool`, '000002.ndjson'),
      spoolLine(
        later,
        Float64Array.from(later, (e) => keyHash(e.workspace, e.event_id)),
      ),
    );
    const reopened = await open({ path, ...LAZY });
    expect(reopened.lastReplay).toEqual({ segments: 2, rows: 28 });
    expect((await reopened.stats({ workspace: 'w' })).events).toBe(33);
    const full = (await reopened.listEvents({ workspace: 'w', from: T0 + 0.7, to: T0 + 0.8 }))[0]!;
    expect(full).toEqual(makeFullEvent({ event_id: 'old-full', workspace: 'w', timestamp: T0 + 0.75 }));
    await reopened.close();
  });

  it('takes encoded batches (appendEncoded) with the same de-duplication as append()', async () => {
    const path = freshPath();
    const store = await open({ path, ...LAZY });
    const first = [...batch('enc', 10), makeFullEvent({ event_id: 'enc-full', workspace: 'w', timestamp: T0 + 0.5 })];
    expect(await store.appendEncoded!(encodeSpoolBatch(first))).toEqual({ inserted: 11, duplicates: 0 });
    // repeats of stored rows and within the batch are settled exactly
    const again = [...batch('enc', 4), ...batch('more', 3), ...batch('more', 2)];
    expect(await store.appendEncoded!(encodeSpoolBatch(again))).toEqual({ inserted: 3, duplicates: 6 });
    expect((await store.stats({ workspace: 'w' })).events).toBe(14);
    const full = (await store.listEvents({ workspace: 'w', from: T0 + 0.4, to: T0 + 0.6 }))[0]!;
    expect(full).toEqual(makeFullEvent({ event_id: 'enc-full', workspace: 'w', timestamp: T0 + 0.5 }));
    await store.close();
  });

  it('replays every row of a crash before DuckDB committed anything', async () => {
    const path = freshPath();
    const saved = join(dir, `saved-${n}`);
    const store = await open({ path, ...LAZY });
    await store.append(batch('x', 40));
    await store.append(batch('y', 40, 'other'));
    cpSync(`${path}.spool`, saved, { recursive: true });
    await store.close();
    // the database as it was before any commit: a fresh file, the spool as it was
    rmSync(path);
    rmSync(`${path}.spool`, { recursive: true });
    cpSync(saved, `${path}.spool`, { recursive: true });
    const reopened = await open({ path, ...LAZY });
    expect(reopened.lastReplay.rows).toBe(80);
    expect((await reopened.stats({ workspace: 'w' })).events).toBe(40);
    expect((await reopened.stats({ workspace: 'other' })).events).toBe(40);
    await reopened.close();
  });

  it('stores text with a lone surrogate (repaired to U+FFFD) without breaking the segment it shares', async () => {
    const path = freshPath();
    const store = await open({ path, ...LAZY });
    const bad = makeEvent({ event_id: 'bad', workspace: 'w', prompt_text: 'a\ud800b', tags: { k: 'x\udc00' } });
    await store.append([...batch('ok', 5), bad]);
    await store.append(batch('after', 5));
    const events = await store.listEvents({ workspace: 'w' }, { limit: 100 });
    expect(events).toHaveLength(11);
    const got = events.find((e) => e.event_id === 'bad')!;
    expect(got.prompt_text).toBe('a\ufffdb');
    expect(got.tags).toEqual({ k: 'x\ufffd' });
    await store.close();
  });

  it("durability 'write' spools without a sync and still commits", async () => {
    const path = freshPath();
    const store = await open({ path, durability: 'write' });
    expect(await store.append(batch('w', 20))).toEqual({ inserted: 20, duplicates: 0 });
    expect((await store.stats({ workspace: 'w' })).events).toBe(20);
    await store.close();
  });

  it('creates the spool directory private to the user', async () => {
    const path = freshPath();
    const store = await open({ path });
    expect(statSync(`${path}.spool`).mode & 0o777).toBe(0o700);
    await store.close();
  });
});
