/**
 * The gateway with the official `@anthropic-ai/sdk` client (x-api-key virtual keys), and workspace isolation: a gateway
 * key of one workspace never records into, reads from, or uses the provider secret of another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { sha256Hex } from '../src/workload/hash.js';
import { startGatewayHarness, type GatewayHarness, type GatewayWorkspace } from './helpers/gateway.js';

let h: GatewayHarness;
let acme: GatewayWorkspace;
let beta: GatewayWorkspace;

beforeAll(async () => {
  h = await startGatewayHarness({ headersTimeoutMs: 1500 });
  acme = await h.workspace('acme');
  beta = await h.workspace('beta');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const last = async (ws = 'acme') => (await h.events(ws)).at(-1)!;

describe('gateway: Anthropic messages', () => {
  it('proxies a non-streamed message and records it (cache reads counted in the prompt)', async () => {
    const before = h.fake.seen.length;
    const r = await acme.anthropic.messages.create(
      {
        model: 'claude-3-5-haiku-20241022',
        max_tokens: 100,
        system: 'Be kind.',
        messages: [{ role: 'user', content: 'hello' }],
      },
      { headers: { 'x-netra-app': 'bot', 'x-netra-user': 'u-1' } },
    );
    expect(r.content[0]).toMatchObject({ type: 'text', text: 'echo: hello' });
    const up = h.fake.seen[before]!;
    expect(up.headers['x-api-key']).toBe('sk-ant-upstream-acme-0123456789');
    expect(up.headers['anthropic-version']).toBeDefined(); // the SDK's own headers pass through
    expect(await last()).toMatchObject({
      app: 'bot',
      end_user: 'u-1',
      provider: 'anthropic',
      model: 'claude-3-5-haiku-20241022',
      prompt_tokens: 13,
      completion_tokens: 4,
      cached_prompt_tokens: 3,
      finish_reason: 'end_turn',
      max_tokens: 100,
      stream: false,
      status: 'ok',
      prompt_text: 'system: Be kind.\nuser: hello',
      prefix_hash: sha256Hex('system: Be kind.'),
      response_text: 'echo: hello',
    });
  });

  it('streams events as they come and records usage from message_start and message_delta', async () => {
    const stream = acme.anthropic.messages.stream({
      model: 'claude-3-5-haiku-20241022',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'go' }],
    });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe('Hello from the fake upstream');
    expect(final.usage.output_tokens).toBe(4);
    const e = await last();
    expect(e).toMatchObject({
      stream: true,
      prompt_tokens: 13,
      completion_tokens: 4,
      finish_reason: 'end_turn',
      response_text: 'Hello from the fake upstream',
    });
    expect(e.ttft_ms).not.toBeNull();
  });

  it('tools, count_tokens (not recorded) and errors in the Anthropic shape', async () => {
    const r = await acme.anthropic.messages.create({
      model: 'claude-3-5-haiku-20241022',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(r.content[0]!.type).toBe('tool_use');
    expect((await last()).finish_reason).toBe('tool_use');
    const n = (await h.events('acme')).length;
    const c = await acme.anthropic.messages.countTokens({ model: 'claude-3-5-haiku-20241022', messages: [{ role: 'user', content: 'x' }] });
    expect(c.input_tokens).toBe(10);
    expect((await h.events('acme')).length).toBe(n);
    const e429 = await acme.anthropic.messages
      .create({ model: 'error-429', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((x: unknown) => x);
    expect(e429).toBeInstanceOf(Anthropic.RateLimitError);
    expect((e429 as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('7');
    const bad = new Anthropic({ apiKey: 'nk_000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', baseURL: h.url, maxRetries: 0 });
    const e401 = (await bad.messages
      .create({ model: 'claude-3-5-haiku-20241022', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((x: unknown) => x)) as InstanceType<typeof Anthropic.AuthenticationError>;
    expect(e401).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(e401.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(JSON.stringify(e401.error)).toContain('authorization'); // this SDK sends its key as Authorization: Bearer
    const raw = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'nk_000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' },
      body: '{}',
    });
    expect(raw.status).toBe(401);
    expect((await raw.json()).error.message).toContain('x-api-key');
    const viaHeader = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': acme.key },
      body: JSON.stringify({ model: 'claude-3-5-haiku-20241022', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(viaHeader.status).toBe(200);
  });

  it('ends the stream with an error when the upstream cuts it off', async () => {
    const stream = acme.anthropic.messages.stream({ model: 'cut', max_tokens: 50, messages: [{ role: 'user', content: 'go' }] });
    const failed = await stream.finalMessage().then(
      () => false,
      () => true,
    );
    expect(failed).toBe(true);
    expect(await last()).toMatchObject({ status: 'error', error_type: 'upstream_cut' });
  });
});

describe('gateway: workspace isolation', () => {
  it("records each key's calls in its own workspace with its own provider secret", async () => {
    const before = h.fake.seen.length;
    await beta.anthropic.messages.create(
      { model: 'claude-3-5-haiku-20241022', max_tokens: 10, messages: [{ role: 'user', content: 'beta only' }] },
      { headers: { 'x-netra-workspace': 'acme' } },
    ); // a workspace header does not redirect the recording
    expect(h.fake.seen[before]!.headers['x-api-key']).toBe('sk-ant-upstream-beta-0123456789');
    const betaEvents = await h.events('beta');
    expect(betaEvents.map((e) => e.prompt_text)).toEqual(['user: beta only']);
    expect((await h.events('acme')).some((e) => e.prompt_text === 'user: beta only')).toBe(false);
  });

  it("a gateway key cannot read or change another workspace's policy, nor read its events", async () => {
    const auth = { authorization: `Bearer ${beta.key}` };
    let r = await h.t.app.server.inject({ method: 'GET', url: '/api/v1/workspaces/acme/gateway-policy', headers: auth });
    expect(r.statusCode).toBe(403);
    r = await h.t.app.server.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/acme/gateway-policy',
      headers: auth,
      payload: { mode: 'enforce', policy: {} },
    });
    expect(r.statusCode).toBe(403);
    r = await h.t.app.server.inject({ method: 'GET', url: '/api/v1/events?workspace=acme', headers: auth });
    expect(r.statusCode).toBe(403);
    r = await h.t.app.server.inject({ method: 'GET', url: '/api/v1/events?workspace=beta', headers: auth });
    expect(r.statusCode).toBe(403); // a gateway key only sends calls
  });
});
