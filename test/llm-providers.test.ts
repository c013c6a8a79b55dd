/**
 * The remote providers against a local server speaking their protocols: request shape, plain and streamed replies,
 * usage, non-retryable statuses, and API keys kept out of errors, fallback reasons and logs.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetraError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import {
  AnthropicProvider,
  LlmProviderError,
  OpenAiCompatibleProvider,
  createLlmClient,
  type LlmFallbackEvent,
  type LlmStreamChunk,
} from '../src/llm/index.js';
import { DEFAULT_TEXT, startFakeLlmServer, type FakeLlmServer } from './helpers/llm-fake-server.js';

const defaults = { maxTokens: 256, temperature: 0.2 };
let server: FakeLlmServer;
beforeEach(async () => {
  server = await startFakeLlmServer();
});
afterEach(async () => {
  await server.close();
});

async function collect(
  it: AsyncIterable<LlmStreamChunk>,
): Promise<{ deltas: string[]; done: Extract<LlmStreamChunk, { type: 'done' }> | undefined }> {
  const deltas: string[] = [];
  let done: Extract<LlmStreamChunk, { type: 'done' }> | undefined;
  for await (const c of it) {
    if (c.type === 'delta') deltas.push(c.text);
    else done = c;
  }
  return { deltas, done };
}

describe('OpenAI-compatible provider', () => {
  it('completes: POST /chat/completions with bearer key, system first, usage from the reply', async () => {
    const p = new OpenAiCompatibleProvider(
      { type: 'openai-compatible', baseUrl: `${server.url}/v1/`, apiKey: 'sk-local-123456789', model: 'gpt-4o-mini' },
      defaults,
    );
    const r = await p.complete({ system: 'be brief', messages: [{ role: 'user', content: 'hi' }] });
    expect(r).toMatchObject({
      text: DEFAULT_TEXT,
      usage: { prompt_tokens: 11, completion_tokens: 7 },
      model: 'gpt-4o-mini',
      provider: 'openai-compatible',
    });
    expect(r.latency_ms).toBeGreaterThan(0);
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-local-123456789');
    expect(req.body).toMatchObject({
      model: 'gpt-4o-mini',
      max_tokens: 256,
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(req.body.stream).toBeUndefined();
  });

  it('streams: SSE data lines to deltas, [DONE], usage from the include_usage chunk', async () => {
    server.queue({ kind: 'ok', text: 'one two three four', usage: { prompt: 20, completion: 4 } });
    const p = new OpenAiCompatibleProvider({ type: 'openai-compatible', baseUrl: server.url, model: 'm1' }, defaults);
    const { deltas, done } = await collect(p.stream({ messages: [{ role: 'user', content: 'count' }] }));
    expect(deltas).toEqual(['one ', 'two ', 'three ', 'four']);
    expect(done).toMatchObject({ usage: { prompt_tokens: 20, completion_tokens: 4 }, model: 'm1', provider: 'openai-compatible' });
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe('Anthropic provider', () => {
  it('completes: POST /v1/messages with x-api-key, anthropic-version, top-level system', async () => {
    const p = new AnthropicProvider(
      { type: 'anthropic', baseUrl: server.url, apiKey: 'ant-key-abcdef123', model: 'claude-haiku' },
      defaults,
    );
    const r = await p.complete({
      system: 'sys',
      messages: [
        { role: 'system', content: 'more sys' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(r).toMatchObject({
      text: DEFAULT_TEXT,
      usage: { prompt_tokens: 11, completion_tokens: 7 },
      model: 'claude-haiku',
      provider: 'anthropic',
    });
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe('ant-key-abcdef123');
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.body).toMatchObject({
      model: 'claude-haiku',
      max_tokens: 256,
      system: 'sys\n\nmore sys',
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('streams: message_start / content_block_delta / message_delta / message_stop', async () => {
    server.queue({ kind: 'ok', text: 'alpha beta', usage: { prompt: 30, completion: 2 } });
    const p = new AnthropicProvider({ type: 'anthropic', baseUrl: server.url, apiKey: 'k-123456', model: 'claude-x' }, defaults);
    const { deltas, done } = await collect(p.stream({ messages: [{ role: 'user', content: 'go' }] }));
    expect(deltas.join('')).toBe('alpha beta');
    expect(deltas.length).toBe(2);
    expect(done).toMatchObject({ usage: { prompt_tokens: 30, completion_tokens: 2 }, model: 'claude-x', provider: 'anthropic' });
    expect(server.requests[0]!.body.stream).toBe(true);
  });

  it('a streamed error event is a server failure', async () => {
    const p = new AnthropicProvider({ type: 'anthropic', baseUrl: server.url, apiKey: 'k-123456', model: 'claude-x' }, defaults);
    server.queue({
      kind: 'status',
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    });
    const err = await collect(p.stream({ messages: [{ role: 'user', content: 'go' }] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmProviderError);
    expect((err as LlmProviderError).failure).toBe('server');
    expect((err as LlmProviderError).retryable).toBe(true);
  });
});

describe('client: non-retryable statuses and secrets', () => {
  const KEY = 'sk-proj-TOPSECRET0123456789abcdef';

  it('a 401 whose body echoes the key: the error, its JSON, the fallback reason and the logs never contain the key', async () => {
    server.otherwise = {
      kind: 'status',
      status: 401,
      body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}. Authorization: Bearer ${KEY}` } }),
    };
    const direct = new OpenAiCompatibleProvider({ type: 'openai-compatible', baseUrl: server.url, apiKey: KEY, model: 'm' }, defaults);
    const err = (await direct.complete({ messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as LlmProviderError;
    expect(err).toBeInstanceOf(NetraError);
    expect(err.code).toBe('NETRA_E_LLM_UNAVAILABLE');
    expect(err.failure).toBe('auth');
    expect(err.httpStatus).toBe(401);
    expect(err.message).toContain('Incorrect API key provided');
    const everything = [err.message, err.stack, JSON.stringify(err.toJSON()), JSON.stringify(err.details), String(err.cause)].join('\n');
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain('TOPSECRET');

    const lines: string[] = [];
    const log = createLogger(
      'debug',
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const fallbacks: LlmFallbackEvent[] = [];
    const client = createLlmClient({
      providers: [{ type: 'openai-compatible', baseUrl: server.url, apiKey: KEY, model: 'm' }],
      log,
      onFallback: (e) => fallbacks.push(e),
    });
    const r = await client.complete({ messages: [{ role: 'user', content: 'x' }] });
    expect(r.provider).toBe('builtin');
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]!.reason).toContain('HTTP 401');
    expect(JSON.stringify(fallbacks)).not.toContain('TOPSECRET');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain('TOPSECRET');
  });

  it('400, 401 and 403 are not retried: one request each, then the next provider', async () => {
    for (const status of [400, 401, 403]) {
      const before = server.requests.length;
      server.queue({ kind: 'status', status });
      const fallbacks: LlmFallbackEvent[] = [];
      const client = createLlmClient({
        providers: [{ type: 'anthropic', baseUrl: server.url, apiKey: 'k-123456', model: 'c' }],
        baseDelayMs: 1,
        onFallback: (e) => fallbacks.push(e),
      });
      const r = await client.complete({ messages: [{ role: 'user', content: `status ${status}` }] });
      expect(server.requests.length - before).toBe(1);
      expect(r.provider).toBe('builtin');
      expect(fallbacks).toEqual([
        {
          from: 'anthropic',
          to: 'builtin',
          reason: expect.stringContaining(`HTTP ${status}`),
          error_kind: status === 400 ? 'bad_request' : 'auth',
          http_status: status,
          attempts: 1,
        },
      ]);
    }
  });

  it('a network error (nothing listening) falls back to the built-in model', async () => {
    const url = server.url;
    await server.close();
    const fallbacks: LlmFallbackEvent[] = [];
    const client = createLlmClient({
      providers: [{ type: 'openai-compatible', baseUrl: url, model: 'm' }],
      maxRetries: 1,
      baseDelayMs: 1,
      onFallback: (e) => fallbacks.push(e),
    });
    const r = await client.complete({ messages: [{ role: 'user', content: 'x' }] });
    expect(r.provider).toBe('builtin');
    expect(fallbacks[0]!.reason).toMatch(/network error/);
    server = await startFakeLlmServer(); // for afterEach
  });
});
