/**
 * The authorization matrix: every route Fastify knows (from the route list, so a new route without a rule or a sample
 * fails here) × every kind of caller — no token, a garbage token, an outsider (owner of another workspace), viewer,
 * member and owner of the workspace, an instance admin who is not a member, and API keys of each scope — with the status
 * each must get. Expected access is written out below, independently of src/accounts/roles.ts.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_RULES, ruleFor } from '../src/server/auth-rules.js';
import { registeredRoutes } from '../src/server/auth.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startFakeProvider, type FakeProvider } from './helpers/provider-fake-server.js';

type Caller = 'anonymous' | 'garbage' | 'outsider' | 'viewer' | 'member' | 'owner' | 'admin' | 'key:ingest' | 'key:read' | 'key:admin';
const CALLERS: Caller[] = ['anonymous', 'garbage', 'outsider', 'viewer', 'member', 'owner', 'admin', 'key:ingest', 'key:read', 'key:admin'];

/** Who may do what in workspace A: the product's rules, written out by hand. */
const ALLOWED: Record<string, Caller[]> = {
  read: ['viewer', 'member', 'owner', 'key:read', 'key:admin'],
  ingest: ['member', 'owner', 'key:ingest', 'key:admin'],
  simulate: ['member', 'owner', 'key:admin'],
  manage: ['owner', 'key:admin'],
  authenticated: ['outsider', 'viewer', 'member', 'owner', 'admin', 'key:ingest', 'key:read', 'key:admin'],
  reader: ['outsider', 'viewer', 'member', 'owner', 'admin', 'key:read', 'key:admin'],
  user: ['outsider', 'viewer', 'member', 'owner', 'admin'],
  admin: ['admin'],
  public: CALLERS,
  // the LLM gateway takes Netra keys allowed to send calls (scope gateway or admin); a user token is not a key (401)
  gateway: ['key:admin'],
};

const T0 = Date.UTC(2026, 10, 1);
let seq = 0;
const uniq = (p: string) => `${p}-${++seq}-${Math.floor(Math.random() * 1e9)}`;

describe('authorization matrix', () => {
  let t: TestApp;
  let fake: FakeProvider;
  const headers: Partial<Record<Caller, Record<string, string>>> = {};
  const ids: Record<string, string> = {};
  const PASSWORD = 'correct horse battery staple';

  beforeAll(async () => {
    fake = await startFakeProvider();
    t = await startTestApp({ gateway: { openaiBaseUrl: fake.openaiBase, anthropicBaseUrl: fake.url } });
    const { identity, access } = t.app.accounts;
    for (const name of ['owner', 'member', 'viewer', 'outsider']) {
      ids[name] = (await identity.createUser({ email: `${name}@example.com`, password: PASSWORD })).id;
    }
    await access.createWorkspace('ws-a', ids.owner!);
    await access.createWorkspace('ws-b', ids.outsider!);
    await access.setMember('ws-a', ids.member!, 'member');
    await access.setMember('ws-a', ids.viewer!, 'viewer');
    for (const ws of ['ws-a', 'ws-b'])
      await t.app.generate({ preset: 'chat-support', events: 400, days: 2, seed: 7, workspace: ws, end: T0 });
    const bearer = (s: string) => ({ authorization: `Bearer ${s}` });
    for (const name of ['owner', 'member', 'viewer', 'outsider'] as const)
      headers[name] = bearer(await identity.issueAccessToken(ids[name]!));
    headers.admin = bearer(await t.token());
    headers.garbage = bearer('not-a-token');
    headers.anonymous = {};
    for (const scope of ['ingest', 'read', 'admin'] as const) {
      const k = await access.createApiKey('ws-a', { scope }, ids.owner!);
      headers[`key:${scope}`] = bearer(k.key);
      ids[`key:${scope}`] = `key:${k.prefix}`; // the conversations owner id of an API key
    }
    ids.admin = t.app.accounts.identity.localOwnerId();
    // the gateway's virtual keys use ws-a's stored provider keys
    await access.setProviderSecret('ws-a', 'openai', 'sk-matrix-openai-0123456789', ids.owner!);
    await access.setProviderSecret('ws-a', 'anthropic', 'sk-ant-matrix-0123456789', ids.owner!);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  /** A request for each route that succeeds for an allowed caller; fixtures are made fresh so every call can succeed. */
  /** A thread (with one finished run) owned by `caller` in `ws`: conversations are private to their owner. */
  const threadOf = async (ws: string, caller: Caller) => {
    const scope = { workspace: ws, userId: ids[caller] ?? caller };
    const thread = (await t.app.conversations.createThread(scope, 'sample'))!;
    const run = (await t.app.conversations.createRun(scope, thread.id, { request: 'sample' }))!;
    return { thread: thread.id, run: run.id };
  };

  /** the provider-secrets DELETE sample removes ws-a's anthropic key: the gateway samples put it back first */
  const anthropicSecret = async () => {
    await t.app.accounts.access.setProviderSecret('ws-a', 'anthropic', 'sk-ant-matrix-0123456789', ids.owner!);
    t.app.gateway!.credentials.clear();
  };
  const samples: Record<string, (ws: string, caller: Caller) => Promise<InjectOptions>> = {
    'GET /health/live': async () => ({ url: '/health/live' }),
    'GET /health/ready': async () => ({ url: '/health/ready' }),
    'GET /metrics': async () => ({ url: '/metrics' }),
    'GET /': async () => ({ url: '/' }),
    'GET /ui/:file': async () => ({ url: '/ui/app.js' }),
    // the API's description and its page (server/openapi.ts)
    'GET /openapi.json': async () => ({ url: '/openapi.json' }),
    'GET /docs': async () => ({ url: '/docs' }),
    'GET /docs/json': async () => ({ url: '/docs/json' }),
    'GET /docs/yaml': async () => ({ url: '/docs/yaml' }),
    'GET /docs/static/index.html': async () => ({ url: '/docs/static/index.html' }), // a redirect to /docs/
    'GET /docs/static/swagger-initializer.js': async () => ({ url: '/docs/static/swagger-initializer.js' }),
    'GET /docs/static/*': async () => ({ url: '/docs/static/swagger-ui.css' }),
    'OPTIONS *': async () => ({
      method: 'OPTIONS',
      url: '/api/v1/stats',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET' },
    }),
    'POST /v1/chat/completions': async () => ({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    }),
    'POST /v1/completions': async () => ({
      method: 'POST',
      url: '/v1/completions',
      payload: { model: 'gpt-3.5-turbo-instruct', prompt: 'hi' },
    }),
    'POST /v1/embeddings': async () => ({
      method: 'POST',
      url: '/v1/embeddings',
      payload: { model: 'text-embedding-3-small', input: 'hi' },
    }),
    'POST /v1/responses': async () => ({ method: 'POST', url: '/v1/responses', payload: { model: 'gpt-4o-mini', input: 'hi' } }),
    'GET /v1/models': async () => ({ url: '/v1/models' }),
    'POST /v1/messages': async () => {
      await anthropicSecret();
      return {
        method: 'POST',
        url: '/v1/messages',
        payload: { model: 'claude-3-5-haiku-20241022', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
      };
    },
    'POST /v1/messages/count_tokens': async () => {
      await anthropicSecret();
      return {
        method: 'POST',
        url: '/v1/messages/count_tokens',
        payload: { model: 'claude-3-5-haiku-20241022', messages: [{ role: 'user', content: 'hi' }] },
      };
    },
    'GET /api/v1/workspaces/:workspace/gateway-policy': async (ws) => ({ url: `/api/v1/workspaces/${ws}/gateway-policy` }),
    'GET /api/v1/workspaces/:workspace/gateway-savings': async (ws) => ({ url: `/api/v1/workspaces/${ws}/gateway-savings` }),
    'PUT /api/v1/workspaces/:workspace/gateway-policy': async (ws) => ({
      method: 'PUT',
      url: `/api/v1/workspaces/${ws}/gateway-policy`,
      payload: { mode: 'shadow', policy: {} },
    }),
    'GET /api/v1/workspaces/:workspace/settings': async (ws) => ({ url: `/api/v1/workspaces/${ws}/settings` }),
    'PUT /api/v1/workspaces/:workspace/settings': async (ws) => ({
      method: 'PUT',
      url: `/api/v1/workspaces/${ws}/settings`,
      payload: { time_zone: 'UTC' },
    }),
    'POST /api/v1/events': async (ws) => ({
      method: 'POST',
      url: `/api/v1/events?workspace=${ws}`,
      payload: [{ event_id: uniq('e'), timestamp: T0 - 1000, model: 'gpt-4o-mini', prompt_tokens: 10, completion_tokens: 5 }],
    }),
    'POST /v1/traces': async (ws) => ({ method: 'POST', url: `/v1/traces?workspace=${ws}`, payload: otlpSpan() }),
    'POST /api/v1/logs/openai': async (ws) => ({
      method: 'POST',
      url: `/api/v1/logs/openai?workspace=${ws}`,
      payload: {
        id: uniq('chatcmpl'),
        created: Math.floor(T0 / 1000) - 5,
        model: 'gpt-4o-mini',
        usage: { prompt_tokens: 12, completion_tokens: 3 },
        choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }],
      },
    }),
    'GET /api/v1/stats': async (ws) => ({ url: `/api/v1/stats?workspace=${ws}` }),
    'GET /api/v1/events': async (ws) => ({ url: `/api/v1/events?workspace=${ws}&limit=2` }),
    'DELETE /api/v1/events': async (ws) => ({ method: 'DELETE', url: `/api/v1/events?workspace=${ws}&ids=${uniq('gone')}` }),
    'GET /api/v1/models/unpriced': async (ws) => ({ url: `/api/v1/models/unpriced?workspace=${ws}` }),
    'GET /api/v1/analysis': async (ws) => ({ url: `/api/v1/analysis?workspace=${ws}` }),
    'GET /api/v1/policy': async (ws) => ({ url: `/api/v1/policy?workspace=${ws}` }),
    'GET /api/v1/breakdown': async (ws) => ({ url: `/api/v1/breakdown?workspace=${ws}&by=app&metric=spend` }),
    'POST /api/v1/simulations': async (ws) => ({
      method: 'POST',
      url: '/api/v1/simulations',
      payload: { workspace: ws, policy: { routing: [{ match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }] } },
    }),
    'GET /api/v1/catalog': async () => ({ url: '/api/v1/catalog' }),
    'GET /api/v1/workspaces': async () => ({ url: '/api/v1/workspaces' }),
    'POST /api/v1/workspaces': async () => ({ method: 'POST', url: '/api/v1/workspaces', payload: { name: uniq('new') } }),
    'GET /api/v1/workspaces/:workspace/price-overrides': async (ws) => ({ url: `/api/v1/workspaces/${ws}/price-overrides` }),
    'PUT /api/v1/workspaces/:workspace/price-overrides/:model': async (ws) => ({
      method: 'PUT',
      url: `/api/v1/workspaces/${ws}/price-overrides/gpt-4o-mini`,
      payload: { input: 1e-7, output: 2e-7 },
    }),
    'DELETE /api/v1/workspaces/:workspace/price-overrides/:model': async (ws) => {
      await t.app.repo.upsertPriceOverride({
        workspace: ws,
        model: 'gpt-4o',
        input: 1e-6,
        output: 4e-6,
        cached_input: null,
        cache_write: null,
      });
      return { method: 'DELETE', url: `/api/v1/workspaces/${ws}/price-overrides/gpt-4o` };
    },
    'POST /api/v1/workspaces/:workspace/reprice': async (ws) => ({ method: 'POST', url: `/api/v1/workspaces/${ws}/reprice` }),
    'GET /api/v1/workspaces/:workspace/members': async (ws) => ({ url: `/api/v1/workspaces/${ws}/members` }),
    'PUT /api/v1/workspaces/:workspace/members/:user_id': async (ws) => ({
      method: 'PUT',
      url: `/api/v1/workspaces/${ws}/members/${await freshUser()}`,
      payload: { role: 'viewer' },
    }),
    'DELETE /api/v1/workspaces/:workspace/members/:user_id': async (ws) => {
      const u = await freshUser();
      await t.app.accounts.access.setMember(ws, u, 'viewer');
      return { method: 'DELETE', url: `/api/v1/workspaces/${ws}/members/${u}` };
    },
    'GET /api/v1/workspaces/:workspace/api-keys': async (ws) => ({ url: `/api/v1/workspaces/${ws}/api-keys` }),
    'POST /api/v1/workspaces/:workspace/api-keys': async (ws) => ({
      method: 'POST',
      url: `/api/v1/workspaces/${ws}/api-keys`,
      payload: { scope: 'read' },
    }),
    'DELETE /api/v1/api-keys/:prefix': async (ws) => ({
      method: 'DELETE',
      url: `/api/v1/api-keys/${(await t.app.accounts.access.createApiKey(ws, { scope: 'read' }, null)).prefix}`,
    }),
    'GET /api/v1/workspaces/:workspace/provider-secrets': async (ws) => ({ url: `/api/v1/workspaces/${ws}/provider-secrets` }),
    'PUT /api/v1/workspaces/:workspace/provider-secrets/:provider': async (ws) => ({
      method: 'PUT',
      url: `/api/v1/workspaces/${ws}/provider-secrets/openai`,
      payload: { value: 'sk-test-0123456789abcdef' },
    }),
    'DELETE /api/v1/workspaces/:workspace/provider-secrets/:provider': async (ws) => {
      await t.app.accounts.access.setProviderSecret(ws, 'anthropic', 'sk-ant-0123456789abcdef', null);
      return { method: 'DELETE', url: `/api/v1/workspaces/${ws}/provider-secrets/anthropic` };
    },
    'POST /api/v1/auth/login': async () => ({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'viewer@example.com', password: PASSWORD },
    }),
    'POST /api/v1/auth/refresh': async () => ({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: (await t.app.accounts.identity.login('viewer@example.com', PASSWORD)).refresh_token },
    }),
    'POST /api/v1/auth/logout': async () => ({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { refresh_token: (await t.app.accounts.identity.login('viewer@example.com', PASSWORD)).refresh_token },
    }),
    'POST /api/v1/auth/local': async () => ({ method: 'POST', url: '/api/v1/auth/local' }),
    'GET /api/v1/me': async () => ({ url: '/api/v1/me' }),
    'GET /api/v1/users': async () => ({ url: '/api/v1/users' }),
    'POST /api/v1/users': async () => ({ method: 'POST', url: '/api/v1/users', payload: { email: `${uniq('u')}@example.com` } }),
    'GET /api/v1/users/:user_id': async () => ({ url: `/api/v1/users/${ids.viewer}` }),
    'PATCH /api/v1/users/:user_id': async () => ({
      method: 'PATCH',
      url: `/api/v1/users/${await freshUser()}`,
      payload: { name: 'Renamed' },
    }),
    'DELETE /api/v1/users/:user_id': async () => ({ method: 'DELETE', url: `/api/v1/users/${await freshUser()}` }),
    'GET /api/v1/system/performance': async () => ({ url: '/api/v1/system/performance' }),
    // background jobs: rows made directly (a queued row no runner holds is cancellable; reading one needs no running job)
    'GET /api/v1/jobs': async (ws) => ({ url: `/api/v1/jobs?workspace=${ws}` }),
    'GET /api/v1/jobs/:id': async (ws) => ({
      url: `/api/v1/jobs/${(await t.app.repo.createJob({ workspace: ws, kind: 'generate', source: 'chat-support', status: 'completed' })).id}?workspace=${ws}`,
    }),
    'POST /api/v1/jobs': async (ws) => ({
      method: 'POST',
      url: '/api/v1/jobs',
      payload: { kind: 'generate', workspace: ws, preset: 'chat-support', events: 20, days: 1, seed: ++seq },
    }),
    'DELETE /api/v1/jobs/:id': async (ws) => ({
      method: 'DELETE',
      url: `/api/v1/jobs/${(await t.app.repo.createJob({ workspace: ws, kind: 'generate', source: 'chat-support', status: 'queued' })).id}?workspace=${ws}`,
    }),
    // conversations: each caller's own thread and run, made directly
    'GET /api/v1/threads': async (ws) => ({ url: `/api/v1/threads?workspace=${ws}` }),
    'POST /api/v1/threads': async (ws) => ({ method: 'POST', url: `/api/v1/threads?workspace=${ws}`, payload: { title: 'costs' } }),
    'GET /api/v1/threads/:id': async (ws, c) => ({ url: `/api/v1/threads/${(await threadOf(ws, c)).thread}?workspace=${ws}` }),
    'PATCH /api/v1/threads/:id': async (ws, c) => ({
      method: 'PATCH',
      url: `/api/v1/threads/${(await threadOf(ws, c)).thread}?workspace=${ws}`,
      payload: { title: 'renamed' },
    }),
    'DELETE /api/v1/threads/:id': async (ws, c) => ({
      method: 'DELETE',
      url: `/api/v1/threads/${(await threadOf(ws, c)).thread}?workspace=${ws}`,
    }),
    'GET /api/v1/threads/:id/messages': async (ws, c) => ({
      url: `/api/v1/threads/${(await threadOf(ws, c)).thread}/messages?workspace=${ws}`,
    }),
    'GET /ws': async () => ({ url: '/ws' }), // plain HTTP: the upgrade authenticates itself (test/chat-ws.test.ts)
    'POST /api/v1/runs': async (ws) => ({
      method: 'POST',
      url: `/api/v1/runs?workspace=${ws}`,
      payload: { request: 'Where does my money go?' },
    }),
    'GET /api/v1/runs/:id': async (ws, c) => ({ url: `/api/v1/runs/${(await threadOf(ws, c)).run}?workspace=${ws}` }),
  };

  async function freshUser(): Promise<string> {
    return (await t.app.accounts.identity.createUser({ email: `${uniq('fresh')}@example.com` })).id;
  }

  const call = async (caller: Caller, req: InjectOptions) =>
    t.app.server.inject({ ...req, headers: { ...req.headers, ...headers[caller] } });
  const routeKeys = () => registeredRoutes(t.app.server).map((r) => `${r.method} ${r.url}`);

  it('has a rule and a sample for every registered route (a new route without both fails here)', () => {
    const keys = routeKeys();
    expect(keys.length).toBeGreaterThan(30);
    expect(keys.filter((k) => !ROUTE_RULES[k])).toEqual([]);
    expect(keys.filter((k) => !samples[k])).toEqual([]);
  });

  it('gives every caller exactly the access its role or scope grants, on every route', async () => {
    const failures: string[] = [];
    const table: string[] = [];
    for (const key of routeKeys()) {
      const [method, url] = key.split(' ') as [string, string];
      const rule = ruleFor(method, url)!;
      const allowedSet = new Set(ALLOWED[rule.access === 'workspace' ? rule.permission : rule.access]!);
      const row: string[] = [];
      for (const caller of CALLERS) {
        const res = await call(caller, await samples[key]!('ws-a', caller));
        const expected =
          key === 'OPTIONS *'
            ? [404] // CORS is off by default: no preflight answers (see auth-abuse)
            : allowedSet.has(caller)
              ? 'ok'
              : rule.access === 'gateway' && !caller.startsWith('key:')
                ? [401]
                : caller === 'anonymous' || caller === 'garbage'
                  ? [401]
                  : [403];
        // a public route may answer a redirect (the docs page's old index.html address)
        const okBelow = rule.access === 'public' ? 400 : 300;
        const ok = expected === 'ok' ? res.statusCode >= 200 && res.statusCode < okBelow : expected.includes(res.statusCode);
        if (!ok) failures.push(`${key} as ${caller}: got ${res.statusCode} (${res.body.slice(0, 160)}), expected ${expected}`);
        row.push(`${caller}=${res.statusCode}`);
      }
      table.push(`${key.padEnd(64)} ${row.join(' ')}`);
    }
    if (failures.length || process.env.NETRA_PRINT_MATRIX) console.log(table.join('\n'));
    expect(failures).toEqual([]);
    await t.app.jobs.whenIdle(); // the generation jobs the POST /api/v1/jobs sample started write into ws-a: let them finish
  }, 240_000);

  it('lets no one of workspace A read or change anything of workspace B', async () => {
    const before = (await call('outsider', { url: '/api/v1/stats?workspace=ws-b' })).json();
    const workspaceRoutes = Object.entries(ROUTE_RULES)
      .filter(([k, r]) => r.access === 'workspace' && samples[k] && routeKeys().includes(k))
      .map(([k]) => k);
    expect(workspaceRoutes.length).toBeGreaterThan(15);
    const leaks: string[] = [];
    for (const key of workspaceRoutes) {
      for (const caller of ['owner', 'member', 'viewer', 'key:ingest', 'key:read', 'key:admin', 'admin'] as const) {
        const res = await call(caller, await samples[key]!('ws-b', caller));
        if (res.statusCode !== 403) leaks.push(`${key} as ${caller} of ws-a on ws-b: ${res.statusCode}`);
      }
    }
    expect(leaks).toEqual([]);
    expect((await call('outsider', { url: '/api/v1/stats?workspace=ws-b' })).json()).toEqual(before);
    // the samples planted a gpt-4o override, an anthropic secret and a viewer in ws-b: none was deleted, nothing was added
    expect((await t.app.repo.listPriceOverrides('ws-b')).map((o) => o.model)).toEqual(['gpt-4o']);
    expect((await t.app.accounts.access.providerSecrets('ws-b')).map((p) => p.provider)).toEqual(['anthropic']);
    const bMembers = await t.app.accounts.access.members('ws-b');
    expect(bMembers.filter((m) => m.role === 'owner').map((m) => m.email)).toEqual(['outsider@example.com']);
    expect(bMembers.length).toBe(1 + 7); // the owner + one planted viewer per caller of the DELETE member sample
    expect((await t.app.accounts.access.apiKeys('ws-b')).every((k) => k.revoked_at === null)).toBe(true);
    // the list of workspaces shows only one's own
    const list = (await call('owner', { url: '/api/v1/workspaces' })).json().workspaces.map((w: { name: string }) => w.name);
    expect(list).toContain('ws-a');
    expect(list).not.toContain('ws-b');
    const keyList = (await call('key:read', { url: '/api/v1/workspaces' })).json().workspaces.map((w: { name: string }) => w.name);
    expect(keyList).toEqual(['ws-a']);
  }, 120_000);

  it('sends an API key without a workspace to its own workspace, and refuses naming another', async () => {
    const ev = { event_id: uniq('k'), timestamp: T0 - 500, model: 'gpt-4o-mini', prompt_tokens: 1, completion_tokens: 1 };
    const before = (await call('owner', { url: '/api/v1/stats?workspace=ws-a' })).json().events;
    const r = await call('key:ingest', { method: 'POST', url: '/api/v1/events', payload: [ev] });
    expect(r.statusCode).toBe(200);
    expect((await call('owner', { url: '/api/v1/stats?workspace=ws-a' })).json().events).toBe(before + 1);
    const header = await call('key:ingest', {
      method: 'POST',
      url: '/api/v1/events',
      headers: { 'x-netra-workspace': 'ws-b' },
      payload: [ev],
    });
    expect(header.statusCode).toBe(403);
  });

  it('creates a workspace on first ingest only for an instance admin; others must ask an owner', async () => {
    const ev = [{ event_id: 'x1', timestamp: T0 - 100, model: 'gpt-4o-mini', prompt_tokens: 1, completion_tokens: 1 }];
    const byMember = await call('member', { method: 'POST', url: '/api/v1/events?workspace=brand-new', payload: ev });
    expect(byMember.statusCode).toBe(403);
    expect(await t.app.accounts.access.exists('brand-new')).toBe(false);
    const byAdmin = await call('admin', { method: 'POST', url: '/api/v1/events?workspace=brand-new', payload: ev });
    expect(byAdmin.statusCode).toBe(200);
    const members = await t.app.accounts.access.members('brand-new');
    expect(members.map((m) => [m.email, m.role])).toEqual([['local@netra', 'owner']]);
    // reading a workspace that does not exist: an admin learns it does not exist, others get the same 403 as for any other
    expect((await call('admin', { url: '/api/v1/stats?workspace=ghost' })).statusCode).toBe(404);
    expect((await call('member', { url: '/api/v1/stats?workspace=ghost' })).statusCode).toBe(403);
    // an owner creates a workspace explicitly and owns it
    const created = await call('member', { method: 'POST', url: '/api/v1/workspaces', payload: { name: 'member-made' } });
    expect(created.statusCode).toBe(201);
    expect((await call('member', { method: 'POST', url: '/api/v1/events?workspace=member-made', payload: ev })).statusCode).toBe(200);
    expect((await call('member', { method: 'POST', url: '/api/v1/workspaces', payload: { name: 'member-made' } })).statusCode).toBe(409);
  });

  it('keeps one owner in every workspace', async () => {
    const demote = await call('owner', { method: 'PUT', url: `/api/v1/workspaces/ws-a/members/${ids.owner}`, payload: { role: 'member' } });
    expect(demote.statusCode).toBe(409);
    const remove = await call('owner', { method: 'DELETE', url: `/api/v1/workspaces/ws-a/members/${ids.owner}` });
    expect(remove.statusCode).toBe(409);
  });
});

function otlpSpan() {
  const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'string' ? { stringValue: v } : { intValue: String(v) } });
  const start = BigInt(T0 - 2000) * 1_000_000n;
  const spanId = Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(16, '0');
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'matrix')] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId,
                name: 'chat gpt-4o',
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + 1_000_000_000n),
                attributes: [
                  attr('gen_ai.operation.name', 'chat'),
                  attr('gen_ai.request.model', 'gpt-4o'),
                  attr('gen_ai.usage.input_tokens', 80),
                  attr('gen_ai.usage.output_tokens', 12),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}
