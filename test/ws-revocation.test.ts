/**
 * Rights on open WebSockets: a socket opened before a change follows it. A member removed from the workspace, a revoked
 * API key and a deactivated user are closed 1008 with a reason (without sending anything); a member demoted to viewer
 * can still read but no longer act; an expired access token closes the socket. With REDIS_URL and DATABASE_URL, a key
 * revoked through one process closes its socket on another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { signAccessToken } from '../src/accounts/tokens.js';
import type { RunEventDraft, RunExecutor, RunRequest, RunResult } from '../src/agents/types.js';
import { sharedPostgres } from './helpers/databases.js';

class QuickExecutor implements RunExecutor {
  async execute(req: RunRequest, emit: (e: RunEventDraft) => Promise<void>): Promise<RunResult> {
    await emit({ type: 'agent_started', payload: { request: req.request } });
    await emit({ type: 'agent_completed', payload: {} });
    return { content: 'done', status: 'completed' };
  }
}

interface Env {
  type: string;
  payload: Record<string, unknown>;
  request_id?: string;
}

class Client {
  readonly received: Env[] = [];
  private waiters: { pred: (e: Env) => boolean; res: (e: Env) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly ready: Promise<Env>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const e = JSON.parse(d.toString()) as Env;
      this.received.push(e);
      for (const w of [...this.waiters])
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.res(e);
        }
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((res) => ws.on('close', (code: number, reason: Buffer) => res({ code, reason: reason.toString() })));
    this.ready = this.next((e) => e.type === 'connection_established');
  }
  next(pred: (e: Env) => boolean): Promise<Env> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((res) => this.waiters.push({ pred, res }));
  }
  /** sends a request and waits for the answer carrying its request_id */
  ask(type: string, payload: Record<string, unknown> = {}): Promise<Env> {
    const request_id = `r-${Math.random().toString(36).slice(2)}`;
    this.ws.send(JSON.stringify({ type, request_id, payload }));
    return this.next((e) => e.request_id === request_id);
  }
}

async function open(base: string, token: string, workspace = 'acme'): Promise<Client> {
  const c = new Client(new WebSocket(`${base}/ws?workspace=${workspace}`, [], { headers: { authorization: `Bearer ${token}` } }));
  await c.ready;
  return c;
}

async function startApp(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'netra-ws-rev-'));
  const sink = new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
  const app = await createApp(parseConfig({ dataDir: dir, port: 0, seedDemo: false, otlp: { grpcPort: 0 }, ...extra }), {
    logDestination: sink,
    runExecutor: new QuickExecutor(),
  });
  const base = (await app.listen()).replace(/^http/, 'ws');
  return { app, base, dir };
}

describe('rights re-checked on open WebSockets', () => {
  let app: App;
  let base: string;
  let dir: string;
  let ownerId: string;
  const users: Record<string, { id: string; token: string }> = {};

  beforeAll(async () => {
    ({ app, base, dir } = await startApp());
    const { identity, access } = app.accounts;
    ownerId = (await identity.createUser({ email: 'owner@example.com' })).id;
    await access.createWorkspace('acme', ownerId);
    for (const name of ['removed', 'demoted', 'deactivated', 'expiring']) {
      const u = await identity.createUser({ email: `${name}@example.com` });
      await access.setMember('acme', u.id, 'member');
      users[name] = { id: u.id, token: await identity.issueAccessToken(u.id) };
    }
  });
  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a member removed from the workspace is closed 1008 with a reason, and could act until then', async () => {
    const c = await open(base, users.removed!.token);
    expect((await c.ask('create_thread', { title: 'before' })).type).toBe('thread_created');
    await app.accounts.access.removeMember('acme', users.removed!.id);
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/access revoked: no read access to workspace acme/);
    expect((await app.conversations.listThreads({ workspace: 'acme', userId: users.removed!.id })).map((t) => t.title)).toEqual(['before']);
  });

  it('a revoked API key is closed 1008', async () => {
    const key = await app.accounts.access.createApiKey('acme', { scope: 'admin' }, ownerId);
    const c = await open(base, key.key);
    expect((await c.ask('list_threads')).type).toBe('thread_list');
    await app.accounts.access.revokeApiKey(key.prefix);
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/access revoked: the access token or API key is not valid/);
  });

  it('a deactivated user is closed 1008', async () => {
    const c = await open(base, users.deactivated!.token);
    await app.accounts.identity.deactivateUser(users.deactivated!.id);
    const closed = await c.closed;
    expect(closed).toMatchObject({ code: 1008 });
    expect(closed.reason).toMatch(/access revoked/);
  });

  it('a member demoted to viewer keeps reading but can no longer act', async () => {
    const c = await open(base, users.demoted!.token);
    expect((await c.ask('create_thread', { title: 'as member' })).type).toBe('thread_created');
    await app.accounts.access.setMember('acme', users.demoted!.id, 'viewer');
    const refused = await c.ask('user_message', { content: 'run something' });
    expect(refused.type).toBe('error');
    expect(refused.payload.code).toBe('NETRA_E_FORBIDDEN');
    expect((await c.ask('create_thread', { title: 'as viewer' })).payload.code).toBe('NETRA_E_FORBIDDEN');
    expect((await c.ask('list_threads')).type).toBe('thread_list');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });

  it('an access token that expires closes its socket 1008', async () => {
    const settings = app.accounts.identity.tokenSettings;
    // issued so that it expires about 1.5 s from now
    const token = await signAccessToken(settings, { userId: users.expiring!.id }, Date.now() - (settings.accessTtlSec * 1000 - 1500));
    const c = await open(base, token);
    expect((await c.ask('list_threads')).type).toBe('thread_list');
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/expired/);
  });

  it('a change to one credential leaves the sockets of others open (epochs are per credential)', async () => {
    const owner = await open(base, await app.accounts.identity.issueAccessToken(ownerId));
    const k = await app.accounts.access.createApiKey('acme', { scope: 'read' }, ownerId);
    await app.accounts.access.revokeApiKey(k.prefix);
    expect((await owner.ask('list_threads')).type).toBe('thread_list');
    owner.ws.close();
  });
});

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;

describe.skipIf(!DATABASE_URL || !REDIS_URL)('rights changes across processes (Redis bus)', () => {
  const db = sharedPostgres(DATABASE_URL ?? 'postgres://unused', 'wsrev');
  const procs: Awaited<ReturnType<typeof startApp>>[] = [];
  beforeAll(async () => {
    await db.create();
  });
  afterAll(async () => {
    for (const p of procs) {
      await p.app.close();
      rmSync(p.dir, { recursive: true, force: true });
    }
    await db.drop();
  });

  it('a key revoked through process A closes its socket on process B', async () => {
    const url = await db.url();
    const shared = {
      databaseUrl: url,
      redisUrl: REDIS_URL,
      cache: { redisPrefix: `netra-wsrev-${process.pid}-${Date.now()}:` },
      auth: { jwtSecret: 'x'.repeat(40), secretKey: 'a'.repeat(64) },
    };
    procs.push(await startApp(shared), await startApp(shared));
    const [a, b] = procs as [Awaited<ReturnType<typeof startApp>>, Awaited<ReturnType<typeof startApp>>];
    const owner = await a.app.accounts.identity.createUser({ email: 'x-owner@example.com' });
    await a.app.accounts.access.createWorkspace('acme', owner.id);
    const key = await a.app.accounts.access.createApiKey('acme', { scope: 'admin' }, owner.id);
    const c = await open(b.base, key.key);
    expect((await c.ask('list_threads')).type).toBe('thread_list');
    await a.app.accounts.access.revokeApiKey(key.prefix);
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/access revoked/);
  });
});
