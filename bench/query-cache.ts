/**
 * Benchmark: an analysis served from the query cache against the same analysis computed by the store (the baseline,
 * measured in the same run) on a generated workspace in an in-memory DuckDB. Memory backend always; Redis too when
 * REDIS_URL is set. Prints the absolute times and the speed-up.
 * Run: node --import tsx bench/query-cache.ts [--smoke]   (or BENCH_SMOKE=1)
 */
import { randomUUID } from 'node:crypto';
import { MemoryQueryCache, type QueryCache } from '../src/cache/query-cache.js';
import { RedisQueryCache } from '../src/cache/redis-query-cache.js';
import { generateWorkload } from '../src/corpus/generator.js';
import { createAnalysisService } from '../src/services/analysis-service.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const EVENTS = smoke ? 5_000 : 200_000;
const RUNS = smoke ? 3 : 10;
const HITS = smoke ? 50 : 1_000;

const catalog = loadPriceCatalog();
const store = createDuckDbStore({ path: ':memory:' });
await store.init();
const gen = generateWorkload({
  preset: 'chat-support',
  events: EVENTS,
  days: 7,
  seed: 1,
  workspace: 'bench',
  end: Date.UTC(2026, 10, 20),
  pricer: catalog,
  tierOf: (m: string) => catalog.resolve(m)?.quality_tier ?? 2,
});
for (const batch of gen.batches()) await store.append(batch);

const uncached = createAnalysisService({ store, catalog: () => catalog });
let best = Number.POSITIVE_INFINITY;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  await uncached.analyze({ workspace: 'bench' });
  best = Math.min(best, performance.now() - t0);
}
console.log(`baseline: analysis computed by the store, ${EVENTS.toLocaleString()} events: ${best.toFixed(1)} ms (best of ${RUNS})`);

async function measure(name: string, cache: QueryCache): Promise<void> {
  const svc = createAnalysisService({ store, catalog: () => catalog, cache });
  await svc.analyze({ workspace: 'bench' }); // fill
  const t0 = performance.now();
  for (let i = 0; i < HITS; i++) await svc.analyze({ workspace: 'bench' });
  const per = (performance.now() - t0) / HITS;
  const s = cache.stats();
  console.log(
    `${name}: analysis served from the cache: ${per.toFixed(3)} ms per hit (${HITS} hits, hit rate ${(s.hit_rate! * 100).toFixed(1)}%); ${(best / per).toFixed(0)}× faster than the baseline`,
  );
  await cache.close();
}

await measure('memory', new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 1000 }));
if (process.env.REDIS_URL) {
  const prefix = `netra-bench:${randomUUID()}:`;
  const r = new RedisQueryCache({ url: process.env.REDIS_URL, ttlMs: 300_000, prefix });
  await r.connect();
  const cleanup = async () => {
    const keys = await r.redis.keys(`${prefix}*`);
    if (keys.length) await r.redis.del(...keys);
  };
  const close = r.close.bind(r);
  r.close = async () => {
    await cleanup();
    await close();
  };
  await measure('redis', r);
} else {
  console.log('redis: skipped (REDIS_URL not set)');
}
await store.close();
