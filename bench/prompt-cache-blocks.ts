/**
 * Benchmark: the prompt-caching analysis at block granularity over N stored events that all carry a block chain
 * (multi-turn conversations and shared documents, 512-token blocks like the Mooncake traces), against a plain
 * scan-aggregate of the same events (count, prompt tokens and chain lengths per (app, model)) in the same run.
 *
 *   node --import tsx bench/prompt-cache-blocks.ts            # 1,000,000 events
 *   node --import tsx bench/prompt-cache-blocks.ts --smoke    # 20,000 events
 *   node --import tsx bench/prompt-cache-blocks.ts --events 200000
 *
 * Stages timed: the store's scan of the chains into JS (scanPrefixBlocks with a no-op consumer), the whole
 * loadPromptCaching (scan + trie simulation + the prefix_hash query), and the simulation alone over rows in memory.
 */
import { analysisContext } from '../src/optimize/catalog-context.js';
import type { PrefixBlockRow } from '../src/optimize/ports/cache.js';
import { BlockCacheTallies } from '../src/optimize/prompt-cache-simulation.js';
import { loadPromptCaching, recommendPromptCaching } from '../src/optimize/recommend/prompt-caching.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { benchEvent } from './bench-event.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : smoke ? 20_000 : 1_000_000;

const catalog = loadPriceCatalog();
const store = createDuckDbStore({ path: ':memory:' });
await store.init();
const from = Date.UTC(2026, 10, 9);
const DAYS = 7;
const span = DAYS * 86_400_000;

// conversations of 2-12 turns (each adds 1-4 blocks to the chain), 30% opening with one of 200 shared documents
let x = 7;
const rnd = () => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) / 4294967296;
};
const apps = ['chat', 'docs-qa', 'support'];
const models = ['gpt-4o-mini', 'claude-sonnet-4'];
const rows: WorkloadEvent[] = [];
let conv = 0;
let blocksTotal = 0;
while (rows.length < N) {
  conv++;
  const app = apps[conv % apps.length]!;
  const model = models[conv % models.length]!;
  let t = from + rnd() * (span - 3_600_000);
  const chain: number[] = rnd() < 0.3 ? Array.from({ length: 8 }, (_, i) => 1e9 + Math.floor(rnd() * 200) * 100 + i) : [];
  const turns = 2 + Math.floor(rnd() * 11);
  for (let k = 0; k < turns && rows.length < N; k++) {
    const add = 1 + Math.floor(rnd() * 4);
    for (let b = 0; b < add; b++) chain.push(conv * 64 + chain.length);
    const prompt = chain.length * 512 - Math.floor(rnd() * 400);
    blocksTotal += chain.length;
    rows.push(
      benchEvent({
        event_id: `b${rows.length}`,
        timestamp: t,
        workspace: 'bench',
        app,
        model,
        prompt_tokens: prompt,
        completion_tokens: 200,
        latency_ms: 1500,
        cost_usd: prompt * 1e-6,
        prefix_block_hashes: [...chain],
        prefix_block_size: 512,
      }),
    );
    t += 10_000 + rnd() * 500_000;
  }
}
rows.sort((a, b) => a.timestamp - b.timestamp);
const tl = performance.now();
for (let i = 0; i < rows.length; i += 50_000) await store.append(rows.slice(i, i + 50_000));
const loadMs = performance.now() - tl;
const scope = { workspace: 'bench', from, to: from + span };
const stats = await store.stats(scope);
const ctx = analysisContext({ ...scope, total_events: stats.events, total_spend_usd: stats.spend_usd, catalog });

const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
};
const best = async (f: () => Promise<unknown>, runs = smoke ? 1 : 3) => {
  let m = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) m = Math.min(m, (await time(f))[1]);
  return m;
};

// baseline: one plain scan-aggregate of the same rows, chain lengths included
const baselineMs = await best(() => store.analysis.routingSegments(scope));
const scanMs = await best(() => store.analysis.scanPrefixBlocks(scope, () => {}));
const fullMs = await best(() => loadPromptCaching(store.analysis, scope, ctx));
const [result] = await time(() => loadPromptCaching(store.analysis, scope, ctx));
const rec = recommendPromptCaching(result, ctx).recommendations;

const mem: PrefixBlockRow[] = [];
await store.analysis.scanPrefixBlocks(scope, (c) => {
  for (const r of c) mem.push(r);
});
const simMs = await best(async () => {
  const sim = new BlockCacheTallies(300_000, (m) => ctx.resolve(m)?.min_cacheable_prompt_tokens ?? null);
  for (let i = 0; i < mem.length; i += 4096) sim.add(mem.slice(i, i + 4096));
});

const share = rec.map((r) => `${r.scope.app}: ${r.evidence.figures.cacheable_input_token_share}`).join(', ');
process.stdout.write(
  [
    `events ${N.toLocaleString('en')} (${conv.toLocaleString('en')} conversations, ${(blocksTotal / N).toFixed(1)} blocks per event, ${blocksTotal.toLocaleString('en')} blocks), loaded in ${(loadMs / 1000).toFixed(1)} s`,
    `baseline scan-aggregate (routingSegments): ${baselineMs.toFixed(0)} ms`,
    `scan of the chains into JS (no-op consumer): ${scanMs.toFixed(0)} ms (${(scanMs / baselineMs).toFixed(1)}x baseline)`,
    `simulation alone over rows in memory: ${simMs.toFixed(0)} ms (${((simMs * 1e6) / blocksTotal).toFixed(0)} ns per block)`,
    `loadPromptCaching (scan + simulation + prefix_hash query): ${fullMs.toFixed(0)} ms (${(fullMs / baselineMs).toFixed(1)}x baseline)`,
    `cacheable_input_token_share per app: ${share}`,
    `rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
    '',
  ].join('\n'),
);
await store.close();
