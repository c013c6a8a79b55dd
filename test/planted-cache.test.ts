/**
 * Planted truth for the cache kinds: for every generator preset and two seeds, the workload goes through the DuckDB
 * store and the recommendations must recover the manifest's figures within ±2 percentage points (share of events)
 * and ±5% (dollars):
 * - exact_cache    ↔ exact_duplicate_share / spend_usd.exact_duplicate (savings = spend of the repeats);
 * - semantic_cache ↔ near_duplicate_share / spend_usd.near_duplicate;
 * - prompt_caching ↔ prefix_cacheable_share / spend_usd.prefix_cacheable. The manifest uses one minimum prefix size
 *   for every model (params.prefix_min_tokens); the kind uses each model's catalog minimum, so this comparison runs
 *   with the catalog minimums set to the manifest's, and a second check shows that the real catalog minimums only
 *   ever remove events (Claude Haiku needs 2,048-4,096 tokens).
 * Savings are projected to 30 days, so the monthly figures are compared with monthly(manifest dollars).
 *
 * Multi-turn conversations (each turn re-sends the conversation so far; helpers/planted-conversations.ts) are planted
 * on top of a generated workload, through the real ingest normalisation (block chains from the text): the
 * recommendation must recover each app's planted cacheable_input_token_share within ±2 percentage points and its
 * dollars (cached-read discount minus Anthropic's confirmed cache writes) within ±5%.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAll, type Manifest } from '../src/corpus/generator.js';
import { PRESET_NAMES } from '../src/corpus/presets.js';
import type { AnalysisContext } from '../src/optimize/context.js';
import { monthly, type KindResult } from '../src/optimize/recommendation.js';
import { exactCacheQueryOptions, recommendExactCache } from '../src/optimize/recommend/exact-cache.js';
import { loadPromptCaching, prefixCacheQueryOptions, recommendPromptCaching } from '../src/optimize/recommend/prompt-caching.js';
import { analyzeSemanticCache } from '../src/optimize/recommend/semantic-cache.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import { plantConversations } from './helpers/planted-conversations.js';
import { priceCatalog, usageContext } from './helpers/usage-analysis-context.js';

const EVENTS = 40_000;
const END = Date.UTC(2026, 10, 16);
const SEEDS = [1, 2];

let store: DuckDbStore;
beforeAll(async () => {
  store = createDuckDbStore({ path: ':memory:', flushIntervalMs: 0 });
  await store.init();
});
afterAll(async () => {
  await store.close();
});

const sum = (r: KindResult, f: (x: KindResult['recommendations'][number]) => number) => r.recommendations.reduce((s, x) => s + f(x), 0);
const fig = (name: string) => (x: KindResult['recommendations'][number]) => Number(x.evidence.figures[name]);

/** The manifest's single minimum prefix size in place of each model's catalog minimum (models without caching stay without). */
function withManifestPrefixMin(ctx: AnalysisContext, m: Manifest): AnalysisContext {
  const min = m.params.prefix_min_tokens;
  const catalog = ctx.catalog.map((c) => (c.min_cacheable_prompt_tokens === null ? c : { ...c, min_cacheable_prompt_tokens: min }));
  const byId = new Map(catalog.map((c) => [c.id, c]));
  return {
    ...ctx,
    catalog,
    resolve: (model) => {
      const e = ctx.resolve(model);
      return e ? (byId.get(e.id) ?? null) : null;
    },
  };
}

describe.each(PRESET_NAMES.flatMap((p) => SEEDS.map((s) => [p, s] as const)))('planted cache truth: %s seed %i', (preset, seed) => {
  const workspace = `${preset}-${seed}`;
  let manifest: Manifest;
  let ctx: AnalysisContext;
  let scope: { workspace: string; from: number; to: number };
  const window = () => manifest.to - manifest.from;

  beforeAll(async () => {
    const w = generateAll({ preset, events: EVENTS, days: 7, seed, end: END, pricer: priceCatalog(), workspace });
    manifest = w.manifest;
    await store.append(w.events);
    const stats = await store.stats({ workspace });
    expect(stats.events).toBe(manifest.events);
    scope = { workspace, from: manifest.from, to: manifest.to };
    ctx = usageContext({
      workspace,
      from: manifest.from,
      to: manifest.to,
      total_events: stats.events,
      total_spend_usd: stats.spend_usd,
      params: { cache_ttl_seconds: manifest.params.exact_cache_ttl_seconds },
    });
  }, 120_000);

  it('exact_cache recovers exact_duplicate share and dollars', async () => {
    const r = recommendExactCache(await store.analysis.exactCacheGroups(scope, exactCacheQueryOptions(ctx)), ctx);
    expect(r.recommendations.length).toBeGreaterThan(0);
    expect(Math.abs(sum(r, (x) => x.affected_share) - manifest.shares.exact_duplicate_share)).toBeLessThanOrEqual(0.02);
    expect(sum(r, fig('hit_spend_usd'))).toBeCloseTo(manifest.spend_usd.exact_duplicate, 0);
    expect(Math.abs(sum(r, fig('hit_spend_usd')) / manifest.spend_usd.exact_duplicate - 1)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(sum(r, (x) => x.monthly_savings_usd) / monthly(manifest.spend_usd.exact_duplicate, window()) - 1)).toBeLessThanOrEqual(
      0.05,
    );
  });

  it('semantic_cache recovers near_duplicate share and dollars', async () => {
    const r = await analyzeSemanticCache(store.analysis, scope, ctx);
    expect(r.skipped).toBeUndefined();
    expect(r.recommendations.length).toBeGreaterThan(0);
    expect(Math.abs(sum(r, (x) => x.affected_share) - manifest.shares.near_duplicate_share)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(sum(r, fig('near_hit_spend_usd')) / manifest.spend_usd.near_duplicate - 1)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(sum(r, (x) => x.monthly_savings_usd) / monthly(manifest.spend_usd.near_duplicate, window()) - 1)).toBeLessThanOrEqual(
      0.05,
    );
    for (const x of r.recommendations) expect(x.evidence.figures.expected_false_hit_rate).not.toBeNull();
  }, 60_000);

  it('prompt_caching recovers prefix_cacheable share and dollars (manifest minimum prefix)', async () => {
    const c = withManifestPrefixMin(ctx, manifest);
    const opts = prefixCacheQueryOptions(c);
    const r = recommendPromptCaching(await store.analysis.prefixCacheGroups(scope, opts), c, opts);
    expect(r.recommendations.length).toBeGreaterThan(0);
    const events = sum(r, fig('prefix_cacheable_events'));
    expect(Math.abs(events / manifest.events - manifest.shares.prefix_cacheable_share)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(sum(r, fig('prefix_cacheable_spend_usd')) / manifest.spend_usd.prefix_cacheable - 1)).toBeLessThanOrEqual(0.05);
    // the generator reports no cached tokens, so every warm event is a hit the provider would discount
    expect(sum(r, (x) => x.affected_share)).toBeCloseTo(events / manifest.events, 5);
    for (const x of r.recommendations) expect(x.monthly_savings_usd).toBeGreaterThan(0);
  });

  it('prompt_caching with the real catalog minimums finds no more than the manifest', async () => {
    const opts = prefixCacheQueryOptions(ctx);
    const r = recommendPromptCaching(await store.analysis.prefixCacheGroups(scope, opts), ctx, opts);
    expect(sum(r, fig('prefix_cacheable_events'))).toBeLessThanOrEqual(manifest.counts.prefix_cacheable);
  });
});

describe.each(SEEDS)('planted multi-turn conversations: seed %i', (seed) => {
  const workspace = `conversations-${seed}`;
  it('prompt_caching recovers each app’s planted cacheable token share and dollars', async () => {
    const from = Date.UTC(2026, 10, 10);
    const cat = priceCatalog();
    const generated = generateAll({ preset: 'chat-support', events: 5000, days: 1, seed, end: from + 86_400_000, pricer: cat, workspace });
    const planted = plantConversations({
      workspace,
      from,
      seed,
      catalog: cat,
      conversations: 120,
      apps: [
        { app: 'assistant-gpt', model: 'gpt-4o' },
        { app: 'assistant-claude', model: 'claude-sonnet-4' },
      ],
    });
    await store.append([...generated.events, ...planted.events]);
    const stats = await store.stats({ workspace });
    const scope = { workspace, from, to: from + 86_400_000 };
    const ctx = usageContext({ ...scope, total_events: stats.events, total_spend_usd: stats.spend_usd });
    const r = recommendPromptCaching(await loadPromptCaching(store.analysis, scope, ctx), ctx);
    for (const [app, truth] of planted.byApp) {
      const rec = r.recommendations.find((x) => x.scope.app === app);
      expect(rec, app).toBeDefined();
      const f = rec!.evidence.figures;
      const share = truth.cacheable / truth.prompt;
      expect(share).toBeGreaterThan(0.3);
      expect(Math.abs(Number(f.cacheable_input_token_share) - share), app).toBeLessThanOrEqual(0.02);
      expect(f.cache_window_seconds).toBe(300);
      expect(Math.abs(Number(f.hits) / truth.hits - 1), app).toBeLessThanOrEqual(0.05);
      const rates = ctx.rates(truth.model)!;
      const premium = rates.cache_write !== null ? truth.writes * (rates.cache_write - rates.input) : 0;
      const dollars = truth.cacheable * (rates.input - rates.cached_input) - premium;
      expect(Math.abs(Number(f[`savings_usd:${truth.model}`]) / dollars - 1), app).toBeLessThanOrEqual(0.05);
    }
  }, 120_000);
});
