/**
 * The chat WebSocket over a real socket: authentication (header, subprotocol; missing, invalid or query-string
 * tokens close 1008), ping/pong, a user_message run streaming numbered events in order, stop_agent within 200 ms,
 * reconnect + resume receiving exactly the missed events, a fuzz of 500 malformed frames answered only with error
 * envelopes, rate limit and per-user connection cap. Runs use a scripted executor (a test double of RunExecutor).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import type { RunEventDraft, RunExecutor, RunRequest, RunResult } from '../src/agents/types.js';

/** 'loop' runs until stopped; 'gated' pauses after two partial results until `release()`; anything else runs straight through. */
class ScriptedExecutor implements RunExecutor {
  private gate: Promise<void> = Promise.resolve();
  release: () => void = () => {};
  arm(): void {
    this.gate = new Promise<void>((res) => {
      this.release = res;
    });
  }
  async execute(req: RunRequest, emit: (e: RunEventDraft) => Promise<void>, signal: AbortSignal): Promise<RunResult> {
    const tick = () => new Promise<void>((res) => setImmediate(res));
    await emit({ type: 'agent_started', payload: { request: req.request } });
    for (let i = 1; req.request === 'loop' || i <= 4; i++) {
      if (signal.aborted) return { content: '', status: 'cancelled' };
      if (req.request === 'gated' && i === 3) await this.gate;
      await tick();
      await emit({ type: 'partial_result', payload: { step: i } });
    }
    await emit({ type: 'final_report', payload: { summary: `report: ${req.request}` } });
    await emit({ type: 'agent_completed', payload: {} });
    return { content: `report: ${req.request}`, status: 'completed' };
  }
}

interface Env {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: test frames are read field by field
  payload: Record<string, any>;
  event_id?: number;
  run_id?: string;
  thread_id?: string;
  request_id?: string;
  ts: string;
}

/** A test client: records every envelope and lets a test wait for one matching a predicate. */
class Client {
  readonly received: Env[] = [];
  private waiters: { pred: (e: Env) => boolean; res: (e: Env) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
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
    this.closed = new Promise((res) => ws.on('close', (code: number, reason: Buffer) => res({ code, reason: reason.toString() })));
    this.opened = new Promise((res, rej) => {
      ws.on('open', () => res());
      ws.on('error', rej);
    });
  }
  next(pred: (e: Env) => boolean): Promise<Env> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((res) => this.waiters.push({ pred, res }));
  }
  /** waits for a NEW envelope (not one already received) */
  upcoming(pred: (e: Env) => boolean): Promise<Env> {
    return new Promise((res) => this.waiters.push({ pred, res }));
  }
  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
}

async function startApp(ws: Record<string, number>, executor: RunExecutor) {
  const dir = mkdtempSync(join(tmpdir(), 'netra-chat-ws-'));
  const sink = new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
  const app = await createApp(parseConfig({ dataDir: dir, port: 0, seedDemo: false, ws, otlp: { grpcPort: 0 } }), {
    logDestination: sink,
    runExecutor: executor,
  });
  const base = (await app.listen()).replace(/^http/, 'ws');
  const { identity, access } = app.accounts;
  const owner = await identity.createUser({ email: 'owner@example.com', password: 'correct horse battery staple' });
  const viewer = await identity.createUser({ email: 'viewer@example.com', password: 'correct horse battery staple' });
  await access.createWorkspace('acme', owner.id);
  await access.setMember('acme', viewer.id, 'viewer');
  const tokens = { owner: await identity.issueAccessToken(owner.id), viewer: await identity.issueAccessToken(viewer.id) };
  return { app, base, dir, tokens, ownerId: owner.id };
}

describe('chat WebSocket', () => {
  const exec = new ScriptedExecutor();
  let app: App;
  let base: string;
  let dir: string;
  let tokens: { owner: string; viewer: string };
  let ownerId: string;
  const open: Client[] = [];

  beforeAll(async () => {
    ({ app, base, dir, tokens, ownerId } = await startApp(
      { messagesPerSecond: 100_000, maxViolations: 10_000, maxFrameBytes: 4096 },
      exec,
    ));
  }, 60_000);
  afterAll(async () => {
    for (const c of open) c.ws.terminate();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const connect = (opts: { token?: string; via?: 'header' | 'protocol'; query?: string } = {}) => {
    const token = opts.token ?? tokens.owner;
    const url = `${base}/ws?workspace=acme${opts.query ?? ''}`;
    const ws =
      opts.via === 'protocol'
        ? new WebSocket(url, [`jwt.${token}`])
        : new WebSocket(url, [], opts.token === '' ? {} : { headers: { authorization: `Bearer ${token}` } });
    const c = new Client(ws);
    open.push(c);
    return c;
  };
  const ready = async (c: Client) => {
    await c.next((e) => e.type === 'connection_established');
    return c;
  };

  it('authenticates by header or echoed jwt subprotocol and closes 1008 otherwise', async () => {
    const h = await ready(connect());
    const est = h.received[0]!;
    expect(est.type).toBe('connection_established');
    expect(est.payload).toMatchObject({ workspace: 'acme', can_run: true, limits: { max_frame_bytes: 4096, max_connections_per_user: 5 } });
    expect(typeof est.payload.connection_id).toBe('string');
    const p = await ready(connect({ via: 'protocol' }));
    expect(p.ws.protocol).toBe(`jwt.${tokens.owner}`);
    expect((await connect({ token: '' }).closed).code).toBe(1008);
    expect((await connect({ token: 'garbage' }).closed).code).toBe(1008);
    const inQuery = connect({ token: '', query: `&token=${tokens.owner}&access_token=${tokens.owner}` });
    expect((await inQuery.closed).code).toBe(1008);
    expect(inQuery.received).toEqual([]);
    const other = new Client(new WebSocket(`${base}/ws?workspace=elsewhere`, [], { headers: { authorization: `Bearer ${tokens.owner}` } }));
    open.push(other);
    expect((await other.closed).code).toBe(1008);
    h.ws.close();
    p.ws.close();
  });

  it('answers ping with pong carrying the request_id', async () => {
    const c = await ready(connect());
    c.send({ type: 'ping', request_id: 'r-1' });
    const pong = await c.next((e) => e.type === 'pong');
    expect(pong.request_id).toBe('r-1');
    expect(Date.parse(pong.payload.server_time)).not.toBeNaN();
    c.ws.close();
  });

  it('runs a user_message: a new thread, run_accepted, then numbered events in order; history afterwards', async () => {
    const c = await ready(connect());
    c.send({ type: 'user_message', payload: { content: 'Where does my money go?' }, request_id: 'm1' });
    const created = await c.next((e) => e.type === 'thread_created');
    const accepted = await c.next((e) => e.type === 'run_accepted');
    expect(accepted.request_id).toBe('m1');
    await c.next((e) => e.type === 'agent_completed');
    const events = c.received.filter((e) => e.event_id !== undefined);
    expect(events.map((e) => e.type)).toEqual([
      'agent_started',
      'partial_result',
      'partial_result',
      'partial_result',
      'partial_result',
      'final_report',
      'agent_completed',
    ]);
    expect(events.map((e) => e.event_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.every((e) => e.run_id === accepted.run_id && e.thread_id === created.thread_id)).toBe(true);
    await app.runs.whenDone(accepted.run_id!);
    c.send({ type: 'get_thread_history', payload: { thread_id: created.thread_id } });
    const hist = await c.next((e) => e.type === 'thread_history');
    expect(hist.payload.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(hist.payload.runs.map((r: { status: string }) => r.status)).toEqual(['completed']);
    c.send({ type: 'list_threads' });
    expect((await c.next((e) => e.type === 'thread_list')).payload.threads.map((t: { id: string }) => t.id)).toContain(created.thread_id);
    c.send({ type: 'rename_thread', payload: { thread_id: created.thread_id, title: 'money' } });
    expect((await c.next((e) => e.type === 'thread_renamed')).payload.thread.title).toBe('money');
    c.send({ type: 'delete_thread', payload: { thread_id: created.thread_id } });
    await c.next((e) => e.type === 'thread_deleted');
    c.send({ type: 'switch_thread', payload: { thread_id: created.thread_id } });
    expect((await c.next((e) => e.type === 'error')).payload.code).toBe('NETRA_E_NOT_FOUND');
    c.ws.close();
  });

  it('stop_agent stops a run within 200 ms: agent_stopped, run recorded cancelled', async () => {
    const c = await ready(connect());
    c.send({ type: 'user_message', payload: { content: 'loop' } });
    const accepted = await c.next((e) => e.type === 'run_accepted');
    await c.next((e) => e.type === 'partial_result');
    const t0 = performance.now();
    const stopped = c.upcoming((e) => e.type === 'agent_stopped');
    c.send({ type: 'stop_agent', payload: { run_id: accepted.run_id } });
    const ev = await stopped;
    expect(performance.now() - t0).toBeLessThan(200);
    expect(ev.run_id).toBe(accepted.run_id);
    expect((await app.conversations.getRun({ workspace: 'acme', userId: ownerId }, accepted.run_id!))!.status).toBe('cancelled');
    const persisted = await app.runs.eventsAfter({ workspace: 'acme', userId: ownerId }, accepted.run_id!, 0);
    expect(c.received.filter((e) => e.run_id === accepted.run_id && e.event_id !== undefined).map((e) => e.event_id)).toEqual(
      persisted.map((e) => e.event_id),
    );
    c.ws.close();
  });

  it('reconnect + resume delivers exactly the missed events, persisted then live, no gaps or duplicates', async () => {
    exec.arm();
    const a = await ready(connect());
    a.send({ type: 'user_message', payload: { content: 'gated' } });
    const accepted = await a.next((e) => e.type === 'run_accepted');
    await a.next((e) => e.type === 'partial_result' && e.payload.step === 2); // events 1..3 seen, the run now waits
    a.ws.terminate(); // the client drops; it had processed up to event 2 only
    await a.closed;
    const b = await ready(connect());
    b.send({ type: 'resume', payload: { thread_id: accepted.thread_id, after_event_id: 2 } });
    await b.next((e) => e.event_id === 3); // the persisted one it missed
    exec.release(); // the rest arrives live
    await b.next((e) => e.type === 'agent_completed');
    const all = await app.runs.eventsAfter({ workspace: 'acme', userId: ownerId }, accepted.run_id!, 0);
    const got = b.received.filter((e) => e.event_id !== undefined);
    expect(got.map((e) => e.event_id)).toEqual(all.filter((e) => e.event_id > 2).map((e) => e.event_id));
    expect(got.map((e) => e.type)).toEqual(all.filter((e) => e.event_id > 2).map((e) => e.type));
    expect(got.map((e) => e.event_id)).toEqual([3, 4, 5, 6, 7]);
    // resuming a finished run replays from the database alone
    const c = await ready(connect());
    c.send({ type: 'resume', payload: { thread_id: accepted.thread_id, after_event_id: 5 } });
    await c.next((e) => e.type === 'agent_completed');
    expect(c.received.filter((e) => e.event_id !== undefined).map((e) => e.event_id)).toEqual([6, 7]);
    b.ws.close();
    c.ws.close();
  });

  it('fuzz: 500 random and malformed frames get only error envelopes; the server still answers ping', async () => {
    const c = await ready(connect());
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    const frames: (string | Buffer)[] = [];
    const makers: (() => string | Buffer)[] = [
      () => junk(1 + Math.floor(rnd() * 200)).toString('latin1'),
      () => junk(1 + Math.floor(rnd() * 64)), // binary frame
      () => JSON.stringify({ type: 'user_message', payload: { content: 'x' } }).slice(0, Math.floor(rnd() * 30)),
      () => JSON.stringify(pick([null, 1, 'ping', [], [{ type: 'ping' }], true])),
      () => JSON.stringify({ type: `no_such_${Math.floor(rnd() * 1e6)}` }),
      () => JSON.stringify({ type: pick(['ping', 'list_threads']), extra: 1 }),
      () => JSON.stringify({ type: 'stop_agent', payload: { run_id: pick([5, null, '', { a: 1 }]) } }),
      () =>
        JSON.stringify({
          type: 'user_message',
          payload: pick([{}, { content: '' }, { content: 7 }, { content: 'hi', bogus: true }, 'text']),
        }),
      () => JSON.stringify({ type: 'resume', payload: { thread_id: 'x', after_event_id: pick([-1, 1.5, '3', null]) } }),
      () => JSON.stringify({ type: 'rename_thread', payload: { thread_id: 'x' } }),
      () => JSON.stringify({ type: pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty']) }),
      () => '{"type":"ping","payload":{"__proto__":{"polluted":1}},"request_id":5}',
      () => JSON.stringify({ type: 7, payload: {} }),
    ];
    for (let i = 0; i < 498; i++) frames.push(pick(makers)());
    frames.push('x'.repeat(5000), JSON.stringify({ type: 'ping', payload: { pad: 'y'.repeat(6000) } })); // two oversize frames
    const before = c.received.length;
    for (const f of frames) c.ws.send(f);
    c.send({ type: 'ping', request_id: 'after-fuzz' });
    await c.next((e) => e.type === 'pong' && e.request_id === 'after-fuzz');
    const replies = c.received.slice(before);
    expect(replies.length).toBe(501);
    expect(
      replies.slice(0, 500).every((e) => e.type === 'error' && typeof e.payload.code === 'string' && typeof e.payload.message === 'string'),
    ).toBe(true);
    expect(replies.slice(0, 500).filter((e) => e.payload.code === 'NETRA_E_WS_FRAME_TOO_LARGE').length).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });

  it('a viewer reads but cannot run agents; /metrics counts connections and messages', async () => {
    const v = await ready(connect({ token: tokens.viewer }));
    expect(v.received[0]!.payload.can_run).toBe(false);
    v.send({ type: 'user_message', payload: { content: 'hello' }, request_id: 'v1' });
    const err = await v.next((e) => e.type === 'error');
    expect(err.payload).toMatchObject({ code: 'NETRA_E_FORBIDDEN', request_id: 'v1' });
    const metrics = await app.server.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/netra_ws_connections\{[^}]*\} [1-9]/);
    expect(metrics.body).toMatch(/netra_ws_messages_total\{[^}]*direction="in"[^}]*type="ping"[^}]*\} [1-9]/);
    const readiness = (await app.server.inject({ url: '/health/ready' })).json();
    expect(readiness.memory.websocket_connections).toBeGreaterThanOrEqual(1);
    expect(readiness.memory.websocket_buffered_bytes).toBeGreaterThanOrEqual(0);
    v.ws.close();
  });
});

describe('chat WebSocket limits', () => {
  let env: Awaited<ReturnType<typeof startApp>>;
  const open: Client[] = [];
  beforeAll(async () => {
    env = await startApp({ messagesPerSecond: 5, maxViolations: 3, maxConnectionsPerUser: 2, maxFrameBytes: 1024 }, new ScriptedExecutor());
  }, 60_000);
  afterAll(async () => {
    for (const c of open) c.ws.terminate();
    await env?.app.close();
    if (env?.dir) rmSync(env.dir, { recursive: true, force: true });
  });
  const connect = () => {
    const c = new Client(new WebSocket(`${env.base}/ws?workspace=acme`, [], { headers: { authorization: `Bearer ${env.tokens.owner}` } }));
    open.push(c);
    return c;
  };

  it('caps connections per user (1008) and frees the slot on close', async () => {
    const a = connect();
    const b = connect();
    await a.next((e) => e.type === 'connection_established');
    await b.next((e) => e.type === 'connection_established');
    const third = connect();
    expect((await third.closed).code).toBe(1008);
    a.ws.close();
    await a.closed;
    const again = connect();
    await again.next((e) => e.type === 'connection_established');
    b.ws.close();
    again.ws.close();
    await Promise.all([b.closed, again.closed]);
  });

  it('answers a flood with RATE_LIMITED errors and closes 1008 when it goes on; repeated oversize frames close 1009', async () => {
    const c = connect();
    await c.next((e) => e.type === 'connection_established');
    for (let i = 0; i < 30; i++) c.send({ type: 'ping', request_id: `p${i}` });
    expect((await c.closed).code).toBe(1008);
    const kinds = new Set(c.received.slice(1).map((e) => (e.type === 'error' ? e.payload.code : e.type)));
    expect(kinds).toEqual(new Set(['pong', 'NETRA_E_RATE_LIMITED']));
    const d = connect();
    await d.next((e) => e.type === 'connection_established');
    for (let i = 0; i < 3; i++) d.ws.send('z'.repeat(2000));
    expect((await d.closed).code).toBe(1009);
    expect(d.received.filter((e) => e.type === 'error').length).toBe(3);
  });
});
