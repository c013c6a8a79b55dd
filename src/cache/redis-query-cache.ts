/**
 * The query cache shared through Redis (ioredis) so several server processes see each other's entries and
 * invalidations. Layout, under a configurable prefix (default `netra:`):
 *   <prefix>qc:gen:<workspace>                         the workspace's generation counter (INCR on ingest; never expires)
 *   <prefix>qc:e:<workspace>:<generation>:<kind>:<hash>  one cached value as JSON text (SET ... PX ttl; the ttl is the
 *                                                      cache's, or the entry's own: PEXPIRE ... GT extends it on a hit)
 * Entries are bounded by their TTL; give Redis a `maxmemory` with an LRU eviction policy to bound memory too.
 * When Redis cannot be reached, lookups compute without the cache and count an error; they never fail the request.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { BaseQueryCache, paramsKey, type QueryCacheOptions } from './query-cache.js';

export interface RedisQueryCacheOptions extends Pick<QueryCacheOptions, 'ttlMs'> {
  url: string;
  /** key prefix; tests use a unique one */
  prefix?: string;
  log?: Logger;
  /** TCP connect (default 2 s) and per-command (default 1 s) bounds: a black-holed Redis delays a request at most that */
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export class RedisQueryCache extends BaseQueryCache {
  readonly backend = 'redis' as const;
  readonly redis: Redis;
  private readonly prefix: string;
  protected readonly defaultTtlMs: number;
  private readonly log?: Logger;
  private lastErrorLog = 0;

  constructor(opts: RedisQueryCacheOptions) {
    super();
    this.prefix = opts.prefix ?? 'netra:';
    this.defaultTtlMs = Math.max(1, opts.ttlMs);
    this.log = opts.log;
    // fail fast while disconnected (the cache is optional); ioredis keeps reconnecting in the background
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    this.redis = new Redis(opts.url, redisClientOptions(this.connectTimeoutMs, opts.commandTimeoutMs ?? 1_000));
    this.redis.on('error', (err: Error) => this.warn(err));
  }

  private readonly connectTimeoutMs: number;

  /**
   * Connects, waiting at most the connect timeout (a black-holed server accepts and never becomes ready); a failure is
   * logged and the cache runs degraded (every lookup computes) while ioredis keeps reconnecting in the background.
   */
  async connect(): Promise<void> {
    try {
      await withTimeout(this.redis.connect(), this.connectTimeoutMs, 'redis connect');
    } catch (err) {
      this.warn(err as Error);
    }
  }

  private warn(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 60_000) return;
    this.lastErrorLog = now;
    this.log?.warn({ err: err.message }, 'redis query cache unavailable; analyses are computed without the cache');
  }

  private genKey(workspace: string): string {
    return `${this.prefix}qc:gen:${encodeURIComponent(workspace)}`;
  }

  async generation(workspace: string): Promise<number> {
    return Number((await this.redis.get(this.genKey(workspace))) ?? 0);
  }

  protected async read(workspace: string, kind: string, params: unknown) {
    const gen = await this.generation(workspace);
    const key = `${this.prefix}qc:e:${encodeURIComponent(workspace)}:${gen}:${paramsKey(kind, params)}`;
    const text = await this.redis.get(key);
    return { key, text: text ?? undefined };
  }

  protected async write(key: string, text: string, ttlMs: number): Promise<void> {
    await this.redis.set(key, text, 'PX', ttlMs);
  }

  /** PEXPIRE ... GT (Redis ≥ 7.0): only ever lengthens the entry's life. */
  protected async extend(key: string, _text: string, ttlMs: number): Promise<void> {
    await this.redis.pexpire(key, ttlMs, 'GT');
  }

  async invalidate(workspace: string): Promise<void> {
    this.invalidations++;
    try {
      await this.redis.incr(this.genKey(workspace));
    } catch (err) {
      this.errors++;
      this.warn(err as Error);
    }
  }

  protected entries(): null {
    return null;
  }

  /** Round trip to Redis (readiness). */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

/** ioredis options shared by every Netra Redis connection: fail fast while disconnected, bounded connect and commands. */
export function redisClientOptions(connectTimeoutMs: number, commandTimeoutMs: number, offlineQueue = false) {
  return {
    lazyConnect: true,
    enableOfflineQueue: offlineQueue,
    maxRetriesPerRequest: 1,
    connectTimeout: connectTimeoutMs,
    commandTimeout: commandTimeoutMs,
  } as const;
}

/** `p`, or a rejection after `ms` (the promise keeps running; its outcome is ignored). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} took over ${ms} ms`)), ms);
    timer.unref();
  });
  p.catch(() => undefined);
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
