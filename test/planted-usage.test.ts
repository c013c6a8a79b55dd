/**
 * Planted truth for the usage-based kinds: for every generator preset and two seeds, the recommendations computed
 * through the DuckDB store recover the manifest's figures: routable → model_routing, batchable → batch_api,
 * max_tokens_headroom → max_tokens (within ±2 pp of events and ±5% of dollars), and error/retry counts → retry_waste.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload, type Manifest } from '../src/corpus/generator.js';
import { PRESET_NAMES } from '../src/corpus/presets.js';
import type { AnalysisContext } from '../src/optimize/context.js';
import { recommendBatchApi } from '../src/optimize/recommend/batch-api.js';
import { recommendMaxTokens } from '../src/optimize/recommend/max-tokens.js';
import { recommendModelRouting } from '../src/optimize/recommend/model-routing.js';
import { recommendRetryWaste } from '../src/optimize/recommend/retry-waste.js';
import type { Recommendation } from '../src/optimize/recommendation.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import type { AnalyticsStore } from '../src/store/types.js';
import { priceCatalog, usageContext } from './helpers/usage-analysis-context.js';

const END = Date.UTC(2026, 10, 16);
const EVENTS = 20_000;
const SEEDS = [1, 2];

const sum = (recs: Recommendation[], f: (r: Recommendation) => number) => recs.reduce((a, r) => a + f(r), 0);

describe.each(PRESET_NAMES.flatMap((p) => SEEDS.map((s) => [p, s] as const)))('planted usage truth: %s seed %i', (preset, seed) => {
  let store: AnalyticsStore;
  let manifest: Manifest;
  let ctx: AnalysisContext;
  let scope: { workspace: string; from: number; to: number };
  const stored = new Map<string, WorkloadEvent>();

  beforeAll(async () => {
    const cat = priceCatalog();
    const w = generateWorkload({
      preset,
      events: EVENTS,
      days: 7,
      seed,
      end: END,
      pricer: cat,
      tierOf: (m) => cat.resolve(m)?.quality_tier,
      workspace: 'planted',
    });
    store = createDuckDbStore({ path: ':memory:' });
    await store.init();
    for (const batch of w.batches()) {
      for (const e of batch) stored.set(e.event_id, e);
      await store.append(batch);
    }
    manifest = w.manifest();
    scope = { workspace: 'planted', from: w.from, to: w.to };
    // the manifest's simple task classes are the spec of "routable"
    ctx = usageContext({
      workspace: 'planted',
      from: w.from,
      to: w.to,
      total_events: manifest.events,
      total_spend_usd: manifest.total_spend_usd,
      params: { simple_tasks: manifest.params.simple_tasks },
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('model_routing recovers routable_share (±2 pp) and its spend (±5%)', async () => {
    const { recommendations } = recommendModelRouting(await store.analysis.routingSegments(scope), ctx);
    const planted = recommendations.filter((r) => r.scope.basis === 'simple_task');
    expect(Math.abs(sum(planted, (r) => r.affected_share) - manifest.shares.routable_share)).toBeLessThanOrEqual(0.02);
    const spend = sum(planted, (r) => r.affected_spend_share) * manifest.total_spend_usd;
    if (manifest.spend_usd.routable > 0) {
      expect(planted.length).toBeGreaterThan(0);
      expect(Math.abs(spend - manifest.spend_usd.routable) / manifest.spend_usd.routable).toBeLessThanOrEqual(0.05);
    } else expect(planted).toHaveLength(0);
    for (const r of planted) {
      // every route goes to a cheaper model of tier >= 2 and saves less than the segment spends
      expect(Number(r.evidence.figures.target_tier)).toBeGreaterThanOrEqual(2);
      const seg = Number(r.evidence.figures.spend_usd);
      expect(Number(r.evidence.figures.window_savings_usd)).toBeGreaterThan(0);
      expect(Number(r.evidence.figures.window_savings_usd)).toBeLessThan(seg);
      expect(r.monthly_savings_usd).toBeGreaterThan(0);
    }
  });

  it('batch_api recovers batchable_share (±2 pp) and its spend (±5%), savings at the catalog discounts', async () => {
    const candidates = await store.analysis.batchCandidates(scope);
    // the sample ids (picked by row id, named at the end) are the earliest events of one minute of that row's traffic
    for (const row of candidates.rows) {
      expect(row.sample_event_ids.length, `${row.app}/${row.model}`).toBe(Math.min(3, row.peak_per_minute));
      const events = row.sample_event_ids.map((id) => stored.get(id)!);
      for (const e of events) {
        expect(e, 'a stored event').toBeDefined();
        expect([e.app, e.model, e.end_user ?? null, e.session_id ?? null]).toEqual([row.app, row.model, null, null]);
      }
      const minutes = new Set(events.map((e) => Math.floor(e.timestamp / 60_000)));
      expect(minutes.size).toBe(1);
      expect(events.map((e) => e.timestamp)).toEqual(events.map((e) => e.timestamp).sort((a, b) => a - b));
    }
    const { recommendations } = recommendBatchApi(candidates, ctx);
    expect(recommendations.filter((r) => r.scope.basis === 'bulk_burst')).toHaveLength(0); // every preset tags latency_class
    expect(Math.abs(sum(recommendations, (r) => r.affected_share) - manifest.shares.batchable_share)).toBeLessThanOrEqual(0.02);
    const spend = sum(recommendations, (r) => r.affected_spend_share) * manifest.total_spend_usd;
    expect(Math.abs(spend - manifest.spend_usd.batchable) / manifest.spend_usd.batchable).toBeLessThanOrEqual(0.05);
    const savings = sum(recommendations, (r) => Number(r.evidence.figures.window_savings_usd));
    expect(savings).toBeGreaterThan(0);
    expect(savings).toBeLessThanOrEqual(0.5 * manifest.spend_usd.batchable * 1.0001); // no catalog discount above 50%
  });

  it('max_tokens recovers over_provisioned_share (±2 pp) with the exact nearest-rank p99 per group', async () => {
    const { recommendations } = recommendMaxTokens(await store.analysis.maxTokensGroups(scope), ctx);
    const h = manifest.max_tokens_headroom;
    expect(Math.abs(sum(recommendations, (r) => r.affected_share) - h.over_provisioned_share)).toBeLessThanOrEqual(0.02);
    for (const g of h.groups.filter((x) => x.over_provisioned && x.ok_events >= ctx.params.min_events)) {
      const rec = recommendations.find((r) => r.scope.app === g.app && r.scope.model === g.model);
      expect(rec, `${g.app}/${g.model}`).toBeDefined();
      expect(rec!.evidence.figures.p99_completion_tokens).toBe(g.p99_completion_tokens);
      expect(Number(rec!.evidence.figures.suggested_max_tokens)).toBeLessThan(g.max_tokens);
    }
    for (const r of recommendations) {
      const g = h.groups.find((x) => x.app === r.scope.app && x.model === r.scope.model)!;
      expect(g.over_provisioned).toBe(true);
    }
  });

  it('retry_waste counts exactly the planted errors and retries', async () => {
    const [failures, rateLimits] = [await store.analysis.retryWaste(scope), await store.analysis.rateLimitBursts(scope)];
    const errors = failures.rows.reduce((a, r) => a + r.errors, 0);
    const retries = failures.rows.reduce((a, r) => a + r.retries, 0);
    const retrySpend = failures.rows.reduce((a, r) => a + r.retry_spend_usd, 0);
    const errorSpend = failures.rows.reduce((a, r) => a + r.error_spend_usd, 0);
    expect(errors).toBe(manifest.counts.error);
    expect(retries).toBe(manifest.counts.retry);
    expect(retrySpend).toBeCloseTo(manifest.spend_usd.retry, 6);
    expect(errorSpend).toBeCloseTo(manifest.spend_usd.error, 6);
    expect(rateLimits.rows.reduce((a, r) => a + r.rate_limited, 0)).toBe(manifest.errors_by_http_status['429'] ?? 0);
    const { recommendations } = recommendRetryWaste({ failures, rateLimits }, ctx);
    expect(recommendations.length).toBeGreaterThan(0);
    expect(sum(recommendations, (r) => Number(r.evidence.figures.errors))).toBeLessThanOrEqual(manifest.counts.error);
  });
});
