/**
 * Recommendations a reader can trust (pure parts): the same change proposed twice is merged (routing of one app and
 * model to one target across tasks; an app's exact and semantic cache), the combined policy does not depend on the
 * goal's order, the projection is the replay's figure with advice-only kinds beside it, a job nobody waits for gets no
 * latency advice, and a window under a day lowers confidence.
 */
import { describe, expect, it } from 'vitest';
import { withoutBatchLatency } from '../src/optimize/analyze.js';
import { mergeRecommendations } from '../src/optimize/merge.js';
import { policyFromRecommendations } from '../src/optimize/policy-from-recommendations.js';
import { projectedSavings } from '../src/optimize/projection.js';
import { rankRecommendations } from '../src/optimize/ranking.js';
import { monthly, shortWindowWarning, windowConfidence, type Recommendation } from '../src/optimize/recommendation.js';
import type { ReplayResult } from '../src/optimize/replay.js';
import type { BatchCandidateRow, LatencyRow } from '../src/optimize/ports/usage.js';

const DAY = 86_400_000;

const rec = (o: Partial<Recommendation> & Pick<Recommendation, 'id' | 'kind'>): Recommendation => ({
  title: o.id,
  scope: {},
  affected_share: 0.1,
  affected_spend_share: 0.1,
  monthly_savings_usd: 10,
  savings_share: 0.01,
  latency_impact: { p50_ms_delta: null, p95_ms_delta: null, description: '' },
  quality_risk: { level: 'low', reason: 'r' },
  confidence: 0.8,
  evidence: { figures: {}, query: 'q', sample_event_ids: ['e1'] },
  how_to_apply: ['step one', 'step two', 'step three'],
  ...o,
});

const route = (task: string, savings: number, target = 'claude-haiku-4-5', app = 'ops-agent') =>
  rec({
    id: `model_routing:${app}/claude-sonnet-4-5/chat/${task}`,
    kind: 'model_routing',
    monthly_savings_usd: savings,
    savings_share: savings / 1000,
    scope: { app, model: 'claude-sonnet-4-5', task, target_model: target, basis: 'simple_task' },
    evidence: { figures: { events: 100, source_tier: 3, target_tier: 2 }, query: 'q', sample_event_ids: [`s-${task}`] },
  });

describe('merging the same change proposed twice', () => {
  it('routes one app and model to one target once, keyed on its tasks; other targets and apps stay apart', () => {
    const recs = [
      route('extraction', 19.61),
      route('tool_selection', 13.29),
      route('faq', 4, 'gpt-4o-mini'),
      route('extraction', 5, 'claude-haiku-4-5', 'docs-qa'),
    ];
    const merged = mergeRecommendations(recs);
    expect(merged).toHaveLength(3);
    const m = merged.find((r) => r.merged_from)!;
    expect(m.merged_from).toEqual([recs[0]!.id, recs[1]!.id]);
    expect(m.scope.task).toBe('extraction,tool_selection');
    expect(m.title).toBe("Route ops-agent 'extraction' and 'tool_selection' calls from claude-sonnet-4-5 to claude-haiku-4-5");
    expect(m.monthly_savings_usd).toBeCloseTo(32.9, 9);
    expect(m.affected_share).toBeCloseTo(0.2, 9);
    expect(m.evidence.figures['standalone_monthly_savings_usd:tool_selection']).toBeCloseTo(13.29, 9);
    // the policy routes both tasks with one rule
    const policy = policyFromRecommendations(merged);
    expect(policy.routing).toContainEqual({
      match: { app: 'ops-agent', model: 'claude-sonnet-4-5', task: ['extraction', 'tool_selection'] },
      target_model: 'claude-haiku-4-5',
    });
    expect(policy.routing).toHaveLength(3);
  });

  it("puts an app's exact and semantic cache into one response cache whose savings add up and whose risk is the semantic one", () => {
    const exact = rec({
      id: 'exact_cache:docs-qa',
      kind: 'exact_cache',
      monthly_savings_usd: 3.54,
      scope: { app: 'docs-qa' },
      title: "Cache docs-qa's repeated prompts for 1h: 4.6% of its calls are exact repeats",
      evidence: { figures: { hits: 46, hit_rate: 0.046, hit_spend_usd: 0.8 }, query: 'qe', sample_event_ids: ['x'] },
    });
    const semantic = rec({
      id: 'semantic_cache:docs-qa',
      kind: 'semantic_cache',
      monthly_savings_usd: 4.45,
      scope: { app: 'docs-qa' },
      quality_risk: { level: 'medium', reason: 'a near hit may be another question' },
      title: 'Add a semantic cache for docs-qa: 7.3% of its prompts reword one answered within 60 min',
    });
    const other = rec({ id: 'exact_cache:support-bot', kind: 'exact_cache', scope: { app: 'support-bot' } });
    const merged = mergeRecommendations([exact, other, semantic]);
    expect(merged.map((r) => r.id)).toEqual(['semantic_cache:docs-qa', 'exact_cache:support-bot']);
    const m = merged[0]!;
    expect(m.monthly_savings_usd).toBeCloseTo(7.99, 9);
    expect(m.quality_risk.level).toBe('medium');
    expect(m.merged_from).toEqual(['exact_cache:docs-qa', 'semantic_cache:docs-qa']);
    expect(m.evidence.figures.exact_hits).toBe(46);
    expect(m.how_to_apply.at(-1)).toMatch(/exact part alone \(\$3\.54\/month, risk low\)/);
    const policy = policyFromRecommendations(merged);
    expect(policy.exact_cache?.enabled).toBe(true);
    expect(policy.semantic_cache?.enabled).toBe(true);
  });
});

describe('the combined policy and its one projected figure', () => {
  const recs = [
    route('extraction', 19.61),
    rec({
      id: 'model_routing:ops-agent/claude-sonnet-4-5/chat/(no task tag)/small',
      kind: 'model_routing',
      monthly_savings_usd: 3,
      scope: { app: 'ops-agent', model: 'claude-sonnet-4-5', target_model: 'gpt-4o-mini', basis: 'small_io' },
      latency_impact: { p50_ms_delta: null, p95_ms_delta: -4000, description: '' },
    }),
    rec({ id: 'batch_api:nightly/schedule', kind: 'batch_api', scope: { app: 'nightly', basis: 'schedule' }, monthly_savings_usd: 20 }),
    rec({ id: 'prompt_caching:ops-agent', kind: 'prompt_caching', scope: { app: 'ops-agent' }, monthly_savings_usd: 28.55 }),
    rec({ id: 'prompt_caching:code-chat', kind: 'prompt_caching', scope: { app: 'code-chat' }, monthly_savings_usd: 10 }),
    rec({ id: 'latency_slo:app/x', kind: 'latency_slo', monthly_savings_usd: 0 }),
  ];

  it('is the same for every goal: task rules first, a size-only rule bounded to the small prompts it was found on', () => {
    const policies = (['cost', 'latency', 'quality', 'balanced'] as const).map((g) =>
      policyFromRecommendations(rankRecommendations(recs, g, 10_000)),
    );
    expect(rankRecommendations(recs, 'latency', 10_000)[0]!.scope.basis).toBe('small_io'); // the order differs...
    for (const p of policies) expect(p).toEqual(policies[0]); // ...the policy does not
    expect(policies[0]!.routing!.map((r) => r.match)).toEqual([
      { app: 'ops-agent', model: 'claude-sonnet-4-5', task: 'extraction' },
      { app: 'ops-agent', model: 'claude-sonnet-4-5', max_prompt_tokens: 255 },
    ]);
  });

  it("is the replay's monthly savings; advice-only kinds are listed beside it with their standalone figures, not added", () => {
    const replay = { monthly_savings_usd: 31.2 } as ReplayResult;
    const p = projectedSavings(recs, 600, replay);
    expect(p.monthly_usd).toBe(31.2);
    expect(p.share_of_spend).toBeCloseTo(0.052, 9);
    expect(p.projected_monthly_spend_usd).toBeCloseTo(568.8, 9);
    expect(p.replayed_recommendations).toBe(3);
    expect(p.not_in_projection).toEqual([{ kind: 'prompt_caching', recommendations: 2, standalone_monthly_usd: 38.55 }]);
    const failed = projectedSavings(recs, 600, { failed: 'routing[0].target_model: unknown model' });
    expect(failed).toMatchObject({ monthly_usd: null, unavailable: 'routing[0].target_model: unknown model' });
    expect(projectedSavings([], 600, null)).toMatchObject({ monthly_usd: 0, replayed_recommendations: 0 });
  });
});

describe('a job nobody waits for is not told to get faster', () => {
  const slo = (dimension: 'app' | 'model', key: string) =>
    rec({
      id: `latency_slo:${dimension}/${key}`,
      kind: 'latency_slo',
      monthly_savings_usd: 0,
      scope: dimension === 'app' ? { app: key } : { model: key },
      latency_impact: { p50_ms_delta: null, p95_ms_delta: -9000, description: '' },
    });
  const batchRow = (app: string, model: string, events: number, basis: BatchCandidateRow['basis']): BatchCandidateRow => ({
    app,
    model,
    basis,
    events,
    spend_usd: 1,
    mean_latency_ms: 20_000,
    active_minutes: 0,
    peak_per_minute: 0,
    sample_event_ids: [],
  });
  const lat = (dimension: 'app' | 'model', key: string, events: number) => ({ dimension, key, events }) as LatencyRow;

  it('drops latency advice for an app or model whose measured calls are mostly scheduled, user-less batch candidates', () => {
    const recs = [
      slo('app', 'nightly-digest'),
      slo('model', 'gpt-4.1'),
      slo('app', 'code-chat'),
      slo('model', 'gpt-5'),
      rec({ id: 'batch_api:nightly-digest/schedule', kind: 'batch_api', scope: { app: 'nightly-digest', basis: 'schedule' } }),
    ];
    const kept = withoutBatchLatency(recs, { rows: [batchRow('nightly-digest', 'gpt-4.1', 900, 'schedule')] }, [
      lat('app', 'nightly-digest', 1000),
      lat('model', 'gpt-4.1', 1200),
      lat('app', 'code-chat', 3000),
      lat('model', 'gpt-5', 3000),
    ]);
    expect(kept.map((r) => r.id)).toEqual(['latency_slo:app/code-chat', 'latency_slo:model/gpt-5', 'batch_api:nightly-digest/schedule']);
    // a candidate that got no batch recommendation (nothing to save) does not silence anything
    expect(
      withoutBatchLatency(recs.slice(0, 4), { rows: [batchRow('nightly-digest', 'gpt-4.1', 900, 'schedule')] }, [
        lat('app', 'nightly-digest', 1000),
      ]),
    ).toHaveLength(4);
  });
});

describe('extrapolation from the real window', () => {
  it('scales by the real length; under a day it warns and lowers confidence', () => {
    const w = 57 * 60_000;
    expect(monthly(1, w)).toBeCloseTo((30 * DAY) / w, 9);
    expect(monthly(1, 1)).toBe(monthly(1, 60_000)); // a single event's window counts as a minute
    expect(windowConfidence(DAY)).toBe(1);
    expect(windowConfidence(6 * 3_600_000)).toBeCloseTo(0.5, 9);
    expect(windowConfidence(w)).toBe(0.25);
    expect(shortWindowWarning(DAY)).toBeNull();
    expect(shortWindowWarning(w)).toMatch(/only 57 minutes long: monthly figures multiply it 758-fold/);
  });
});
