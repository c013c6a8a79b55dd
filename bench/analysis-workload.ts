/**
 * Bench helper: the events bench/analysis.ts and bench/semantic-stage.ts analyse (all five presets, N/5 events each,
 * 7 days ending 2026-11-16, seeds 11-15, workspace `bench`), stored in a DuckDB store, grown K-fold by shifted copies
 * when asked (history-copies.ts); then the analysis context over what was stored, and a best-of-N timer.
 */
import { generateWorkload, PRESET_NAMES } from '../src/corpus/generator.js';
import { analysisContext } from '../src/optimize/catalog-context.js';
import type { AnalysisContext } from '../src/optimize/context.js';
import type { DuckDbStore } from '../src/store/duckdb-store.js';
import type { WorkspaceStats } from '../src/store/types.js';
import type { PriceCatalog } from '../src/workload/price-catalog.js';
import { storeHistoryCopies } from './history-copies.js';

export const BENCH_WORKSPACE = 'bench';

export async function loadAnalysisWorkload(
  store: DuckDbStore,
  catalog: PriceCatalog,
  events: number,
  copies = 1,
): Promise<{ stats: WorkspaceStats; ctx: AnalysisContext }> {
  const t0 = performance.now();
  for (const [i, preset] of PRESET_NAMES.entries()) {
    const w = generateWorkload({
      preset,
      events: Math.floor(events / PRESET_NAMES.length),
      days: 7,
      seed: 11 + i,
      end: Date.UTC(2026, 10, 16),
      workspace: BENCH_WORKSPACE,
      pricer: catalog,
      tierOf: (m) => catalog.resolve(m)?.quality_tier ?? 2,
    });
    for (const b of w.batches()) await store.append(b);
  }
  await storeHistoryCopies(store, copies, 7);
  const stats = await store.stats({ workspace: BENCH_WORKSPACE });
  console.error(`loaded ${stats.events} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { stats, ctx: benchContext(catalog, stats) };
}

/** The analysis context over every stored bench event (their whole time range). */
export function benchContext(catalog: PriceCatalog, stats: WorkspaceStats): AnalysisContext {
  return analysisContext({
    catalog,
    workspace: BENCH_WORKSPACE,
    from: stats.first_event!,
    to: stats.last_event! + 1,
    total_events: stats.events,
    total_spend_usd: stats.spend_usd,
  });
}

/** The fastest of `runs` runs of fn, and the value of the last. */
export async function bestOf<T>(runs: number, fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    value = await fn();
    ms = Math.min(ms, performance.now() - s);
  }
  return { ms, value };
}
