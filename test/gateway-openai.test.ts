/**
 * The gateway with the official `openai` client: faithful proxying (bodies byte for byte, SSE chunk by chunk, errors and
 * rate-limit headers passed back), virtual keys and pass-through, and the event recorded for each call, field by field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { sha256Hex } from '../src/workload/hash.js';
import { startGatewayHarness, type GatewayHarness, type GatewayWorkspace } from './helpers/gateway.js';

let h: GatewayHarness;
let acme: GatewayWorkspace;

beforeAll(async () => {
  h = await startGatewayHarness({ headersTimeoutMs: 1500 });
  acme = await h.workspace('acme');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const last = async (ws = 'acme') => (await h.events(ws)).at(-1)!;

describe('gateway: OpenAI chat completions', () => {
  it('proxies a non-streamed call and records it field by field', async () => {
    const before = h.fake.seen.length;
    const r = await acme.openai.chat.completions.create(
      {
        model: 'gpt-4o-mini',
        max_tokens: 64,
        temperature: 0.2,
        user: 'user-7',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'hi' },
        ],
      },
      { headers: { 'x-netra-app': 'support', 'x-netra-session': 'sess-1', 'x-netra-tags': 'task=faq,team=core' } },
    );
    expect(r.choices[0]!.message.content).toBe('echo: hi');
    const up = h.fake.seen[before]!;
    expect(up.headers.authorization).toBe('Bearer sk-upstream-acme-0123456789'); // the stored secret, not the virtual key
    expect(Object.keys(up.headers).filter((k) => k.startsWith('x-netra-'))).toEqual([]);
    const e = await last();
    expect(e).toMatchObject({
      workspace: 'acme',
      app: 'support',
      end_user: 'user-7',
      session_id: 'sess-1',
      provider: 'openai',
      model: 'gpt-4o-mini-2024-07-18',
      operation: 'chat',
      prompt_tokens: 12,
      completion_tokens: 5,
      cached_prompt_tokens: 4,
      status: 'ok',
      error_type: null,
      http_status: 200,
      finish_reason: 'stop',
      max_tokens: 64,
      temperature: 0.2,
      stream: false,
      ttft_ms: null,
      cost_source: 'catalog',
      prompt_text: 'system: You are terse.\nuser: hi',
      response_text: 'echo: hi',
      prompt_hash: sha256Hex('system: You are terse.\nuser: hi'),
      prefix_hash: sha256Hex('system: You are terse.'),
    });
    expect(e.tags).toMatchObject({ task: 'faq', team: 'core', request_model: 'gpt-4o-mini', 'netra.source': 'gateway' });
    expect(e.cost_usd).toBeGreaterThan(0);
    expect(e.latency_ms).toBeGreaterThan(0);
    expect(e.prefix_tokens).toBeGreaterThan(0);
  });

  it('passes a non-streamed body through byte for byte, with the upstream headers', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bytes' }] });
    const direct = await fetch(`${h.fake.openaiBase}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-x' },
      body,
    });
    const via = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.key}` },
      body,
    });
    expect(via.status).toBe(200);
    expect(await via.text()).toBe(await direct.text());
    expect(via.headers.get('x-ratelimit-remaining-requests')).toBe('99');
    expect(via.headers.get('openai-processing-ms')).toBe('5');
    expect(via.headers.get('content-security-policy')).toBeNull(); // the API's security headers are not added to proxied answers
  });

  it('streams chunk by chunk; the usage chunk it added is removed, and usage is recorded', async () => {
    const before = h.fake.seen.length;
    const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream' }] });
    const direct = await (
      await fetch(`${h.fake.openaiBase}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-x' },
        body,
      })
    ).text();
    const via = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.key}` },
      body,
    });
    expect(via.headers.get('content-type')).toContain('text/event-stream');
    expect(await via.text()).toBe(direct); // exactly what the client would have seen without the gateway
    expect((h.fake.seen[before + 1]!.body!.stream_options as { include_usage: boolean }).include_usage).toBe(true);
    const e = await last();
    expect(e).toMatchObject({
      stream: true,
      prompt_tokens: 12,
      completion_tokens: 5,
      cached_prompt_tokens: 4,
      finish_reason: 'stop',
      response_text: 'Hello from the fake upstream',
      status: 'ok',
    });
    expect(e.ttft_ms).not.toBeNull();
    expect(e.ttft_ms!).toBeLessThanOrEqual(e.latency_ms!);
  });

  it('keeps the usage chunk when the client asked for it (SDK stream)', async () => {
    const stream = await acme.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('Hello from the fake upstream');
    expect(usage?.completion_tokens).toBe(5);
  });

  it('returns tool calls and records the finish reason', async () => {
    const r = await acme.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      ],
    });
    expect(r.choices[0]!.message.tool_calls![0]!.type).toBe('function');
    const e = await last();
    expect(e.finish_reason).toBe('tool_calls');
    expect(e.response_text).toContain('get_weather');
  });
});

describe('gateway: other OpenAI endpoints', () => {
  it('embeddings, completions, responses are proxied and recorded; the model list is proxied and not recorded', async () => {
    const emb = await acme.openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    expect(await last()).toMatchObject({ operation: 'embedding', prompt_tokens: 8, completion_tokens: 0, model: 'text-embedding-3-small' });
    const cmp = await acme.openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say' });
    expect(cmp.choices[0]!.text).toBe(' completed');
    expect(await last()).toMatchObject({
      operation: 'completion',
      prompt_tokens: 3,
      completion_tokens: 2,
      finish_reason: 'length',
      prompt_text: 'Say',
    });
    const resp = await acme.openai.responses.create({ model: 'gpt-4o-mini', input: 'hello', instructions: 'be brief' });
    expect(resp.output_text).toBe('responded');
    expect(await last()).toMatchObject({
      operation: 'chat',
      prompt_tokens: 9,
      completion_tokens: 1,
      finish_reason: 'completed',
      response_text: 'responded',
      prefix_hash: sha256Hex('system: be brief'),
    });
    const n = (await h.events('acme')).length;
    const models = await acme.openai.models.list();
    expect(models.data[0]!.id).toBe('gpt-4o-mini');
    expect((await h.events('acme')).length).toBe(n);
  });
});

describe('gateway: upstream errors and failures', () => {
  it('passes 400/401/429/500 back with their bodies and headers, and records them', async () => {
    const err = async (model: string) =>
      acme.openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).then(
        () => null,
        (e: unknown) => e,
      );
    const e400 = await err('error-400');
    expect(e400).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e400 as InstanceType<typeof OpenAI.APIError>).message).toContain('fake 400');
    expect((e400 as InstanceType<typeof OpenAI.APIError> & { param?: string }).param).toBe('model');
    expect(await last()).toMatchObject({ status: 'error', http_status: 400, error_type: 'invalid_request_error', model: 'error-400' });
    expect(await err('error-401')).toBeInstanceOf(OpenAI.AuthenticationError);
    const e429 = (await err('error-429')) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e429).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e429.headers?.get('retry-after')).toBe('7');
    expect(e429.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(await last()).toMatchObject({ http_status: 429, error_type: 'rate_limit_error' });
    expect(await err('error-500')).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('ends the client stream with an error when the upstream cuts it off', async () => {
    const stream = await acme.openai.chat.completions.create({ model: 'cut', stream: true, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    const failed = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    })().then(
      () => false,
      () => true,
    );
    expect(failed).toBe(true);
    expect(text).toBe('Hello from');
    expect(await last()).toMatchObject({ status: 'error', error_type: 'upstream_cut', stream: true });
  });

  it('answers 504 in the OpenAI shape when the upstream does not answer in time', async () => {
    const e = (await acme.openai.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'x' }] }).then(
      () => null,
      (x: unknown) => x,
    )) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(504);
    expect(e.message).toMatch(/did not answer in time/);
    expect(await last()).toMatchObject({ status: 'error', error_type: 'upstream_timeout', http_status: 504 });
  });

  it('aborts the upstream request when the client disconnects', async () => {
    const ac = new AbortController();
    const before = h.fake.seen.length;
    const p = acme.openai.chat.completions
      .create({ model: 'slow', messages: [{ role: 'user', content: 'abort me' }] }, { signal: ac.signal })
      .catch((x: unknown) => x);
    await expect.poll(() => h.fake.seen.length, { timeout: 5000 }).toBeGreaterThan(before);
    ac.abort();
    expect(await p).toBeInstanceOf(OpenAI.APIUserAbortError);
    await expect.poll(async () => (await last()).error_type, { timeout: 5000 }).toBe('client_abort');
    expect((await last()).http_status).toBe(499);
    expect(h.fake.held()).toBe(0); // the upstream connection was closed, not left waiting
  });
});

describe('gateway: keys and Netra errors', () => {
  it('pass-through: the client key goes upstream, x-netra-key names the workspace', async () => {
    const before = h.fake.seen.length;
    const client = new OpenAI({
      apiKey: 'sk-client-own-key',
      baseURL: `${h.url}/v1`,
      maxRetries: 0,
      defaultHeaders: { 'x-netra-key': acme.key },
    });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'own key' }] });
    expect(h.fake.seen[before]!.headers.authorization).toBe('Bearer sk-client-own-key');
    expect(h.fake.seen[before]!.headers['x-netra-key']).toBeUndefined();
    expect((await last()).prompt_text).toBe('user: own key');
  });

  it('answers its own errors in the OpenAI shape, naming the field', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    let r = await post({}, '{}');
    expect(r.status).toBe(401);
    expect((await r.json()).error).toMatchObject({ type: 'authentication_error', param: 'authorization' });
    r = await post({ authorization: 'Bearer nk_000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }, '{}');
    expect(r.status).toBe(401);
    r = await post({ authorization: `Bearer ${acme.key}` }, '{"model": ');
    expect(r.status).toBe(400);
    expect((await r.json()).error).toMatchObject({ type: 'invalid_request_error', param: '(body)' });
    r = await post({ authorization: `Bearer ${acme.key}`, 'x-netra-provider': 'nowhere' }, '{"model":"gpt-4o-mini"}');
    expect(r.status).toBe(400);
    expect((await r.json()).error.param).toBe('x-netra-provider');
    r = await post({ authorization: `Bearer ${acme.key}`, 'x-netra-tags': 'novalue' }, '{"model":"gpt-4o-mini"}');
    expect((await r.json()).error.param).toBe('x-netra-tags');
    const ingestKey = (await h.t.app.accounts.access.createApiKey('acme', { scope: 'ingest' }, null)).key;
    r = await post({ authorization: `Bearer ${ingestKey}` }, '{"model":"gpt-4o-mini"}');
    expect(r.status).toBe(403);
    expect((await r.json()).error.param).toBe('authorization');
    const noSecret = await h.workspace('nosecret', { secrets: false });
    r = await post({ authorization: `Bearer ${noSecret.key}` }, '{"model":"gpt-4o-mini"}');
    expect(r.status).toBe(401);
    expect((await r.json()).error.param).toBe('provider');
  });

  it('answers 413 for a body over the limit', async () => {
    const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(40 * 1024 * 1024) }] });
    const r = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.key}` },
      body: big,
    });
    expect(r.status).toBe(413);
    expect((await r.json()).error.param).toBe('(body)');
  });

  it('never logs a key or a provider secret', async () => {
    const all = h.t.logs.join('');
    expect(all).not.toContain(acme.key);
    expect(all).not.toContain('sk-upstream-acme');
    expect(all).not.toContain('sk-client-own-key');
  });
});
