/**
 * Resilience of the client against a local server: retries with the configured backoff (gaps measured at the server),
 * Retry-After, 5xx, the fallback chain to the built-in model, per-attempt timeouts, caller cancellation, the circuit
 * breaker opening and closing, and the metrics hook.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BUILTIN_MODEL,
  backoffCeilingMs,
  createLlmClient,
  type LlmCallEvent,
  type LlmFallbackEvent,
  type LlmStreamChunk,
} from '../src/llm/index.js';
import { DEFAULT_TEXT, startFakeLlmServer, type FakeLlmServer } from './helpers/llm-fake-server.js';

let server: FakeLlmServer;
let server2: FakeLlmServer;
beforeEach(async () => {
  server = await startFakeLlmServer();
  server2 = await startFakeLlmServer();
});
afterEach(async () => {
  vi.useRealTimers();
  await server.close();
  await server2.close();
});

const ask = { messages: [{ role: 'user' as const, content: 'where does my money go?' }], cache: false };
const gaps = (s: FakeLlmServer): number[] => s.requests.slice(1).map((r, i) => r.at - s.requests[i]!.at);
/** timers fire at or after their delay; allow 2 ms for clock granularity below, generous room above for scheduling */
const SLACK_BELOW = 2;
const SLACK_ABOVE = 150;

function openai(s: FakeLlmServer, name?: string) {
  return { type: 'openai-compatible' as const, baseUrl: s.url, apiKey: 'sk-test-0000000000', model: 'gpt-test', ...(name ? { name } : {}) };
}

describe('retries', () => {
  it('500 twice then success: 3 requests, gaps within the jittered exponential schedule', async () => {
    server.queue({ kind: 'status', status: 500 }, { kind: 'status', status: 503 });
    const calls: LlmCallEvent[] = [];
    const o = { baseDelayMs: 80, backoffExponent: 1.5, maxDelayMs: 15_000, jitter: 0.5 };
    const client = createLlmClient({ providers: [openai(server)], ...o, onCall: (e) => calls.push(e) });
    const r = await client.complete(ask);
    expect(r.text).toBe(DEFAULT_TEXT);
    expect(r.provider).toBe('openai-compatible');
    expect(server.requests).toHaveLength(3);
    const [g1, g2] = gaps(server);
    expect(backoffCeilingMs(o, 1)).toBe(80);
    expect(backoffCeilingMs(o, 2)).toBe(120);
    expect(g1).toBeGreaterThanOrEqual(80 * 0.5 - SLACK_BELOW);
    expect(g1).toBeLessThan(80 + SLACK_ABOVE);
    expect(g2).toBeGreaterThanOrEqual(120 * 0.5 - SLACK_BELOW);
    expect(g2).toBeLessThan(120 + SLACK_ABOVE);
    expect(calls.map((c) => c.outcome)).toEqual(['retry', 'retry', 'ok']);
  });

  it('without jitter the gaps follow base · exponent^(n−1) exactly (capped by maxDelayMs)', async () => {
    server.queue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const o = { baseDelayMs: 100, backoffExponent: 1.5, maxDelayMs: 130, jitter: 0.5, random: () => 0 };
    const client = createLlmClient({ providers: [openai(server)], ...o });
    await client.complete(ask);
    const [g1, g2] = gaps(server);
    expect(g1).toBeGreaterThanOrEqual(100 - SLACK_BELOW);
    expect(g1).toBeLessThan(100 + SLACK_ABOVE);
    expect(g2).toBeGreaterThanOrEqual(130 - SLACK_BELOW); // 150 capped to 130
    expect(g2).toBeLessThan(130 + SLACK_ABOVE);
  });

  it('429 with Retry-After waits what the server asked, not the backoff', async () => {
    server.queue({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const client = createLlmClient({ providers: [openai(server)], baseDelayMs: 10 });
    const r = await client.complete(ask);
    expect(r.provider).toBe('openai-compatible');
    expect(server.requests).toHaveLength(2);
    expect(gaps(server)[0]).toBeGreaterThanOrEqual(1000 - SLACK_BELOW);
    expect(gaps(server)[0]).toBeLessThan(1000 + SLACK_ABOVE);
  });

  it('429 with retry-after-ms, and 429 without a header uses the backoff', async () => {
    server.queue({ kind: 'status', status: 429, headers: { 'retry-after-ms': '250' } }, { kind: 'status', status: 429 });
    const client = createLlmClient({ providers: [openai(server)], baseDelayMs: 20, jitter: 0 });
    await client.complete(ask);
    const [g1, g2] = gaps(server);
    expect(g1).toBeGreaterThanOrEqual(250 - SLACK_BELOW);
    expect(g1).toBeLessThan(250 + SLACK_ABOVE);
    expect(g2).toBeGreaterThanOrEqual(30 - SLACK_BELOW); // 20 · 1.5
    expect(g2).toBeLessThan(30 + SLACK_ABOVE);
  });

  it('a Retry-After beyond maxDelayMs is not waited for: the chain moves on at once', async () => {
    server.queue({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    const fallbacks: LlmFallbackEvent[] = [];
    const client = createLlmClient({ providers: [openai(server)], onFallback: (e) => fallbacks.push(e) });
    const t0 = performance.now();
    const r = await client.complete(ask);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(server.requests).toHaveLength(1);
    expect(r.provider).toBe('builtin');
    expect(fallbacks[0]!.reason).toContain('HTTP 429');
  });
});

describe('fallback chain', () => {
  it('500 three times at each remote provider → anthropic → builtin, onFallback for each hop', async () => {
    server.otherwise = { kind: 'status', status: 500 };
    server2.otherwise = { kind: 'status', status: 502 };
    const fallbacks: LlmFallbackEvent[] = [];
    const calls: LlmCallEvent[] = [];
    const client = createLlmClient({
      providers: [openai(server), { type: 'anthropic', baseUrl: server2.url, apiKey: 'ak-test-000000', model: 'claude-test' }],
      baseDelayMs: 5,
      onFallback: (e) => fallbacks.push(e),
      onCall: (e) => calls.push(e),
    });
    expect(client.chain.map((c) => c.name)).toEqual(['openai-compatible', 'anthropic', 'builtin']);
    const r = await client.complete(ask);
    expect(server.requests).toHaveLength(3);
    expect(server2.requests).toHaveLength(3);
    expect(r.provider).toBe('builtin');
    expect(r.model).toBe(BUILTIN_MODEL);
    expect(r.text).toContain('built-in deterministic model');
    expect(fallbacks).toEqual([
      {
        from: 'openai-compatible',
        to: 'anthropic',
        reason: expect.stringMatching(/^HTTP 500: .*\(3 attempts\)$/),
        error_kind: 'server',
        http_status: 500,
        attempts: 3,
      },
      {
        from: 'anthropic',
        to: 'builtin',
        reason: expect.stringMatching(/^HTTP 502: .*\(3 attempts\)$/),
        error_kind: 'server',
        http_status: 502,
        attempts: 3,
      },
    ]);
    expect(calls.map((c) => `${c.provider}:${c.outcome}`)).toEqual([
      'openai-compatible:retry',
      'openai-compatible:retry',
      'openai-compatible:error',
      'openai-compatible:fallback',
      'anthropic:retry',
      'anthropic:retry',
      'anthropic:error',
      'anthropic:fallback',
      'builtin:ok',
    ]);
  });

  it('a stream that fails before its first delta falls back and streams from the next provider', async () => {
    server.otherwise = { kind: 'status', status: 500 };
    server2.queue({ kind: 'ok', text: 'streamed by anthropic' });
    const fallbacks: LlmFallbackEvent[] = [];
    const client = createLlmClient({
      providers: [openai(server), { type: 'anthropic', baseUrl: server2.url, apiKey: 'ak-test-000000', model: 'claude-test' }],
      maxRetries: 0,
      onFallback: (e) => fallbacks.push(e),
    });
    const chunks: LlmStreamChunk[] = [];
    for await (const c of client.stream(ask)) chunks.push(c);
    expect(
      chunks
        .filter((c) => c.type === 'delta')
        .map((c) => (c as { text: string }).text)
        .join(''),
    ).toBe('streamed by anthropic');
    expect(chunks[chunks.length - 1]).toMatchObject({
      type: 'done',
      provider: 'anthropic',
      usage: { prompt_tokens: 11, completion_tokens: 7 },
    });
    expect(fallbacks.map((f) => `${f.from}>${f.to}`)).toEqual(['openai-compatible>anthropic']);
  });
});

describe('timeouts and cancellation', () => {
  it('a server that never answers: each attempt times out, is retried, then the chain falls back', async () => {
    server.otherwise = { kind: 'hang' };
    const fallbacks: LlmFallbackEvent[] = [];
    const client = createLlmClient({
      providers: [openai(server)],
      timeoutMs: 150,
      maxRetries: 1,
      baseDelayMs: 10,
      jitter: 0,
      onFallback: (e) => fallbacks.push(e),
    });
    const t0 = performance.now();
    const r = await client.complete(ask);
    const elapsed = performance.now() - t0;
    expect(r.provider).toBe('builtin');
    expect(server.requests).toHaveLength(2);
    expect(fallbacks[0]).toMatchObject({ reason: 'timeout: no answer within 150 ms (2 attempts)', error_kind: 'timeout', attempts: 2 });
    expect(elapsed).toBeGreaterThanOrEqual(2 * 150 + 10 - SLACK_BELOW);
    expect(elapsed).toBeLessThan(2 * 150 + 10 + 400);
  });

  it('a stream whose first chunk never comes times out the same way', async () => {
    server.otherwise = { kind: 'hang' };
    const client = createLlmClient({ providers: [openai(server)], timeoutMs: 100, maxRetries: 0 });
    const chunks: LlmStreamChunk[] = [];
    for await (const c of client.stream(ask)) chunks.push(c);
    expect(chunks[chunks.length - 1]).toMatchObject({ type: 'done', provider: 'builtin' });
    expect(server.requests).toHaveLength(1);
  });

  it('a stream that stalls after its first delta fails with an idle timeout (no fallback once output has started)', async () => {
    server.queue({ kind: 'stall', text: 'partial ' });
    const calls: LlmCallEvent[] = [];
    const client = createLlmClient({ providers: [openai(server)], timeoutMs: 120, onCall: (e) => calls.push(e) });
    const deltas: string[] = [];
    const t0 = performance.now();
    const err = await (async () => {
      for await (const c of client.stream(ask)) if (c.type === 'delta') deltas.push(c.text);
    })().catch((e: unknown) => e);
    expect(deltas).toEqual(['partial ']);
    expect((err as Error).message).toBe('openai-compatible: stream idle for 120 ms');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120 - SLACK_BELOW);
    expect(calls.map((c) => c.outcome)).toEqual(['error']);
    expect(server.requests).toHaveLength(1);
  });

  it('the caller aborting stops the request at once, with no fallback', async () => {
    server.otherwise = { kind: 'hang' };
    const fallbacks: LlmFallbackEvent[] = [];
    const client = createLlmClient({ providers: [openai(server)], onFallback: (e) => fallbacks.push(e) });
    const ac = new AbortController();
    const p = client.complete({ ...ask, signal: ac.signal });
    await server.received(1);
    const t0 = performance.now();
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(200);
    expect((err as Error).name).toBe('AbortError');
    expect(fallbacks).toEqual([]);
  });

  it('the caller aborting during a backoff wait rejects at once and sends no further request', async () => {
    server.otherwise = { kind: 'status', status: 500 };
    const client = createLlmClient({ providers: [openai(server)], baseDelayMs: 5_000, jitter: 0 });
    const ac = new AbortController();
    const p = client.complete({ ...ask, signal: ac.signal });
    await server.received(1);
    const t0 = performance.now();
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(200);
    expect((err as Error).name).toBe('AbortError');
    expect(server.requests).toHaveLength(1);
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures (no request reaches the server), closes after a successful half-open probe', async () => {
    server.otherwise = { kind: 'status', status: 500 };
    const fallbacks: LlmFallbackEvent[] = [];
    // defaults for the breaker: 5 consecutive failures, half-open after 30 s (the clock is moved, not waited for)
    const client = createLlmClient({ providers: [openai(server)], maxRetries: 0, onFallback: (e) => fallbacks.push(e) });
    expect(client.breakerState('openai-compatible')).toBe('closed');
    vi.useFakeTimers({ toFake: ['Date'] });
    for (let i = 0; i < 5; i++) expect((await client.complete(ask)).provider).toBe('builtin');
    expect(server.requests).toHaveLength(5);
    expect(client.breakerState('openai-compatible')).toBe('open');

    const r = await client.complete(ask);
    expect(r.provider).toBe('builtin');
    expect(server.requests).toHaveLength(5);
    expect(fallbacks[3]!.reason).not.toContain('circuit');
    expect(fallbacks[4]).toMatchObject({
      reason: expect.stringMatching(/^HTTP 500: .*; circuit breaker now open after 5 consecutive failures$/),
      error_kind: 'server',
      attempts: 1,
      http_status: 500,
    });
    expect(fallbacks[5]).toMatchObject({
      reason: 'circuit breaker open after 5 consecutive failures; not called',
      error_kind: 'breaker_open',
      attempts: 0,
    });

    vi.setSystemTime(Date.now() + 29_000);
    await client.complete(ask);
    expect(server.requests).toHaveLength(5); // still open before 30 s

    vi.setSystemTime(Date.now() + 1_500);
    server.queue({ kind: 'ok', text: 'recovered' });
    const probe = await client.complete(ask);
    expect(server.requests).toHaveLength(6);
    expect(probe.text).toBe('recovered');
    expect(client.breakerState('openai-compatible')).toBe('closed');
    expect(client.breakerState('builtin')).toBe('closed');
    expect(client.breakerState('nope')).toBeUndefined();
  });

  it('a failed half-open probe opens the breaker again; breakers are per provider', async () => {
    server.otherwise = { kind: 'status', status: 500 };
    const client = createLlmClient({
      providers: [openai(server, 'primary'), openai(server2, 'secondary')],
      maxRetries: 0,
      breakerThreshold: 2,
      halfOpenAfterMs: 10_000,
    });
    vi.useFakeTimers({ toFake: ['Date'] });
    await client.complete(ask);
    await client.complete(ask); // primary fails twice → open; secondary answered both
    expect(client.breakerState('primary')).toBe('open');
    expect(client.breakerState('secondary')).toBe('closed');
    expect(server2.requests).toHaveLength(2);
    vi.setSystemTime(Date.now() + 10_001);
    const r = await client.complete(ask);
    expect(server.requests).toHaveLength(3); // the probe
    expect(r.provider).toBe('secondary');
    expect(client.breakerState('primary')).toBe('open');
  });
});
