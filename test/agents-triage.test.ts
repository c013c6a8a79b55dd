/**
 * Triage (pure): categories, entities, goal, growth scenarios, request limits, data sufficiency; synthetic-data parsing;
 * dataset-admin routing and dataset names; approvals read from the thread's previous report.
 */
import { describe, expect, it } from 'vitest';
import {
  assessSufficiency,
  classificationConfidence,
  classify,
  datasetActionOf,
  extractEntities,
  requestProblem,
  triage,
} from '../src/agents/triage.js';
import { isConfirmation, isRefusal, pendingApproval } from '../src/agents/approvals.js';
import { datasetsNamed } from '../src/agents/dataset-admin.js';
import { parseSyntheticRequest } from '../src/agents/synthetic-data.js';
import type { WorkspaceStats } from '../src/store/types.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const models = loadPriceCatalog().entries.flatMap((e) => [e.id, ...e.aliases]);

const stats = (over: Partial<WorkspaceStats> = {}): WorkspaceStats => ({
  workspace: 'w',
  from: null,
  to: null,
  events: 100,
  errors: 0,
  prompt_tokens: 1000,
  completion_tokens: 500,
  cached_prompt_tokens: 0,
  spend_usd: 12.5,
  latency_p50_ms: 800,
  latency_p95_ms: 2400,
  estimated_token_events: 0,
  estimated_tokens: 0,
  estimated_token_share: 0,
  unpriced_events: 0,
  first_event: 1,
  last_event: 2,
  by_model: [],
  ...over,
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
    const e = extractEntities(
      'Compare gpt-4o and claude-sonnet-4-5 p95 latency and cost over the last 7 days; cut 30% or 3x faster, under $500 and 200 ms',
      models,
    );
    expect(e.models.sort()).toEqual(['claude-sonnet-4-5', 'gpt-4o']);
    expect(e.metrics).toEqual(expect.arrayContaining(['latency', 'p95', 'cost']));
    expect(e.time_ranges).toEqual([{ text: 'last 7 days', ms: 7 * 86_400_000 }]);
    expect(e.targets).toEqual(
      expect.arrayContaining([
        { text: '3x', kind: 'multiplier', value: 3 },
        { text: '30%', kind: 'percent', value: 30 },
        { text: '$500', kind: 'absolute', value: 500, unit: 'usd' },
        { text: '200 ms', kind: 'absolute', value: 200, unit: 'ms' },
      ]),
    );
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
    expect(parseSyntheticRequest('Generate 10k synthetic events for a RAG support bot')).toEqual({
      target: null,
      preset: 'rag-assistant',
      events: 10_000,
      days: 7,
      confirmed: false,
    });
    expect(parseSyntheticRequest('confirm: generate 120,000 events for a customer support chatbot over 14 days')).toEqual({
      target: null,
      preset: 'chat-support',
      events: 120_000,
      days: 14,
      confirmed: true,
    });
    expect(parseSyntheticRequest('Generate 2k events for a coding assistant into workspace acme').target).toBe('acme');
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
    expect(s.missing[0]).toMatchObject({
      field: 'prompt_text',
      impact: 'no prompt text: semantic-cache analysis skipped',
      how: expect.stringMatching(/prompt_hash or prompt_text/),
    });
  });
  it('everything present → sufficient', () => {
    expect(assessSufficiency(stats(), [{ kind: 'batch_api', reason: 'r', needs: 'n' }])).toEqual({
      level: 'sufficient',
      events: 100,
      missing: [],
    });
  });
});

describe('dataset admin routing', () => {
  it.each([
    ['List my datasets', 'list'],
    ['What data do I have?', 'list'],
    ['show me the data sets', 'list'],
    ['Which apps are there?', 'list'],
    ['Delete the rag-assistant dataset', 'delete'],
    ['remove the support-bot events', 'delete'],
    ['drop app docs-qa', 'delete'],
    ['delete events older than 30 days', 'delete'],
    ['Reprice my events', 'reprice'],
    ['recompute costs with the new prices', 'reprice'],
    ['Recalculate spend with the new pricing', 'reprice'],
  ])('%s → dataset_admin %s', (text, action) => {
    const t = triage(text, models);
    expect(datasetActionOf(text)).toBe(action);
    expect(t).toMatchObject({ admin: 'dataset_admin', dataset_action: action, growth_factor: null });
    expect(t.category).toBe(action === 'reprice' ? 'supply_catalog_management' : 'configuration_settings');
  });

  it.each([
    'Where does my money go?',
    'Reduce costs but keep quality',
    'Update the price catalog with our pricing',
    'What happens if usage grows 50%?',
    'Which model should I use instead of gpt-4o?',
    'Reduce latency by 3x',
  ])('%s is not a dataset request', (text) => {
    expect(datasetActionOf(text)).toBeNull();
    expect(triage(text, models)).toMatchObject({ admin: null, dataset_action: null });
  });

  it('a generation request stays with the synthetic-data pipeline', () => {
    expect(triage('Generate 10k synthetic events for a RAG support bot', models)).toMatchObject({
      admin: 'synthetic_data',
      dataset_action: null,
    });
  });

  it('names datasets exactly (whole tokens, case-insensitive, longest first)', () => {
    const apps = ['docs-qa', 'docs', 'support-bot', 'bot'];
    expect(datasetsNamed('Delete the Docs-QA dataset', apps)).toEqual(['docs-qa']);
    expect(datasetsNamed('delete docs and support-bot', apps)).toEqual(['support-bot', 'docs']);
    expect(datasetsNamed('delete the robot data', apps)).toEqual([]);
  });
});

describe('approvals from thread state', () => {
  it.each(['yes', 'Yes!', 'confirm', 'Confirmed.', 'yes, go ahead', 'ok do it', 'Go ahead please', 'yes please', 'do it'])(
    '"%s" confirms',
    (text) => {
      expect(isConfirmation(text)).toBe(true);
      expect(isRefusal(text)).toBe(false);
    },
  );

  it.each(['yes but only half of it', 'confirm: generate 200k events', 'please', 'Where does my money go?', 'no', 'yesterday'])(
    '"%s" does not confirm',
    (text) => {
      expect(isConfirmation(text)).toBe(false);
    },
  );

  it.each(['no', 'cancel', "don't", 'No, keep it', 'nope.'])('"%s" declines', (text) => {
    expect(isRefusal(text)).toBe(true);
  });

  it('reads the pending action of the previous report, exactly, for this workspace only', () => {
    const del = { content: '…', approval_required: true, action: 'delete_dataset', app: 'docs-qa', events: 920, workspace: 'w' };
    expect(pendingApproval(del, 'w')).toEqual({ action: 'delete_dataset', app: 'docs-qa', events: 920, workspace: 'w' });
    expect(pendingApproval(del, 'other')).toBeNull();
    expect(pendingApproval({ ...del, approval_required: false }, 'w')).toBeNull();
    expect(pendingApproval({ ...del, app: 42 }, 'w')).toBeNull();
    expect(pendingApproval({ ...del, action: 'drop_everything' }, 'w')).toBeNull();
    expect(pendingApproval(null, 'w')).toBeNull();
    expect(pendingApproval(undefined, 'w')).toBeNull();
    // a synthetic-generation report written before `action` existed
    expect(pendingApproval({ approval_required: true, preset: 'coding-assistant', events: 200_000, days: 7 }, 'w')).toEqual({
      action: 'generate_synthetic',
      preset: 'coding-assistant',
      events: 200_000,
      days: 7,
    });
  });
});

describe('classification confidence (gates the optional LLM refinement)', () => {
  it.each([
    ['Where does my money go?', 'high'],
    ['Reduce latency by 3x', 'high'],
    ['Can you help me with my account?', 'low'],
    ['hello there', 'low'],
    ['quality report', 'high'],
    ['What is Netra?', 'low'],
  ])('%s → %s', (text, level) => {
    expect(classificationConfidence(text)).toBe(level);
  });
});
