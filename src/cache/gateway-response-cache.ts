/**
 * The gateway's exact response cache: complete upstream responses by request key, with a TTL per entry. In memory
 * (LRU, per process) and, with REDIS_URL, also in Redis so several gateway processes serve each other's hits. Redis
 * errors never fail a call: the lookup is a miss and the write is skipped.
 */
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.js';

export interface CachedResponse {
  status: number;
  /** content-type and the other response headers worth replaying */
  headers: Record<string, string>;
  /** the body as the client received it; for streams, the chunks in order (replayed one write each) */
  chunks: string[];
  stream: boolean;
  /** the recorded facts of the original call (model, tokens) so a hit is recorded like it */
  facts: {
    model: string | null;
    promptTokens: number | null;
    completionTokens: number | null;
    cachedTokens: number;
    finishReason: string | null;
    text: string;
  };
}

export interface GatewayResponseCache {
  get(key: string): Promise<CachedResponse | null>;
  set(key: string, value: CachedResponse, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

export class MemoryResponseCache implements GatewayResponseCache {
  private readonly lru: LRUCache<string, CachedResponse>;
  constructor(maxEntries: number) {
    this.lru = new LRUCache({ max: maxEntries, ttlAutopurge: false });
  }
  async get(key: string): Promise<CachedResponse | null> {
    return this.lru.get(key) ?? null;
  }
  async set(key: string, value: CachedResponse, ttlMs: number): Promise<void> {
    this.lru.set(key, value, { ttl: ttlMs });
  }
  async close(): Promise<void> {
    this.lru.clear();
  }
}

/** Memory in front of Redis: a hit from another process is kept locally for the rest of its TTL. */
export class RedisResponseCache implements GatewayResponseCache {
  private readonly redis: Redis;
  private readonly local: MemoryResponseCache;
  constructor(private readonly o: { url: string; prefix: string; maxEntries: number; log: Logger }) {
    this.redis = new Redis(o.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 });
    this.redis.on('error', (err: Error) => o.log.warn({ err: err.message }, 'gateway cache: redis error'));
    this.local = new MemoryResponseCache(o.maxEntries);
  }
  async connect(): Promise<void> {
    await this.redis.connect();
  }
  async get(key: string): Promise<CachedResponse | null> {
    const hit = await this.local.get(key);
    if (hit) return hit;
    try {
      const [[, raw], [, ttl]] = (await this.redis
        .multi()
        .get(this.o.prefix + key)
        .pttl(this.o.prefix + key)
        .exec()) as [[unknown, string | null], [unknown, number]];
      if (!raw) return null;
      const v = JSON.parse(raw) as CachedResponse;
      if (ttl > 0) await this.local.set(key, v, ttl);
      return v;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'gateway cache: redis lookup failed; treated as a miss');
      return null;
    }
  }
  async set(key: string, value: CachedResponse, ttlMs: number): Promise<void> {
    await this.local.set(key, value, ttlMs);
    try {
      await this.redis.set(this.o.prefix + key, JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'gateway cache: redis write failed');
    }
  }
  async close(): Promise<void> {
    await this.local.close();
    this.redis.disconnect();
  }
}
