/**
 * The per-call onFallback of the LLM client: called once per hop for this call only (besides the client-wide hook), with
 * a precise reason and error_kind; structured output that stays invalid after the repair request falls back to the next
 * link (error_kind invalid_output) instead of failing the call; listeners that throw never break a call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLlmClient, payloadMessage, type LlmFallbackEvent } from '../src/llm/index.js';
import { startFakeLlmServer, type FakeLlmServer } from './helpers/llm-fake-server.js';

let server: FakeLlmServer;
beforeEach(async () => {
  server = await startFakeLlmServer();
});
afterEach(async () => {
  await server.close();
});

const KEY = 'sk-test-PERCALLSECRET99999';
const openai = () => ({ type: 'openai-compatible' as const, baseUrl: server.url, apiKey: KEY, model: 'gpt-test' });
const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }], cache: false });

describe('per-call onFallback', () => {
  it('fires for the call that fell back only, after the client-wide hook, with error_kind and http_status', async () => {
    const global: LlmFallbackEvent[] = [];
    const client = createLlmClient({ providers: [openai()], maxRetries: 0, onFallback: (e) => global.push(e) });
    const mine: LlmFallbackEvent[] = [];
    const other: LlmFallbackEvent[] = [];
    server.queue({ kind: 'status', status: 503, body: `overloaded (auth: Bearer ${KEY})` }, { kind: 'ok', text: 'fine' });
    const r1 = await client.complete({ ...ask('one'), onFallback: (e) => mine.push(e) });
    const r2 = await client.complete({ ...ask('two'), onFallback: (e) => other.push(e) });
    expect([r1.provider, r2.provider]).toEqual(['builtin', 'openai-compatible']);
    expect(mine).toEqual([
      {
        from: 'openai-compatible',
        to: 'builtin',
        reason: expect.stringMatching(/^HTTP 503: overloaded/),
        error_kind: 'server',
        http_status: 503,
        attempts: 1,
      },
    ]);
    expect(other).toEqual([]);
    expect(global).toEqual(mine);
    expect(JSON.stringify(mine)).not.toContain('PERCALLSECRET');
    // the per-call listener is not sent to the provider
    expect(Object.keys(server.requests[0]!.body)).not.toContain('onFallback');
  });

  it('a listener that throws does not break the call', async () => {
    server.queue({ kind: 'status', status: 500 });
    const client = createLlmClient({ providers: [openai()], maxRetries: 0 });
    const r = await client.complete({
      ...ask('x'),
      onFallback: () => {
        throw new Error('listener bug');
      },
    });
    expect(r.provider).toBe('builtin');
  });

  it('stream: the hop before the first delta is reported to the per-call listener', async () => {
    server.queue({ kind: 'status', status: 502 });
    const client = createLlmClient({ providers: [openai()], maxRetries: 0 });
    const hops: LlmFallbackEvent[] = [];
    let text = '';
    for await (const c of client.stream({ ...ask('stream it'), onFallback: (e) => hops.push(e) })) if (c.type === 'delta') text += c.text;
    expect(text.length).toBeGreaterThan(0);
    expect(hops.map((h) => [h.from, h.to, h.error_kind, h.http_status])).toEqual([['openai-compatible', 'builtin', 'server', 502]]);
  });
});

describe('structured output falls back when it stays invalid', () => {
  const Triage = z.object({ category: z.string(), confidence: z.number().min(0).max(1) });

  it('invalid twice at the provider → the built-in model answers the draft; one invalid_output hop', async () => {
    server.queue({ kind: 'ok', text: 'cost, I think' }, { kind: 'ok', text: '{"category":"cost"}' });
    const client = createLlmClient({ providers: [openai()] });
    const hops: LlmFallbackEvent[] = [];
    const draft = { category: 'cost_optimization', confidence: 0.6 };
    const r = await client.completeStructured(Triage, {
      messages: [payloadMessage({ kind: 'report', draft })],
      onFallback: (e) => hops.push(e),
    });
    expect(r.data).toEqual(draft);
    expect(r.result.provider).toBe('builtin');
    expect(server.requests).toHaveLength(2);
    expect(hops).toEqual([
      {
        from: 'openai-compatible',
        to: 'builtin',
        error_kind: 'invalid_output',
        attempts: 2,
        reason: expect.stringMatching(/^invalid structured output after one repair request: confidence: /),
      },
    ]);
  });
});
