/**
 * Benchmark: WebSocket ping-pong through Netra's gateway (/ws: authentication, envelope validation, rate limiting,
 * registry, metrics) against a raw `ws` echo server measured in the same run, with 100 and 500 connections.
 * Each connection sends a message, waits for the answer, and repeats for the duration (closed loop); the figure is
 * answered messages per second over all connections, with p50/p99 round-trip latency.
 *
 *   node --import tsx bench/ws.ts              # 5 s per case
 *   node --import tsx bench/ws.ts --smoke      # 1 s per case, 100 connections
 *
 * The original system reported 1,484 msg/s against a 2,000 target; Netra's target is ≥ 0.8× the raw echo server.
 * Not measured here: the user_message path (each one starts an agent run; see the agents' tests for turn latency).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';

const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const SECONDS = smoke ? 1 : 5;
const CONNECTIONS = smoke ? [100] : [100, 500];

interface Result { msgs_per_s: number; p50_ms: number; p99_ms: number; messages: number }

/** Opens `n` connections, runs closed-loop request/response for `seconds`, returns throughput and latency. */
async function drive(n: number, seconds: number, open: () => WebSocket, request: (i: number) => string, isAnswer: (data: string) => boolean): Promise<Result> {
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<WebSocket>((res, rej) => {
    const ws = open();
    ws.once('open', () => res(ws));
    ws.once('error', rej);
    ws.once('close', (code: number, reason: Buffer) => rej(new Error(`closed ${code} before open: ${String(reason)}`)));
  })));
  const lat: number[] = [];
  let count = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(sockets.map((ws, c) => new Promise<void>((res) => {
    let sent = 0;
    let i = 0;
    const next = () => {
      if (performance.now() >= end) return res();
      sent = performance.now();
      ws.send(request(c * 1_000_000 + i++));
    };
    ws.on('message', (data) => {
      if (!isAnswer(String(data))) return;
      lat.push(performance.now() - sent);
      count++;
      next();
    });
    next();
  })));
  await Promise.all(sockets.map((ws) => new Promise<void>((res) => { ws.once('close', () => res()); ws.close(); })));
  lat.sort((a, b) => a - b);
  const q = (p: number) => Number((lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(2));
  return { msgs_per_s: Math.round(count / seconds), p50_ms: q(0.5), p99_ms: q(0.99), messages: count };
}

const dir = mkdtempSync(join(tmpdir(), 'netra-bench-ws-'));
try {
  const app = await createApp(parseConfig({
    dataDir: dir, port: 0, seedDemo: false, logLevel: 'warn',
    ws: { maxConnectionsPerUser: 10_000, messagesPerSecond: 1_000_000, heartbeatIntervalMs: 60_000, idleTimeoutMs: 120_000 },
    startup: { enabled: false },
  }));
  const base = (await app.listen()).replace('http', 'ws');
  const token = await app.accounts.identity.issueAccessToken(app.accounts.identity.localOwnerId(), {});
  await app.server.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { authorization: `Bearer ${token}` }, payload: { name: 'bench' } });

  const echo = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  echo.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer) => ws.send(String(data))));
  await new Promise<void>((res) => echo.once('listening', () => res()));
  const echoUrl = `ws://127.0.0.1:${(echo.address() as { port: number }).port}`;

  console.error(`app on ${base}, echo on ${echoUrl}`);
  for (const n of CONNECTIONS) {
    console.error(`raw echo, ${n} connections...`);
    const raw = await drive(n, SECONDS, () => new WebSocket(echoUrl), (i) => JSON.stringify({ type: 'ping', request_id: `r${i}` }), () => true);
    console.error(`netra /ws, ${n} connections...`);
    const netra = await drive(n, SECONDS, () => new WebSocket(`${base}/ws?workspace=bench`, [], { headers: { authorization: `Bearer ${token}` } }),
      (i) => JSON.stringify({ type: 'ping', request_id: `r${i}` }), (d) => d.includes('"type":"pong"'));
    console.log(JSON.stringify({
      bench: 'ws', case: 'ping-pong', connections: n, seconds: SECONDS,
      netra_msgs_per_s: netra.msgs_per_s, netra_p50_ms: netra.p50_ms, netra_p99_ms: netra.p99_ms,
      raw_ws_echo_msgs_per_s: raw.msgs_per_s, raw_p50_ms: raw.p50_ms, raw_p99_ms: raw.p99_ms,
      ratio_vs_raw_ws: Number((netra.msgs_per_s / raw.msgs_per_s).toFixed(2)),
    }));
  }
  await new Promise<void>((res) => echo.close(() => res()));
  await app.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
