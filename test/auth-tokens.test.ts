/**
 * Credentials: password login, access tokens (tampered, expired, wrong audience/issuer/algorithm/secret → 401),
 * refresh-token rotation and reuse detection, logout, deactivated users, workspace-bound tokens, API key revocation
 * and last_used_at.
 */
import { SignJWT } from 'jose';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyMaterial } from '../src/accounts/key-material.js';
import { startTestApp, type TestApp } from './helpers/app.js';

describe('tokens and credentials', () => {
  let t: TestApp;
  let userId: string;
  let secret: Uint8Array;
  const PASSWORD = 'a long enough password';
  const inject = (o: InjectOptions) => t.app.server.inject(o);
  const me = (token: string) => inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
  const sign = (
    claims: Record<string, unknown>,
    o: { iss?: string; aud?: string; exp?: number; iat?: number; key?: Uint8Array; alg?: string } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ typ: 'access', ...claims })
      .setProtectedHeader({ alg: o.alg ?? 'HS256' })
      .setSubject(userId)
      .setIssuer(o.iss ?? 'netra')
      .setAudience(o.aud ?? 'netra-api')
      .setIssuedAt(o.iat ?? now)
      .setExpirationTime(o.exp ?? now + 600)
      .sign(o.key ?? secret);
  };

  beforeAll(async () => {
    t = await startTestApp();
    userId = (await t.app.accounts.identity.createUser({ email: 'Ana@Example.com', password: PASSWORD, name: 'Ana' })).id;
    await t.app.accounts.access.createWorkspace('ana-ws', userId);
    await t.app.accounts.access.createWorkspace('other-ws', userId);
    secret = loadKeyMaterial(t.app.config).jwtSecret;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('logs in with e-mail (case-insensitive) and password; wrong password, unknown user → 401 with one message', async () => {
    const ok = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ana@example.COM', password: PASSWORD } });
    expect(ok.statusCode).toBe(200);
    const pair = ok.json();
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: 1800 });
    expect(pair.refresh_token).toMatch(/^nr_/);
    const who = (await me(pair.access_token)).json();
    expect(who.user).toMatchObject({ email: 'ana@example.com', name: 'Ana', is_admin: false });
    expect(who.workspaces).toEqual([
      { workspace: 'ana-ws', role: 'owner' },
      { workspace: 'other-ws', role: 'owner' },
    ]);
    expect(JSON.stringify(who)).not.toMatch(/password|argon/i);
    const wrong = await inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ana@example.com', password: 'not the password' },
    });
    const unknown = await inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nobody@example.com', password: PASSWORD },
    });
    expect([wrong.statusCode, unknown.statusCode]).toEqual([401, 401]);
    expect(wrong.json().error.message).toBe(unknown.json().error.message);
    const bad = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ana@example.com' } });
    expect(bad.statusCode).toBe(400);
  });

  it('accepts its own tokens and refuses tampered, expired, wrong-audience, wrong-issuer, other-secret and unsigned ones', async () => {
    const good = await sign({});
    expect((await me(good)).statusCode).toBe(200);
    const [h, p, s] = good.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: t.app.accounts.identity.localOwnerId() })).toString('base64url')}.${s}`;
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    const now = Math.floor(Date.now() / 1000);
    const refused: Record<string, string> = {
      forged,
      flipped,
      expired: await sign({}, { iat: now - 3600, exp: now - 60 }),
      wrongAudience: await sign({}, { aud: 'someone-else' }),
      wrongIssuer: await sign({}, { iss: 'evil' }),
      otherSecret: await sign({}, { key: new TextEncoder().encode('x'.repeat(48)) }),
      notAccess: await sign({ typ: 'refresh' }),
      unsigned: `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`,
      hs512: await sign({}, { alg: 'HS512' }),
      garbage: 'abc.def.ghi',
    };
    for (const [name, token] of Object.entries(refused)) {
      const r = await me(token);
      expect(r.statusCode, name).toBe(401);
      expect(r.json().error.code, name).toBe('NETRA_E_UNAUTHENTICATED');
    }
    expect(
      (await inject({ url: '/api/v1/me', headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } })).statusCode,
    ).toBe(401);
  });

  it('rotates refresh tokens; a reused one revokes every session of the user', async () => {
    const first = await t.app.accounts.identity.login('ana@example.com', PASSWORD);
    const r1 = await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: first.refresh_token } });
    expect(r1.statusCode).toBe(200);
    const second = r1.json();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token)).statusCode).toBe(200);
    // replaying the first token: refused, and the second one dies with it
    expect(
      (await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: first.refresh_token } })).statusCode,
    ).toBe(401);
    expect(
      (await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: second.refresh_token } })).statusCode,
    ).toBe(401);
    // logout revokes
    const third = await t.app.accounts.identity.login('ana@example.com', PASSWORD);
    expect((await inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { refresh_token: third.refresh_token } })).statusCode).toBe(
      204,
    );
    expect(
      (await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: third.refresh_token } })).statusCode,
    ).toBe(401);
    expect((await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: 'nr_made_up' } })).statusCode).toBe(401);
  });

  it('limits a workspace-bound token (netra token --workspace) to that workspace', async () => {
    const bound = await t.app.accounts.identity.issueAccessToken(userId, { workspace: 'ana-ws' });
    const h = { authorization: `Bearer ${bound}` };
    expect((await inject({ url: '/api/v1/stats?workspace=ana-ws', headers: h })).statusCode).toBe(200);
    expect((await inject({ url: '/api/v1/stats', headers: h })).statusCode).toBe(200); // defaults to its workspace
    expect((await inject({ url: '/api/v1/stats?workspace=other-ws', headers: h })).statusCode).toBe(403);
    expect((await inject({ method: 'POST', url: '/api/v1/workspaces', headers: h, payload: { name: 'nope' } })).statusCode).toBe(403);
    expect((await inject({ url: '/api/v1/workspaces', headers: h })).json().workspaces.map((w: { name: string }) => w.name)).toEqual([
      'ana-ws',
    ]);
    const admin = await t.token('ana-ws');
    expect((await inject({ url: '/api/v1/users', headers: { authorization: `Bearer ${admin}` } })).statusCode).toBe(403);
  });

  it('ends access for a deactivated user at once, and keeps the local owner an active admin', async () => {
    const u = await t.app.accounts.identity.createUser({ email: 'leaver@example.com', password: PASSWORD });
    const pair = await t.app.accounts.identity.login('leaver@example.com', PASSWORD);
    const admin = { authorization: `Bearer ${await t.token()}` };
    expect((await me(pair.access_token)).statusCode).toBe(200);
    const off = await inject({ method: 'DELETE', url: `/api/v1/users/${u.id}`, headers: admin });
    expect(off.json()).toMatchObject({ id: u.id, active: false });
    expect((await me(pair.access_token)).statusCode).toBe(401);
    expect((await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: pair.refresh_token } })).statusCode).toBe(
      401,
    );
    expect(
      (await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'leaver@example.com', password: PASSWORD } }))
        .statusCode,
    ).toBe(401);
    const self = await inject({ method: 'DELETE', url: `/api/v1/users/${t.app.accounts.identity.localOwnerId()}`, headers: admin });
    expect(self.statusCode).toBe(409);
    // users CRUD: create (password policy), read, update
    const weak = await inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: { email: 'weak@example.com', password: 'short' },
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.field).toBe('password');
    const dup = await inject({ method: 'POST', url: '/api/v1/users', headers: admin, payload: { email: 'ANA@example.com' } });
    expect(dup.statusCode).toBe(409);
    const renamed = await inject({
      method: 'PATCH',
      url: `/api/v1/users/${u.id}`,
      headers: admin,
      payload: { name: 'Back', active: true },
    });
    expect(renamed.json()).toMatchObject({ name: 'Back', active: true });
    expect((await inject({ url: '/api/v1/users/not-a-uuid', headers: admin })).statusCode).toBe(404);
    const list = (await inject({ url: '/api/v1/users', headers: admin })).json().users;
    expect(list.map((x: { email: string }) => x.email)).toEqual(['ana@example.com', 'leaver@example.com', 'local@netra']);
  });

  it('refuses a revoked API key, a key with a wrong secret, and records last use', async () => {
    const { access } = t.app.accounts;
    const k = await access.createApiKey('ana-ws', { scope: 'read', name: 'ci' }, userId);
    expect(k.key).toMatch(/^nk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(k.key.startsWith(`nk_${k.prefix}_`)).toBe(true);
    expect((await me(k.key)).json()).toEqual({ kind: 'api_key', prefix: k.prefix, workspace: 'ana-ws', scope: 'read' });
    const listed = (await access.apiKeys('ana-ws')).find((x) => x.prefix === k.prefix)!;
    expect(listed.last_used_at).not.toBeNull();
    expect(JSON.stringify(await access.apiKeys('ana-ws'))).not.toContain(k.key.slice(`nk_${k.prefix}_`.length));
    const wrongSecret = `nk_${k.prefix}_${'A'.repeat(43)}`;
    expect((await me(wrongSecret)).statusCode).toBe(401);
    const owner = { authorization: `Bearer ${await t.app.accounts.identity.issueAccessToken(userId)}` };
    expect((await inject({ method: 'DELETE', url: `/api/v1/api-keys/${k.prefix}`, headers: owner })).statusCode).toBe(204);
    expect((await me(k.key)).statusCode).toBe(401);
    expect((await inject({ method: 'DELETE', url: `/api/v1/api-keys/${k.prefix}`, headers: owner })).statusCode).toBe(404);
    const bad = await inject({ method: 'POST', url: '/api/v1/workspaces/ana-ws/api-keys', headers: owner, payload: { scope: 'root' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('scope');
  });
});
