/**
 * Benchmark: analyzePerformance over the rows the store returns for a month of 5-minute buckets
 * (8,640 buckets × 10 models × 5 apps = 432,000 rows). Baseline, measured in the same run: one plain pass summing
 * events and spend over the same rows (the least work any analysis must do).
 * Run: node --import tsx bench/performance-analysis.ts [--smoke]   (or BENCH_SMOKE=1)
 */
import { analyzePerformance, type BucketRow } from '../src/optimize/performance.js';

const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const BUCKET_MS = 5 * 60_000;
const days = smoke ? 2 : 30;
const models = smoke ? 3 : 10;
const apps = smoke ? 2 : 5;
const runs = smoke ? 2 : 5;

function makeRows(): BucketRow[] {
  const t0 = Date.UTC(2026, 0, 1);
  const buckets = (days * 86_400_000) / BUCKET_MS;
  const rows: BucketRow[] = [];
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  for (let b = 0; b < buckets; b++) {
    const t = t0 + b * BUCKET_MS;
    const hour = new Date(t).getUTCHours();
    const load = 1 + Math.sin((2 * Math.PI * hour) / 24);
    for (let m = 0; m < models; m++) {
      for (let a = 0; a < apps; a++) {
        const events = Math.round(5 + 20 * load * rand());
        const lat = 400 + 100 * m + 200 * rand();
        rows.push({
          bucket_start: t,
          model: `model-${m}`,
          app: `app-${a}`,
          events,
          errors: rand() < 0.05 ? 1 : 0,
          spend_usd: events * 0.001 * (m + 1),
          prompt_tokens: events * 800,
          completion_tokens: events * 150,
          latency_p50_ms: lat,
          latency_p95_ms: lat * 2.5,
          latency_p99_ms: lat * 4,
          ttft_p50_ms: lat / 4,
          ttft_p95_ms: lat / 2,
          ttft_p99_ms: lat,
          tokens_per_s_p50: 60 + 10 * rand(),
        });
      }
    }
  }
  return rows;
}

function best(fn: () => unknown): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

const rows = makeRows();
let sink = 0;
const baselineMs = best(() => {
  let events = 0;
  let spend = 0;
  for (const r of rows) {
    events += r.events;
    spend += r.spend_usd;
  }
  sink += events + spend;
});
let anomalies = 0;
const analysisMs = best(() => {
  const r = analyzePerformance({
    buckets: rows,
    bucketMs: BUCKET_MS,
    mode: 'analysis',
    storeTimings: [{ kind: 'bucket_rows', duration_ms: 120 }],
  });
  anomalies = r.anomaly_stats.total;
});

console.log(
  JSON.stringify({
    bench: 'performance-analysis',
    smoke,
    rows: rows.length,
    buckets: (days * 86_400_000) / BUCKET_MS,
    runs,
    analysis_ms: Number(analysisMs.toFixed(1)),
    rows_per_s: Math.round(rows.length / (analysisMs / 1000)),
    baseline_sum_pass_ms: Number(baselineMs.toFixed(2)),
    ratio_vs_baseline: Number((analysisMs / baselineMs).toFixed(1)),
    anomalies_found: anomalies,
    sink: sink > 0,
  }),
);
