/**
 * The gateway's exact response cache, in memory and (when REDIS_URL is set) through Redis, where a second process's
 * cache instance serves the first one's entries for the rest of their TTL.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryResponseCache, RedisResponseCache, type CachedResponse } from '../src/cache/gateway-response-cache.js';
import { createLogger } from '../src/logger.js';

const entry: CachedResponse = {
  status: 200,
  headers: { 'content-type': 'text/event-stream' },
  chunks: ['data: {"a":1}\n\n', 'data: [DONE]\n\n'],
  stream: true,
  facts: { model: 'gpt-4o-mini', promptTokens: 12, completionTokens: 5, cachedTokens: 0, finishReason: 'stop', text: 'hi' },
};

describe('gateway response cache', () => {
  it('memory: hit within the TTL, miss after it', async () => {
    const c = new MemoryResponseCache(10);
    await c.set('k', entry, 60_000);
    expect(await c.get('k')).toEqual(entry);
    expect(await c.get('other')).toBeNull();
    await c.set('short', entry, 1);
    await expect.poll(() => c.get('short'), { timeout: 2000 }).toBeNull();
  });

  it.skipIf(!process.env.REDIS_URL)(
    'redis: an entry written by one process is a hit in another; another namespace never sees it',
    async () => {
      const prefix = `netra-test:${randomUUID()}:`;
      const log = createLogger('warn');
      const a = new RedisResponseCache({ url: process.env.REDIS_URL!, prefix, maxEntries: 10, log });
      const b = new RedisResponseCache({ url: process.env.REDIS_URL!, prefix, maxEntries: 10, log });
      await a.connect();
      await b.connect();
      try {
        expect(await b.get('k')).toBeNull();
        await a.set('k', entry, 60_000);
        expect(await b.get('k')).toEqual(entry);
        const other = new RedisResponseCache({ url: process.env.REDIS_URL!, prefix: `${prefix}x:`, maxEntries: 10, log });
        await other.connect();
        expect(await other.get('k')).toBeNull(); // another namespace (another database's workspaces) never sees it
        await other.close();
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});
