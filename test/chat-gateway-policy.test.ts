/**
 * The gateway policy from the chat, end to end: the real app (gateway pointed at the local fake upstream) behind a real
 * `/ws` socket. An owner asks to apply the recommended policy in shadow, is asked to confirm, confirms in the same thread,
 * and the policy API shows it active; switching to enforce works the same way; a member is refused, and an owner who
 * loses the right between the request and the confirmation is refused at the confirmation. "Did the change work?" and
 * "how much did the policy save?" are answered with the figures of GET /api/v1/workspaces/:workspace/gateway-savings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSocket, type Envelope } from './helpers/chat-socket.js';
import { validatePolicy } from '../src/optimize/policy.js';
import { startGatewayHarness, type GatewayHarness, type GatewayWorkspace } from './helpers/gateway.js';

const socket = (base: string, token: string) => chatSocket(base, token, 'acme', 60_000);

const report = (events: Envelope[]) => events.find((e) => e.type === 'final_report')?.payload;
const thread = (events: Envelope[]) => events.find((e) => e.thread_id)!.thread_id!;

let h: GatewayHarness;
let acme: GatewayWorkspace;
let base: string;
let ownerId: string;
let ownerToken: string;
let auth: { authorization: string };

beforeAll(async () => {
  h = await startGatewayHarness({}, { ws: { maxConnectionsPerUser: 5 } });
  acme = await h.workspace('acme');
  auth = await h.t.auth();
  base = h.url.replace(/^http/, 'ws');
  // history the analysis recommends a policy from, ending before the gateway's own calls
  await h.t.app.workloads.generate({
    preset: 'chat-support',
    events: 3000,
    days: 3,
    seed: 3,
    workspace: 'acme',
    end: Date.now() - 3_600_000,
  });
  const { accounts } = h.t.app;
  const owner = await accounts.identity.createUser({ email: 'owner@example.com', password: 'correct horse battery staple' });
  ownerId = owner.id;
  await accounts.access.setMember('acme', owner.id, 'owner');
  ownerToken = await accounts.identity.issueAccessToken(owner.id, {});
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const policyNow = async () =>
  (await h.t.app.server.inject({ url: '/api/v1/workspaces/acme/gateway-policy', headers: auth })).json() as {
    mode: string;
    policy: Record<string, unknown>;
    policy_version: string;
  };

describe('the gateway policy through the chat', () => {
  it('applies the recommended policy in shadow only after the owner confirms, through the policy service', async () => {
    const s = await socket(base, ownerToken);
    const asked = await s.turn('apply the recommended policy in shadow');
    const ask = report(asked)!;
    expect(ask).toMatchObject({ approval_required: true, action: 'set_gateway_policy', mode: 'shadow', workspace: 'acme' });
    const recommended = (await h.t.app.server.inject({ url: '/api/v1/policy?workspace=acme', headers: auth })).json();
    expect(ask.policy).toEqual(recommended);
    expect((await policyNow()).mode).toBe('off'); // nothing changed before the confirmation

    const done = await s.turn('yes', thread(asked));
    expect(done.some((e) => e.type === 'tool_completed' && e.payload.tool === 'set_gateway_policy')).toBe(true);
    const now = await policyNow();
    expect(now.mode).toBe('shadow');
    const catalog = h.t.app.catalog();
    expect(now.policy).toEqual(validatePolicy(recommended, { knownModel: (m) => catalog.rates('acme', m) !== null }));
    expect(report(done)!.content).toEqual(expect.stringContaining(`now shadow (version ${now.policy_version}`));
    s.ws.close();
  }, 120_000);

  it('a member is refused; an owner who loses the right before confirming is refused at the confirmation', async () => {
    const { accounts } = h.t.app;
    const member = await accounts.identity.createUser({ email: 'member@example.com', password: 'correct horse battery staple' });
    await accounts.access.setMember('acme', member.id, 'member');
    const m = await socket(base, await accounts.identity.issueAccessToken(member.id, {}));
    const refused = await m.turn('switch the gateway policy to enforce');
    expect(refused.find((e) => e.type === 'agent_error')?.payload.code).toBe('NETRA_E_FORBIDDEN');
    m.ws.close();

    const s = await socket(base, ownerToken);
    const asked = await s.turn('switch the gateway policy to enforce');
    expect(report(asked)).toMatchObject({ approval_required: true, mode: 'enforce' });
    await accounts.access.setMember('acme', ownerId, 'member');
    const late = await s.turn('confirm', thread(asked));
    expect(late.find((e) => e.type === 'agent_error')?.payload.code).toBe('NETRA_E_FORBIDDEN');
    expect((await policyNow()).mode).toBe('shadow');
    await accounts.access.setMember('acme', ownerId, 'owner');
    s.ws.close();
  }, 120_000);

  it('answers "did the change work?" and "how much did the policy save?" with the API\'s figures', async () => {
    const policy = {
      routing: [{ match: { model: 'gpt-4o', app: 'support' }, target_model: 'gpt-4o-mini' }],
      exact_cache: { enabled: true, ttl_seconds: 600 },
    };
    const put = await h.t.app.server.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/acme/gateway-policy',
      headers: auth,
      payload: { mode: 'shadow', policy },
    });
    expect(put.statusCode).toBe(200);
    const call = (content: string) =>
      acme.openai.chat.completions.create(
        { model: 'gpt-4o', messages: [{ role: 'user', content }] },
        { headers: { 'x-netra-app': 'support' } },
      );
    await call('q1');
    await call('q1');
    await call('q2');
    await h.events('acme'); // flushed into the store
    const s = await socket(base, ownerToken);
    const api = async () => {
      const r = await h.t.app.server.inject({ url: '/api/v1/workspaces/acme/gateway-savings', headers: auth });
      expect(r.statusCode).toBe(200);
      return r.json() as Record<string, unknown> & {
        by_mode: { mode: string; measured_savings_usd: number; predicted_savings_usd: number }[];
      };
    };
    const same = (chat: Record<string, unknown>, fromApi: Record<string, unknown>) => {
      // the default window ends "now": the two calls differ in it and in nothing else
      const { from: _f, to: _t, ...a } = chat;
      const { from: _f2, to: _t2, ...b } = fromApi;
      expect(a).toEqual(b);
    };
    const fmt = (v: number) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;

    const worked = report(await s.turn('did the change work?'))!;
    const shadowApi = await api();
    expect(worked.action).toBe('gateway_savings');
    same(worked.savings as Record<string, unknown>, shadowApi);
    expect(shadowApi.by_mode).toHaveLength(1);
    expect(shadowApi.by_mode[0]!.measured_savings_usd).toBeGreaterThan(0);
    expect(worked.content).toEqual(expect.stringContaining(`would have saved ${fmt(shadowApi.by_mode[0]!.measured_savings_usd)}`));
    expect(worked.content).toEqual(expect.stringContaining(fmt(shadowApi.by_mode[0]!.predicted_savings_usd)));

    await h.t.app.server.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/acme/gateway-policy',
      headers: auth,
      payload: { mode: 'enforce' },
    });
    await call('q3');
    await call('q3');
    await h.events('acme');
    const saved = report(await s.turn('how much did the policy save?'))!;
    const enforceApi = await api();
    same(saved.savings as Record<string, unknown>, enforceApi);
    const enforced = enforceApi.by_mode.find((m) => m.mode === 'enforce')!;
    expect(enforced.measured_savings_usd).toBeGreaterThan(0);
    expect(saved.content).toEqual(expect.stringContaining(`the policy saved ${fmt(enforced.measured_savings_usd)}`));
    expect(saved.content).toEqual(expect.stringContaining('Yes, the change worked'));
    s.ws.close();
  }, 120_000);
});
