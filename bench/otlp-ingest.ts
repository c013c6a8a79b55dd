/**
 * Benchmark: OTLP/HTTP trace ingestion (POST /v1/traces) with the OpenTelemetry SDK's default batch of 512 spans, end
 * to end through the real app over a socket (protobuf decoding, span mapping, validation, pricing, de-duplication,
 * storage), against the OTLP/JSON path and DuckDB's own bulk append of the same rows, all in the same run.
 *
 *   node --import tsx bench/otlp-ingest.ts              # 200,000 spans
 *   node --import tsx bench/otlp-ingest.ts --smoke      # 10,240 spans (or BENCH_SMOKE=1)
 *   node --import tsx bench/otlp-ingest.ts --spans 500000 --concurrency 4
 *   node --import tsx bench/otlp-ingest.ts --spans 51200 --profile /tmp/otlp.cpuprofile   # server thread, protobuf run
 *
 * Spans are made from the synthetic generator's events with the attributes an instrumented client sets (GenAI
 * conventions: operation, provider, request/response model, usage with cached tokens, finish reason, temperature,
 * max_tokens, user and session; service.name on the resource; no message content, the instrumentations' default).
 * The load generator runs in a worker thread with pre-encoded bodies, so the server's thread does only server work.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { encodeTraceRequest } from '../src/ingest/otlp-proto.js';
import { parseOtlpTraces } from '../src/ingest/otlp.js';
import { normalizeEvent, type WorkloadEvent } from '../src/workload/event.js';
import { makeOtlpRequests } from './otlp-spans.js';
import { rawBulkAppend } from './store-append.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const arg = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const N = arg('--spans', smoke ? 10_240 : 200_000);
const CONCURRENCY = arg('--concurrency', 2);
const BATCH = 512;
/** `--profile out.cpuprofile`: a CPU profile of the server's thread during the protobuf run only */
const PROFILE = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined;

async function profiled<T>(out: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!out) return fn();
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(out, JSON.stringify(profile));
    session.disconnect();
  }
}

const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, bodies, contentType, concurrency, token } = workerData;
let next = 0, failed = 0, statuses = {};
async function loop() {
  while (next < bodies.length) {
    const body = bodies[next++];
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, authorization: 'Bearer ' + token }, body });
    statuses[r.status] = (statuses[r.status] || 0) + 1;
    if (r.status !== 200) failed++;
    await r.arrayBuffer();
  }
}
parentPort.postMessage('ready');
parentPort.once('message', () => {
  const t0 = performance.now();
  Promise.all(Array.from({ length: concurrency }, loop)).then(() => parentPort.postMessage({ ms: performance.now() - t0, failed, statuses }));
});
`;

type ClientResult = { ms: number; failed: number; statuses: Record<string, number> };

/** A load generator thread with its bodies, started and ready; `go()` sends them all (outside it, no server clock runs). */
async function client(
  url: string,
  bodies: (string | Uint8Array)[],
  contentType: string,
  token: string,
): Promise<{ go(): Promise<ClientResult> }> {
  const w = new Worker(CLIENT, { eval: true, workerData: { url, bodies, contentType, concurrency: CONCURRENCY, token } });
  await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    go: async () => {
      const r = await new Promise<ClientResult>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage('go');
      });
      await w.terminate();
      return r;
    },
  };
}

/**
 * The request bodies, and DuckDB's own bulk append of the rows the server will store (made and timed here, outside the
 * server's clock). Only the bodies outlive this function: the spans as objects and the rows are garbage by the time the
 * server runs, so its heap, and the cost of its garbage collections, is that of a server and not of this bench's data.
 */
async function prepare(dir: string): Promise<{ proto: Uint8Array[]; json: string[]; baseMs: number }> {
  const { requests, catalog } = makeOtlpRequests(N, BATCH);
  const proto = requests.map((r) => encodeTraceRequest(r));
  const json = requests.map((r) => JSON.stringify(r));
  const rows: WorkloadEvent[] = [];
  for (const r of requests) {
    const p = parseOtlpTraces(r);
    if (!p.ok) throw new Error(p.message);
    for (const it of p.items) {
      const n = normalizeEvent(it.raw, { workspace: 'bench', pricer: catalog, newId: () => 'x' });
      if (n.ok) rows.push(n.event);
    }
  }
  if (rows.length !== N) throw new Error(`${rows.length} of ${N} spans map to events`);
  const baseMs = await rawBulkAppend(join(dir, 'baseline.duckdb'), rows, 'chunks');
  return { proto, json, baseMs };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netra-bench-otlp-'));
  try {
    const { proto, json, baseMs } = await prepare(dir);
    const mb = (xs: { length: number }[]) => Number((xs.reduce((a, b) => a + b.length, 0) / 1048576).toFixed(1));

    const app = await createApp(
      parseConfig({ dataDir: join(dir, 'app'), port: 0, seedDemo: false, logLevel: 'warn', otlp: { grpcPort: 0 } }),
    );
    const base = await app.listen();
    const token = await app.accounts.identity.issueAccessToken(app.accounts.identity.localOwnerId(), {});
    const owner = { authorization: `Bearer ${token}` };
    for (const ws of ['pb', 'js', 'warm'])
      await app.server.inject({ method: 'POST', url: '/api/v1/workspaces', headers: owner, payload: { name: ws } });
    // warm-up (JIT) on a few requests of each encoding, into a workspace of its own
    await (await client(`${base}/v1/traces?workspace=warm`, proto.slice(0, 4), 'application/x-protobuf', token)).go();
    await (await client(`${base}/v1/traces?workspace=warm`, json.slice(4, 8), 'application/json', token)).go();

    const run = async (ws: string, bodies: (string | Uint8Array)[], ct: string) => {
      // the client thread is started (and has its copy of the bodies) before the clock starts
      const c = await client(`${base}/v1/traces?workspace=${ws}`, bodies, ct, token);
      const t0 = performance.now();
      const r = await c.go();
      const stats = await app.store.stats({ workspace: ws }); // commits pending rows: part of the measured path
      const ms = performance.now() - t0;
      if (stats.events !== N || r.failed > 0)
        throw new Error(`${ws}: stored ${stats.events} of ${N}; statuses ${JSON.stringify(r.statuses)}`);
      return ms;
    };
    const pbMs = await profiled(PROFILE, () => run('pb', proto, 'application/x-protobuf'));
    const jsMs = await run('js', json, 'application/json');
    await app.close();
    const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
    console.log(
      JSON.stringify({
        bench: 'otlp-ingest',
        spans: N,
        batch: BATCH,
        concurrency: CONCURRENCY,
        protobuf_mb: mb(proto),
        json_mb: mb(json),
        protobuf_spans_per_s: rate(N, pbMs),
        protobuf_ms: Math.round(pbMs),
        json_spans_per_s: rate(N, jsMs),
        json_ms: Math.round(jsMs),
        baseline_duckdb_bulk_append_rows_per_s: rate(N, baseMs),
        baseline_ms: Math.round(baseMs),
        ratio_protobuf_vs_json: Number((jsMs / pbMs).toFixed(2)),
        ratio_protobuf_vs_duckdb_bulk_append: Number((baseMs / pbMs).toFixed(2)),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
