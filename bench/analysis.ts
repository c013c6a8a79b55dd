/**
 * Benchmark: the full analysis (performance + every recommendation kind + ranking) over N stored events, against a
 * plain one-scan aggregate (`store.stats()`) of the same events measured in the same run.
 *
 *   node --import tsx bench/analysis.ts                 # 1,000,000 events (all five presets, 7 days)
 *   node --import tsx bench/analysis.ts --smoke         # 25,000 events
 *   node --import tsx bench/analysis.ts --events 200000
 *   node --import tsx bench/analysis.ts --full-semantic # also the replay with the semantic simulation unbounded (slow)
 *   node --import tsx bench/analysis.ts --copies 10 --runs 1 --path /tmp/netra-10m.duckdb [--memory-limit 400MB]
 *                                                       # 10M: the 1M week plus 9 shifted copies (bench/history-copies.ts)
 *                                                       # in a file store, as a server holds it
 *
 * The process's peak RSS while the analysis runs (sampled every 50 ms) is printed beside the times.
 *
 * Then the replay of the recommended policy (what a chat turn runs after the analysis), with its semantic-cache
 * simulation bounded as in production (sampled above 50k events) and, with --full-semantic, unbounded for comparison.
 *
 * Prints the total and the time of each stage (the store's queries run one after another on its read queue).
 */
import { rmSync } from 'node:fs';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { bestOf, loadAnalysisWorkload } from './analysis-workload.js';
import { analyzeWorkspace } from '../src/optimize/analyze.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import { policyFromRecommendations } from '../src/optimize/policy-from-recommendations.js';
import { replayPolicy } from '../src/optimize/replay.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : smoke ? 25_000 : 1_000_000;
const RUNS = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : smoke ? 1 : 3;

const catalog = loadPriceCatalog();
const COPIES = args.includes('--copies') ? Number(args[args.indexOf('--copies') + 1]) : 1;
const PATH = args.includes('--path') ? args[args.indexOf('--path') + 1]! : ':memory:';
const MEMORY_LIMIT = args.includes('--memory-limit') ? args[args.indexOf('--memory-limit') + 1] : undefined;
if (PATH !== ':memory:') rmSync(PATH, { force: true });
const store = createDuckDbStore({
  path: PATH,
  durability: 'write',
  ...(MEMORY_LIMIT ? { duckdb: { memory_limit: MEMORY_LIMIT } } : {}),
});
await store.init();
const { stats, ctx } = await loadAnalysisWorkload(store, catalog, N, COPIES);
const best = <T>(fn: () => Promise<T>) => bestOf(RUNS, fn);
const base = await best(() => store.stats({ workspace: 'bench' }));
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 50);
const full = await best(() => analyzeWorkspace(store.analysis, ctx, { goal: 'balanced' }));
clearInterval(sampler);
console.log(
  JSON.stringify({
    bench: 'analysis',
    events: stats.events,
    runs: RUNS,
    full_analysis_ms: Math.round(full.ms),
    recommendations: full.value.recommendations.length,
    baseline_stats_scan_ms: Math.round(base.ms),
    ratio_vs_stats_scan: Number((full.ms / base.ms).toFixed(1)),
    stage_ms: full.value.summary.timings_ms,
    store: PATH === ':memory:' ? 'memory' : 'file',
    memory_limit: MEMORY_LIMIT ?? 'default',
    peak_rss_mb: Math.round(peakRss / 1048576),
  }),
);
const policy = policyFromRecommendations(full.value.recommendations);
const replays: Record<string, unknown>[] = [];
for (const bound of args.includes('--full-semantic') ? [undefined, Infinity] : [undefined]) {
  const s = performance.now();
  const r = await replayPolicy(store.analysis, ctx, policy, bound === undefined ? {} : { semantic_max_events: bound });
  replays.push({
    semantic: bound === undefined ? 'bounded' : 'full',
    replay_ms: Math.round(performance.now() - s),
    semantic_hits: r.breakdown.semantic_cache_hits,
    cache_savings_usd: Number(r.breakdown.cache_savings_usd.toFixed(2)),
    projected_spend_usd: Number(r.projected.spend_usd.toFixed(2)),
  });
}
console.log(
  JSON.stringify({
    bench: 'analysis-replay',
    events: stats.events,
    policy_semantic_cache: policy.semantic_cache?.enabled === true,
    replays,
  }),
);
await store.close();
if (PATH !== ':memory:') for (const f of [PATH, `${PATH}.wal`]) rmSync(f, { force: true });
