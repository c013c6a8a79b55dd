/**
 * The analytics query cache: results of analyses, replays and stats, keyed by workspace + query kind + parameters,
 * invalidated by ingest into that workspace. Backends share the interface and the test suite (test/query-cache.test.ts):
 * in memory (lru-cache, one process) by default, Redis (redis-query-cache.ts, shared by several processes) with REDIS_URL.
 *
 * Invalidation is a per-workspace generation counter that is part of every key: an ingest bumps it, so every entry of
 * that workspace stops being addressable at once (old entries age out by TTL / LRU). A result computed while an ingest
 * was running is stored under the generation it started with, so it can never be served after the ingest finished.
 * Values are stored as JSON text in both backends: what comes back is always a fresh copy, never a shared object.
 *
 * TTL: every entry expires after the cache's TTL (5 min) unless the caller asks for another one (`{ ttlMs }`): the
 * analysis precompute (src/services/analysis-precompute.ts) stores its entries for 24 h, since the generation counter
 * already retires them at the workspace's next ingest. A lookup that hits an entry with less time left than it asks
 * for extends the entry; concurrent callers of one key write it once, with the longest TTL any of them asked for.
 * Single-flight: concurrent misses of one key (same workspace, generation, kind and parameters) in this process share
 * one computation: the second caller awaits the first one's promise instead of starting its own.
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

export interface CacheEntryOptions {
  /** this entry's TTL; default the cache's. A hit on an entry with less time left extends it to this. */
  ttlMs?: number;
}

export interface QueryCache {
  readonly backend: 'memory' | 'redis';
  /** The cached value of (workspace, kind, params), or compute() stored for next time. Values must be JSON-serialisable. */
  getOrCompute<T>(workspace: string, kind: string, params: unknown, compute: () => Promise<T>, opts?: CacheEntryOptions): Promise<T>;
  /** The entry of (workspace, kind, params) at the current generation, if there is one: no computation, not counted as a hit or miss. */
  peek<T>(workspace: string, kind: string, params: unknown): Promise<T | undefined>;
  /** Makes every entry of the workspace stale (called after each successful append into it). */
  invalidate(workspace: string): Promise<void>;
  /** The workspace's current generation (0 before the first invalidation). */
  generation(workspace: string): Promise<number>;
  stats(): QueryCacheStats;
  /** Computations of this process still running (single-flight entries). */
  inflightCount(): number;
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
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
  private readonly inflight = new Map<string, { done: Promise<{ value: unknown; text: string; ttlMs: number }>; ttlMs: number }>();
  /** the TTL of an entry written without `ttlMs` */
  protected abstract readonly defaultTtlMs: number;

  protected abstract read(workspace: string, kind: string, params: unknown): Promise<{ key: string; text: string | undefined }>;
  protected abstract write(key: string, text: string, ttlMs: number): Promise<void>;
  /** Makes the entry live at least ttlMs from now (it holds `text`). */
  protected abstract extend(key: string, text: string, ttlMs: number): Promise<void>;
  abstract invalidate(workspace: string): Promise<void>;
  abstract generation(workspace: string): Promise<number>;
  protected abstract entries(): number | null;
  abstract close(): Promise<void>;

  /** Computations of this process still running (single-flight entries). */
  inflightCount(): number {
    return this.inflight.size;
  }

  async peek<T>(workspace: string, kind: string, params: unknown): Promise<T | undefined> {
    const found = await this.read(workspace, kind, params).catch(() => ({ text: undefined }));
    return found.text === undefined ? undefined : (JSON.parse(found.text) as T);
  }

  async getOrCompute<T>(
    workspace: string,
    kind: string,
    params: unknown,
    compute: () => Promise<T>,
    opts: CacheEntryOptions = {},
  ): Promise<T> {
    const ttlMs = Math.max(1, opts.ttlMs ?? this.defaultTtlMs);
    let found: { key: string; text: string | undefined };
    try {
      found = await this.read(workspace, kind, params);
    } catch {
      this.errors++;
      this.misses++;
      return compute();
    }
    const key = found.key;
    if (found.text !== undefined) {
      this.hits++;
      if (opts.ttlMs !== undefined)
        await this.extend(key, found.text, ttlMs).catch(() => {
          this.errors++;
        });
      return JSON.parse(found.text) as T;
    }
    this.misses++;
    // concurrent misses of one key share one computation (written once, with the longest TTL asked for)
    const running = this.inflight.get(key);
    if (running) {
      running.ttlMs = Math.max(running.ttlMs, ttlMs);
      const r = await running.done;
      // asked for a longer TTL after the entry was written: extend it
      if (ttlMs > r.ttlMs)
        await this.extend(key, r.text, ttlMs).catch(() => {
          this.errors++;
        });
      return JSON.parse(r.text) as T;
    }
    const entry = { ttlMs, done: null as unknown as Promise<{ value: unknown; text: string; ttlMs: number }> };
    entry.done = (async () => {
      const value = await compute();
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`query cache: the ${kind} result is not JSON-serialisable`);
      const written = entry.ttlMs;
      await this.write(key, text, written).catch(() => {
        this.errors++;
      });
      return { value, text, ttlMs: written };
    })();
    this.inflight.set(key, entry);
    try {
      return (await entry.done).value as T;
    } finally {
      this.inflight.delete(key);
    }
  }

  stats(): QueryCacheStats {
    const lookups = this.hits + this.misses;
    return {
      backend: this.backend,
      hits: this.hits,
      misses: this.misses,
      hit_rate: lookups > 0 ? this.hits / lookups : null,
      entries: this.entries(),
      errors: this.errors,
      invalidations: this.invalidations,
    };
  }
}

/** One process: lru-cache bounded by entries, each entry expiring after the TTL. */
export class MemoryQueryCache extends BaseQueryCache {
  readonly backend = 'memory' as const;
  private readonly lru: LRUCache<string, string>;
  private readonly generations = new Map<string, number>();
  protected readonly defaultTtlMs: number;

  constructor(opts: QueryCacheOptions) {
    super();
    this.defaultTtlMs = Math.max(1, opts.ttlMs);
    const now = opts.now;
    this.lru = new LRUCache<string, string>({
      max: Math.max(1, opts.maxEntries),
      ttl: Math.max(1, opts.ttlMs),
      ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    });
  }

  protected async read(workspace: string, kind: string, params: unknown) {
    const key = `${encodeURIComponent(workspace)}:${this.generations.get(workspace) ?? 0}:${paramsKey(kind, params)}`;
    return { key, text: this.lru.get(key) };
  }

  protected async write(key: string, text: string, ttlMs: number): Promise<void> {
    this.lru.set(key, text, { ttl: ttlMs });
  }

  protected async extend(key: string, text: string, ttlMs: number): Promise<void> {
    if (this.lru.getRemainingTTL(key) < ttlMs) this.lru.set(key, text, { ttl: ttlMs });
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
