/**
 * The workspace policy in the request path: shadow records what each rule would have done and changes nothing;
 * enforce routes, caps max_tokens and serves exact-cache hits (streams replayed as streams, no-cache bypasses).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness, type GatewayWorkspace } from './helpers/gateway.js';

let h: GatewayHarness;
let acme: GatewayWorkspace;
let auth: { authorization: string };

const POLICY = {
  routing: [{ match: { model: 'gpt-4o', app: 'support' }, target_model: 'gpt-4o-mini' }],
  max_tokens_caps: [{ match: { app: 'support' }, cap: 256 }],
  exact_cache: { enabled: true, ttl_seconds: 600 },
};

beforeAll(async () => {
  h = await startGatewayHarness();
  acme = await h.workspace('acme');
  auth = await h.t.auth();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const put = (body: unknown) =>
  h.t.app.server.inject({ method: 'PUT', url: '/api/v1/workspaces/acme/gateway-policy', headers: auth, payload: body as object });
const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.key}`, 'x-netra-app': 'support', ...headers },
    body: JSON.stringify(body),
  });
const last = async () => (await h.events('acme')).at(-1)!;

describe('gateway policy API', () => {
  it('validates the mode and the policy, naming the field', async () => {
    let r = await put({ mode: 'sometimes', policy: POLICY });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.field).toBe('mode');
    r = await put({ mode: 'shadow', policy: { routing: [{ match: {}, target_model: 'no-such-model' }] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.field).toBe('policy.routing[0].target_model');
    r = await h.t.app.server.inject({ method: 'GET', url: '/api/v1/workspaces/acme/gateway-policy', headers: auth });
    expect(r.json()).toMatchObject({ workspace: 'acme', mode: 'off', record_text: true });
  });
});

describe('shadow', () => {
  it('changes nothing upstream and records what each rule would have done', async () => {
    expect((await put({ mode: 'shadow', policy: POLICY })).statusCode).toBe(200);
    const before = h.fake.seen.length;
    const body = { model: 'gpt-4o', max_tokens: 1000, messages: [{ role: 'user', content: 'shadow me' }] };
    const r1 = await post(body);
    expect(r1.headers.get('x-netra-route')).toBeNull();
    expect(r1.headers.get('x-netra-cache')).toBeNull();
    const sent = h.fake.seen[before]!.body!;
    expect(sent).toMatchObject({ model: 'gpt-4o', max_tokens: 1000 });
    const e1 = await last();
    expect(e1.tags).toMatchObject({
      'netra.policy': 'shadow',
      'netra.would_route': 'gpt-4o-mini',
      'netra.would_cap': '256',
      'netra.would_cache': 'miss',
    });
    expect(Number(e1.tags['netra.would_cost_usd'])).toBeLessThan(e1.cost_usd);
    await post(body);
    expect(h.fake.seen.length).toBe(before + 2); // the repeat still went upstream
    const e2 = await last();
    expect(e2.tags['netra.would_cache']).toBe('hit');
    expect(e2.tags['netra.would_cost_usd']).toBe('0');
  });

  it('an app the rules do not match is left alone', async () => {
    await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'other app' }] }, { 'x-netra-app': 'billing' });
    const e = await last();
    expect(e.tags['netra.would_route']).toBeUndefined();
    expect(e.tags['netra.would_cap']).toBeUndefined();
  });
});

describe('enforce', () => {
  it('routes and caps, with x-netra-route', async () => {
    expect((await put({ mode: 'enforce', policy: POLICY })).statusCode).toBe(200);
    const before = h.fake.seen.length;
    const r = await post({ model: 'gpt-4o', max_tokens: 1000, messages: [{ role: 'user', content: 'enforce me' }] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-netra-route')).toBe('gpt-4o->gpt-4o-mini');
    expect(r.headers.get('x-netra-cache')).toBe('miss');
    expect(h.fake.seen[before]!.body).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 256 });
    const e = await last();
    expect(e).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', max_tokens: 256 });
    expect(e.tags).toMatchObject({
      'netra.policy': 'enforce',
      'netra.routed_from': 'gpt-4o',
      'netra.capped_from': '1000',
      'netra.cache': 'miss',
      request_model: 'gpt-4o',
    });
    expect(Number(e.tags['netra.counterfactual_cost_usd'])).toBeGreaterThan(e.cost_usd);
  });

  it('caps max_completion_tokens when that is the field the client uses, and leaves a smaller request alone', async () => {
    const before = h.fake.seen.length;
    await post({ model: 'gpt-4o-mini', max_completion_tokens: 5000, messages: [{ role: 'user', content: 'cap field' }] });
    expect(h.fake.seen[before]!.body).toMatchObject({ max_completion_tokens: 256 });
    await post({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'small' }] });
    expect(h.fake.seen[before + 1]!.body).toMatchObject({ max_tokens: 10 });
  });

  it('serves an identical request from the exact cache; no-cache bypasses it', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cache me' }] };
    const first = await post(body);
    const firstText = await first.text();
    const before = h.fake.seen.length;
    const hit = await post(body);
    expect(hit.headers.get('x-netra-cache')).toBe('hit');
    expect(await hit.text()).toBe(firstText);
    expect(h.fake.seen.length).toBe(before);
    const e = await last();
    expect(e).toMatchObject({ cost_usd: 0, cost_source: 'given', prompt_tokens: 12, completion_tokens: 5, status: 'ok' });
    expect(e.tags['netra.cache']).toBe('hit');
    expect(Number(e.tags['netra.counterfactual_cost_usd'])).toBeGreaterThan(0);
    const bypass = await post(body, { 'cache-control': 'no-cache' });
    expect(bypass.headers.get('x-netra-cache')).toBeNull();
    expect(h.fake.seen.length).toBe(before + 1);
  });

  it('replays a cached stream as a stream, event by event', async () => {
    const body = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'cache a stream' }] };
    const first = await (await post(body)).text();
    const before = h.fake.seen.length;
    const hit = await post(body);
    expect(hit.headers.get('x-netra-cache')).toBe('hit');
    expect(hit.headers.get('content-type')).toContain('text/event-stream');
    expect(await hit.text()).toBe(first);
    expect(h.fake.seen.length).toBe(before);
    expect(await last()).toMatchObject({ stream: true, response_text: 'Hello from the fake upstream', cost_usd: 0 });
  });

  it('record_text false keeps hashes and drops text', async () => {
    expect((await put({ record_text: false })).json()).toMatchObject({ mode: 'enforce', record_text: false });
    await post({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'secret text' }] });
    const e = await last();
    expect(e.prompt_text).toBeNull();
    expect(e.response_text).toBeNull();
    expect(e.prompt_hash).not.toBeNull();
  });

  it('off: nothing applied', async () => {
    await put({ mode: 'off', record_text: true });
    const before = h.fake.seen.length;
    const r = await post({ model: 'gpt-4o', max_tokens: 1000, messages: [{ role: 'user', content: 'enforce me' }] });
    expect(r.headers.get('x-netra-route')).toBeNull();
    expect(h.fake.seen[before]!.body).toMatchObject({ model: 'gpt-4o', max_tokens: 1000 });
    expect((await last()).tags['netra.policy']).toBeUndefined();
  });
});
