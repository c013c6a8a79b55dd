/**
 * Bounded analysis work over large windows:
 * - the replay's semantic-cache simulation samples time slices above a bound; each hit found there stands for
 *   (window events / slice events) events, and the extrapolated totals stay close to the full simulation while every
 *   accounting identity of the replay still holds (savings parts add up, per-day rows add up to the totals);
 * - DuckDB and ClickHouse apply the extrapolation the same way;
 * - the analysis service caches one analysis for every goal and re-ranks it: a second goal is a cache hit and ranks
 *   exactly as an analysis run for that goal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryQueryCache } from '../src/cache/index.js';
import { generateAll, type Manifest } from '../src/corpus/generator.js';
import { analyzeWorkspace } from '../src/optimize/analyze.js';
import type { AnalysisContext } from '../src/optimize/context.js';
import { replayPolicy, type ReplayResult } from '../src/optimize/replay.js';
import { createAnalysisService } from '../src/services/analysis-service.js';
import { createChdbExecutor } from '../src/store/clickhouse-chdb-executor.js';
import { createClickHouseStore } from '../src/store/clickhouse-store.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import { priceCatalog, usageContext } from './helpers/usage-analysis-context.js';

describe('bounded semantic replay and goal re-ranking', () => {
  let store: DuckDbStore;
  let manifest: Manifest;
  let ctx: AnalysisContext;
  const workspace = 'bounded';
  beforeAll(async () => {
    store = createDuckDbStore({ path: ':memory:' });
    await store.init();
    const w = generateAll({
      preset: 'chat-support',
      events: 30_000,
      days: 7,
      seed: 5,
      end: Date.UTC(2026, 10, 16),
      pricer: priceCatalog(),
      workspace,
    });
    manifest = w.manifest;
    await store.append(w.events);
    const s = await store.stats({ workspace });
    ctx = usageContext({ workspace, from: manifest.from, to: manifest.to, total_events: s.events, total_spend_usd: s.spend_usd });
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  const policy = {
    semantic_cache: { enabled: true, ttl_seconds: 3600 },
    batch: [{ match: { offline: true } }],
    max_tokens_caps: [{ match: {}, cap: 300 }],
  };
  const identities = (r: ReplayResult) => {
    const b = r.breakdown;
    expect(r.baseline.spend_usd - r.projected.spend_usd).toBeCloseTo(
      b.routing_savings_usd + b.cache_savings_usd + b.batch_savings_usd + b.cap_savings_usd,
      6,
    );
    expect(r.per_day.reduce((s, d) => s + d.baseline.spend_usd - d.projected.spend_usd, 0)).toBeCloseTo(r.savings_usd, 6);
  };

  it('samples the semantic simulation above the bound and extrapolates within a few percent of the full one', async () => {
    const full = await replayPolicy(store.analysis, ctx, policy, { semantic_max_events: Infinity });
    const sampled = await replayPolicy(store.analysis, ctx, policy, { semantic_max_events: 6_000 });
    expect(full.breakdown.semantic_cache_hits).toBeGreaterThan(200);
    expect(full.assumptions.join(' ')).not.toMatch(/sampled/);
    expect(sampled.assumptions.join(' ')).toMatch(/Semantic cache, sampled .* 6 evenly spaced slices/);
    const rel = (a: number, b: number) => Math.abs(a - b) / b;
    expect(rel(sampled.breakdown.semantic_cache_hits, full.breakdown.semantic_cache_hits)).toBeLessThan(0.15);
    expect(rel(sampled.breakdown.cache_savings_usd, full.breakdown.cache_savings_usd)).toBeLessThan(0.15);
    expect(rel(sampled.projected.spend_usd, full.projected.spend_usd)).toBeLessThan(0.01);
    // untouched by sampling: the baseline and the exact-cache hits
    expect(sampled.baseline).toEqual(full.baseline);
    expect(sampled.breakdown.exact_cache_hits).toBe(full.breakdown.exact_cache_hits);
    identities(full);
    identities(sampled);
    expect(Number.isInteger(sampled.breakdown.semantic_cache_hits)).toBe(true);
  }, 120_000);

  it('leaves a window under the bound exact: same result with or without a bound above it', async () => {
    const a = await replayPolicy(store.analysis, ctx, policy, { semantic_max_events: 1_000_000 });
    const b = await replayPolicy(store.analysis, ctx, policy, { semantic_max_events: Infinity });
    expect(a).toEqual(b);
  }, 120_000);

  it('serves every goal from one cached analysis, ranked as an analysis run for that goal', async () => {
    const cache = new MemoryQueryCache({ ttlMs: 60_000, maxEntries: 100 });
    const svc = createAnalysisService({ store, catalog: priceCatalog, cache });
    const req = { workspace, from: ctx.from, to: ctx.to };
    const cost = await svc.analyze({ ...req, goal: 'cost' });
    const misses = cache.stats().misses;
    const latency = await svc.analyze({ ...req, goal: 'latency' });
    expect(cache.stats().misses).toBe(misses); // no new computation
    expect(latency.summary.goal).toBe('latency');
    const direct = await analyzeWorkspace(store.analysis, ctx, { goal: 'latency' });
    expect(latency.recommendations.map((r) => [r.id, r.rank])).toEqual(direct.recommendations.map((r) => [r.id, r.rank]));
    latency.recommendations.forEach((r, i) => expect(r.score).toBeCloseTo(direct.recommendations[i]!.score, 12));
    expect(cost.recommendations.map((r) => r.id)).not.toEqual(latency.recommendations.map((r) => r.id));
  }, 120_000);
});

describe('the sampled semantic replay is the same in DuckDB and ClickHouse', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netra-replay-sampling-'));
  const duck = createDuckDbStore({ path: ':memory:' });
  const ch = createClickHouseStore({ executor: createChdbExecutor(dir), database: 'sampling' });
  let ctx: AnalysisContext;
  beforeAll(async () => {
    await duck.init();
    await ch.init();
    const w = generateAll({
      preset: 'chat-support',
      events: 6_000,
      days: 7,
      seed: 3,
      end: Date.UTC(2026, 10, 16),
      pricer: priceCatalog(),
      workspace: 'p',
    });
    await duck.append(w.events);
    await ch.append(w.events);
    const s = await duck.stats({ workspace: 'p' });
    ctx = usageContext({ workspace: 'p', from: w.manifest.from, to: w.manifest.to, total_events: s.events, total_spend_usd: s.spend_usd });
  }, 120_000);
  afterAll(async () => {
    await duck.close();
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same extrapolated totals, breakdown and days', async () => {
    // TTL 1800 s: the ClickHouse replay's exact-cache RANGE frame takes µs offsets below 2^31 (about 2,147 s)
    const policy = {
      semantic_cache: { enabled: true, ttl_seconds: 1800 },
      batch: [{ match: { offline: true } }],
      max_tokens_caps: [{ match: {}, cap: 200 }],
    };
    const [a, b] = [
      await replayPolicy(duck.analysis, ctx, policy, { semantic_max_events: 1_500 }),
      await replayPolicy(ch.analysis, ctx, policy, { semantic_max_events: 1_500 }),
    ];
    expect(a.assumptions.join(' ')).toMatch(/Semantic cache, sampled/);
    expect(a.breakdown.semantic_cache_hits).toBeGreaterThan(0);
    const { routing_rule_events: _ra, ...ba } = a.breakdown;
    const { routing_rule_events: _rb, ...bb } = b.breakdown;
    for (const [k, v] of Object.entries(ba)) expect(bb[k as keyof typeof bb], k).toBeCloseTo(v, 6);
    expect(b.projected.spend_usd).toBeCloseTo(a.projected.spend_usd, 6);
    expect(b.changed_events).toBe(a.changed_events);
    expect(b.per_day.map((d) => [d.day, d.projected.spend_usd.toFixed(6)])).toEqual(
      a.per_day.map((d) => [d.day, d.projected.spend_usd.toFixed(6)]),
    );
  }, 120_000);
});
