/**
 * Picks the query cache backend from config: Redis when REDIS_URL is set (shared by every process), else in memory.
 */
import type { Logger } from '../logger.js';
import { MemoryQueryCache, type QueryCache } from './query-cache.js';
import { RedisQueryCache } from './redis-query-cache.js';

export type { CacheEntryOptions, QueryCache, QueryCacheStats } from './query-cache.js';
export { MemoryQueryCache } from './query-cache.js';
export { RedisQueryCache } from './redis-query-cache.js';

export interface CacheConfig {
  ttlMs: number;
  maxEntries: number;
  redisPrefix: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export async function createQueryCache(cfg: CacheConfig, redisUrl: string | undefined, log?: Logger): Promise<QueryCache> {
  if (!redisUrl) return new MemoryQueryCache({ ttlMs: cfg.ttlMs, maxEntries: cfg.maxEntries });
  const c = new RedisQueryCache({
    url: redisUrl,
    ttlMs: cfg.ttlMs,
    prefix: cfg.redisPrefix,
    log,
    connectTimeoutMs: cfg.connectTimeoutMs,
    commandTimeoutMs: cfg.commandTimeoutMs,
  });
  await c.connect();
  return c;
}
