/**
 * Generator throughput: events/s for each preset (with prompt text, manifest counting and a pricer), heap before
 * and after (it must stay flat: the generator streams), and the ratio against a same-run baseline that only
 * allocates plain event objects with Math.random fields (the cost floor of producing events at all).
 *
 *   node --import tsx bench/generate.ts [--events N] [--smoke]      (default 2,000,000 per preset; --smoke 50,000)
 */
import type { Pricer } from '../src/workload/event.js';
import { generateWorkload } from '../src/corpus/generator.js';
import { PRESET_NAMES } from '../src/corpus/presets.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const at = args.indexOf('--events');
const N = at >= 0 ? Number(args[at + 1]) : smoke ? 50_000 : 2_000_000;
const BATCH = 1000;

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

/** Baseline: batches of plain objects with the event's 33 fields, values from Math.random, nothing else. */
function baseline(n: number): number {
  const t0 = performance.now();
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
  return n / ((performance.now() - t0) / 1000);
}

function run(preset: string, n: number): { rate: number; heapBefore: number; heapAfter: number; peakBatchHeap: number } {
  const heapBefore = heap();
  let peak = 0;
  const t0 = performance.now();
  const w = generateWorkload({ preset, events: n, seed: 7, end: Date.UTC(2026, 10, 22), pricer, batchSize: BATCH });
  let count = 0;
  let b = 0;
  for (const batch of w.batches()) {
    count += batch.length;
    if (++b % 50 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  const rate = n / ((performance.now() - t0) / 1000);
  const m = w.manifest();
  if (count !== n || m.events !== n) throw new Error(`${preset}: generated ${count}, manifest ${m.events}, expected ${n}`);
  return { rate, heapBefore, heapAfter: 0, peakBatchHeap: peak };
}

console.log(
  `generator throughput, ${N.toLocaleString('en-US')} events per preset, batch ${BATCH}, node ${process.version}${gc ? '' : ' (run with --expose-gc for exact heap figures)'}`,
);
baseline(Math.min(N, 200_000)); // warm-up
const base = baseline(N);
console.log(`baseline (plain objects, Math.random fields): ${Math.round(base).toLocaleString('en-US')} events/s`);
let total = 0;
let totalMs = 0;
for (const preset of PRESET_NAMES) {
  const r = run(preset, N);
  r.heapAfter = heap(); // after the stream and its rings are released
  total += N;
  totalMs += (N / r.rate) * 1000;
  console.log(
    `${preset.padEnd(20)} ${Math.round(r.rate).toLocaleString('en-US').padStart(10)} events/s  ratio to baseline ${(r.rate / base).toFixed(3)}  ` +
      `heap before ${mb(r.heapBefore)} MB, after ${mb(r.heapAfter)} MB, peak while streaming ${mb(r.peakBatchHeap)} MB`,
  );
}
const overall = total / (totalMs / 1000);
console.log(`all presets: ${Math.round(overall).toLocaleString('en-US')} events/s (ratio to baseline ${(overall / base).toFixed(3)})`);
