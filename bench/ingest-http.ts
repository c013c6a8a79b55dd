/**
 * Benchmark: HTTP ingestion (POST /api/v1/events, 1,000-event JSON batches) into the embedded DuckDB store, end to end
 * through the real app (validation, pricing, de-duplication, durable acknowledgement, storage), against DuckDB's own
 * bulk append of the same rows measured in the same run (the faster of the appender and `INSERT ... read_ndjson`).
 * Two runs: durable acknowledgement ON (the default, NETRA_STORE_DURABILITY=fsync) and relaxed ('write', no sync).
 * `http_events_per_s` stops the clock once DuckDB has committed every row (a stats() read waits for it);
 * `acknowledged_events_per_s` at the last 200.
 *
 *   node --import tsx bench/ingest-http.ts              # 300,000 events
 *   node --import tsx bench/ingest-http.ts --smoke      # 20,000 events (or BENCH_SMOKE=1)
 *   node --import tsx bench/ingest-http.ts --events 1000000 --concurrency 4
 *   node --import tsx bench/ingest-http.ts --workers 0  # bodies parsed on the server's event loop (default: 1 worker)
 *   node --import tsx bench/ingest-http.ts --live-load-max-bytes 0  # DuckDB loads the spool files, not the column copies
 *   node --import tsx bench/ingest-http.ts --threads  # also each thread's CPU per event (Linux), for the durable run
 *
 * The load generator runs in a worker thread with pre-serialised bodies, so the server's thread does only server work.
 * Events come from the synthetic generator (chat-support and rag-assistant presets: realistic sizes, ~text on part).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { generateWorkload } from '../src/corpus/generator.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { rawBulkAppend, rawBulkLoadNdjson } from './store-append.js';
import { createIngestKey } from './ingest-key.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const arg = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const N = arg('--events', smoke ? 20_000 : 300_000);
const CONCURRENCY = arg('--concurrency', 4);
// JSON ingest worker threads of the server (NETRA_INGEST_WORKER_THREADS; 0: parsed on the event loop)
const WORKERS = arg('--workers', 1);
const BATCH = 1000;
// NETRA_DUCKDB_LIVE_LOAD_MAX_BYTES (0: DuckDB loads every spool segment from its file, as before the column copies)
const LIVE_LOAD = args.includes('--live-load-max-bytes') ? { liveLoadMaxBytes: arg('--live-load-max-bytes', 0) } : {};
const THREADS = args.includes('--threads');

/** ns on CPU of every thread of this process (Linux /proc; empty elsewhere), by thread id. */
function threadNs(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      try {
        out.set(t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // not Linux
  }
  return out;
}

function makeEvents(n: number): WorkloadEvent[] {
  const catalog = loadPriceCatalog();
  const out: WorkloadEvent[] = [];
  for (const [i, preset] of ['chat-support', 'rag-assistant'].entries()) {
    const count = i === 0 ? Math.ceil(n / 2) : Math.floor(n / 2);
    const w = generateWorkload({
      preset,
      events: count,
      days: 7,
      seed: 7 + i,
      workspace: 'bench',
      pricer: catalog,
      tierOf: (m) => catalog.resolve(m)?.quality_tier ?? 2,
    });
    for (const b of w.batches()) out.push(...b);
  }
  return out;
}

/** The wire form: what a client sends (no workspace, no cost: the server prices from the catalog). */
function toInput(e: WorkloadEvent): Record<string, unknown> {
  const { workspace: _w, cost_usd: _c, cost_source: _s, ...rest } = e;
  return rest;
}

// the client thread's own CPU (Linux: /proc/thread-self/schedstat, ns on CPU), so the server's share can be told apart
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const cpuNs = () => { try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]); } catch { return NaN; } };
const { url, bodies, concurrency, apiKey } = workerData;
let next = 0, failed = 0, statuses = {};
async function loop() {
  while (next < bodies.length) {
    const body = bodies[next++];
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + apiKey }, body });
    statuses[r.status] = (statuses[r.status] || 0) + 1;
    if (r.status !== 200) failed++;
    await r.arrayBuffer();
  }
}
parentPort.postMessage('ready');
parentPort.once('message', () => {
  const t0 = performance.now();
  const c0 = cpuNs();
  Promise.all(Array.from({ length: concurrency }, loop)).then(() => parentPort.postMessage({ ms: performance.now() - t0, cpuNs: cpuNs() - c0, failed, statuses }));
});
`;

/** CPU profile of the measured window only (BENCH_PROFILE=<file.cpuprofile>), for finding where server time goes. */
async function startProfile(): Promise<{ stop(path: string): Promise<void> }> {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

interface HttpRun {
  httpMs: number;
  ackMs: number;
  elu: number;
  /** CPU time of the whole process (server threads, DuckDB's threads and the client thread) per event */
  cpuUs: number;
  /** of which the client thread's (NaN where /proc/thread-self is missing) */
  clientCpuUs: number;
}

/** One measured run of the real app with the given durability: ms until the last 200, and until every row is committed. */
async function httpRun(dir: string, bodies: string[], expected: number, durability: 'fsync' | 'write'): Promise<HttpRun> {
  const app = await createApp(
    parseConfig({
      dataDir: dir,
      port: 0,
      seedDemo: false,
      logLevel: 'warn',
      store: { durability, ...LIVE_LOAD },
      ingest: { workerThreads: WORKERS },
      otlp: { grpcPort: 0 }, // not needed here, and the default port may be taken on a shared machine
    }),
  );
  const beforeListen = threadNs();
  const base = await app.listen(); // starts the ingest workers
  const startedByListen = [...threadNs().keys()].filter((t) => !beforeListen.has(t));
  const url = `${base}/api/v1/events?workspace=bench`;
  const apiKey = await createIngestKey(app, 'bench');
  // the bodies are copied into the worker before the clock starts
  const w = new Worker(CLIENT, { eval: true, workerData: { url, bodies, concurrency: CONCURRENCY, apiKey } });
  await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  const profiler = process.env.BENCH_PROFILE ? await startProfile() : null;
  const threads0 = THREADS ? threadNs() : null;
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await new Promise<{ ms: number; cpuNs: number; failed: number; statuses: Record<string, number> }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage('go');
  });
  const ackMs = performance.now() - t0;
  await w.terminate();
  const stats = await app.store.stats({ workspace: 'bench' }); // waits for DuckDB to commit every acknowledged row
  const httpMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  if (threads0) {
    // main thread, ingest workers (started by listen), the rest: DuckDB's threads and libuv's pool (DuckDB's
    // statements, spool writes and syncs), V8's platform threads (GC, JIT); the client thread has ended by now (its CPU
    // is client_cpu_us_per_event)
    const per: Record<string, number> = { main: 0, ingest_workers: 0, other_threads: 0 };
    for (const [t, ns] of threadNs()) {
      const us = (ns - (threads0.get(t) ?? 0)) / 1000 / expected;
      const role = t === String(process.pid) ? 'main' : startedByListen.includes(t) ? 'ingest_workers' : 'other_threads';
      per[role]! += us;
    }
    const rounded = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, Number(v.toFixed(1))]));
    console.error(JSON.stringify({ durability, thread_cpu_us_per_event: rounded }));
  }
  if (profiler) await profiler.stop(`${process.env.BENCH_PROFILE}.${durability}`);
  await app.close();
  if (stats.events !== expected || result.failed > 0) {
    throw new Error(`stored ${stats.events} of ${expected} events; non-200 responses: ${JSON.stringify(result.statuses)}`);
  }
  return { httpMs, ackMs, elu, cpuUs: (cpu.user + cpu.system) / expected, clientCpuUs: result.cpuNs / 1000 / expected };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netra-bench-http-'));
  try {
    const events = makeEvents(N);
    const bodies: string[] = [];
    for (let s = 0; s < events.length; s += BATCH) bodies.push(JSON.stringify(events.slice(s, s + BATCH).map(toInput)));
    const mb = bodies.reduce((a, b) => a + b.length, 0) / 1048576;

    // baselines first (same rows as the server will store, priced the same way): DuckDB's appender, and DuckDB's own
    // INSERT ... read_ndjson of the rows from a file written before the clock; the ratio is against the faster
    let c0 = process.cpuUsage();
    const appenderMs = await rawBulkAppend(join(dir, 'baseline.duckdb'), events, 'rows');
    const appenderCpu = process.cpuUsage(c0);
    c0 = process.cpuUsage();
    const ndjsonMs = await rawBulkLoadNdjson(join(dir, 'baseline-ndjson.duckdb'), events);
    const ndjsonCpu = process.cpuUsage(c0);
    const perEvent = (c: NodeJS.CpuUsage) => Number(((c.user + c.system) / events.length).toFixed(1));
    const baseMs = Math.min(appenderMs, ndjsonMs);

    const durable = await httpRun(join(dir, 'app-fsync'), bodies, events.length, 'fsync');
    const relaxed = await httpRun(join(dir, 'app-write'), bodies, events.length, 'write');
    const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
    console.log(
      JSON.stringify({
        bench: 'ingest-http',
        events: N,
        batch: BATCH,
        concurrency: CONCURRENCY,
        worker_threads: WORKERS,
        payload_mb: Number(mb.toFixed(1)),
        http_events_per_s: rate(N, durable.httpMs),
        http_ms: Math.round(durable.httpMs),
        acknowledged_events_per_s: rate(N, durable.ackMs),
        event_loop_utilization: Number(durable.elu.toFixed(2)),
        process_cpu_us_per_event: Number(durable.cpuUs.toFixed(1)),
        // the process minus the load generator's thread: the server's threads, DuckDB's and libuv's
        server_cpu_us_per_event: Number((durable.cpuUs - durable.clientCpuUs).toFixed(1)),
        client_cpu_us_per_event: Number(durable.clientCpuUs.toFixed(1)),
        baseline_duckdb_bulk_append_events_per_s: rate(N, baseMs),
        baseline_ms: Math.round(baseMs),
        baseline_appender_events_per_s: rate(N, appenderMs),
        baseline_read_ndjson_events_per_s: rate(N, ndjsonMs),
        // includes the baselines' set-up (ndjson: writing its file) and the rows' count check
        baseline_appender_cpu_us_per_event: perEvent(appenderCpu),
        baseline_read_ndjson_cpu_us_per_event: perEvent(ndjsonCpu),
        ratio_vs_duckdb_bulk_append: Number((baseMs / durable.httpMs).toFixed(2)),
        relaxed_write_http_events_per_s: rate(N, relaxed.httpMs),
        relaxed_write_acknowledged_events_per_s: rate(N, relaxed.ackMs),
        relaxed_write_ratio: Number((baseMs / relaxed.httpMs).toFixed(2)),
        relaxed_write_process_cpu_us_per_event: Number(relaxed.cpuUs.toFixed(1)),
        relaxed_write_server_cpu_us_per_event: Number((relaxed.cpuUs - relaxed.clientCpuUs).toFixed(1)),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
