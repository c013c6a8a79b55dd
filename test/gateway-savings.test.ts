/**
 * Realized vs predicted with the official `openai` client through the gateway against the local fake upstream: traffic
 * in shadow, then in enforce; GET /api/v1/workspaces/:workspace/gateway-savings must report, per rule kind, the savings
 * the test computes itself from the recorded events and the price catalog, beside the replay's prediction; and a
 * workspace can never read another's figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadEvent } from '../src/workload/event.js';
import { startGatewayHarness, type GatewayHarness, type GatewayWorkspace } from './helpers/gateway.js';

let h: GatewayHarness;
let acme: GatewayWorkspace;
let auth: { authorization: string };

// the fake upstream answers every chat call with 12 prompt (4 cached) and 5 completion tokens: a cap of 3 clips 2
const POLICY = {
  routing: [{ match: { model: 'gpt-4o', app: 'support' }, target_model: 'gpt-4o-mini' }],
  max_tokens_caps: [{ match: { app: 'support' }, cap: 3 }],
  exact_cache: { enabled: true, ttl_seconds: 600 },
};

beforeAll(async () => {
  h = await startGatewayHarness();
  acme = await h.workspace('acme');
  await h.workspace('beta');
  auth = await h.t.auth();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const put = (ws: string, body: unknown) =>
  h.t.app.server.inject({ method: 'PUT', url: `/api/v1/workspaces/${ws}/gateway-policy`, headers: auth, payload: body as object });
const savings = async (ws: string, headers = auth) =>
  h.t.app.server.inject({ method: 'GET', url: `/api/v1/workspaces/${ws}/gateway-savings`, headers });

const chat = (content: string, extra: Record<string, unknown> = {}) =>
  acme.openai.chat.completions.create(
    { model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra },
    { headers: { 'x-netra-app': 'support' } },
  );

/** Catalog price of an event's usage on a model (what the gateway and the replay price with). */
function price(model: string, e: WorkloadEvent, completion = e.completion_tokens): number {
  const p = h.t.app.catalog().price('acme', model, {
    prompt_tokens: e.prompt_tokens,
    completion_tokens: completion,
    cached_prompt_tokens: e.cached_prompt_tokens,
  });
  if (!p) throw new Error(`no price for ${model}`);
  return p.cost_usd;
}

interface Expected {
  events: number;
  routing: { events: number; usd: number };
  cache: { events: number; usd: number };
  cap: { events: number; usd: number };
}

/** The test's own computation of one mode's savings from the recorded events (not from the saving tags). */
function expected(events: WorkloadEvent[], mode: 'shadow' | 'enforce'): Expected {
  const out: Expected = { events: 0, routing: { events: 0, usd: 0 }, cache: { events: 0, usd: 0 }, cap: { events: 0, usd: 0 } };
  for (const e of events.filter((x) => x.tags['netra.policy'] === mode)) {
    out.events++;
    if (mode === 'shadow') {
      // unchanged calls on gpt-4o: routing saves gpt-4o − gpt-4o-mini; a would-be hit saves the routed call; else the cap clips
      out.routing.events++;
      out.routing.usd += price(e.model, e) - price('gpt-4o-mini', e);
      if (e.tags['netra.would_cache'] === 'hit') {
        out.cache.events++;
        out.cache.usd += price('gpt-4o-mini', e);
      } else {
        out.cap.events++;
        out.cap.usd += price('gpt-4o-mini', e) - price('gpt-4o-mini', e, Math.min(e.completion_tokens, 3));
      }
    } else {
      // enforced calls ran on gpt-4o-mini (request_model says what was asked); a hit cost 0 instead of the routed call
      out.routing.events++;
      out.routing.usd += price(e.tags.request_model!, e) - price(e.model, e);
      if (e.tags['netra.cache'] === 'hit') {
        out.cache.events++;
        out.cache.usd += price(e.model, e);
      } else out.cap.events++;
    }
  }
  return out;
}

type Kind = {
  kind: string;
  predicted: { events: number; savings_usd: number } | null;
  measured: { events: number; savings_usd: number | null };
};
const kind = (m: { kinds: Kind[] }, k: string) => m.kinds.find((x) => x.kind === k)!;

describe('realized vs predicted savings of the gateway policy', () => {
  it('shadow: would-have savings per kind equal the test computation and the replay over the same calls', async () => {
    expect((await put('acme', { mode: 'shadow', policy: POLICY })).statusCode).toBe(200);
    await chat('first question');
    await chat('first question'); // identical: a would-be cache hit
    await chat('second question', { max_tokens: 100 });
    const stream = await acme.openai.chat.completions.create(
      { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'a streamed one' }] },
      { headers: { 'x-netra-app': 'support' } },
    );
    for await (const _ of stream) void _;
    const events = await h.events('acme');
    expect(events).toHaveLength(4);
    const want = expected(events, 'shadow');
    const r = await savings('acme');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ workspace: 'acme', mode: 'shadow', policy_version: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(body.by_mode).toHaveLength(1);
    const m = body.by_mode[0];
    expect(m).toMatchObject({ mode: 'shadow', events: 4, ok_events: 4 });
    for (const [k, w] of [
      ['routing', want.routing],
      ['exact_cache', want.cache],
      ['max_tokens_cap', want.cap],
    ] as const) {
      expect(kind(m, k).measured.events).toBe(w.events);
      expect(kind(m, k).measured.savings_usd).toBeCloseTo(w.usd, 12);
    }
    expect(want.routing.usd).toBeGreaterThan(0);
    expect(want.cache.usd).toBeGreaterThan(0);
    expect(want.cap.usd).toBeGreaterThan(0);
    expect(m.measured_savings_usd).toBeCloseTo(want.routing.usd + want.cache.usd + want.cap.usd, 12);
    // in shadow the traffic is unchanged, so the replay of the policy over the same calls predicts the same savings
    expect(m.basis).toMatchObject({ events: 4, scale: 1 });
    expect(kind(m, 'routing').predicted).toEqual({ events: 4, savings_usd: expect.closeTo(want.routing.usd, 12) });
    expect(kind(m, 'exact_cache').predicted).toEqual({ events: 1, savings_usd: expect.closeTo(want.cache.usd, 12) });
    expect(kind(m, 'max_tokens_cap').predicted!.savings_usd).toBeCloseTo(want.cap.usd, 12);
    expect(m.predicted_savings_usd).toBeCloseTo(m.measured_savings_usd, 12);
  });

  it('enforce: actual savings against the recorded counterfactual, beside the prediction from the shadow period', async () => {
    expect((await put('acme', { mode: 'enforce', policy: POLICY })).statusCode).toBe(200);
    const r1 = await chat('third question');
    expect(r1.model).toBe('gpt-4o-mini-2024-07-18');
    await chat('third question'); // served from the cache
    await chat('fourth question');
    const events = await h.events('acme');
    const want = expected(events, 'enforce');
    expect(want.events).toBe(3);
    expect(want.cache.events).toBe(1);
    const body = (await savings('acme')).json();
    expect(body.mode).toBe('enforce');
    expect(body.by_mode.map((x: { mode: string }) => x.mode)).toEqual(['enforce', 'shadow']); // same policy version, both modes
    const m = body.by_mode[0];
    expect(m).toMatchObject({ mode: 'enforce', events: 3 });
    expect(kind(m, 'routing').measured).toEqual({ events: 3, savings_usd: expect.closeTo(want.routing.usd, 12) });
    expect(kind(m, 'exact_cache').measured).toEqual({ events: 1, savings_usd: expect.closeTo(want.cache.usd, 12) });
    // the cap's actual saving is not measurable: the capped calls never produced the clipped tokens
    expect(kind(m, 'max_tokens_cap').measured).toEqual({ events: 2, savings_usd: null });
    const spend = events.filter((e) => e.tags['netra.policy'] === 'enforce').reduce((s, e) => s + e.cost_usd, 0);
    expect(m.spend_usd).toBeCloseTo(spend, 12);
    expect(m.baseline_spend_usd).toBeCloseTo(spend + want.routing.usd + want.cache.usd, 12);
    // the prediction: the replay over the traffic before enforcement (the 4 shadow calls), per call × 3 enforced calls
    expect(m.basis).toMatchObject({ events: 4, scale: 0.75 });
    const shadow = body.by_mode[1];
    expect(kind(m, 'routing').predicted!.savings_usd).toBeCloseTo(kind(shadow, 'routing').predicted!.savings_usd * 0.75, 12);
    expect(body.other_versions).toEqual([]);
  });

  it('a changed policy is a new version: earlier calls are listed apart, not compared', async () => {
    const other = { ...POLICY, max_tokens_caps: [{ match: { app: 'support' }, cap: 4 }] };
    const v = (await put('acme', { mode: 'shadow', policy: other })).json();
    const body = (await savings('acme')).json();
    expect(body.policy_version).toBe(v.policy_version);
    expect(body.by_mode).toEqual([]);
    expect(body.other_versions.map((o: { mode: string; events: number }) => [o.mode, o.events])).toEqual([
      ['enforce', 3],
      ['shadow', 4],
    ]);
    await put('acme', { mode: 'enforce', policy: POLICY }); // back to the compared version for the isolation test
  });

  it('semantic cache in the path when the policy enables it: a near-duplicate prompt is served from the cache, in enforce only', async () => {
    const sem = { semantic_cache: { enabled: true, ttl_seconds: 600 } };
    const ticket = (n: string) =>
      `Summarise this support ticket for the on-call engineer in two sentences: the customer reports that the export of ${n} monthly invoices to CSV stops halfway with a timeout error, retries make no difference, the problem started after the last release and affects every account on the enterprise plan.`;
    const ask = (content: string) =>
      acme.openai.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }, { headers: { 'x-netra-app': 'tickets' } })
        .withResponse();
    // shadow: nothing served from the cache, the near-duplicate is recorded as a would-be semantic hit
    expect((await put('acme', { mode: 'shadow', policy: sem })).statusCode).toBe(200);
    let before = h.fake.seen.length;
    await ask(ticket('their'));
    const shadowNear = await ask(ticket('all their'));
    expect(shadowNear.response.headers.get('x-netra-cache')).toBeNull();
    expect(h.fake.seen.length).toBe(before + 2);
    const shadowEvent = (await h.events('acme')).at(-1)!;
    expect(shadowEvent.tags['netra.would_cache']).toBe('semantic_hit');
    expect(Number(shadowEvent.tags['netra.would_save_semantic_usd'])).toBeCloseTo(price(shadowEvent.model, shadowEvent), 12);
    // enforce: the near-duplicate of an earlier call is answered with that call's response, without calling upstream
    expect((await put('acme', { mode: 'enforce', policy: sem })).statusCode).toBe(200);
    const first = await ask(ticket('the'));
    expect(first.response.headers.get('x-netra-cache')).toBe('miss');
    before = h.fake.seen.length;
    const near = await ask(ticket('all the'));
    expect(near.response.headers.get('x-netra-cache')).toBe('semantic-hit');
    expect(near.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content);
    expect(h.fake.seen.length).toBe(before);
    const far = await ask('What is the capital of France?');
    expect(far.response.headers.get('x-netra-cache')).toBe('miss');
    const events = await h.events('acme');
    const hit = events.find((e) => e.tags['netra.cache'] === 'semantic_hit')!;
    expect(hit.cost_usd).toBe(0);
    const body = (await savings('acme')).json();
    const m = body.by_mode.find((x: { mode: string }) => x.mode === 'enforce');
    expect(kind(m, 'semantic_cache').measured).toEqual({ events: 1, savings_usd: expect.closeTo(price(hit.model, hit), 12) });
    expect(m.events).toBe(3);
    await put('acme', { mode: 'enforce', policy: POLICY }); // back to the compared version for the isolation test
  });

  it('isolation: another workspace cannot read these figures, and its own hold none of them', async () => {
    const betaToken = { authorization: `Bearer ${await h.t.token('beta')}` };
    expect((await savings('acme', betaToken)).statusCode).toBe(403);
    const readKey = (await h.t.app.accounts.access.createApiKey('beta', { scope: 'read' }, null)).key;
    expect((await savings('acme', { authorization: `Bearer ${readKey}` })).statusCode).toBe(403);
    const gatewayKey = { authorization: `Bearer ${acme.key}` }; // a virtual key only sends calls through the gateway
    expect((await savings('acme', gatewayKey)).statusCode).toBe(403);
    const own = await savings('beta', { authorization: `Bearer ${readKey}` });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ workspace: 'beta', mode: 'off', by_mode: [], other_versions: [] });
  });

  it('validates the window, naming the field', async () => {
    const r = await h.t.app.server.inject({
      method: 'GET',
      url: '/api/v1/workspaces/acme/gateway-savings?from=2026-02-01&to=2026-01-01',
      headers: auth,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.field).toBe('from');
  });
});
