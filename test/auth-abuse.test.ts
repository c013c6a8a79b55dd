/**
 * Abuse limits: per-key and per-IP rate limits (429 with retry-after; loopback exempt unless configured otherwise),
 * CORS (no cross-origin access by default; configured origins only), security headers, body limits on account routes,
 * and the loopback-only automatic sign-in of the local UI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

describe('rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ security: { rateLimitPerKey: 3, rateLimitPerIp: 5, rateLimitExemptLoopback: false } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('limits each API key / user separately, and each client address', async () => {
    const { access } = t.app.accounts;
    await access.createWorkspace('rl', t.app.accounts.identity.localOwnerId());
    const [a, b] = [
      (await access.createApiKey('rl', { scope: 'read' }, null)).key,
      (await access.createApiKey('rl', { scope: 'read' }, null)).key,
    ];
    const get = (key: string, ip: string) =>
      t.app.server.inject({ url: '/api/v1/stats', headers: { authorization: `Bearer ${key}` }, remoteAddress: ip });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await get(a, `10.0.0.${i + 1}`)).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await get(a, '10.0.0.9');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('NETRA_E_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(b, '10.0.0.10')).statusCode).toBe(200); // another key is not affected

    // per IP: without credentials too (login guessing), 5 per window from one address
    const login = (ip: string) =>
      t.app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'x@example.com', password: 'wrong password!' },
        remoteAddress: ip,
      });
    const ipCodes = [];
    for (let i = 0; i < 6; i++) ipCodes.push((await login('10.1.1.1')).statusCode);
    expect(ipCodes).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await login('10.1.1.2')).statusCode).toBe(401);
    // probes are never limited
    for (let i = 0; i < 8; i++)
      expect((await t.app.server.inject({ url: '/health/live', remoteAddress: '10.1.1.1' })).statusCode).toBe(200);
  });
});

describe('defaults: loopback exempt, no CORS, security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ security: { rateLimitPerKey: 2, rateLimitPerIp: 2 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('does not limit loopback clients by default', async () => {
    const auth = await t.auth();
    for (let i = 0; i < 6; i++) expect((await t.app.server.inject({ url: '/api/v1/catalog', headers: auth })).statusCode).toBe(200);
    const remote = [];
    for (let i = 0; i < 3; i++)
      remote.push((await t.app.server.inject({ url: '/api/v1/catalog', headers: auth, remoteAddress: '192.0.2.7' })).statusCode);
    expect(remote).toEqual([200, 200, 429]);
  });

  it('answers no cross-origin request by default and sends security headers', async () => {
    const r = await t.app.server.inject({ url: '/health/live', headers: { origin: 'https://evil.example' } });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(r.headers['strict-transport-security']).toMatch(/max-age=/);
    const pre = await t.app.server.inject({
      method: 'OPTIONS',
      url: '/api/v1/stats',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('limits account request bodies to 64 KiB', async () => {
    const r = await t.app.server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'a@b.c', password: 'x'.repeat(70 * 1024) },
    });
    expect(r.statusCode).toBe(413);
  });

  it('signs the local UI in automatically only from loopback, with a loopback Host and no proxy', async () => {
    const local = (headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
      t.app.server.inject({ method: 'POST', url: '/api/v1/auth/local', headers: { host: 'localhost:8000', ...headers }, remoteAddress });
    const ok = await local();
    expect(ok.statusCode).toBe(200);
    expect(
      (await t.app.server.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${ok.json().access_token}` } })).json().user.email,
    ).toBe('local@netra');
    expect((await local({}, '192.0.2.1')).statusCode).toBe(403);
    expect((await local({ host: 'netra.evil.example' })).statusCode).toBe(403); // DNS rebinding
    expect((await local({ 'x-forwarded-for': '203.0.113.9' })).statusCode).toBe(403);
    expect((await local({ origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await local({ origin: 'http://localhost:5173' })).statusCode).toBe(200);
  });
});

describe('configured CORS origins; no auto sign-in on a public interface', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ host: '0.0.0.0', security: { corsOrigins: 'https://app.example, https://other.example' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('allows the configured origins only', async () => {
    const pre = await t.app.server.inject({
      method: 'OPTIONS',
      url: '/api/v1/stats',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/authorization/);
    const other = await t.app.server.inject({ url: '/health/live', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses automatic sign-in when the server listens beyond loopback', async () => {
    const r = await t.app.server.inject({ method: 'POST', url: '/api/v1/auth/local', headers: { host: 'localhost:8000' } });
    expect(r.statusCode).toBe(403);
  });
});
