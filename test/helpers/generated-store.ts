/**
 * An in-memory DuckDB store holding every preset's generated traffic (two days ending at `end`), and a way to run a
 * query on its read queue with the analysis engine: the SQL-level tests compare two forms of a query over it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { generateAll } from '../../src/corpus/generator.js';
import { PRESET_NAMES } from '../../src/corpus/presets.js';
import { duckDbEngine } from '../../src/store/analysis/duckdb-engine.js';
import type { AnalysisEngine } from '../../src/store/analysis/engine.js';
import { createDuckDbStore, type DuckDbStore } from '../../src/store/duckdb-store.js';
import { priceCatalog } from './usage-analysis-context.js';

export async function generatedStore(opts: { events: number; seed: number; end: number; workspace: string }): Promise<DuckDbStore> {
  const store = createDuckDbStore({ path: ':memory:', flushIntervalMs: 0 });
  await store.init();
  for (const [i, preset] of PRESET_NAMES.entries()) {
    const w = generateAll({
      preset,
      events: opts.events,
      days: 2,
      seed: opts.seed + i,
      end: opts.end,
      pricer: priceCatalog(),
      workspace: opts.workspace,
    });
    await store.append(w.events);
  }
  return store;
}

/** Runs fn on the store's read queue (a reach into the store, as the benches do) with the DuckDB analysis engine. */
export const readEngine = <T>(store: DuckDbStore, fn: (e: AnalysisEngine) => Promise<T>): Promise<T> =>
  (store as unknown as { read: (f: (c: DuckDBConnection) => Promise<T>) => Promise<T> }).read((c) => fn(duckDbEngine(c)));
