/**
 * Generator throughput: events/s for each preset (with manifest counting and a pricer), as column batches
 * (`columnBatches()`, workload/event-columns.ts; prompt text and hash are made only when read, so this is measured
 * twice: not read, and with every row's prompt text and hash read) and as event objects (`batches()`, the per-event
 * view, which reads them), heap
 * before and after (it must stay flat: the generator streams), and the ratio against a same-run baseline that only
 * allocates plain event objects with Math.random fields (the cost floor of producing event objects at all).
 * CPU time per event is printed next to every rate: on a shared machine it moves less than wall time does.
 *
 * With --store, also into an in-memory DuckDB store, timed until every row is committed and counted: the column
 * batches through `appendColumns` (the columnar stage) against the same events as objects through `append` (the
 * row appender), both measured in this run.
 *
 *   node --expose-gc --import tsx bench/generate.ts [--events N] [--store] [--presets a,b] [--warmup N] [--smoke]
 *   (default 2,000,000 per preset; --smoke 50,000)
 * --warmup N first generates N events of every preset (column batches, text read), untimed: a process's first pass
 * pays JIT compilation and each text domain's banks once, which at a few 100,000 events is a visible share of the
 * figures (docs/BENCHMARKS.md, "Generation"); without it (default) every figure is a first pass, as before.
 */
import type { Pricer } from '../src/workload/event.js';
import { generateWorkload, type GenerateOptions } from '../src/corpus/generator.js';
import { PRESET_NAMES } from '../src/corpus/presets.js';
import { stringAt } from '../src/workload/event-columns.js';
import type { DuckDBInstance } from '@duckdb/node-api';
import { createDuckDbStore } from '../src/store/duckdb-store.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const at = args.indexOf('--events');
const N = at >= 0 ? Number(args[at + 1]) : smoke ? 50_000 : 2_000_000;
const withStore = args.includes('--store');
const pr = args.indexOf('--presets');
const presets = pr >= 0 ? args[pr + 1]!.split(',') : PRESET_NAMES;
const wu = args.indexOf('--warmup');
const WARMUP = wu >= 0 ? Number(args[wu + 1]) : 0;
const BATCH = 1000;
/** column batches into the store: bigger batches, fewer statements (the workloads service uses the same size) */
const STORE_BATCH = 8192;

/** A flat-rate pricer (the real catalog's lookup cost is not what this measures). */
const pricer: Pricer = {
  price: (_ws, model, u) => ({
    cost_usd: (u.prompt_tokens - u.cached_prompt_tokens) * 1e-6 + u.completion_tokens * 4e-6,
    provider: model.startsWith('claude') ? 'anthropic' : 'openai',
  }),
};

const mb = (b: number) => (b / 1048576).toFixed(1);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/** Wall rate and CPU µs per event of fn, which handles n events. */
async function timed(n: number, fn: () => Promise<void> | void): Promise<{ rate: number; cpuUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { rate: n / (ms / 1000), cpuUs: (c.user + c.system) / n };
}

/** Baseline: batches of plain objects with the event's fields, values from Math.random, nothing else. */
function baseline(n: number): void {
  let sink = 0;
  let batch: object[] = [];
  for (let i = 0; i < n; i++) {
    const r = Math.random();
    batch.push({
      event_id: 'evt_' + i,
      timestamp: 1_700_000_000_000 + i,
      workspace: 'w',
      app: 'a',
      environment: 'production',
      end_user: null,
      session_id: null,
      trace_id: 't' + i,
      span_id: 's' + i,
      provider: 'p',
      model: 'm',
      operation: 'chat',
      prompt_tokens: Math.floor(r * 4000),
      completion_tokens: Math.floor(Math.random() * 500),
      cached_prompt_tokens: 0,
      latency_ms: Math.random() * 5000,
      ttft_ms: Math.random() * 500,
      status: r < 0.01 ? 'error' : 'ok',
      error_type: null,
      http_status: null,
      finish_reason: 'stop',
      max_tokens: 1024,
      temperature: 0.3,
      stream: true,
      cost_usd: r * 0.01,
      cost_source: 'catalog',
      prompt_hash: null,
      prefix_hash: null,
      prefix_tokens: null,
      prompt_text: null,
      response_text: null,
      quality_score: null,
      tags: {},
    });
    if (batch.length === BATCH) {
      sink += batch.length;
      batch = [];
    }
  }
  sink += batch.length;
  if (sink !== n) throw new Error('baseline lost events');
}

const options = (preset: string, n: number, batchSize: number): GenerateOptions => ({
  preset,
  events: n,
  seed: 7,
  end: Date.UTC(2026, 10, 22),
  pricer,
  batchSize,
  workspace: preset,
});

/** In memory: every batch consumed, nothing kept; with `read`, every prompt text and hash of a column batch read. */
async function inMemory(preset: string, n: number, columns: boolean, read = false) {
  const heapBefore = heap();
  let peak = 0;
  let count = 0;
  const w = generateWorkload(options(preset, n, BATCH));
  const r = await timed(n, () => {
    let b = 0;
    let chars = 0;
    for (const batch of columns ? w.columnBatches() : w.batches()) {
      count += batch.length;
      if (read && !Array.isArray(batch))
        for (let i = 0; i < batch.length; i++)
          chars += (stringAt(batch.prompt_text, i)?.length ?? 0) + (stringAt(batch.prompt_hash, i)?.length ?? 0);
      if (++b % 50 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    if (read && chars === 0) throw new Error(`${preset}: no prompt text read`);
  });
  if (count !== n || w.manifest().events !== n) throw new Error(`${preset}: generated ${count}, expected ${n}`);
  return { ...r, heapBefore, heapAfter: heap(), peak };
}

/**
 * Into a fresh in-memory DuckDB store, until every row is committed. After the column run, DuckDB's own copy of the
 * stored rows into an empty table of the same schema (`INSERT ... SELECT *`): the cost of writing these rows at all.
 */
async function intoStore(preset: string, n: number, columns: boolean) {
  const store = createDuckDbStore({ path: ':memory:' });
  await store.init();
  const w = generateWorkload(options(preset, n, columns ? STORE_BATCH : BATCH));
  const r = await timed(n, async () => {
    if (columns) for (const batch of w.columnBatches()) await store.appendColumns(batch);
    else for (const batch of w.batches()) await store.append(batch);
    await store.flush();
  });
  const stored = (await store.stats({ workspace: preset })).events;
  let ceiling = Number.NaN;
  if (columns) {
    // bench only: the store keeps its DuckDB instance to itself
    const conn = await (store as unknown as { instance: DuckDBInstance }).instance.connect();
    await conn.run('CREATE TABLE ceiling AS SELECT * FROM events LIMIT 0');
    ceiling = (await timed(n, () => conn.run('INSERT INTO ceiling SELECT * FROM events').then(() => undefined))).rate;
    conn.closeSync();
  }
  await store.close();
  if (stored !== n) throw new Error(`${preset}: stored ${stored}, expected ${n}`);
  return { ...r, ceiling };
}

console.log(
  `generator throughput, ${N.toLocaleString('en-US')} events per preset, batch ${BATCH}, node ${process.version}${gc ? '' : ' (run with --expose-gc for exact heap figures)'}`,
);
baseline(Math.min(N, 200_000)); // warm-up
const base = (await timed(N, () => baseline(N))).rate;
console.log(`baseline (plain objects, Math.random fields): ${fmt(base)} events/s`);
if (WARMUP > 0) {
  for (const preset of presets) await inMemory(preset, WARMUP, true, true);
  console.log(`warm-up: ${fmt(WARMUP)} events of every preset generated first, untimed`);
}
const totals = { columns: 0, columnsRead: 0, objects: 0, storeColumns: 0, storeObjects: 0 };
const total = (k: keyof typeof totals, n: number, rate: number) => {
  totals[k] += (n / rate) * 1000;
};
for (const preset of presets) {
  const c = await inMemory(preset, N, true);
  const cr = await inMemory(preset, N, true, true);
  const o = await inMemory(preset, N, false);
  total('columns', N, c.rate);
  total('columnsRead', N, cr.rate);
  total('objects', N, o.rate);
  console.log(
    `${preset.padEnd(20)} columns ${fmt(c.rate).padStart(10)} events/s (${c.cpuUs.toFixed(2)} µs CPU/event, ${(c.rate / base).toFixed(3)}× baseline)  ` +
      `text read ${fmt(cr.rate).padStart(10)} events/s (${cr.cpuUs.toFixed(2)} µs CPU)  ` +
      `objects ${fmt(o.rate).padStart(10)} events/s (${o.cpuUs.toFixed(2)} µs CPU)  ` +
      `heap before ${mb(c.heapBefore)} MB, after ${mb(c.heapAfter)} MB, peak while streaming ${mb(c.peak)} MB`,
  );
  if (withStore) {
    const sc = await intoStore(preset, N, true);
    const so = await intoStore(preset, N, false);
    total('storeColumns', N, sc.rate);
    total('storeObjects', N, so.rate);
    console.log(
      `${''.padEnd(20)} into the store: columns ${fmt(sc.rate).padStart(10)} events/s (${sc.cpuUs.toFixed(2)} µs CPU/event)  ` +
        `objects + append ${fmt(so.rate).padStart(10)} events/s (${so.cpuUs.toFixed(2)} µs CPU)  ratio ${(sc.rate / so.rate).toFixed(2)}×  ` +
        `DuckDB's own INSERT ... SELECT of the same rows ${fmt(sc.ceiling)} rows/s`,
    );
  }
}
const all = (k: keyof typeof totals) => (N * presets.length) / (totals[k] / 1000);
console.log(
  `all presets: columns ${fmt(all('columns'))} events/s (${(all('columns') / base).toFixed(3)}× baseline), with prompt text and hash read ${fmt(all('columnsRead'))} events/s, objects ${fmt(all('objects'))} events/s`,
);
if (withStore)
  console.log(
    `all presets into the store: columns ${fmt(all('storeColumns'))} events/s, objects + append ${fmt(all('storeObjects'))} events/s (ratio ${(all('storeColumns') / all('storeObjects')).toFixed(2)}×)`,
  );
