/**
 * The analytics query cache: results of analyses, replays and stats, keyed by workspace + query kind + parameters,
 * invalidated by ingest into that workspace. Backends share the interface and the test suite (test/query-cache.test.ts):
 * in memory (lru-cache, one process) by default, Redis (redis-query-cache.ts, shared by several processes) with REDIS_URL.
 *
 * Invalidation is a per-workspace generation counter that is part of every key: an ingest bumps it, so every entry of
 * that workspace stops being addressable at once (old entries age out by TTL / LRU). A result computed while an ingest
 * was running is stored under the generation it started with, so it can never be served after the ingest finished.
 * Values are stored as JSON text in both backends: what comes back is always a fresh copy, never a shared object.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface QueryCacheStats {
  backend: 'memory' | 'redis';
  hits: number;
  misses: number;
  /** hits / (hits + misses); null before the first lookup */
  hit_rate: number | null;
  /** entries held by this process (memory backend); null for Redis (shared, expired by TTL) */
  entries: number | null;
  /** backend failures (Redis down): the value was computed without the cache */
  errors: number;
  invalidations: number;
}

export interface QueryCache {
  readonly backend: 'memory' | 'redis';
  /** The cached value of (workspace, kind, params), or compute() stored for next time. Values must be JSON-serialisable. */
  getOrCompute<T>(workspace: string, kind: string, params: unknown, compute: () => Promise<T>): Promise<T>;
  /** Makes every entry of the workspace stale (called after each successful append into it). */
  invalidate(workspace: string): Promise<void>;
  /** The workspace's current generation (0 before the first invalidation). */
  generation(workspace: string): Promise<number>;
  stats(): QueryCacheStats;
  close(): Promise<void>;
}

export interface QueryCacheOptions {
  /** default 5 min */
  ttlMs: number;
  /** in-memory bound; default 1,000 */
  maxEntries: number;
  /** clock for TTLs (tests pass a fake one); default performance.now */
  now?: () => number;
}

/** A stable text for parameters: object keys sorted, undefined members dropped (as JSON does). */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableStringify(x))).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(',')}}`;
}

/** The part of a key after the workspace and generation: kind + a hash of the parameters. */
export function paramsKey(kind: string, params: unknown): string {
  return `${kind}:${createHash('sha1').update(stableStringify(params)).digest('base64url')}`;
}

/** Counters and the single-flight map every backend shares. */
export abstract class BaseQueryCache implements QueryCache {
  abstract readonly backend: 'memory' | 'redis';
  protected hits = 0;
  protected misses = 0;
  protected errors = 0;
  protected invalidations = 0;
  private readonly inflight = new Map<string, Promise<unknown>>();

  protected abstract read(workspace: string, kind: string, params: unknown): Promise<{ key: string; text: string | undefined }>;
  protected abstract write(key: string, text: string): Promise<void>;
  abstract invalidate(workspace: string): Promise<void>;
  abstract generation(workspace: string): Promise<number>;
  protected abstract entries(): number | null;
  abstract close(): Promise<void>;

  async getOrCompute<T>(workspace: string, kind: string, params: unknown, compute: () => Promise<T>): Promise<T> {
    let found: { key: string; text: string | undefined };
    try {
      found = await this.read(workspace, kind, params);
    } catch {
      this.errors++;
      this.misses++;
      return compute();
    }
    if (found.text !== undefined) {
      this.hits++;
      return JSON.parse(found.text) as T;
    }
    this.misses++;
    // concurrent misses of one key share one computation
    const running = this.inflight.get(found.key);
    if (running) return JSON.parse(JSON.stringify(await running)) as T;
    const p = (async () => {
      const value = await compute();
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`query cache: the ${kind} result is not JSON-serialisable`);
      await this.write(found.key, text).catch(() => { this.errors++; });
      return value;
    })();
    this.inflight.set(found.key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(found.key);
    }
  }

  stats(): QueryCacheStats {
    const lookups = this.hits + this.misses;
    return {
      backend: this.backend, hits: this.hits, misses: this.misses, hit_rate: lookups > 0 ? this.hits / lookups : null,
      entries: this.entries(), errors: this.errors, invalidations: this.invalidations,
    };
  }
}

/** One process: lru-cache bounded by entries, each entry expiring after the TTL. */
export class MemoryQueryCache extends BaseQueryCache {
  readonly backend = 'memory' as const;
  private readonly lru: LRUCache<string, string>;
  private readonly generations = new Map<string, number>();

  constructor(opts: QueryCacheOptions) {
    super();
    const now = opts.now;
    this.lru = new LRUCache<string, string>({ max: Math.max(1, opts.maxEntries), ttl: Math.max(1, opts.ttlMs), ...(now ? { perf: { now }, ttlResolution: 0 } : {}) });
  }

  protected async read(workspace: string, kind: string, params: unknown) {
    const key = `${encodeURIComponent(workspace)}:${this.generations.get(workspace) ?? 0}:${paramsKey(kind, params)}`;
    return { key, text: this.lru.get(key) };
  }

  protected async write(key: string, text: string): Promise<void> {
    this.lru.set(key, text);
  }

  async invalidate(workspace: string): Promise<void> {
    this.invalidations++;
    this.generations.set(workspace, (this.generations.get(workspace) ?? 0) + 1);
  }

  async generation(workspace: string): Promise<number> {
    return this.generations.get(workspace) ?? 0;
  }

  protected entries(): number {
    this.lru.purgeStale();
    return this.lru.size;
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
