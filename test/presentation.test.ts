/**
 * Presenting a ranked list (pure): at most ten recommendations, latency findings without a fix apart, minor items
 * (under max($1, 0.1% of monthly spend) with no latency gain) grouped; and under the cost goal nothing saving $0 ranks
 * above a saving.
 */
import { describe, expect, it } from 'vitest';
import { formatAnalysis } from '../src/cli/format.js';
import type { FullAnalysis } from '../src/optimize/analyze.js';
import { presentAnalysis, presentRecommendations, TOP_LIMIT } from '../src/optimize/presentation.js';
import { rankRecommendations } from '../src/optimize/ranking.js';
import type { Recommendation } from '../src/optimize/recommendation.js';

const rec = (
  id: string,
  kind: Recommendation['kind'],
  savings: number,
  p95: number | null = null,
  faster: string | null = null,
): Recommendation => ({
  id,
  kind,
  title: id,
  scope: {},
  affected_share: 0.2,
  affected_spend_share: 0.2,
  monthly_savings_usd: savings,
  savings_share: savings / 3000,
  latency_impact: { p50_ms_delta: null, p95_ms_delta: p95, description: '' },
  quality_risk: { level: 'low', reason: '' },
  confidence: 0.8,
  evidence: { figures: { faster_same_tier_model: faster }, query: '', sample_event_ids: [] },
  how_to_apply: [],
});

describe('presentation and ranking', () => {
  const recs = [
    rec('slo-a', 'latency_slo', 0, -9000),
    rec('slo-b', 'latency_slo', 0, -5000, 'claude-opus-4-1'),
    ...Array.from({ length: 14 }, (_, i) => rec(`route-${i}`, 'model_routing', 100 - i)),
    rec('tiny-1', 'exact_cache', 0.5),
    rec('tiny-2', 'semantic_cache', 2.5),
  ];

  it('under the cost goal, every money-saving item ranks above the $0 ones', () => {
    const ranked = rankRecommendations(recs, 'cost', 14_000);
    const firstZero = ranked.findIndex((r) => !(r.monthly_savings_usd > 0));
    expect(ranked.slice(firstZero).every((r) => !(r.monthly_savings_usd > 0))).toBe(true);
    // under the latency goal the latency items may lead
    expect(rankRecommendations(recs, 'latency', 14_000)[0]!.kind).toBe('latency_slo');
  });

  it('top ten, findings apart, minor grouped under max($1, 0.1% of spend)', () => {
    const p = presentRecommendations(rankRecommendations(recs, 'balanced', 14_000), 3000);
    expect(p.top).toHaveLength(TOP_LIMIT);
    expect(p.minor_below_usd).toBe(3);
    expect(p.minor.map((r) => r.id).sort()).toEqual(['tiny-1', 'tiny-2']);
    expect(p.findings.map((r) => r.id)).toEqual(['slo-a']); // slo-b has a concrete model change: a recommendation
    expect([...p.top, ...p.more].map((r) => r.id)).toContain('slo-b');
    expect(p.top.length + p.more.length + p.findings.length + p.minor.length).toBe(recs.length);
  });

  it('the API shape and the CLI text state one projected figure; ranks count from 1 in each list', () => {
    const ranked = rankRecommendations(recs, 'latency', 14_000);
    const a = {
      summary: {
        workspace: 'w',
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-01T06:00:00.000Z',
        goal: 'latency',
        events: 1000,
        spend_usd: 250,
        monthly_spend_usd: 3000,
        annual_spend_usd: 36000,
        projected_savings: {
          monthly_usd: 812.5,
          share_of_spend: 812.5 / 3000,
          projected_monthly_spend_usd: 2187.5,
          basis: 'replay',
          replayed_recommendations: 16,
          not_in_projection: [],
        },
        latency_p50_ms: 900,
        latency_p95_ms: 14_000,
        latency_p99_ms: null,
        error_rate: 0,
        warnings: ['The analysed window is only 6.0 hours long'],
        assumptions: [],
        recommendations: ranked.length,
      },
      performance: {},
      recommendations: ranked,
      skipped: [],
    } as unknown as FullAnalysis;
    const p = presentAnalysis(a);
    expect(p.recommendations.map((r) => r.rank)).toEqual(Array.from({ length: TOP_LIMIT }, (_, i) => i + 1));
    expect(p.more_recommendations[0]!.rank).toBe(TOP_LIMIT + 1);
    expect(p.findings.map((r) => [r.id, r.rank])).toEqual([['slo-a', 1]]);
    expect(p.minor).toMatchObject({ count: 2, below_usd: 3, standalone_monthly_savings_usd: 3 });
    const text = formatAnalysis(a);
    expect(text).toContain('projected savings: $812.50/month (27.1%), from a replay of all recommendations together');
    expect(text).toContain('standalone savings');
    expect(text).toContain('warning: The analysed window is only 6.0 hours long');
    expect(text.match(/\$[\d,.]+\/month/g)?.filter((x) => x === '$812.50/month')).toHaveLength(1);
  });
});
