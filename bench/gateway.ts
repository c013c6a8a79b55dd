/**
 * The LLM gateway's overhead: a local OpenAI-style upstream (non-streamed and streamed answers), called directly,
 * through Netra's gateway (recording on: every call becomes an event in DuckDB), and through Portkey's open-source
 * gateway (@portkey-ai/gateway from npm), at 1, 50 and 200 concurrent clients. Upstream, Netra and Portkey each run in
 * their own process; this process only generates load (undici pool, one connection per client).
 *
 *   node --import tsx bench/gateway.ts            # 5 s per case
 *   node --import tsx bench/gateway.ts --smoke    # 0.5 s per case, 1 and 50 clients
 *   node --import tsx bench/gateway.ts --cpu-prof-netra=/tmp/prof   # a CPU profile of Netra's process, written at its exit
 *
 * Targets: added p50 < 1 ms at 1 client; throughput >= 0.3x direct and >= 10x Portkey at 50 clients; stream TTFT
 * within 1 ms of direct.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const here = fileURLToPath(import.meta.url);
const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
const smoke = process.argv.includes('--smoke');
const profileDir = process.argv.find((a) => a.startsWith('--cpu-prof-netra='))?.slice(17);

// ── role: upstream (a minimal provider; the same answer every time) ──
const ANSWER = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, how can I help you today?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 },
});
const WORDS = ['Hello', ' there,', ' how', ' can', ' I', ' help', ' you', ' today', '?'];
function streamAnswer(res: ServerResponse, withUsage: boolean): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const base =
    '{"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":';
  let out = '';
  for (const w of WORDS) out += `data: ${base}${JSON.stringify(w)}},"finish_reason":null}]${withUsage ? ',"usage":null' : ''}}\n\n`;
  res.write(out.slice(0, out.indexOf('\n\n') + 2)); // first token on its own, as a model would
  res.write(out.slice(out.indexOf('\n\n') + 2));
  if (withUsage)
    res.write(
      'data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}\n\n',
    );
  res.end('data: [DONE]\n\n');
}
async function runUpstream(): Promise<void> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (body.includes('"stream":true')) return streamAnswer(res, body.includes('"include_usage":true'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
    });
  });
  server.keepAliveTimeout = 60_000;
  answerCpu();
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
}

/** CPU time this process has used (µs), on request: the per-call cost does not depend on what else runs on the machine. */
function answerCpu(): void {
  process.on('message', (m: { cpu?: boolean }) => {
    if (!m.cpu) return;
    const u = process.cpuUsage();
    process.send!({ cpu: u.user + u.system });
  });
}

// ── role: netra (the real app, gateway recording into DuckDB) ──
async function runNetra(upstream: string): Promise<void> {
  const { createApp } = await import('../src/app.js');
  const { parseConfig } = await import('../src/config.js');
  const dir = mkdtempSync(join(tmpdir(), 'netra-bench-gw-'));
  const config = parseConfig({
    dataDir: dir,
    port: 0,
    seedDemo: false,
    logLevel: 'warn',
    gateway: { openaiBaseUrl: `${upstream}/v1` },
    precompute: { enabled: false },
    startup: { enabled: false },
  });
  const app = await createApp(config, {
    logDestination: new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  });
  const url = await app.listen();
  const owner = app.accounts.identity.localOwnerId();
  await app.accounts.access.createWorkspace('bench', owner);
  const { key } = await app.accounts.access.createApiKey('bench', { scope: 'gateway' }, owner);
  await app.accounts.access.setProviderSecret('bench', 'openai', 'sk-bench-upstream-key-0000', owner);
  answerCpu();
  process.on('message', async (m: { stats?: boolean }) => {
    if (!m.stats) return;
    await app.gateway!.recorder.flush();
    process.send!({ stats: app.gateway!.recorder.stats(), events: (await app.store.stats({ workspace: 'bench' })).events });
  });
  process.on('SIGTERM', () => {
    void app.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  process.send!({ url, key });
}

function child(args: string[], nodeArgs: string[] = []): { proc: ChildProcess; first: Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', here, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NETRA_LOG_LEVEL: 'warn' },
  });
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as Record<string, unknown>));
    proc.once('exit', (code) => reject(new Error(`child ${args.join(' ')} exited ${code}`)));
  });
  return { proc, first };
}

function cpuOf(proc: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { cpu?: number }) => {
      if (m.cpu === undefined) return;
      proc.off('message', on);
      resolve(m.cpu);
    };
    proc.on('message', on);
    proc.send({ cpu: true });
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startPortkey(): Promise<{ proc: ChildProcess; url: string } | { error: string }> {
  let entry: string;
  try {
    entry = join(dirname(createRequire(import.meta.url).resolve('@portkey-ai/gateway/package.json')), 'build', 'start-server.js');
  } catch (err) {
    return { error: `@portkey-ai/gateway is not installed (${(err as Error).message})` };
  }
  const port = await freePort();
  const proc = spawn(process.execPath, [entry, `--port=${port}`, '--headless'], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  process.once('exit', () => proc.kill());
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) return { error: `portkey exited with ${proc.exitCode}` };
    const ok = await fetch(url).then(
      () => true,
      () => false,
    );
    if (ok) return { proc, url };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  return { error: 'portkey did not start listening within 10 s' };
}

interface Target {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
}
interface Result {
  rps: number;
  p50: number;
  p99: number;
  ttft50: number | null;
  errors: number;
  n: number;
  cpuUs?: number;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function load(t: Target, clients: number, stream: boolean, seconds: number): Promise<Result> {
  const pool = new Pool(t.origin, { connections: clients, pipelining: 1, keepAliveTimeout: 60_000 });
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    max_tokens: 64,
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Say hello.' },
    ],
    ...(stream ? { stream: true } : {}),
  });
  const headers = { 'content-type': 'application/json', ...t.headers };
  const lat: number[] = [];
  const ttft: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const one = async (record: boolean) => {
    const t0 = performance.now();
    try {
      const r = await pool.request({ path: t.path, method: 'POST', headers, body });
      let first = true;
      let head = '';
      for await (const c of r.body) {
        if (first && record && stream) ttft.push(performance.now() - t0);
        first = false;
        if (r.statusCode !== 200 && head.length < 200) head += String(c).slice(0, 200);
      }
      if (r.statusCode !== 200 && !firstError) firstError = `HTTP ${r.statusCode} ${head.slice(0, 160)}`;
      if (r.statusCode !== 200) {
        errors++;
        if (!firstError) firstError = `HTTP ${r.statusCode}`;
      } else if (record) lat.push(performance.now() - t0);
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  };
  // warm-up: connections opened, JIT warm
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < 20; i++) await one(false);
    }),
  );
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) await one(true);
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await pool.close();
  if (firstError)
    console.log(`  ${t.name} ${stream ? 'streamed' : 'non-streamed'} ${clients} clients: ${errors} failed calls, first: ${firstError}`);
  return { rps: lat.length / elapsed, p50: pct(lat, 50), p99: pct(lat, 99), ttft50: stream ? pct(ttft, 50) : null, errors, n: lat.length };
}

async function main(): Promise<void> {
  const seconds = smoke ? 0.5 : 5;
  const clientCounts = smoke ? [1, 50] : [1, 50, 200];
  const up = child(['--role=upstream']);
  const upstream = `http://127.0.0.1:${(await up.first).port as number}`;
  const nx = child(['--role=netra', `--upstream=${upstream}`], profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
  const netra = (await nx.first) as { url: string; key: string };
  const pk = await startPortkey();
  const targets: Target[] = [
    { name: 'direct', origin: upstream, path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-bench' } },
    { name: 'netra', origin: netra.url, path: '/v1/chat/completions', headers: { authorization: `Bearer ${netra.key}` } },
  ];
  if ('url' in pk) {
    targets.push({
      name: 'portkey',
      origin: pk.url,
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1` },
    });
  } else console.log(`portkey: not measured (${pk.error})`);

  const results = new Map<string, Result>();
  console.log('target   stream clients   req/s     p50 ms   p99 ms   ttft p50 ms  errors  cpu µs/call');
  for (const stream of [false, true]) {
    for (const clients of clientCounts) {
      for (const t of targets) {
        const cpuProc = t.name === 'netra' ? nx.proc : t.name === 'direct' ? up.proc : null;
        const c0 = cpuProc ? await cpuOf(cpuProc) : 0;
        const r = await load(t, clients, stream, seconds);
        // CPU of the process serving the target (netra: the gateway alone; direct: the upstream), over warm-up and run
        if (cpuProc) r.cpuUs = ((await cpuOf(cpuProc)) - c0) / (r.n + r.errors + clients * 20);
        results.set(`${t.name}/${stream}/${clients}`, r);
        console.log(
          `${t.name.padEnd(8)} ${String(stream).padEnd(6)} ${String(clients).padStart(7)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(3).padStart(9)} ${r.p99.toFixed(3).padStart(8)} ${(r.ttft50 === null ? '-' : r.ttft50.toFixed(3)).padStart(12)} ${String(r.errors).padStart(7)} ${(r.cpuUs === undefined ? '-' : r.cpuUs.toFixed(0)).padStart(12)}`,
        );
      }
    }
  }
  const g = (k: string) => results.get(k)!;
  const added = g('netra/false/1').p50 - g('direct/false/1').p50;
  const ratioDirect = g('netra/false/50').rps / g('direct/false/50').rps;
  const ttftDelta = g('netra/true/1').ttft50! - g('direct/true/1').ttft50!;
  console.log(`\nadded latency p50 at 1 client (non-streamed): ${added.toFixed(3)} ms (target < 1 ms)`);
  console.log(
    `throughput at 50 clients: netra ${g('netra/false/50').rps.toFixed(0)}/s = ${ratioDirect.toFixed(2)}x direct (target >= 0.3x)`,
  );
  if (results.has('portkey/false/50'))
    console.log(
      `                          = ${(g('netra/false/50').rps / g('portkey/false/50').rps).toFixed(1)}x portkey (${g('portkey/false/50').rps.toFixed(0)}/s; target >= 10x)`,
    );
  console.log(`stream TTFT p50 at 1 client: netra - direct = ${ttftDelta.toFixed(3)} ms (target within 1 ms)`);
  const stats = await new Promise<Record<string, unknown>>((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (m.stats) {
        nx.proc.off('message', on);
        resolve(m);
      }
    };
    nx.proc.on('message', on);
    nx.proc.send({ stats: true });
  });
  console.log(`netra recorder: ${JSON.stringify(stats.stats)}; events stored in the workspace: ${String(stats.events)}`);
  const s = stats.stats as { dropped: number };
  nx.proc.kill('SIGTERM');
  up.proc.kill('SIGTERM');
  if ('proc' in pk) pk.proc.kill('SIGTERM');
  if (s.dropped > 0) process.exitCode = 1;
}

// children end with the load generator (also when it is killed)
if (role) process.on('disconnect', () => process.exit(0));
if (role === 'upstream') await runUpstream();
else if (role === 'netra') await runNetra(process.argv.find((a) => a.startsWith('--upstream='))!.slice(11));
else await main();
