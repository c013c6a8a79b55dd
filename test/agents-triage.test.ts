/**
 * Triage (pure): categories, entities, goal, growth scenarios, request limits, data sufficiency; synthetic-data parsing.
 */
import { describe, expect, it } from 'vitest';
import { assessSufficiency, classify, extractEntities, requestProblem, triage } from '../src/agents/triage.js';
import { parseSyntheticRequest } from '../src/agents/synthetic-data.js';
import type { WorkspaceStats } from '../src/store/types.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const models = loadPriceCatalog().entries.flatMap((e) => [e.id, ...e.aliases]);

const stats = (over: Partial<WorkspaceStats> = {}): WorkspaceStats => ({
  workspace: 'w', from: null, to: null, events: 100, errors: 0, prompt_tokens: 1000, completion_tokens: 500, cached_prompt_tokens: 0,
  spend_usd: 12.5, latency_p50_ms: 800, latency_p95_ms: 2400, first_event: 1, last_event: 2, by_model: [], ...over,
});

describe('triage', () => {
  it.each([
    ['Where does my money go?', 'workload_analysis', 'cost'],
    ['Reduce costs but keep quality', 'cost_optimization', 'balanced'],
    ['Reduce latency by 3x', 'performance_optimization', 'latency'],
    ['What happens if usage grows 50%?', 'monitoring_reporting', 'balanced'],
    ['How accurate are the answers? Fix hallucinations', 'quality_optimization', 'quality'],
    ['Which model should I use instead of gpt-4o?', 'model_selection', 'balanced'],
    ['Update the price catalog with our pricing', 'supply_catalog_management', 'balanced'],
    ['Show me a monitoring dashboard and alerts', 'monitoring_reporting', 'balanced'],
    ['Give me the LiteLLM config settings', 'configuration_settings', 'balanced'],
    ['hello there', 'general_inquiry', 'balanced'],
  ])('%s → %s, goal %s', (text, category, goal) => {
    const t = triage(text, models);
    expect(t.category).toBe(category);
    expect(t.goal).toBe(goal);
  });

  it('an explicit goal wins over the inferred one', () => {
    expect(triage('Where does my money go?', models, 'latency').goal).toBe('latency');
  });

  it('extracts catalog models, metrics, time ranges and targets', () => {
    const e = extractEntities('Compare gpt-4o and claude-sonnet-4-5 p95 latency and cost over the last 7 days; cut 30% or 3x faster, under $500 and 200 ms', models);
    expect(e.models.sort()).toEqual(['claude-sonnet-4-5', 'gpt-4o']);
    expect(e.metrics).toEqual(expect.arrayContaining(['latency', 'p95', 'cost']));
    expect(e.time_ranges).toEqual([{ text: 'last 7 days', ms: 7 * 86_400_000 }]);
    expect(e.targets).toEqual(expect.arrayContaining([
      { text: '3x', kind: 'multiplier', value: 3 },
      { text: '30%', kind: 'percent', value: 30 },
      { text: '$500', kind: 'absolute', value: 500, unit: 'usd' },
      { text: '200 ms', kind: 'absolute', value: 200, unit: 'ms' },
    ]));
  });

  it('does not read gpt-4o inside gpt-4o-mini', () => {
    expect(extractEntities('move traffic to gpt-4o-mini', models).models).toEqual(['gpt-4o-mini']);
  });

  it('reads growth scenarios as factors', () => {
    expect(triage('What happens if usage grows 50%?').growth_factor).toBe(1.5);
    expect(triage('what if traffic doubles').growth_factor).toBe(2);
    expect(triage('Reduce latency by 3x').growth_factor).toBeNull();
  });

  it('routes synthetic data requests to the admin pipeline', () => {
    const t = triage('Generate 10k synthetic events for a RAG support bot');
    expect(t.admin).toBe('synthetic_data');
    expect(parseSyntheticRequest('Generate 10k synthetic events for a RAG support bot')).toEqual({ preset: 'rag-assistant', events: 10_000, days: 7, confirmed: false });
    expect(parseSyntheticRequest('confirm: generate 120,000 events for a customer support chatbot over 14 days')).toEqual({ preset: 'chat-support', events: 120_000, days: 14, confirmed: true });
    expect(classify('Where does my money go?').category).toBe('workload_analysis');
  });

  it('refuses requests under 3 or over 10,000 characters with a clear message', () => {
    expect(requestProblem('hi')).toMatch(/too short \(2 characters\).*at least 3/);
    expect(requestProblem('x'.repeat(10_001))).toMatch(/too long \(10,001 characters\); the limit is 10,000/);
    expect(requestProblem('abc')).toBeNull();
    expect(requestProblem('x'.repeat(10_000))).toBeNull();
  });
});

describe('data sufficiency', () => {
  it('no events → insufficient, saying what to send and how', () => {
    const s = assessSufficiency(stats({ events: 0, latency_p50_ms: null }));
    expect(s.level).toBe('insufficient');
    expect(s.missing[0]!.how).toMatch(/POST \/api\/v1\/events/);
  });
  it('no latency → partial naming latency_ms', () => {
    const s = assessSufficiency(stats({ latency_p50_ms: null, latency_p95_ms: null }));
    expect(s.level).toBe('partial');
    expect(s.missing.map((m) => m.field)).toEqual(['latency_ms']);
  });
  it('no prompt text (cache kinds skipped) → partial naming prompt_hash or text', () => {
    const s = assessSufficiency(stats(), [{ kind: 'semantic_cache', reason: 'r', needs: 'prompt_text (or messages) on events' }]);
    expect(s.level).toBe('partial');
    expect(s.missing[0]).toMatchObject({ field: 'prompt_text', impact: 'no prompt text: semantic-cache analysis skipped', how: expect.stringMatching(/prompt_hash or prompt_text/) });
  });
  it('everything present → sufficient', () => {
    expect(assessSufficiency(stats(), [{ kind: 'batch_api', reason: 'r', needs: 'n' }])).toEqual({ level: 'sufficient', events: 100, missing: [] });
  });
});
