/**
 * The semantic-cache pass samples time slices on large windows: the scaled estimate stays close to the full pass
 * and to the generator's planted near-duplicate share, and the evidence says it was sampled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAll, type Manifest } from '../src/corpus/generator.js';
import type { AnalysisContext } from '../src/optimize/context.js';
import type { KindResult } from '../src/optimize/recommendation.js';
import { analyzeSemanticCache } from '../src/optimize/recommend/semantic-cache.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import { priceCatalog, usageContext } from './helpers/usage-analysis-context.js';

describe('semantic-cache sampling', () => {
  let store: DuckDbStore;
  let manifest: Manifest;
  let ctx: AnalysisContext;
  const workspace = 'sample';
  beforeAll(async () => {
    store = createDuckDbStore({ path: ':memory:' });
    await store.init();
    const w = generateAll({
      preset: 'chat-support',
      events: 60_000,
      days: 7,
      seed: 9,
      end: Date.UTC(2026, 10, 16),
      pricer: priceCatalog(),
      workspace,
    });
    manifest = w.manifest;
    await store.append(w.events);
    const s = await store.stats({ workspace });
    ctx = usageContext({
      workspace,
      from: manifest.from,
      to: manifest.to,
      total_events: s.events,
      total_spend_usd: s.spend_usd,
      params: { cache_ttl_seconds: manifest.params.exact_cache_ttl_seconds },
    });
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  const share = (r: KindResult) => r.recommendations.reduce((a, x) => a + x.affected_share, 0);

  it('estimates the near-duplicate share within 1 pp of the full pass from a fifth of the events', async () => {
    const scope = { workspace, from: manifest.from, to: manifest.to };
    const full = await analyzeSemanticCache(store.analysis, scope, ctx, { maxEvents: Infinity });
    const sampled = await analyzeSemanticCache(store.analysis, scope, ctx, { maxEvents: 12_000 });
    expect(share(full)).toBeGreaterThan(0.01);
    expect(Math.abs(share(sampled) - share(full))).toBeLessThanOrEqual(0.01);
    expect(Math.abs(share(sampled) - manifest.shares.near_duplicate_share)).toBeLessThanOrEqual(0.02);
    expect(String(sampled.recommendations[0]!.evidence.figures.sampling)).toMatch(/^sampled: 6 slices/);
    expect(String(full.recommendations[0]!.evidence.figures.sampling)).toMatch(/^none/);
  });
});
