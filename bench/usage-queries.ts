/**
 * Usage-analysis queries (model routing, batch, max_tokens, retry waste, 429 bursts, context growth, latency SLO) on
 * generated events in a DuckDB store: median of 5 runs per query, and the ratio against the store's own
 * `stats()` scan (one GROUP BY with quantiles over the same rows) measured in the same run.
 *
 * The store is a DuckDB file in the temp directory (the product's default storage, compressed at checkpoint);
 * --memory uses ':memory:' instead (uncompressed: string functions run per row, not per dictionary entry).
 *
 *   node --import tsx bench/usage-queries.ts [--events N] [--preset NAME] [--memory] [--smoke]   (default 1,000,000; --smoke 50,000)
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorkload } from '../src/corpus/generator.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const opt = (name: string) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const N = Number(opt('--events') ?? (smoke ? 50_000 : 1_000_000));
const preset = opt('--preset') ?? 'chat-support';
const RUNS = smoke ? 3 : 5;

const catalog = loadPriceCatalog();
const w = generateWorkload({
  preset,
  events: N,
  days: 7,
  seed: 7,
  end: Date.UTC(2026, 10, 16),
  pricer: catalog,
  tierOf: (m) => catalog.resolve(m)?.quality_tier,
  workspace: 'bench',
});
const memory = args.includes('--memory');
const file = join(tmpdir(), `netra-bench-usage-${process.pid}.duckdb`);
let store = createDuckDbStore({ path: memory ? ':memory:' : file });
await store.init();
for (const batch of w.batches()) await store.append(batch);
if (!memory) {
  // reopen: closing checkpoints the WAL, so the queries read compressed row groups as a long-running store does
  await store.close();
  store = createDuckDbStore({ path: file });
  await store.init();
}
const scope = { workspace: 'bench', from: w.from, to: w.to };

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[t.length >> 1]!;
}

const a = store.analysis;
const baseline = await median(() => store.stats(scope));
const queries: [string, () => Promise<unknown>][] = [
  ['routingSegments', () => a.routingSegments(scope)],
  ['batchCandidates', () => a.batchCandidates(scope)],
  ['maxTokensGroups', () => a.maxTokensGroups(scope)],
  ['retryWaste', () => a.retryWaste(scope)],
  ['rateLimitBursts', () => a.rateLimitBursts(scope)],
  ['contextGrowth', () => a.contextGrowth(scope)],
  ['latencyByAppModel', () => a.latencyByAppModel(scope)],
];
process.stdout.write(
  `usage queries: ${N.toLocaleString('en-US')} events (${preset}), ${memory ? 'in-memory' : 'file'} DuckDB, median of ${RUNS}\n`,
);
process.stdout.write(`  baseline store.stats()  ${baseline.toFixed(1)} ms\n`);
let total = 0;
for (const [name, fn] of queries) {
  const ms = await median(fn);
  total += ms;
  process.stdout.write(`  ${name.padEnd(22)} ${ms.toFixed(1).padStart(7)} ms   x${(ms / baseline).toFixed(2)} of baseline\n`);
}
process.stdout.write(`  all usage queries      ${total.toFixed(1).padStart(7)} ms   x${(total / baseline).toFixed(2)} of baseline\n`);
await store.close();
if (!memory) for (const f of [file, `${file}.wal`]) rmSync(f, { force: true });
