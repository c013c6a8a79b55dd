/**
 * The built-in deterministic model: same input, same output; report prose states the exact figures it was given
 * (formatted by unit); free-form prompts get a deterministic answer that says it is the built-in model; streaming
 * yields the same text.
 */
import { describe, expect, it } from 'vitest';
import {
  BuiltinProvider,
  createLlmClient,
  formatByUnit,
  formatUsd,
  payloadMessage,
  renderReport,
  type LlmStreamChunk,
  type ReportPayload,
} from '../src/llm/index.js';

const report: ReportPayload = {
  kind: 'report',
  title: 'Where your LLM money goes (last 30 days)',
  facts: {
    monthly_spend_usd: 18234.5,
    total_requests: 1_250_000,
    p95_latency_ms: 2310,
    error_rate: 0.0213,
    cache_hit_share_pct: 37.5,
    spend_by_model_usd: { 'gpt-4o': 12000.25, 'claude-3-5-sonnet': 6234.25 },
    top_app: 'support-bot',
  },
  comparisons: [{ label: 'Monthly spend', current: 18234.5, projected: 11020, unit: 'usd' }],
  recommendations: [
    { title: 'Route short prompts from gpt-4o to gpt-4o-mini', monthly_savings_usd: 5210.4, risk: 'low', confidence: 0.82 },
    { title: 'Cache exact duplicate prompts', monthly_savings_usd: 2004.1, risk: 'low' },
  ],
  risks: ['quality on long prompts must be checked with a 5% canary'],
  missing_data: ['no prompt text: semantic-cache analysis skipped; send prompt_hash or text'],
};

describe('built-in model', () => {
  it('report prose contains every figure it was given, formatted by unit', async () => {
    const p = new BuiltinProvider();
    const r = await p.complete({ messages: [payloadMessage(report)] });
    for (const s of [
      'Monthly spend is $18,234.50.',
      'Total requests is 1,250,000.',
      'P95 latency is 2,310 ms.',
      'Error rate is 2.13%.',
      'Cache hit share is 37.5%.',
      'Spend by model: gpt-4o $12,000.25 and claude-3-5-sonnet $6,234.25.',
      'Top app: support-bot.',
      'Monthly spend goes from $18,234.50 to $11,020.00 (-39.6%, -$7,214.50).',
      '2 recommendations, each with what it saves on its own:',
      '1. Route short prompts from gpt-4o to gpt-4o-mini; saves $5,210.40 per month on its own ($62,524.80 per year); risk low; confidence 82.0%.',
      '2. Cache exact duplicate prompts; saves $2,004.10 per month on its own ($24,049.20 per year); risk low.',
      'Risks: quality on long prompts must be checked with a 5% canary.',
      'Missing data: no prompt text: semantic-cache analysis skipped; send prompt_hash or text.',
    ])
      expect(r.text).toContain(s);
    expect(r.provider).toBe('builtin');
    expect(r.usage.completion_tokens).toBe(Math.ceil(r.text.length / 4));
  });

  it('is deterministic: same input, same output, also through a new client', async () => {
    const a = await new BuiltinProvider().complete({ messages: [payloadMessage(report)] });
    const b = await createLlmClient({ cache: false }).complete({ messages: [payloadMessage(report)] });
    expect(b.text).toBe(a.text);
    expect(b.usage).toEqual(a.usage);
    expect(renderReport(report)).toBe(a.text);
    const other = await new BuiltinProvider().complete({
      messages: [payloadMessage({ ...report, facts: { ...report.facts, monthly_spend_usd: 18234.51 } })],
    });
    expect(other.text).toContain('$18,234.51');
    expect(other.text).not.toBe(a.text);
  });

  it('a free-form prompt gets a deterministic answer that says it is the built-in model and restates the figures', async () => {
    const p = new BuiltinProvider();
    const q = { messages: [{ role: 'user' as const, content: 'Reduce latency by 3x for gpt-4o while usage grows 50%' }] };
    const r1 = await p.complete(q);
    const r2 = await p.complete(q);
    expect(r1.text).toBe(r2.text);
    expect(r1.text).toContain("Netra's built-in deterministic model");
    expect(r1.text).toContain('3x');
    expect(r1.text).toContain('50%');
    expect(r1.text).toContain('gpt-4o');
  });

  it('streams the same text as complete(), then one done chunk', async () => {
    const p = new BuiltinProvider();
    const full = await p.complete({ messages: [payloadMessage(report)] });
    const chunks: LlmStreamChunk[] = [];
    for await (const c of p.stream({ messages: [payloadMessage(report)] })) chunks.push(c);
    const deltas = chunks.filter((c): c is Extract<LlmStreamChunk, { type: 'delta' }> => c.type === 'delta');
    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.map((d) => d.text).join('')).toBe(full.text);
    expect(chunks[chunks.length - 1]).toMatchObject({ type: 'done', usage: full.usage, provider: 'builtin' });
    expect(chunks.filter((c) => c.type === 'done')).toHaveLength(1);
  });

  it('formats figures by unit', () => {
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(-12.5)).toBe('-$12.50');
    expect(formatByUnit(0.5, 'share')).toBe('50.0%');
    expect(formatByUnit(12345.6, 'tokens')).toBe('12,346 tokens');
    expect(formatByUnit(3.14159, undefined)).toBe('3.14');
  });

  it('an aborted signal rejects', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(new BuiltinProvider().complete({ messages: [payloadMessage(report)], signal: ac.signal })).rejects.toThrow(/aborted/i);
  });
});
