/**
 * The analytics store's own health, as part of the performance analysis: latency per query kind (p50/p95 of the
 * timings the store records for its queries), the hit rate of the cache in front of it, and findings with figures
 * and advice when a threshold is crossed. Pure domain code, no I/O.
 */
import { percentileOfSorted } from './statistics.js';

/** How long one of the store's own queries took. */
export interface StoreQueryTiming {
  kind: string;
  duration_ms: number;
}

/** Counters of the cache in front of the store's analysis queries. */
export interface CacheStats {
  hits: number;
  misses: number;
}

export interface StoreHealthThresholds {
  /** a query kind whose p95 exceeds this is a finding; default 500 ms */
  slowQueryP95Ms: number;
  /** a cache hit rate below this is a finding ... ; default 0.5 */
  minCacheHitRate: number;
  /** ... once there were at least this many lookups; default 100 */
  minCacheLookups: number;
}

export const DEFAULT_STORE_HEALTH_THRESHOLDS: StoreHealthThresholds = { slowQueryP95Ms: 500, minCacheHitRate: 0.5, minCacheLookups: 100 };

export interface QueryKindHealth {
  kind: string;
  count: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
}

export interface StoreFinding {
  kind: 'slow_query' | 'low_cache_hit_rate';
  severity: 'warning' | 'critical';
  /** the query kind, or 'cache' */
  subject: string;
  message: string;
  figures: Record<string, number>;
  advice: string;
}

export interface StoreHealthReport {
  /** per query kind, slowest p95 first */
  queries: QueryKindHealth[];
  cache: (CacheStats & { lookups: number }) | null;
  /** hits / (hits + misses); null without lookups */
  cache_hit_rate: number | null;
  thresholds: StoreHealthThresholds;
  findings: StoreFinding[];
}

/** Coerces a number from the store to a finite number (bigint tolerated); null otherwise. */
function optNum(v: unknown): number | null {
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Per-kind latency of the store's own queries, cache hit rate, and findings against the thresholds (defaults for
 * any not given; non-finite overrides are ignored). A slow query is 'critical' when its p95 is over 4× the
 * threshold, else 'warning'. Boundaries: p95 exactly at the threshold or a hit rate exactly at the minimum is fine.
 */
export function storeHealthReport(
  timings: readonly StoreQueryTiming[],
  cache?: CacheStats,
  overrides: Partial<StoreHealthThresholds> = {},
): StoreHealthReport {
  const thresholds: StoreHealthThresholds = { ...DEFAULT_STORE_HEALTH_THRESHOLDS };
  for (const [k, v] of Object.entries(overrides) as [keyof StoreHealthThresholds, number | undefined][]) {
    if (typeof v === 'number' && Number.isFinite(v)) thresholds[k] = v;
  }
  const byKind = new Map<string, number[]>();
  for (const t of timings) {
    const d = optNum(t.duration_ms);
    if (d === null || d < 0) continue;
    const list = byKind.get(t.kind) ?? [];
    list.push(d);
    byKind.set(t.kind, list);
  }
  const queries: QueryKindHealth[] = [...byKind.entries()]
    .map(([kind, ds]) => {
      ds.sort((a, b) => a - b);
      return {
        kind,
        count: ds.length,
        p50_ms: percentileOfSorted(ds, 50)!,
        p95_ms: percentileOfSorted(ds, 95)!,
        max_ms: ds[ds.length - 1]!,
      };
    })
    .sort((a, b) => b.p95_ms - a.p95_ms || (a.kind < b.kind ? -1 : 1));

  const findings: StoreFinding[] = [];
  for (const q of queries) {
    if (q.p95_ms <= thresholds.slowQueryP95Ms) continue;
    findings.push({
      kind: 'slow_query',
      severity: q.p95_ms > 4 * thresholds.slowQueryP95Ms ? 'critical' : 'warning',
      subject: q.kind,
      message: `store query '${q.kind}' p95 is ${q.p95_ms.toFixed(0)} ms over ${q.count} run(s), above the ${thresholds.slowQueryP95Ms} ms threshold`,
      figures: { p50_ms: q.p50_ms, p95_ms: q.p95_ms, max_ms: q.max_ms, count: q.count, threshold_ms: thresholds.slowQueryP95Ms },
      advice:
        'Narrow the time range or use coarser buckets for this query, keep the store file on local disk, and cache the result; ' +
        'at sustained volume move the workspace to ClickHouse.',
    });
  }

  let cacheOut: StoreHealthReport['cache'] = null;
  let hitRate: number | null = null;
  if (cache) {
    const hits = Math.max(0, optNum(cache.hits) ?? 0);
    const misses = Math.max(0, optNum(cache.misses) ?? 0);
    const lookups = hits + misses;
    cacheOut = { hits, misses, lookups };
    hitRate = lookups > 0 ? hits / lookups : null;
    if (hitRate !== null && lookups >= thresholds.minCacheLookups && hitRate < thresholds.minCacheHitRate) {
      findings.push({
        kind: 'low_cache_hit_rate',
        severity: 'warning',
        subject: 'cache',
        message: `analysis cache hit rate is ${(hitRate * 100).toFixed(1)}% over ${lookups} lookups, below ${(thresholds.minCacheHitRate * 100).toFixed(0)}%`,
        figures: { hits, misses, lookups, hit_rate: hitRate, threshold: thresholds.minCacheHitRate },
        advice:
          'Make cache keys stable (round time ranges to bucket boundaries, normalise filters) and keep entries longer than the ' +
          'dashboard refresh interval; a cache that mostly misses only adds work.',
      });
    }
  }
  return { queries, cache: cacheOut, cache_hit_rate: hitRate, thresholds, findings };
}
