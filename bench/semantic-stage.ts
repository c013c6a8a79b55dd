/**
 * Benchmark: the semantic-cache stage of the full analysis alone, over the same events as bench/analysis.ts (all five
 * presets, 7 days), against a plain one-scan aggregate (`store.stats()`) measured in the same run.
 *
 *   node --import tsx bench/semantic-stage.ts                 # 1,000,000 events
 *   node --import tsx bench/semantic-stage.ts --events 200000
 *   node --import tsx bench/semantic-stage.ts --smoke         # 25,000 events
 *
 * Prints the stage's time (best of 3) and, for the same sampled slices, the time of the text scan alone (rows streamed
 * to a no-op consumer), so what is left is the JS matching.
 */
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { generateWorkload, PRESET_NAMES } from '../src/corpus/generator.js';
import { analysisContext } from '../src/optimize/catalog-context.js';
import { analyzeSemanticCache } from '../src/optimize/recommend/semantic-cache.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : smoke ? 25_000 : 1_000_000;
const RUNS = smoke ? 1 : 3;

const catalog = loadPriceCatalog();
const store = createDuckDbStore({ path: ':memory:' });
await store.init();
const end = Date.UTC(2026, 10, 16);
const t0 = performance.now();
for (const [i, preset] of PRESET_NAMES.entries()) {
  const w = generateWorkload({
    preset,
    events: Math.floor(N / PRESET_NAMES.length),
    days: 7,
    seed: 11 + i,
    end,
    workspace: 'bench',
    pricer: catalog,
    tierOf: (m) => catalog.resolve(m)?.quality_tier ?? 2,
  });
  for (const b of w.batches()) await store.append(b);
}
const stats = await store.stats({ workspace: 'bench' });
console.error(`loaded ${stats.events} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const best = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    value = await fn();
    ms = Math.min(ms, performance.now() - s);
  }
  return { ms, value };
};
const ctx = analysisContext({
  catalog,
  workspace: 'bench',
  from: stats.first_event!,
  to: stats.last_event! + 1,
  total_events: stats.events,
  total_spend_usd: stats.spend_usd,
});
const scope = { workspace: 'bench', from: ctx.from, to: ctx.to };
const base = await best(() => store.stats({ workspace: 'bench' }));
// the stage with the text scan's consumer replaced by a no-op: what the SQL and the row transfer cost
let scanned = 0;
const scanOnly = await best(() =>
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
const full = await best(() => analyzeSemanticCache(store.analysis, scope, ctx));
const rec = full.value.recommendations;
console.log(
  JSON.stringify({
    bench: 'semantic-stage',
    events: stats.events,
    runs: RUNS,
    semantic_stage_ms: Math.round(full.ms),
    scan_only_ms: Math.round(scanOnly.ms),
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
