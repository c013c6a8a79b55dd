/**
 * Secrets stay secret: passwords, API keys, access/refresh tokens and provider keys never appear in the log (captured at
 * trace level while logging in, creating keys and storing provider secrets); provider keys are AES-256-GCM ciphertext at
 * rest, bound to their row, and never returned; the server's own key material persists (0600) across restarts.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadKeyMaterial, secretsDir } from '../src/accounts/key-material.js';
import { describeConfig, parseConfig } from '../src/config.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const PROVIDER_KEY = 'sk-proj-SECRETprovider0123456789abcdefXYZ';

describe('secrets never appear in logs or responses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ logLevel: 'trace', auth: { jwtSecret: 'configured-jwt-secret-0123456789-abcdefgh' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('greps the captured log for every secret handled during logins, key creation and provider secret storage', async () => {
    const admin = await t.auth();
    const inject = t.app.server.inject.bind(t.app.server);
    const password = 'pw-UNIQUE-8c1f7d2e-long';
    const wrongPassword = 'pw-WRONG-71b2e9aa-long';
    const created = await inject({ method: 'POST', url: '/api/v1/users', headers: admin, payload: { email: 'sec@example.com', password } });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(password);
    const user = created.json().id as string;
    await inject({ method: 'POST', url: '/api/v1/workspaces', headers: admin, payload: { name: 'sec' } });
    await inject({ method: 'PUT', url: `/api/v1/workspaces/sec/members/${user}`, headers: admin, payload: { role: 'owner' } });
    expect(
      (await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'sec@example.com', password: wrongPassword } }))
        .statusCode,
    ).toBe(401);
    const login = (await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'sec@example.com', password } })).json();
    const refreshed = (
      await inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: login.refresh_token } })
    ).json();
    const h = { authorization: `Bearer ${refreshed.access_token}` };
    const key = (await inject({ method: 'POST', url: '/api/v1/workspaces/sec/api-keys', headers: h, payload: { scope: 'ingest' } })).json();
    expect(key.key).toMatch(/^nk_/);
    const ingest = await inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { authorization: `Bearer ${key.key}` },
      payload: [{ timestamp: Date.now(), model: 'gpt-4o-mini', prompt_tokens: 1 }],
    });
    expect(ingest.statusCode).toBe(200);
    // a bad key and a tampered token are refused (and must not be logged either)
    const badKey = `nk_${key.prefix}_${'Z'.repeat(43)}`;
    expect((await inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${badKey}` } })).statusCode).toBe(401);
    const put = await inject({
      method: 'PUT',
      url: '/api/v1/workspaces/sec/provider-secrets/openai',
      headers: h,
      payload: { value: PROVIDER_KEY },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ provider: 'openai', hint: '****fXYZ', base_url: null, updated_at: expect.any(String) });
    // a base URL for the gateway's calls with this secret: an http(s) URL without credentials
    const bad = await inject({
      method: 'PUT',
      url: '/api/v1/workspaces/sec/provider-secrets/azure',
      headers: h,
      payload: { value: PROVIDER_KEY, base_url: 'https://user:pw@example.com/v1' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('base_url');
    const withBase = await inject({
      method: 'PUT',
      url: '/api/v1/workspaces/sec/provider-secrets/azure',
      headers: h,
      payload: { value: PROVIDER_KEY, base_url: 'https://example.openai.azure.com/openai/v1/' },
    });
    expect(withBase.json().base_url).toBe('https://example.openai.azure.com/openai/v1');
    const list = await inject({ url: '/api/v1/workspaces/sec/provider-secrets', headers: h });
    expect(list.json().provider_secrets).toEqual([
      { provider: 'azure', hint: '****fXYZ', base_url: 'https://example.openai.azure.com/openai/v1', updated_at: expect.any(String) },
      { provider: 'openai', hint: '****fXYZ', base_url: null, updated_at: expect.any(String) },
    ]);
    expect((await inject({ method: 'DELETE', url: '/api/v1/workspaces/sec/provider-secrets/azure', headers: h })).statusCode).toBe(204);
    expect(list.body).not.toContain(PROVIDER_KEY.slice(0, 20));
    // a crashing request logs the error, not the request
    await inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: `{"email":"sec@example.com","password":"${password}"`,
      headers: { 'content-type': 'application/json' },
    });

    const log = t.logs.join('');
    expect(log.length).toBeGreaterThan(1000);
    expect(log).toMatch(/api key created/);
    expect(log).toMatch(/provider secret stored/);
    const secrets = {
      password,
      wrongPassword,
      providerKey: PROVIDER_KEY,
      apiKey: key.key,
      apiKeySecret: key.key.slice(`nk_${key.prefix}_`.length),
      badKey,
      accessToken: login.access_token,
      accessTokenSignature: login.access_token.split('.')[2],
      refreshedAccess: refreshed.access_token,
      refreshToken: login.refresh_token,
      refreshToken2: refreshed.refresh_token,
      adminToken: admin.authorization.slice(7),
      jwtSecret: 'configured-jwt-secret-0123456789-abcdefgh',
      secretKey: loadKeyMaterial(t.app.config).secretKey.toString('base64'),
    };
    for (const [name, value] of Object.entries(secrets)) expect(log.includes(value), `${name} appears in the log`).toBe(false);
  });

  it('stores provider keys as AES-256-GCM ciphertext bound to their row, readable only server-side', async () => {
    const { access } = t.app.accounts;
    await access.createWorkspace('sec2', null);
    await access.setProviderSecret('sec2', 'anthropic', 'sk-ant-other-0123456789', null);
    const rows = await t.app.db.db.execute(
      sql`select w.name, p.provider, p.ciphertext from provider_secrets p join workspaces w on w.id = p.workspace_id order by w.name`,
    );
    const list = ((rows as { rows?: unknown[] }).rows ?? rows) as { name: string; provider: string; ciphertext: string }[];
    expect(list.map((r) => `${r.name}/${r.provider}`)).toEqual(['sec/openai', 'sec2/anthropic']);
    for (const r of list) {
      expect(r.ciphertext).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
      expect(r.ciphertext).not.toContain('sk-');
      expect(Buffer.from(r.ciphertext.split('.')[3]!, 'base64url').toString('latin1')).not.toContain('sk-');
    }
    expect(await access.providerSecret('sec', 'openai')).toBe(PROVIDER_KEY);
    // a ciphertext copied to another workspace's row does not open there
    await t.app.db.db.execute(sql`update provider_secrets set ciphertext = ${list[0]!.ciphertext} where provider = 'anthropic'`);
    await expect(access.providerSecret('sec2', 'anthropic')).rejects.toThrow(/cannot be decrypted/);
    expect(describeConfig(t.app.config).auth).toMatchObject({ jwtSecret: '****', secretKey: '(generated under dataDir)' });
    expect(JSON.stringify(describeConfig(t.app.config))).not.toContain('configured-jwt-secret');
  });
});

describe('key material', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netra-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once with 0600 permissions, so tokens and stored secrets survive a restart', async () => {
    const sink = new Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    const config = parseConfig({ dataDir: dir, port: 0, seedDemo: false });
    const first = await createApp(config, { logDestination: sink });
    const ownerId = first.accounts.identity.localOwnerId();
    await first.accounts.access.createWorkspace('keep', ownerId);
    await first.accounts.access.setProviderSecret('keep', 'openai', PROVIDER_KEY, ownerId);
    const token = await first.accounts.identity.issueAccessToken(ownerId);
    await first.close();
    for (const f of ['jwt-secret', 'secret-key', 'local-owner']) expect(statSync(join(secretsDir(dir), f)).mode & 0o777, f).toBe(0o600);
    expect(statSync(secretsDir(dir)).mode & 0o777).toBe(0o700);

    const second = await createApp(config, { logDestination: sink });
    try {
      expect(second.accounts.identity.localOwnerId()).toBe(ownerId);
      const me = await second.server.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
      expect(me.statusCode).toBe(200);
      expect(await second.accounts.access.providerSecret('keep', 'openai')).toBe(PROVIDER_KEY);
    } finally {
      await second.close();
    }
    // another secret key cannot read what the first one sealed
    const other = await createApp(parseConfig({ dataDir: dir, port: 0, seedDemo: false, auth: { secretKey: 'ab'.repeat(32) } }), {
      logDestination: sink,
    });
    try {
      await expect(other.accounts.access.providerSecret('keep', 'openai')).rejects.toThrow(/NETRA_SECRET_KEY changed/);
    } finally {
      await other.close();
    }
    expect(() => loadKeyMaterial(parseConfig({ dataDir: dir, auth: { secretKey: 'too-short' } }))).toThrow(/32 bytes/);
  });
});
