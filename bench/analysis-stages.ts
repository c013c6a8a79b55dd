/**
 * Benchmark: each SQL stage of the full analysis (src/optimize/analyze.ts) alone, on a DuckDB file store, with the
 * process CPU it costs (DuckDB's threads included) beside its wall time, against a plain one-scan aggregate
 * (`store.stats()`) of the same events measured in the same run. bench/analysis.ts gives the stages' completion
 * times inside one full run; this one says which statement to work on, and on a loaded machine the CPU column is
 * the figure that holds (wall time there measures the other processes).
 *
 *   node --import tsx bench/analysis-stages.ts                      # 1,000,000 events in a temporary file store
 *   node --import tsx bench/analysis-stages.ts --smoke              # 25,000 events, one run
 *   node --import tsx bench/analysis-stages.ts --copies 10 --path /tmp/netra-10m.duckdb --keep
 *                                                                   # 10M (bench/history-copies.ts); the file is kept
 *   node --import tsx bench/analysis-stages.ts --path /tmp/netra-10m.duckdb --reuse [--stages exact_cache,latency]
 *                                                                   # a kept store again, without the minutes to build it
 *
 * Each stage runs --runs times (default 3) in turn with the others; the best wall and the best CPU are printed.
 */
import { existsSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exactCacheQueryOptions } from '../src/optimize/recommend/exact-cache.js';
import { loadPromptCaching } from '../src/optimize/recommend/prompt-caching.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import { BENCH_WORKSPACE, benchContext, loadAnalysisWorkload } from './analysis-workload.js';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = Number(opt('--events') ?? (smoke ? 25_000 : 1_000_000));
const COPIES = Number(opt('--copies') ?? 1);
const RUNS = Number(opt('--runs') ?? (smoke ? 1 : 3));
const PATH = opt('--path') ?? join(tmpdir(), `netra-bench-stages-${process.pid}.duckdb`);
const KEEP = args.includes('--keep') || args.includes('--reuse');
const REUSE = args.includes('--reuse') && existsSync(PATH);
const ONLY = opt('--stages')?.split(',');

const catalog = loadPriceCatalog();
const remove = () => {
  for (const f of [PATH, `${PATH}.wal`, `${PATH}.spool`]) rmSync(f, { force: true, recursive: true });
};
if (!REUSE) {
  remove();
  const build = createDuckDbStore({ path: PATH, durability: 'write' });
  await build.init();
  await loadAnalysisWorkload(build, catalog, N, COPIES);
  // closing checkpoints: the stages then read compressed row groups, as a long-running server's store does
  await build.close();
}
const store = createDuckDbStore({ path: PATH, durability: 'write' });
await store.init();
const stats = await store.stats({ workspace: BENCH_WORKSPACE });
const ctx = benchContext(catalog, stats);
const q = store.analysis;
const scope = { workspace: ctx.workspace, from: ctx.from, to: ctx.to };
const windowMs = ctx.to - ctx.from;
const bucketMs = windowMs <= 31 * 86_400_000 ? 3_600_000 : 86_400_000;

// the stages in analyze.ts's order, each called as analyze.ts calls it
const stages: [string, () => Promise<unknown>][] = [
  ['stats', () => store.stats({ workspace: BENCH_WORKSPACE })],
  ['performance_buckets', () => q.performanceBuckets(scope, bucketMs)],
  ['window_percentiles', () => q.windowPercentiles(scope)],
  ['routing', () => q.routingSegments(scope)],
  ['batch', () => q.batchCandidates(scope)],
  ['max_tokens', () => q.maxTokensGroups(scope)],
  ['retry_waste', () => q.retryWaste(scope)],
  ['rate_limits', () => q.rateLimitBursts(scope)],
  ['context_growth', () => q.contextGrowth(scope)],
  ['latency', () => q.latencyByAppModel(scope)],
  ['exact_cache', () => q.exactCacheGroups(scope, exactCacheQueryOptions(ctx))],
  ['prompt_caching', () => loadPromptCaching(q, scope, ctx)],
  ['batch_schedule', () => q.scheduledTraffic(scope)],
];
const selected = stages.filter(([name]) => name === 'stats' || !ONLY || ONLY.includes(name));
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadBefore = load();
const best = new Map<string, { wall: number; cpu: number }>();
for (let r = 0; r < RUNS; r++) {
  for (const [name, fn] of selected) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1000;
    const b = best.get(name) ?? { wall: Infinity, cpu: Infinity };
    best.set(name, { wall: Math.min(b.wall, wall), cpu: Math.min(b.cpu, cpu) });
  }
}
const base = best.get('stats')!;
let total = 0;
process.stdout.write(`analysis stages: ${stats.events.toLocaleString('en-US')} events, DuckDB file store, best of ${RUNS}\n`);
for (const [name] of selected) {
  const b = best.get(name)!;
  if (name !== 'stats') total += b.cpu;
  process.stdout.write(
    `  ${name.padEnd(20)} wall ${b.wall.toFixed(0).padStart(6)} ms   cpu ${b.cpu.toFixed(0).padStart(6)} ms   cpu x${(b.cpu / base.cpu).toFixed(2)} of stats\n`,
  );
}
console.log(
  JSON.stringify({
    bench: 'analysis-stages',
    events: stats.events,
    runs: RUNS,
    baseline_stats_cpu_ms: Math.round(base.cpu),
    stages_cpu_ms: Math.round(total),
    ratio_cpu_vs_stats: Number((total / base.cpu).toFixed(1)),
    stage_cpu_ms: Object.fromEntries([...best].map(([k, v]) => [k, Math.round(v.cpu)])),
    stage_wall_ms: Object.fromEntries([...best].map(([k, v]) => [k, Math.round(v.wall)])),
    load_before: loadBefore,
    load_after: load(),
  }),
);
await store.close();
if (!KEEP) remove();
