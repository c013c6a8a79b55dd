/**
 * kill -9 during ingestion, as an operator would try it: the real server (`bin/netra.js serve`, port 0, a temp data
 * directory), three client loops POSTing batches of events with their own event_ids, `kill -9` at a random moment,
 * restart on the same directory, and a check that every acknowledged event (answered 200) is stored exactly once.
 * Unacknowledged batches (the connection died) are re-sent after the restart, as a client would retry them, so the
 * check also covers de-duplication across restarts.
 *
 * Used by test/chaos-kill.test.ts (one kill, small batches) and bench/chaos-kill.ts (five kills, 1,000-event batches).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const BIN = fileURLToPath(new URL('../../bin/netra.js', import.meta.url));

export interface Server {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts `netra serve` and resolves with its URL from the "listening" log line (bounded wait). */
export function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const proc = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not start in 120 s:\n${out.slice(-4000)}`)), 120_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code}:\n${out.slice(-4000)}`));
    };
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.off('exit', onExit);
        proc.stdout!.off('data', onData);
        proc.stdout!.resume();
        proc.stderr!.resume();
        res({ proc, url: m[1]!, exited });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.once('exit', onExit);
  });
}

export function serverEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NETRA_DATA_DIR: dataDir,
    NETRA_PORT: '0',
    NETRA_HOST: '127.0.0.1',
    NETRA_SEED_DEMO: 'false',
    NETRA_LOG_LEVEL: 'info',
    NETRA_STARTUP_TASKS: 'false',
    DATABASE_URL: '',
    REDIS_URL: '',
    CLICKHOUSE_URL: '',
    NETRA_STORE: 'duckdb',
    // every JSON body through the ingest worker threads (the default leaves bodies under 64 KiB on the main thread)
    NETRA_INGEST_WORKER_MIN_BODY_BYTES: '0',
  };
}

export interface KillRoundResult {
  /** batches answered 200 before the kill */
  acked_batches: number;
  /** events in those batches */
  acked_events: number;
  /** batches whose answer never came (in flight at the kill) */
  unanswered_batches: number;
  /** ms from the kill back to the newest acknowledgement */
  last_ack_before_kill_ms: number;
}

export interface KillRunOptions {
  dataDir: string;
  /** rounds of (ingest, kill -9, restart) */
  kills: number;
  batch: number;
  clients: number;
  /** each round kills once the three clients together have this many batches acknowledged (random in [min, max]) */
  killAfterBatches: [number, number];
  /** random seed for the kill points */
  seed?: number;
  log?: (line: string) => void;
}

export interface KillRunResult {
  rounds: KillRoundResult[];
  acked_events: number;
  sent_events: number;
  stored_events: number;
  distinct_stored: number;
  /** acknowledged event ids missing after the restarts */
  lost: string[];
  /** stored ids never sent (must be none) */
  unknown: number;
  /** acknowledged events re-sent after the last restart: how many the server stored again (must be 0) */
  resent_stored_again: number;
  resent: number;
  events_per_s_during_rounds: number;
}

function event(id: string, i: number): Record<string, unknown> {
  return {
    event_id: id,
    timestamp: Date.UTC(2026, 10, 1) + i,
    model: 'gpt-4o-mini',
    prompt_tokens: 800 + (i % 400),
    completion_tokens: 120,
    latency_ms: 400 + (i % 900),
    app: 'chaos',
    prompt_text: `chaos ${id} `.padEnd(700, 'x'),
  };
}

async function localToken(url: string): Promise<string> {
  const r = await fetch(`${url}/api/v1/auth/local`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (r.status !== 200) throw new Error(`local sign-in: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the rounds; the server is stopped (SIGTERM) at the end and the DuckDB file is read directly. */
export async function runKillRounds(opts: KillRunOptions): Promise<KillRunResult> {
  const log = opts.log ?? (() => undefined);
  const random = rng(opts.seed ?? Date.now());
  const env = serverEnv(opts.dataDir);
  const acked = new Set<string>();
  const sent = new Set<string>();
  const retry: string[][] = [];
  const rounds: KillRoundResult[] = [];
  let nextBatch = 0;
  let ingestMs = 0;
  let server = await startServer(env);
  const token = await localToken(server.url);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${server.url}/api/v1/workspaces`, { method: 'POST', headers, body: JSON.stringify({ name: 'chaos' }) });
  if (created.status !== 201) throw new Error(`create workspace: ${created.status} ${await created.text()}`);

  const post = async (url: string, ids: string[]): Promise<boolean> => {
    const body = JSON.stringify(ids.map((id, i) => event(id, i)));
    const r = await fetch(`${url}/api/v1/events?workspace=chaos`, { method: 'POST', headers, body });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${text.slice(0, 300)}`);
    return true;
  };

  for (let round = 0; round < opts.kills; round++) {
    const [lo, hi] = opts.killAfterBatches;
    const killAt = lo + Math.floor(random() * (hi - lo + 1));
    let ackedThisRound = 0;
    let ackedEvents = 0;
    let unanswered = 0;
    let lastAck = 0;
    let killed = false;
    let killTime = 0;
    const url = server.url;
    const t0 = performance.now();
    const loop = async (): Promise<void> => {
      while (!killed) {
        const b = nextBatch++;
        const ids = Array.from({ length: opts.batch }, (_, i) => `b${b}-e${i}`);
        for (const id of ids) sent.add(id);
        try {
          await post(url, ids);
        } catch (err) {
          if (!killed) throw err;
          unanswered++;
          retry.push(ids);
          return;
        }
        for (const id of ids) acked.add(id);
        lastAck = performance.now();
        ackedThisRound++;
        ackedEvents += ids.length;
        if (ackedThisRound >= killAt && !killed) {
          killed = true;
          server.proc.kill('SIGKILL');
          killTime = performance.now();
        }
      }
    };
    await Promise.all(Array.from({ length: opts.clients }, loop));
    await server.exited;
    ingestMs += killTime - t0;
    rounds.push({
      acked_batches: ackedThisRound,
      acked_events: ackedEvents,
      unanswered_batches: unanswered,
      last_ack_before_kill_ms: Math.round(killTime - lastAck),
    });
    log(`round ${round + 1}: killed after ${ackedThisRound} acknowledged batches (${ackedEvents} events), ${unanswered} in flight`);
    server = await startServer(env);
    // a client retries what was never answered; acknowledged batches re-sent must come back as duplicates
    for (const ids of retry.splice(0)) await post(server.url, ids);
  }
  const resend = [...acked].slice(0, opts.batch);
  const dupRes = await fetch(`${server.url}/api/v1/events?workspace=chaos`, {
    method: 'POST',
    headers,
    body: JSON.stringify(resend.map((id, i) => event(id, i))),
  });
  const dup = (await dupRes.json()) as { accepted: number; duplicates: number };
  server.proc.kill('SIGTERM');
  const code = await server.exited;
  if (code !== 0) throw new Error(`server exited with ${code} on SIGTERM`);

  const db = await DuckDBInstance.create(resolve(opts.dataDir, 'events.duckdb'));
  const conn = await db.connect();
  const ids = (await conn.runAndReadAll(`SELECT event_id FROM events WHERE workspace = 'chaos'`)).getRowsJS().map((r) => r[0] as string);
  conn.closeSync();
  db.closeSync();
  const stored = new Set(ids);
  const lost = [...acked].filter((id) => !stored.has(id));
  let unknown = 0;
  for (const id of stored) if (!sent.has(id)) unknown++;
  return {
    rounds,
    acked_events: acked.size,
    resent_stored_again: dup.accepted,
    resent: resend.length,
    sent_events: sent.size,
    stored_events: ids.length,
    distinct_stored: stored.size,
    lost,
    unknown,
    events_per_s_during_rounds: Math.round((rounds.reduce((a, r) => a + r.acked_events, 0) * 1000) / ingestMs),
  };
}
