/**
 * `netra token` and `netra keys create|revoke` as a user runs them: separate processes on a temporary data directory,
 * first with no server (the CLI opens the data directory), then against a running server (the CLI goes through its API).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyMaterial } from '../src/accounts/key-material.js';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config.js';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../bin/netra.js');

describe('netra token / netra keys', () => {
  let dir: string;
  let server: App | null = null;
  let port = 0;
  const netra = async (...args: string[]) => {
    try {
      const env = { ...process.env, NETRA_DATA_DIR: dir, DATABASE_URL: '', NETRA_LOG_LEVEL: 'warn', NETRA_PORT: String(port) };
      const r = await run(process.execPath, [BIN, ...args], { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const config = () => parseConfig({ dataDir: dir, port: 0, seedDemo: false, otlp: { grpcPort: 0 } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netra-auth-cli-'));
    port = await closedPort(); // nothing listens there until the server starts below
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a verifiable token for the local owner, optionally bound to a workspace, on a fresh data directory', async () => {
    const r = await netra('token', '--workspace', 'demo');
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const { payload } = await jwtVerify(token, loadKeyMaterial(config()).jwtSecret, { issuer: 'netra', audience: 'netra-api' });
    expect(payload).toMatchObject({ typ: 'access', ws: 'demo' });
    expect(payload.exp! - payload.iat!).toBe(1800);
    expect(r.stderr).toBe('');
    const bad = await netra('token', '--workspace', '../x');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/workspace must be/);
  }, 60_000);

  it('creates a key without a server (opening the data directory) and refuses unknown workspaces and scopes', async () => {
    const gen = await netra('generate', '--preset', 'chat-support', '--events', '50', '--workspace', 'cli-ws');
    expect(gen.code).toBe(0);
    const r = await netra('keys', 'create', '--scope', 'ingest', '--workspace', 'cli-ws', '--json');
    expect(r.code).toBe(0);
    const k = JSON.parse(r.stdout);
    expect(k).toMatchObject({ scope: 'ingest', workspace: 'cli-ws' });
    expect(k.key).toMatch(new RegExp(`^nk_${k.prefix}_`));
    expect((await netra('keys', 'create', '--scope', 'ingest', '--workspace', 'nowhere')).stderr).toMatch(/does not exist/);
    expect((await netra('keys', 'create', '--scope', 'root')).stderr).toMatch(/Allowed choices are ingest, read, admin/);

    // the key works once a server runs on this data directory; the CLI then goes through the server
    server = await createApp(config(), {
      logDestination: new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    });
    const url = await server.listen();
    port = Number(new URL(url).port);
    const ingest = (key: string) =>
      fetch(`${url}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify([{ timestamp: Date.now(), model: 'gpt-4o-mini', prompt_tokens: 3, completion_tokens: 1 }]),
      });
    expect((await ingest(k.key)).status).toBe(200);

    const viaServer = await netra('keys', 'create', '--scope', 'read', '--workspace', 'cli-ws');
    expect(viaServer.code).toBe(0);
    const readKey = viaServer.stdout.trim();
    expect(readKey).toMatch(/^nk_[0-9a-f]{12}_/);
    expect(viaServer.stderr).toMatch(/not shown again/);
    const stats = await fetch(`${url}/api/v1/stats`, { headers: { authorization: `Bearer ${readKey}` } });
    expect(stats.status).toBe(200);
    expect((await stats.json()).events).toBe(51);

    // netra token works while the server holds the database
    const token = (await netra('token')).stdout.trim();
    const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me.json()).user.email).toBe('local@netra');

    const revoke = await netra('keys', 'revoke', k.prefix);
    expect(revoke.code).toBe(0);
    expect((await ingest(k.key)).status).toBe(401);
    const again = await netra('keys', 'revoke', k.key);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/no active api key/);
  }, 120_000);
});

/** A port that was free a moment ago (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}
