/**
 * The DuckDB prompt-caching query partitions its window by a 64-bit hash of (model, prefix_hash) and falls back to
 * the two strings when two keys in scope share a hash (src/store/analysis/cache/prefix-cache.ts). A real collision
 * cannot be planted, so this checks what the fallback rests on: both partitionings give the same groups over a
 * generated workload (every preset's prefix traffic), the hashed run reports no collision, and the warm/cold split
 * at the edges of the window (a gap of exactly the window is warm, one µs more is not, errors do not warm, the
 * first call of a key is cold) is the same in both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAll } from '../src/corpus/generator.js';
import { PREFIX_CACHE_SQL, prefixCacheGroups } from '../src/store/analysis/cache/prefix-cache.js';
import { sqlFor, type AnalysisEngine } from '../src/store/analysis/engine.js';
import type { DuckDbStore } from '../src/store/duckdb-store.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { generatedStore, readEngine } from './helpers/generated-store.js';
import { priceCatalog } from './helpers/usage-analysis-context.js';

const END = Date.UTC(2026, 10, 16);
const WINDOW_S = 300;
const OPTS = { window_seconds: WINDOW_S, min_token_thresholds: [1024, 64] };

let store: DuckDbStore;
const read = <T>(fn: (e: AnalysisEngine) => Promise<T>): Promise<T> => readEngine(store, fn);

beforeAll(async () => {
  store = await generatedStore({ events: 4000, seed: 7, end: END, workspace: 'gen' });
  // one key at the window's edges: t0 ok (cold: first), +300 s exactly (warm), an error 1 s later (warm, but no ok),
  // then 300 s + 1 µs after the last ok... in ms resolution: +300.001 s after the second ok (cold)
  const base = END - 3_600_000;
  const ev = (id: string, t: number, status: 'ok' | 'error'): WorkloadEvent =>
    ({
      ...generateAll({ preset: 'chat-support', events: 1, days: 1, seed: 1, end: END, pricer: priceCatalog(), workspace: 'edge' })
        .events[0]!,
      event_id: id,
      timestamp: t,
      workspace: 'edge',
      model: 'gpt-4o',
      status,
      prefix_hash: 'edgeprefix000001',
      prefix_tokens: 2048,
      cached_prompt_tokens: 0,
      prefix_block_hashes: null,
      prefix_block_size: null,
    }) as WorkloadEvent;
  await store.append([
    ev('e1', base, 'ok'),
    ev('e2', base + WINDOW_S * 1000, 'ok'),
    ev('e3', base + WINDOW_S * 1000 + 1000, 'error'),
    ev('e4', base + 2 * WINDOW_S * 1000 + 1, 'ok'),
  ]);
}, 120_000);
afterAll(async () => {
  await store.close();
});

async function bothWays(workspace: string) {
  const scope = { workspace, from: END - 3 * 86_400_000, to: END + 1 };
  return read(async (e) => {
    const hashed = await prefixCacheGroups(e, scope, OPTS);
    const { where, params } = e.scope(scope);
    const p = { ...params, win: BigInt(WINDOW_S * 1_000_000), min0: 1024, min1: 64 };
    const raw = await e.query(sqlFor(e, PREFIX_CACHE_SQL, where, { thresholds: 2 }), p);
    const exact = await e.query(sqlFor(e, PREFIX_CACHE_SQL, where, { thresholds: 2, exactKeys: true }), p);
    return { hashed, raw, exact };
  });
}

describe('prompt caching: hashed window keys', () => {
  it('give the same groups as the string keys over every preset, and report no collision', async () => {
    const { hashed, raw, exact } = await bothWays('gen');
    expect(hashed.groups.length).toBeGreaterThan(5);
    expect(raw.every((r) => r.keys_collide === false)).toBe(true);
    // money sums are compensated, but DuckDB's threads add them in any order: the last bits vary between two runs
    const digits = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v);
    const strip = (rows: Record<string, unknown>[]) =>
      rows.map(({ sample_ids: _s, keys_collide: _k, ...r }) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, digits(v)])));
    expect(strip(exact)).toEqual(strip(raw));
    expect(hashed.groups.reduce((s, g) => s + g.warm, 0)).toBeGreaterThan(0);
  });

  it('count the edges of the window the same way: a gap of exactly the window is warm, errors do not warm', async () => {
    const { hashed, exact } = await bothWays('edge');
    expect(hashed.groups).toHaveLength(1);
    const g = hashed.groups[0]!;
    // e1 cold (first), e2 warm (gap = 300 s), e3 warm (1 s after e2), e4 cold (300.001 s after e2, the error is no ok)
    expect({ events: g.events, warm: g.warm, hits: g.hits, writes: g.writes }).toEqual({ events: 4, warm: 2, hits: 2, writes: 2 });
    expect(Number(exact[0]!.warm_events)).toBe(2);
  });
});
