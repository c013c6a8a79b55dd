/**
 * The supervisor with remote LLM providers (the local fake provider server):
 * - precise agent_fallback: the reporting agent passes a per-call onFallback to the LLM client and emits one
 *   agent_fallback per hop of the chain, with the provider's own failure as the reason (HTTP status, attempts, timeout);
 *   the API key never appears in any event;
 * - LLM refinement of a low-confidence triage: only with a remote provider, validated structured output, applied with
 *   confidence ≥ 0.5; a confident triage or the built-in model alone makes no call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSupervisor } from '../src/agents/index.js';
import type { RunEventDraft, RunRequest } from '../src/agents/types.js';
import { createLlmClient } from '../src/llm/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startFakeLlmServer, type FakeLlmServer } from './helpers/llm-fake-server.js';

const KEY = 'sk-live-FALLBACKSECRET0123456789';
const request = (text: string): RunRequest => ({
  run_id: 'r1',
  thread_id: 't1',
  workspace: 'fb',
  user_id: 'u1',
  request: text,
  history: [],
});

let t: TestApp;
let server: FakeLlmServer;
let server2: FakeLlmServer;

beforeAll(async () => {
  t = await startTestApp();
  await t.app.generate({ preset: 'chat-support', events: 1500, days: 3, seed: 9, workspace: 'fb', end: Date.UTC(2026, 10, 20) });
}, 180_000);
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  server = await startFakeLlmServer();
  server2 = await startFakeLlmServer();
});
afterEach(async () => {
  await server.close();
  await server2.close();
});

async function run(llm: ReturnType<typeof createLlmClient>, text = 'Where does my money go?') {
  const sup = createSupervisor({ analysis: t.app.analysis, llm, catalog: () => t.app.catalog() });
  const events: RunEventDraft[] = [];
  const result = await sup.execute(
    request(text),
    async (e) => {
      events.push(e);
    },
    new AbortController().signal,
  );
  return { events, result, fallbacks: events.filter((e) => e.type === 'agent_fallback').map((e) => e.payload) };
}

describe('agent_fallback from the LLM chain', () => {
  it('provider answers 500: one agent_fallback to builtin whose reason names HTTP 500 and the attempts, without the key', async () => {
    server.otherwise = { kind: 'status', status: 500, body: `{"error":"upstream exploded; key ${KEY} rejected"}` };
    const llm = createLlmClient({
      providers: [{ type: 'openai-compatible', baseUrl: server.url, apiKey: KEY, model: 'gpt-test' }],
      maxRetries: 1,
      baseDelayMs: 1,
      cache: false,
    });
    const { events, result, fallbacks } = await run(llm);
    expect(result.status).toBe('completed');
    expect(server.requests).toHaveLength(2);
    expect(fallbacks).toEqual([
      {
        agent: 'reporting',
        from: 'openai-compatible',
        to: 'builtin',
        error_kind: 'server',
        http_status: 500,
        attempts: 2,
        reason: expect.stringMatching(/^HTTP 500: .*upstream exploded.*\(2 attempts\)$/),
      },
    ]);
    // the hop is reported during the reporting agent, before the report that the built-in model wrote
    const at = events.findIndex((e) => e.type === 'agent_fallback');
    expect(events[at - 1]).toMatchObject({ type: 'sub_agent_update', payload: { agent: 'reporting', status: 'started' } });
    expect(events[at + 1]).toMatchObject({
      type: 'sub_agent_update',
      payload: { agent: 'reporting', status: 'completed', provider: 'builtin' },
    });
    expect(events.find((e) => e.type === 'final_report')!.payload).toMatchObject({ provider: 'builtin' });
    const all = JSON.stringify(events);
    expect(all).not.toContain(KEY);
    expect(all).not.toContain('FALLBACKSECRET');
    expect(all).not.toMatch(/authorization|bearer/i);
  });

  it('two failing providers: one agent_fallback per hop, each with its own failure (429 then a timeout)', async () => {
    server.otherwise = { kind: 'status', status: 429, headers: { 'retry-after': '600' } };
    server2.otherwise = { kind: 'hang' };
    const llm = createLlmClient({
      providers: [
        { type: 'openai-compatible', baseUrl: server.url, apiKey: KEY, model: 'gpt-test' },
        { type: 'anthropic', baseUrl: server2.url, apiKey: 'ak-test-000000', model: 'claude-test' },
      ],
      maxRetries: 0,
      timeoutMs: 100,
      cache: false,
    });
    const { fallbacks, result } = await run(llm);
    expect(result.status).toBe('completed');
    expect(fallbacks).toEqual([
      {
        agent: 'reporting',
        from: 'openai-compatible',
        to: 'anthropic',
        error_kind: 'rate_limited',
        http_status: 429,
        attempts: 1,
        reason: expect.stringMatching(/^HTTP 429/),
      },
      {
        agent: 'reporting',
        from: 'anthropic',
        to: 'builtin',
        error_kind: 'timeout',
        attempts: 1,
        reason: 'timeout: no answer within 100 ms',
      },
    ]);
  });

  it('a healthy provider: no agent_fallback', async () => {
    server.otherwise = { kind: 'ok', text: 'All good: spend is where the report says.' };
    const llm = createLlmClient({
      providers: [{ type: 'openai-compatible', baseUrl: server.url, apiKey: KEY, model: 'gpt-test' }],
      cache: false,
    });
    const { fallbacks, result } = await run(llm);
    expect(fallbacks).toEqual([]);
    expect(result.content).toBe('All good: spend is where the report says.');
  });
});

describe('LLM refinement of a low-confidence triage', () => {
  const AMBIGUOUS = 'Can you help me with my account?'; // no keyword: general_inquiry, low confidence
  const remote = () =>
    createLlmClient({
      providers: [{ type: 'openai-compatible', baseUrl: server.url, apiKey: KEY, model: 'gpt-test' }],
      maxRetries: 0,
      cache: false,
    });
  const thinking = (events: RunEventDraft[]) =>
    events.find((e) => e.type === 'agent_thinking' && 'chain' in e.payload)!.payload as {
      triage: { category: string; goal: string };
      refinement?: Record<string, unknown>;
    };
  const tools = (events: RunEventDraft[]) =>
    events.filter((e) => e.type === 'tool_executing').map((e) => `${e.payload.agent}:${e.payload.tool}`);

  it("a remote model's confident answer replaces the keyword category and goal", async () => {
    server.queue({ kind: 'ok', text: '{"category":"cost_optimization","goal":"cost","confidence":0.9}' });
    server.otherwise = { kind: 'ok', text: 'report text' };
    const { events, result } = await run(remote(), AMBIGUOUS);
    expect(result.status).toBe('completed');
    expect(tools(events)[0]).toBe('triage:llm_triage');
    expect(JSON.stringify(server.requests[0]!.body)).toContain('Can you help me with my account?');
    expect(thinking(events).triage).toMatchObject({ category: 'cost_optimization', goal: 'cost' });
    expect(thinking(events).refinement).toEqual({
      provider: 'openai-compatible',
      model: 'gpt-test',
      deterministic: { category: 'general_inquiry', goal: 'balanced' },
      confidence: 0.9,
      applied: true,
    });
    // the chain then works for the refined goal
    expect(events.find((e) => e.type === 'tool_executing' && e.payload.agent === 'optimization')!.payload.args).toMatchObject({
      goal: 'cost',
    });
  });

  it('a low-confidence or invalid answer keeps the keyword triage', async () => {
    server.queue({ kind: 'ok', text: '{"category":"model_selection","goal":"quality","confidence":0.2}' });
    server.otherwise = { kind: 'ok', text: 'report text' };
    const low = await run(remote(), AMBIGUOUS);
    expect(thinking(low.events).triage).toMatchObject({ category: 'general_inquiry', goal: 'balanced' });
    expect(thinking(low.events).refinement).toMatchObject({ applied: false, confidence: 0.2 });

    // invalid twice → the built-in model answers the draft (one agent_fallback from triage), nothing changes
    server.queue({ kind: 'ok', text: 'general, probably' }, { kind: 'ok', text: '{"category":"nope"}' });
    const bad = await run(remote(), AMBIGUOUS);
    expect(thinking(bad.events).triage).toMatchObject({ category: 'general_inquiry', goal: 'balanced' });
    expect(thinking(bad.events).refinement).toMatchObject({ provider: 'builtin', applied: false });
    expect(bad.fallbacks[0]).toMatchObject({ agent: 'triage', from: 'openai-compatible', to: 'builtin', error_kind: 'invalid_output' });
  });

  it('no refinement call for a confident triage, nor with the built-in model alone', async () => {
    server.otherwise = { kind: 'ok', text: 'report text' };
    const confident = await run(remote(), 'Where does my money go?');
    expect(tools(confident.events)).not.toContain('triage:llm_triage');
    expect(server.requests).toHaveLength(1); // the reporting agent's call only
    const builtin = await run(createLlmClient({ cache: false }), AMBIGUOUS);
    expect(tools(builtin.events)).not.toContain('triage:llm_triage');
    expect(thinking(builtin.events).refinement).toBeUndefined();
  });
});
