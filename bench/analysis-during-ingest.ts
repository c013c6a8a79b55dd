/**
 * Benchmark: the full analysis, a breakdown and `stats()` over a 1M-event workspace while HTTP ingestion streams
 * continuously into the same server and store (another workspace), with the three ways the store can treat DuckDB's
 * `threads` during a load from a JS table function (ScanThreads, src/store/duckdb-batch-scan.ts), alternated in the
 * same process:
 * - `always`: threads at 1 for the whole of every such load (the ingest's CPU gain; a query running meanwhile gets one
 *   thread);
 * - `off`: the instance's threads throughout (DuckDB's driving thread polls during the JS fills);
 * - the store's own policy (`reads`): threads at 1 for loads that start while no read runs, back when a read starts.
 * The analysis reads one snapshot of the events (`DuckDbStore.analysisSnapshot`, as the analysis service does); a mode
 * with the suffix `/per-query` runs its queries on `store.analysis` instead, each after committing what was spooled
 * meanwhile (how it was before the snapshot): `--modes reads,reads/per-query` compares the two.
 * The same run prints each mode's read times, the server CPU of the reads' window (the ingest meanwhile included), and
 * the ingest's events/s and server CPU per event (alone and during the reads), with ratios against `always`.
 *
 *   node --import tsx bench/analysis-during-ingest.ts                # 1,000,000 events, 2 rounds of each mode
 *   node --import tsx bench/analysis-during-ingest.ts --smoke        # 5,000 events, 1 round, no warm-up
 *   node --import tsx bench/analysis-during-ingest.ts --events 200000 --rounds 3 --modes always,off
 *   ... --rate 0                     # the stream as fast as the server takes it (default 2,000 events/s)
 *   ... --keep-base                  # keep the built workspace file under --dir for the next run (default: removed)
 *
 * The load generator runs in a worker thread (pre-serialised 1,000-event bodies, event ids renamed per pass), so its
 * CPU is taken out of the server's.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { generateWorkload } from '../src/corpus/generator.js';
import { analyzeWorkspace } from '../src/optimize/analyze.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import type { ScanThreadsPolicy } from '../src/store/duckdb-batch-scan.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { BENCH_WORKSPACE, benchContext, loadAnalysisWorkload } from './analysis-workload.js';
import { createIngestKey } from './ingest-key.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
const N = Number(arg('--events', smoke ? '5000' : '1000000'));
const ROUNDS = Number(arg('--rounds', smoke ? '1' : '2'));
const MODES = arg('--modes', 'always,off,reads').split(',');
const policyOf = (mode: string) => mode.split('/')[0] as ScanThreadsPolicy;
const INGEST_ONLY_MS = Number(arg('--ingest-ms', smoke ? '1000' : '4000'));
const CONCURRENCY = Number(arg('--concurrency', '4'));
// the stream's pace in events/s (0: as fast as the server takes them); a steady rate keeps the work per second the
// same in every mode, so the modes are compared on equal terms
const RATE = Number(arg('--rate', smoke ? '1000' : '2000'));
const LIVE_EVENTS = smoke ? 10_000 : 100_000;
const ROOT = arg('--dir', '/tmp/netra-bench-analysis-ingest');

const catalog = loadPriceCatalog();

/** The 1M-event workspace, built once into a DuckDB file that later runs copy. */
async function baseFile(): Promise<string> {
  const file = join(ROOT, `base-${N}.duckdb`);
  if (existsSync(file)) return file;
  mkdirSync(ROOT, { recursive: true });
  const store = createDuckDbStore({ path: file, durability: 'write' });
  await store.init();
  await loadAnalysisWorkload(store, catalog, N);
  await store.maintain();
  await store.close();
  rmSync(`${file}.spool`, { recursive: true, force: true });
  return file;
}

function liveBodies(): string[] {
  const out: WorkloadEvent[] = [];
  for (const [i, preset] of ['chat-support', 'rag-assistant'].entries()) {
    const w = generateWorkload({
      preset,
      events: LIVE_EVENTS / 2,
      days: 1,
      seed: 70 + i,
      workspace: 'live',
      pricer: catalog,
      tierOf: (m) => catalog.resolve(m)?.quality_tier ?? 2,
    });
    for (const b of w.batches()) out.push(...b);
  }
  const bodies: string[] = [];
  for (let s = 0; s < out.length; s += 1000)
    bodies.push(
      JSON.stringify(
        out.slice(s, s + 1000).map((e) => {
          const { workspace: _w, cost_usd: _c, cost_source: _s, ...rest } = e;
          return rest;
        }),
      ),
    );
  return bodies;
}

// Sends the bodies round and round (each pass renames the event ids, so every event is new) until told to stop;
// acknowledged events and the thread's CPU (ns, /proc/thread-self) go to shared counters.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const cpuNs = () => { try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]); } catch { return 0; } };
const { url, bodies, concurrency, apiKey, shared, rate } = workerData;
const counters = new Float64Array(shared);
let next = 0, stop = false, t0 = 0;
const c0 = cpuNs();
async function loop() {
  while (!stop) {
    const i = next++;
    // body i is due at i × 1,000 / rate seconds (a client that fell behind sends at once)
    const due = t0 + (i * 1000 * 1000) / rate - performance.now();
    if (rate > 0 && due > 0) await new Promise((r) => setTimeout(r, due));
    const pass = Math.floor(i / bodies.length);
    const body = bodies[i % bodies.length].replaceAll('"event_id":"', '"event_id":"p' + pass + '-');
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + apiKey }, body });
    await r.arrayBuffer();
    if (r.status !== 200) counters[2]++;
    else counters[0] += 1000;
    counters[1] = cpuNs() - c0;
  }
}
parentPort.once('message', () => {
  t0 = performance.now();
  parentPort.once('message', () => { stop = true; });
  Promise.all(Array.from({ length: concurrency }, loop)).then(() => parentPort.postMessage('stopped'));
});
`;

interface Sample {
  t: number;
  cpuUs: number;
  acked: number;
  clientUs: number;
}

async function main(): Promise<void> {
  const base = await baseFile();
  const dir = join(ROOT, 'run');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(base, join(dir, 'events.duckdb'));
  const app = await createApp(
    parseConfig({
      dataDir: dir,
      port: 0,
      seedDemo: false,
      logLevel: 'warn',
      ingest: { workerThreads: 1 },
      otlp: { grpcPort: 0 },
      // no background reads of their own in the measured windows (maintenance, warm-up, the live workspace's precompute)
      startup: { enabled: false },
      precompute: { enabled: false },
    }),
  );
  const url = `${await app.listen()}/api/v1/events?workspace=live`;
  const store = app.store as DuckDbStore;
  const apiKey = await createIngestKey(app, 'live');

  const scope = { workspace: BENCH_WORKSPACE };
  const stats0 = await store.stats(scope);
  const ctx = benchContext(catalog, stats0);
  const bq = { dimension: 'model' as const, granularity: 'day' as const, filters: [], rank_by: 'spend' as const, top: 10 };
  const reads = async (perQuery = false) => {
    const t0 = performance.now();
    const analyse = (q: typeof store.analysis) => analyzeWorkspace(q, ctx, { goal: 'balanced' });
    const full = await (perQuery ? analyse(store.analysis) : store.analysisSnapshot(analyse));
    const t1 = performance.now();
    await store.analysis.breakdown({ ...scope, from: ctx.from, to: ctx.to }, bq);
    const t2 = performance.now();
    const s = await store.stats(scope);
    const t3 = performance.now();
    if (s.events !== stats0.events || full.recommendations.length === 0) throw new Error('the bench workspace changed');
    return { analysis: t1 - t0, breakdown: t2 - t1, stats: t3 - t2 };
  };

  const shared = new SharedArrayBuffer(3 * 8);
  const counters = new Float64Array(shared);
  const sample = (): Sample => {
    const c = process.cpuUsage();
    return { t: performance.now(), cpuUs: c.user + c.system, acked: counters[0]!, clientUs: counters[1]! / 1000 };
  };
  const client = new Worker(CLIENT, {
    eval: true,
    workerData: { url, bodies: liveBodies(), concurrency: CONCURRENCY, apiKey, shared, rate: RATE },
  });
  const window = (a: Sample, b: Sample) => {
    const events = b.acked - a.acked;
    const serverUs = b.cpuUs - a.cpuUs - (b.clientUs - a.clientUs);
    return { ms: b.t - a.t, events, events_per_s: (events * 1000) / (b.t - a.t), server_cpu_us: serverUs };
  };

  // quiet figures first: the reads with no ingest (the mode does not matter without loads)
  if (!smoke) await reads(); // warm-up
  const q0 = sample();
  const quiet = await reads();
  const quietCpu = sample().cpuUs - q0.cpuUs;
  console.error(JSON.stringify({ quiet_ms: quiet, quiet_cpu_ms: quietCpu / 1000 }));

  // BENCH_DEBUG=1: every 5 s, the ingest's and the loads' progress
  const loader = (store as unknown as { loader: { loads: number; backlog: number } }).loader;
  const debug = process.env.BENCH_DEBUG
    ? setInterval(() => console.error(JSON.stringify({ acked: counters[0], loads: loader.loads, backlog: loader.backlog })), 5000)
    : null;
  client.postMessage('go');
  await new Promise((r) => setTimeout(r, smoke ? 500 : 3000)); // the ingest's warm-up
  const rows: Record<string, number | string>[] = [];
  const order = Array.from({ length: ROUNDS }, (_, r) => (r % 2 === 0 ? MODES : [...MODES].reverse())).flat();
  for (const mode of order) {
    store.setScanThreadsPolicy(policyOf(mode));
    const i0 = sample();
    // at least 10 requests' worth of events (smoke: 2), so the per-event figure is not a count of 1 or 2 requests
    const windowMs = RATE > 0 ? Math.max(INGEST_ONLY_MS, ((smoke ? 2 : 10) * 1000 * 1000) / RATE) : INGEST_ONLY_MS;
    await new Promise((r) => setTimeout(r, windowMs));
    const i1 = sample();
    const ingest = window(i0, i1);
    const la = loadavg()[0]!;
    const r = await reads(mode.endsWith('/per-query'));
    const a1 = sample();
    const during = window(i1, a1);
    const ingestUsPerEvent = ingest.server_cpu_us / Math.max(1, ingest.events);
    const row = {
      mode,
      load1: Number(la.toFixed(1)),
      analysis_ms: Math.round(r.analysis),
      breakdown_ms: Math.round(r.breakdown),
      stats_ms: Math.round(r.stats),
      reads_window_ms: Math.round(during.ms),
      reads_window_server_cpu_ms: Math.round(during.server_cpu_us / 1000),
      ingest_events_per_s_during_reads: Math.round(during.events_per_s),
      ingest_only_events_per_s: Math.round(ingest.events_per_s),
      ingest_only_server_cpu_us_per_event: Number(ingestUsPerEvent.toFixed(1)),
    };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  if (debug) clearInterval(debug);
  client.postMessage('stop');
  await new Promise((r) => client.once('message', r));
  await client.terminate();
  const failed = counters[2]!;
  const live = await store.stats({ workspace: 'live' });
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  if (!args.includes('--keep-base')) rmSync(base, { force: true });
  if (failed > 0) throw new Error(`${failed} ingest requests failed`);

  const mean = (mode: string, k: string) => {
    const xs = rows.filter((r) => r.mode === mode).map((r) => r[k] as number);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const keys = [
    'analysis_ms',
    'breakdown_ms',
    'stats_ms',
    'reads_window_server_cpu_ms',
    'ingest_events_per_s_during_reads',
    'ingest_only_events_per_s',
    'ingest_only_server_cpu_us_per_event',
  ];
  const modes = Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(keys.map((k) => [k, Math.round(mean(m, k) * 10) / 10]))]));
  const ref = MODES.includes('always') ? 'always' : MODES[0]!;
  const ratios = Object.fromEntries(
    MODES.filter((m) => m !== ref).map((m) => [
      `${m}_vs_${ref}`,
      Object.fromEntries(keys.map((k) => [k, Number((mean(m, k) / mean(ref, k)).toFixed(2))])),
    ]),
  );
  console.log(
    JSON.stringify({
      bench: 'analysis-during-ingest',
      events: stats0.events,
      live_events_stored: live.events,
      rounds: ROUNDS,
      ingest_rate_asked: RATE,
      quiet_analysis_ms: Math.round(quiet.analysis),
      quiet_breakdown_ms: Math.round(quiet.breakdown),
      quiet_stats_ms: Math.round(quiet.stats),
      quiet_reads_cpu_ms: Math.round(quietCpu / 1000),
      modes,
      ratios,
      load1: loadavg()[0]!.toFixed(1),
    }),
  );
}

await main();
