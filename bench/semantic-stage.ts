/**
 * Benchmark: the semantic-cache stage of the full analysis alone, over the same events as bench/analysis.ts (all five
 * presets, 7 days), against a plain one-scan aggregate (`store.stats()`) measured in the same run.
 *
 *   node --import tsx bench/semantic-stage.ts                 # 1,000,000 events
 *   node --import tsx bench/semantic-stage.ts --events 200000
 *   node --import tsx bench/semantic-stage.ts --smoke         # 25,000 events
 *
 * Prints the stage's time (best of 3) and, for the same sampled slices, the time of the text scan alone (rows streamed
 * to a no-op consumer), so what is left is the JS matching; beside each, the process CPU time of its fastest run (all
 * threads: DuckDB's and this one), steadier than wall time on a loaded machine.
 */
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { analyzeSemanticCache } from '../src/optimize/recommend/semantic-cache.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import { bestOf, loadAnalysisWorkload } from './analysis-workload.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : smoke ? 25_000 : 1_000_000;
const RUNS = smoke ? 1 : 3;

const catalog = loadPriceCatalog();
const store = createDuckDbStore({ path: ':memory:' });
await store.init();
const { stats, ctx } = await loadAnalysisWorkload(store, catalog, N);
const best = <T>(fn: () => Promise<T>) => bestOf(RUNS, fn);
/** bestOf, with the least process CPU time (ms) of the runs */
async function bestWithCpu<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  let cpuMs = Infinity;
  const r = await best(async () => {
    const c = process.cpuUsage();
    const v = await fn();
    const d = process.cpuUsage(c);
    cpuMs = Math.min(cpuMs, (d.user + d.system) / 1000);
    return v;
  });
  return { ...r, cpuMs };
}
const scope = { workspace: 'bench', from: ctx.from, to: ctx.to };
const base = await best(() => store.stats({ workspace: 'bench' }));
// the stage with the text scan's consumer replaced by a no-op: what the SQL and the row transfer cost
let scanned = 0;
const scanOnly = await bestWithCpu(() =>
  analyzeSemanticCache(
    {
      countEvents: (s, ranges) => store.analysis.countEvents(s, ranges),
      scanPromptTexts: (s, _onRows, opts) =>
        store.analysis.scanPromptTexts(
          s,
          (rows) => {
            scanned += rows.length;
          },
          opts,
        ),
    },
    scope,
    ctx,
  ),
);
const full = await bestWithCpu(() => analyzeSemanticCache(store.analysis, scope, ctx));
const rec = full.value.recommendations;
console.log(
  JSON.stringify({
    bench: 'semantic-stage',
    events: stats.events,
    runs: RUNS,
    semantic_stage_ms: Math.round(full.ms),
    semantic_stage_cpu_ms: Math.round(full.cpuMs),
    scan_only_ms: Math.round(scanOnly.ms),
    scan_only_cpu_ms: Math.round(scanOnly.cpuMs),
    rows_scanned_per_run: Math.round(scanned / RUNS),
    baseline_stats_scan_ms: Math.round(base.ms),
    ratio_vs_stats_scan: Number((full.ms / base.ms).toFixed(1)),
    recommendations: rec.map((r) => ({
      app: r.scope.app,
      near_hits: r.evidence.figures.near_hits,
      text_events: r.evidence.figures.text_events,
      monthly_savings_usd: Math.round(r.monthly_savings_usd),
    })),
  }),
);
await store.close();
