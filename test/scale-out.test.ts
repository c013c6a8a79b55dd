/**
 * Two server processes against the machine's PostgreSQL and Redis (skipped, with the reason, when DATABASE_URL or
 * REDIS_URL is unset): accounts, workspaces, tokens and API keys are shared; each process keeps its own embedded
 * DuckDB store, and the Redis query cache never serves one store's answer from the other; a WebSocket client of B
 * follows and stops a chat run executing in A (run events fan out through Redis).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(__dirname, '../bin/netra.js');
const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const run = promisify(execFile);

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

interface Server {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

interface Envelope {
  type: string;
  payload: Record<string, unknown>;
  event_id?: number;
  run_id?: string;
  thread_id?: string;
}

/** A chat socket that records every envelope; `next(pred)` resolves with the first recorded or future match. */
async function chatSocket(base: string, token: string, workspace: string) {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?workspace=${workspace}`, [], {
    headers: { authorization: `Bearer ${token}` },
  });
  const seen: Envelope[] = [];
  const waiters: { pred: (e: Envelope) => boolean; res: (e: Envelope) => void }[] = [];
  ws.on('message', (d: Buffer) => {
    const e = JSON.parse(d.toString()) as Envelope;
    seen.push(e);
    for (const w of waiters.splice(0)) w.pred(e) ? w.res(e) : waiters.push(w);
  });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  const next = (pred: (e: Envelope) => boolean, ms = 20_000) =>
    new Promise<Envelope>((res, rej) => {
      const hit = seen.find(pred);
      if (hit) return res(hit);
      const t = setTimeout(() => rej(new Error(`timed out; saw ${seen.map((e) => e.type).join(',')}`)), ms);
      waiters.push({
        pred,
        res: (e) => {
          clearTimeout(t);
          res(e);
        },
      });
    });
  return { ws, seen, next, send: (m: unknown) => ws.send(JSON.stringify(m)) };
}

/** Starts `netra serve` and resolves with its URL from the "listening" log line (bounded wait). */
function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const proc = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not start in 90 s:\n${out}`)), 90_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        res({ proc, url: m[1]!, exited });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

describe.skipIf(!DATABASE_URL || !REDIS_URL)('two Netra processes sharing PostgreSQL and Redis', () => {
  const dbName = `netra_scale_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const dirs: string[] = [];
  let a: Server;
  let b: Server;
  let envA: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${dbName}`);
    const u = new URL(DATABASE_URL!);
    u.pathname = `/${dbName}`;
    const shared = {
      ...process.env,
      DATABASE_URL: u.toString(),
      REDIS_URL,
      NETRA_PORT: '0',
      NETRA_SEED_DEMO: 'false',
      NETRA_LOG_LEVEL: 'info',
      NETRA_JWT_SECRET: 'scale-out-test-jwt-secret-0123456789abcdef',
      NETRA_SECRET_KEY: '0'.repeat(64),
      NETRA_STARTUP_TASKS: 'false',
      NETRA_REDIS_PREFIX: `netra-test-${dbName}:`,
    };
    const dirA = mkdtempSync(join(tmpdir(), 'netra-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'netra-b-'));
    dirs.push(dirA, dirB);
    envA = { ...shared, NETRA_DATA_DIR: dirA };
    a = await startServer(envA);
    b = await startServer({ ...shared, NETRA_DATA_DIR: dirB });
  }, 240_000);

  afterAll(async () => {
    for (const s of [a, b])
      if (s && s.proc.exitCode === null) {
        s.proc.kill('SIGKILL');
        await s.exited;
      }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }, 60_000);

  it('shares accounts, workspaces, tokens and API keys; keeps per-process stores apart in the cache; shuts down cleanly', async () => {
    const token = (await run(process.execPath, [BIN, 'token'], { env: envA })).stdout.trim();
    const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const created = await fetch(`${a.url}/api/v1/workspaces`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'shared' }) });
    expect(created.status).toBe(201);
    const seenByB = (await (await fetch(`${b.url}/api/v1/workspaces`, { headers: h })).json()) as { workspaces: { name: string }[] };
    expect(seenByB.workspaces.map((w) => w.name)).toContain('shared');

    const key = (await (
      await fetch(`${a.url}/api/v1/workspaces/shared/api-keys`, { method: 'POST', headers: h, body: JSON.stringify({ scope: 'ingest' }) })
    ).json()) as { key: string; prefix: string };
    expect(key.key).toMatch(/^nk_/);
    const events = [1, 2, 3].map((i) => ({
      event_id: `s-${i}`,
      timestamp: Date.UTC(2026, 10, 20, 10, i),
      model: 'gpt-4o-mini',
      prompt_tokens: 100,
      completion_tokens: 10,
    }));
    const ingest = await fetch(`${b.url}/api/v1/events?workspace=shared`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(ingest.status).toBe(200);

    // each process has its own DuckDB store: B holds the events, A holds none, and neither answer leaks through Redis
    const stats = async (s: Server) =>
      ((await (await fetch(`${s.url}/api/v1/stats?workspace=shared`, { headers: h })).json()) as { events: number }).events;
    expect(await stats(a)).toBe(0);
    expect(await stats(b)).toBe(3);
    expect(await stats(a)).toBe(0);

    // run-event fan-out: the run executes in A (its own generator), a client of B resumes it live and stops it
    const onA = await chatSocket(a.url, token, 'shared');
    const onB = await chatSocket(b.url, token, 'shared');
    await Promise.all([onA.next((e) => e.type === 'connection_established'), onB.next((e) => e.type === 'connection_established')]);
    onA.send({ type: 'user_message', payload: { content: 'Generate 45k synthetic events for a customer support chatbot over 30 days' } });
    const accepted = await onA.next((e) => e.type === 'run_accepted');
    const runId = accepted.payload.run_id as string;
    onB.send({ type: 'resume', payload: { thread_id: accepted.payload.thread_id, after_event_id: 0 } });
    await onB.next((e) => e.run_id === runId && e.type === 'agent_started');
    onB.send({ type: 'stop_agent', payload: { run_id: runId }, request_id: 'stop-from-b' });
    // agent_stopped is written by A after B asked: B can only see it through Redis
    const stoppedOnB = await onB.next((e) => e.run_id === runId && e.type === 'agent_stopped');
    const stoppedOnA = await onA.next((e) => e.run_id === runId && e.type === 'agent_stopped');
    expect(stoppedOnB.event_id).toBe(stoppedOnA.event_id);
    const idsOnB = onB.seen.filter((e) => e.run_id === runId && e.event_id !== undefined).map((e) => e.event_id);
    expect(idsOnB).toEqual(idsOnB.map((_, i) => i + 1)); // no gap, no duplicate
    expect(onB.seen.some((e) => e.type === 'error')).toBe(false);
    const runRow = (await (await fetch(`${b.url}/api/v1/runs/${runId}?workspace=shared`, { headers: h })).json()) as {
      status: string;
      events: { type: string }[];
    };
    expect(runRow.status).toBe('cancelled');
    expect(runRow.events.at(-1)!.type).toBe('agent_stopped');
    onA.ws.close();
    onB.ws.close();

    const revoked = await fetch(`${a.url}/api/v1/api-keys/${key.prefix}`, { method: 'DELETE', headers: h });
    expect(revoked.status).toBeLessThan(300);
    const after = await fetch(`${b.url}/api/v1/events?workspace=shared`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(after.status).toBe(401);

    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  }, 120_000);
});
