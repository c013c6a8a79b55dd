/**
 * The DuckDB performance buckets run one query per slice of about SLICE_EVENTS events (src/store/analysis/performance/
 * buckets.ts), so the quantile_cont and median states, which hold every value outside DuckDB's memory limit, hold one
 * slice at a time. The rows must not change: every bucket's counts, sums and seven percentiles equal, as doubles
 * (Object.is), those of one query over the whole scope, in the same order, including buckets with NULL latencies or
 * TTFTs, ties, a single event, TTFT at or above the latency (no tokens per second), and slice edges inside the scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAll } from '../src/corpus/generator.js';
import { PCT_FIELDS, type BucketRow } from '../src/optimize/performance.js';
import type { AnalysisEngine } from '../src/store/analysis/engine.js';
import { bucketSlices, performanceBuckets } from '../src/store/analysis/performance/buckets.js';
import type { DuckDbStore } from '../src/store/duckdb-store.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { generatedStore, readEngine } from './helpers/generated-store.js';
import { priceCatalog } from './helpers/usage-analysis-context.js';

const END = Date.UTC(2026, 10, 16);
const HOUR = 3_600_000;

let store: DuckDbStore;
const read = <T>(fn: (e: AnalysisEngine) => Promise<T>): Promise<T> => readEngine(store, fn);

beforeAll(async () => {
  store = await generatedStore({ events: 3000, seed: 11, end: END, workspace: 'ws' });
  // edge buckets of their own (app 'edge'): ties and whole ms, NULL latency, NULL TTFT, TTFT >= latency, one event
  const base = generateAll({ preset: 'chat-support', events: 1, days: 1, seed: 3, end: END, pricer: priceCatalog(), workspace: 'ws' })
    .events[0]!;
  const ev = (i: number, hour: number, latency: number | null, ttft: number | null, completion = 50): WorkloadEvent =>
    ({
      ...base,
      event_id: `edge-${i}`,
      app: 'edge',
      timestamp: END - (hour + 1) * HOUR + i,
      latency_ms: latency,
      ttft_ms: ttft,
      completion_tokens: completion,
    }) as WorkloadEvent;
  const edge: WorkloadEvent[] = [];
  for (let i = 0; i < 40; i++) edge.push(ev(i, 0, [100, 200, 200, 350][i % 4]!, i % 5 === 0 ? null : 40, i % 7 === 0 ? 0 : 50));
  for (let i = 40; i < 46; i++) edge.push(ev(i, 1, i % 2 ? null : 120.5, i % 3 ? 130 : 20.25));
  edge.push(ev(46, 2, 77.125, 12));
  edge.push(ev(47, 3, null, null));
  await store.append(edge);
}, 120_000);
afterAll(async () => {
  await store.close();
});

describe('performance buckets in slices', () => {
  it('cuts the buckets into aligned slices of about the given events, one slice when they fit', () => {
    expect(bucketSlices(10, 5 * HOUR + 7, 9 * HOUR, HOUR, 100)).toEqual([[5 * HOUR, 10 * HOUR]]);
    const s = bucketSlices(1000, 5 * HOUR + 7, 14 * HOUR + 1, HOUR, 300);
    expect(s).toEqual([
      [5 * HOUR, 8 * HOUR],
      [8 * HOUR, 11 * HOUR],
      [11 * HOUR, 14 * HOUR],
      [14 * HOUR, 15 * HOUR],
    ]);
    // never more slices than buckets
    expect(bucketSlices(1e6, 0, HOUR - 1, HOUR, 10)).toEqual([[0, HOUR]]);
  });

  it('gives the same rows, in the same order, as one query over the scope (percentiles bit for bit)', async () => {
    // the scope starts and ends inside buckets, as a user's range does
    const scope = { workspace: 'ws', from: END - 2 * 86_400_000 - 1_234_567, to: END - 777 };
    const [whole, sliced] = await read(async (e) => [
      await performanceBuckets(e, scope, HOUR, Infinity),
      await performanceBuckets(e, scope, HOUR, 500),
    ]);
    expect(whole.rows.length).toBeGreaterThan(100);
    expect(sliced.rows.map(key)).toEqual(whole.rows.map(key));
    for (let i = 0; i < whole.rows.length; i++) {
      const [w, g] = [whole.rows[i]!, sliced.rows[i]!];
      expect([g.events, g.errors, g.prompt_tokens, g.completion_tokens]).toEqual([
        w.events,
        w.errors,
        w.prompt_tokens,
        w.completion_tokens,
      ]);
      expect(g.spend_usd).toBeCloseTo(w.spend_usd, 9);
      for (const k of PCT_FIELDS) expect(Object.is(g[k], w[k]), `${key(w)} ${k}: ${g[k]} vs ${w[k]}`).toBe(true);
    }
    // the edge buckets are there: one with no latency at all, ones without tokens per second
    expect(whole.rows.some((r) => r.app === 'edge' && r.latency_p50_ms == null)).toBe(true);
    expect(whole.rows.some((r) => r.tokens_per_s_p50 == null)).toBe(true);
    expect(sliced.query).toBe(whole.query);
  });
});

const key = (r: BucketRow) => `${r.bucket_start} ${r.model} ${r.app}`;
