/**
 * Structured output (zod validation, one repair request quoting the errors, a typed error after the second failure)
 * and the response cache (hit on an identical request, miss when the config differs, no caching of errors or of
 * answers produced after a fallback, an injectable store), against a local OpenAI-compatible server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NetraError } from '../src/errors.js';
import { createLlmClient, payloadMessage, type LlmCallEvent, type LlmResponseCache, type LlmResult } from '../src/llm/index.js';
import { startFakeLlmServer, type FakeLlmServer } from './helpers/llm-fake-server.js';

let server: FakeLlmServer;
beforeEach(async () => {
  server = await startFakeLlmServer();
});
afterEach(async () => {
  await server.close();
});

const Triage = z.object({ category: z.enum(['cost_optimization', 'general_inquiry']), confidence: z.number().min(0).max(1) });
const provider = () => ({ type: 'openai-compatible' as const, baseUrl: server.url, apiKey: 'sk-test-0000000000', model: 'gpt-test' });
const ask = { messages: [{ role: 'user' as const, content: 'Reduce costs but keep quality' }] };

describe('completeStructured', () => {
  it('valid JSON (even inside a code fence) is parsed and validated; the schema goes out in the system prompt', async () => {
    server.queue({ kind: 'ok', text: 'Here you go:\n```json\n{"category":"cost_optimization","confidence":0.9}\n```' });
    const client = createLlmClient({ providers: [provider()] });
    const r = await client.completeStructured(Triage, { ...ask, system: 'You triage requests.' });
    expect(r.data).toEqual({ category: 'cost_optimization', confidence: 0.9 });
    expect(r.repaired).toBe(false);
    expect(server.requests).toHaveLength(1);
    const sys = (server.requests[0]!.body.messages as Array<{ role: string; content: string }>)[0]!;
    expect(sys.role).toBe('system');
    expect(sys.content).toContain('You triage requests.');
    expect(sys.content).toContain('"cost_optimization"');
  });

  it('invalid then repaired: one repair request that quotes the validation errors', async () => {
    server.queue(
      { kind: 'ok', text: '{"category":"cheaper","confidence":3}' },
      { kind: 'ok', text: '{"category":"cost_optimization","confidence":0.7}' },
    );
    const client = createLlmClient({ providers: [provider()] });
    const r = await client.completeStructured(Triage, ask);
    expect(r.data).toEqual({ category: 'cost_optimization', confidence: 0.7 });
    expect(r.repaired).toBe(true);
    expect(server.requests).toHaveLength(2);
    const msgs = server.requests[1]!.body.messages as Array<{ role: string; content: string }>;
    expect(msgs[msgs.length - 2]).toEqual({ role: 'assistant', content: '{"category":"cheaper","confidence":3}' });
    const repair = msgs[msgs.length - 1]!;
    expect(repair.role).toBe('user');
    expect(repair.content).toContain('category:');
    expect(repair.content).toContain('confidence:');
  });

  it('invalid twice: a typed NetraError with the validation errors, no third request', async () => {
    server.queue({ kind: 'ok', text: 'I think it is about cost.' }, { kind: 'ok', text: '{"category":"cost_optimization"}' });
    const client = createLlmClient({ providers: [provider()] });
    const err = await client.completeStructured(Triage, ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetraError);
    expect((err as NetraError).code).toBe('NETRA_E_LLM_INVALID_OUTPUT');
    const details = (err as NetraError).details as { first_errors: string[]; errors: string[]; provider: string };
    expect(details.first_errors[0]).toMatch(/^not valid JSON/);
    expect(details.errors.join(' ')).toContain('confidence');
    expect(details.provider).toBe('openai-compatible');
    expect(server.requests).toHaveLength(2);
    // the invalid reply was not cached: the same call goes to the server again
    server.queue({ kind: 'ok', text: '{"category":"general_inquiry","confidence":0.5}' });
    expect((await client.completeStructured(Triage, ask)).data.category).toBe('general_inquiry');
    expect(server.requests).toHaveLength(3);
  });

  it('the built-in model answers JSON with the payload draft', async () => {
    const client = createLlmClient();
    const draft = { category: 'cost_optimization', confidence: 0.85 };
    const r = await client.completeStructured(Triage, { messages: [payloadMessage({ kind: 'report', facts: {}, draft })] });
    expect(r.data).toEqual(draft);
    expect(r.result.provider).toBe('builtin');
  });
});

describe('response cache', () => {
  it('identical request: hit (no second request); a different temperature, system or maxTokens: miss', async () => {
    server.otherwise = { kind: 'ok', text: 'cached answer' };
    const calls: LlmCallEvent[] = [];
    const client = createLlmClient({ providers: [provider()], onCall: (e) => calls.push(e) });
    const a = await client.complete({ ...ask, temperature: 0 });
    const b = await client.complete({ ...ask, temperature: 0 });
    expect(server.requests).toHaveLength(1);
    expect(a.cached).toBeUndefined();
    expect(b).toMatchObject({ text: 'cached answer', cached: true, provider: 'openai-compatible', usage: a.usage });
    expect(calls.map((c) => c.outcome)).toEqual(['ok', 'cache_hit']);
    await client.complete({ ...ask, temperature: 0.7 });
    expect(server.requests).toHaveLength(2);
    await client.complete({ ...ask, temperature: 0, system: 'other' });
    expect(server.requests).toHaveLength(3);
    await client.complete({ ...ask, temperature: 0, maxTokens: 99 });
    expect(server.requests).toHaveLength(4);
    await client.complete({ ...ask, temperature: 0, cache: false });
    expect(server.requests).toHaveLength(5);
    // a stream of a cached request is served from the cache too
    const chunks: string[] = [];
    for await (const c of client.stream({ ...ask, temperature: 0 })) if (c.type === 'delta') chunks.push(c.text);
    expect(chunks.join('')).toBe('cached answer');
    expect(server.requests).toHaveLength(5);
  });

  it('errors and answers produced after a fallback are not cached', async () => {
    server.queue({ kind: 'status', status: 400 });
    const client = createLlmClient({ providers: [provider()] });
    const first = await client.complete(ask);
    expect(first.provider).toBe('builtin');
    const second = await client.complete(ask);
    expect(second.provider).toBe('openai-compatible');
    expect(server.requests).toHaveLength(2);
  });

  it('entries expire after the TTL', async () => {
    const client = createLlmClient({ providers: [provider()], cacheTtlMs: 50 });
    await client.complete(ask);
    await client.complete(ask);
    expect(server.requests).toHaveLength(1);
    const deadline = performance.now() + 60;
    // the TTL is the behaviour under test: wait until it has passed
    await new Promise((r) => setTimeout(r, Math.max(0, deadline - performance.now())));
    await client.complete(ask);
    expect(server.requests).toHaveLength(2);
  });

  it('an injected cache store is used, and a failing store never fails the call', async () => {
    const store = new Map<string, { value: LlmResult; ttl: number }>();
    const cache: LlmResponseCache = {
      get: async (k) => store.get(k)?.value,
      set: async (k, value, ttl) => void store.set(k, { value, ttl }),
    };
    const client = createLlmClient({ providers: [provider()], cache });
    await client.complete(ask);
    expect(store.size).toBe(1);
    expect([...store.values()][0]!.ttl).toBe(3_600_000);
    expect([...store.keys()][0]).toMatch(/^llm:/);
    await client.complete(ask);
    expect(server.requests).toHaveLength(1);

    const broken = createLlmClient({
      providers: [provider()],
      cache: {
        get: async () => {
          throw new Error('redis down');
        },
        set: async () => {
          throw new Error('redis down');
        },
      },
    });
    expect((await broken.complete(ask)).provider).toBe('openai-compatible');
  });
});
