/**
 * The latency stage's two DuckDB percentile forms (src/store/analysis/usage/latency.ts): quantile_cont states for a
 * scope the caller says is small, value counts otherwise. Over the same generated events both must give the same rows:
 * counts and percentiles exactly, spend within 1e-9 relative (fsum's order), sample ids by count (ties are open).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../src/corpus/generator.js';
import { PRESET_NAMES } from '../src/corpus/presets.js';
import type { AnalysisScope } from '../src/optimize/ports/index.js';
import { STATE_PERCENTILES_MAX_EVENTS } from '../src/store/analysis/usage/latency.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import { priceCatalog } from './helpers/usage-analysis-context.js';

let store: DuckDbStore;
let scope: AnalysisScope;

beforeAll(async () => {
  const cat = priceCatalog();
  store = createDuckDbStore({ path: ':memory:' });
  await store.init();
  let from = Infinity;
  let to = -Infinity;
  for (const [i, preset] of PRESET_NAMES.entries()) {
    const w = generateWorkload({ preset, events: 2_000, days: 3, seed: 40 + i, end: Date.UTC(2026, 10, 16), pricer: cat, workspace: 'w' });
    for (const b of w.batches()) await store.append(b);
    from = Math.min(from, w.from);
    to = Math.max(to, w.to);
  }
  scope = { workspace: 'w', from, to };
});
afterAll(() => store.close());

describe('latency by app and model', () => {
  it('gives the same rows from quantile_cont states and from value counts', async () => {
    const counts = await store.analysis.latencyByAppModel(scope);
    const states = await store.analysis.latencyByAppModel(scope, { scope_events: 10_000 });
    expect(counts.sql).not.toContain('quantile_cont');
    expect(states.sql).toContain('quantile_cont');
    expect(counts.offline_events_excluded).toBeGreaterThan(0);
    expect(states.events_with_latency).toBe(counts.events_with_latency);
    expect(states.offline_events_excluded).toBe(counts.offline_events_excluded);
    expect(states.rows.length).toBeGreaterThan(5);
    expect(states.rows.map((r) => [r.dimension, r.key])).toEqual(counts.rows.map((r) => [r.dimension, r.key]));
    states.rows.forEach((s, i) => {
      const c = counts.rows[i]!;
      const { spend_usd: sSpend, sample_event_ids: sIds, ...sRest } = s;
      const { spend_usd: cSpend, sample_event_ids: cIds, ...cRest } = c;
      expect(sRest).toEqual(cRest);
      expect(Math.abs(sSpend - cSpend)).toBeLessThanOrEqual(1e-9 * Math.abs(cSpend));
      expect(sIds.length).toBe(cIds.length);
    });
    expect(states.rows.some((r) => r.ttft_p95_ms !== null && r.latency_p50_ms !== r.latency_p95_ms)).toBe(true);
  });

  it('takes the value counts when the scope is larger than the states bound', async () => {
    const big = await store.analysis.latencyByAppModel(scope, { scope_events: STATE_PERCENTILES_MAX_EVENTS + 1 });
    expect(big.sql).not.toContain('quantile_cont');
  });
});
