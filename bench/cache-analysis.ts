/**
 * Benchmark: the cache-area queries and kinds on an embedded DuckDB store.
 * Loads N generated events (preset chat-support, 7 days) with prompt_text kept on ~30% of them (prompt_hash and
 * prefixes on all), then times, median of 3 runs each:
 * - baseline: store.stats() (one scan with GROUP BY GROUPING SETS and latency quantiles) in the same run;
 * - exact_cache query (GROUP BY to find repeated keys, then a window over those), prompt_caching query (one window
 *   scan) and the pure kinds over their rows;
 * - the semantic-cache pass: the prompt-text stream alone (no-op consumer), then stream + near-duplicate analysis.
 * Run: node --import tsx bench/cache-analysis.ts [--events N] [--smoke]   (or BENCH_SMOKE=1; default 1,000,000)
 */
import { generateWorkload } from '../src/corpus/generator.js';
import { exactCacheQueryOptions, recommendExactCache } from '../src/optimize/recommend/exact-cache.js';
import { prefixCacheQueryOptions, recommendPromptCaching } from '../src/optimize/recommend/prompt-caching.js';
import { analyzeSemanticCache } from '../src/optimize/recommend/semantic-cache.js';
import { analysisContext } from '../src/optimize/catalog-context.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const at = args.indexOf('--events');
const N = at >= 0 ? Number(args[at + 1]) : smoke ? 20_000 : 1_000_000;
const TEXT_SHARE = 0.3;
const workspace = 'bench';

const catalog = loadPriceCatalog();
const store = createDuckDbStore({ path: ':memory:' });
await store.init();

let t = performance.now();
const w = generateWorkload({
  preset: 'chat-support',
  events: N,
  days: 7,
  seed: 1,
  pricer: catalog,
  workspace,
  end: Date.UTC(2026, 10, 16),
});
let i = 0;
let texts = 0;
for (const batch of w.batches()) {
  for (const e of batch) {
    // keep the text on a deterministic ~30%: the semantic pass only sees text-bearing events
    if ((Math.imul(i++, 0x9e3779b1) >>> 0) / 2 ** 32 >= TEXT_SHARE) e.prompt_text = null;
    else texts++;
  }
  await store.append(batch);
}
const stats = await store.stats({ workspace });
console.log(
  `loaded ${N.toLocaleString('en-US')} events (${texts.toLocaleString('en-US')} with prompt_text) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

const ctx = analysisContext({
  catalog,
  workspace,
  from: w.from,
  to: w.to,
  total_events: stats.events,
  total_spend_usd: stats.spend_usd,
});
const scope = { workspace, from: w.from, to: w.to };

async function median(label: string, fn: () => Promise<unknown>, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const m = times[Math.floor(times.length / 2)]!;
  console.log(`  ${label.padEnd(46)} ${m.toFixed(0).padStart(6)} ms`);
  return m;
}

console.log(`\nCache analysis over ${N.toLocaleString('en-US')} events (median of 3):`);
const base = await median('baseline: store.stats() one-scan aggregate', () => store.stats(scope));
const exactOpts = exactCacheQueryOptions(ctx);
const exact = await median('exact_cache query + kind', async () =>
  recommendExactCache(await store.analysis.exactCacheGroups(scope, exactOpts), ctx),
);
const prefixOpts = prefixCacheQueryOptions(ctx);
const prefix = await median('prompt_caching query + kind', async () =>
  recommendPromptCaching(await store.analysis.prefixCacheGroups(scope, prefixOpts), ctx, prefixOpts),
);
const scan = await median(
  `prompt-text stream alone (${texts.toLocaleString('en-US')} rows)`,
  () => store.analysis.scanPromptTexts(scope, () => undefined),
  1,
);
t = performance.now();
const sem = await analyzeSemanticCache(store.analysis, scope, ctx);
const semMs = performance.now() - t;
console.log(
  `  ${'semantic_cache: stream + near-duplicate pass'.padEnd(46)} ${semMs.toFixed(0).padStart(6)} ms (${Math.round(texts / (semMs / 1000)).toLocaleString('en-US')} text events/s)`,
);

const m = w.manifest();
const share = (r: { recommendations: { affected_share: number }[] }) => r.recommendations.reduce((s, x) => s + x.affected_share, 0);
const exactRecs = recommendExactCache(await store.analysis.exactCacheGroups(scope, exactOpts), ctx);
console.log(
  `\nratios against the baseline scan: exact ${(exact / base).toFixed(1)}x, prompt_caching ${(prefix / base).toFixed(1)}x, text stream ${(scan / base).toFixed(1)}x, semantic pass ${(semMs / base).toFixed(1)}x`,
);
console.log(
  `check: exact_cache share ${(share(exactRecs) * 100).toFixed(2)}% vs manifest ${(m.shares.exact_duplicate_share * 100).toFixed(2)}%; semantic hits on the text-bearing ${(TEXT_SHARE * 100).toFixed(0)}%: ${(share(sem) * 100).toFixed(2)}% of all events`,
);
await store.close();
