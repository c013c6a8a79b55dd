/**
 * The analytics query cache: one suite for the memory and the Redis backend (Redis when REDIS_URL is set), the
 * memory backend's TTL and LRU bound, Redis sharing between instances, a Redis that cannot be reached, and the cache
 * inside the real app (ingest → the analysis is recomputed; the hit rate shows in the performance analysis).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryQueryCache, type QueryCache } from '../src/cache/query-cache.js';
import { RedisQueryCache } from '../src/cache/redis-query-cache.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('[query-cache.test] Redis variant skipped: REDIS_URL is not set (CI sets redis://127.0.0.1:6379)');

const opened: QueryCache[] = [];
async function redisCache(prefix: string, ttlMs = 60_000): Promise<RedisQueryCache> {
  const c = new RedisQueryCache({ url: REDIS_URL!, ttlMs, prefix });
  await c.connect();
  opened.push(c);
  return c;
}
afterAll(async () => {
  for (const c of opened) {
    if (c instanceof RedisQueryCache && c.redis.status === 'ready') {
      const keys = await c.redis.keys(`${(c as unknown as { prefix: string }).prefix}*`);
      if (keys.length) await c.redis.del(...keys);
    }
    await c.close();
  }
});

/** Resolves once cond() holds (polled on each turn of the event loop; a lookup may be a Redis round trip). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 10_000) throw new Error('condition never held');
    await new Promise((r) => setImmediate(r));
  }
}

/** A computation that counts its calls. */
function counter<T>(value: (n: number) => T) {
  const f = async () => value(++f.calls);
  f.calls = 0;
  return f;
}

const backends: { name: string; make(): Promise<QueryCache> }[] = [
  { name: 'memory', make: async () => new MemoryQueryCache({ ttlMs: 60_000, maxEntries: 100 }) },
  ...(REDIS_URL ? [{ name: 'redis', make: () => redisCache(`netra-test:${randomUUID()}:`) }] : []),
];

describe.each(backends)('query cache ($name)', ({ make }) => {
  it('misses, then hits with an equal fresh copy; counts hits, misses and the hit rate', async () => {
    const c = await make();
    const compute = counter((n) => ({ n, rows: [1, 2, 3] }));
    const a = await c.getOrCompute('ws', 'analysis', { goal: 'cost' }, compute);
    const b = await c.getOrCompute('ws', 'analysis', { goal: 'cost' }, compute);
    expect(compute.calls).toBe(1);
    expect(b).toEqual({ n: 1, rows: [1, 2, 3] });
    expect(b).not.toBe(a);
    b.rows.push(4); // a caller changing its copy does not change the cache
    expect(await c.getOrCompute('ws', 'analysis', { goal: 'cost' }, compute)).toEqual({ n: 1, rows: [1, 2, 3] });
    expect(c.stats()).toMatchObject({ hits: 2, misses: 1 });
    expect(c.stats().hit_rate).toBeCloseTo(2 / 3, 12);
  });

  it('keys by workspace, kind and parameters (parameter order does not matter)', async () => {
    const c = await make();
    const compute = counter((n) => n);
    await c.getOrCompute('ws', 'analysis', { from: 1, to: 2 }, compute);
    expect(await c.getOrCompute('ws', 'analysis', { to: 2, from: 1 }, compute)).toBe(1);
    expect(await c.getOrCompute('ws', 'analysis', { from: 1, to: 3 }, compute)).toBe(2);
    expect(await c.getOrCompute('ws', 'simulation', { from: 1, to: 2 }, compute)).toBe(3);
    expect(await c.getOrCompute('other', 'analysis', { from: 1, to: 2 }, compute)).toBe(4);
    expect(compute.calls).toBe(4);
  });

  it('invalidates one workspace (generation bump) and leaves the others cached', async () => {
    const c = await make();
    const compute = counter((n) => n);
    await c.getOrCompute('a', 'stats', {}, compute);
    await c.getOrCompute('b', 'stats', {}, compute);
    expect(await c.generation('a')).toBe(0);
    await c.invalidate('a');
    expect(await c.generation('a')).toBe(1);
    expect(await c.getOrCompute('a', 'stats', {}, compute)).toBe(3);
    expect(await c.getOrCompute('b', 'stats', {}, compute)).toBe(2);
    expect(c.stats().invalidations).toBe(1);
  });

  it('computes once for concurrent misses of one key, and never caches a failure', async () => {
    const c = await make();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const slow = async () => {
      calls++;
      await gate;
      return { v: 42 };
    };
    const both = Promise.all([c.getOrCompute('ws', 'k', {}, slow), c.getOrCompute('ws', 'k', {}, slow)]);
    release();
    expect(await both).toEqual([{ v: 42 }, { v: 42 }]);
    expect(calls).toBe(1);
    const failing = counter((): number => {
      throw new Error('boom');
    });
    await expect(c.getOrCompute('ws', 'bad', {}, failing)).rejects.toThrow('boom');
    await expect(c.getOrCompute('ws', 'bad', {}, failing)).rejects.toThrow('boom');
    expect(failing.calls).toBe(2);
  });

  it('single-flight: a second caller of a key being computed awaits that computation (a fresh copy), another key does not', async () => {
    const c = await make();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = counter(async (n) => {
      await gate;
      return { n, rows: [1] };
    });
    const first = c.getOrCompute('ws', 'analysis', { a: 1 }, async () => slow());
    // the second caller arrives while the first one computes (after its lookup missed)
    await until(() => c.inflightCount() === 1);
    const second = c.getOrCompute('ws', 'analysis', { a: 1 }, async () => slow());
    await until(() => c.stats().misses === 2); // its lookup missed: it joined the first computation
    const other = counter((n) => n);
    expect(await c.getOrCompute('ws', 'analysis', { a: 2 }, other)).toBe(1); // not blocked by the running key
    release();
    const [x, y] = await Promise.all([first, second]);
    expect(slow.calls).toBe(1);
    expect(await x).toEqual({ n: 1, rows: [1] });
    expect(await y).toEqual({ n: 1, rows: [1] });
    expect(y).not.toBe(await x);
    expect(c.inflightCount()).toBe(0);
  });

  it('a computation started before an invalidation is not shared with callers after it (new generation, new key)', async () => {
    const c = await make();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const compute = counter(async (n) => {
      if (n === 1) await gate;
      return n;
    });
    const before = c.getOrCompute('ws', 'k', {}, async () => compute());
    await until(() => c.inflightCount() === 1);
    await c.invalidate('ws');
    expect(await c.getOrCompute('ws', 'k', {}, async () => compute())).toBe(2);
    release();
    expect(await before).toBe(1);
    expect(await c.getOrCompute('ws', 'k', {}, async () => compute())).toBe(2); // the stale result was stored under the old generation
  });

  it('refuses a value that is not JSON-serialisable', async () => {
    const c = await make();
    await expect(c.getOrCompute('ws', 'fn', {}, async () => undefined)).rejects.toThrow(/not JSON-serialisable/);
  });
});

describe('memory query cache bounds', () => {
  it('expires entries after the TTL (5 min by default in config)', async () => {
    let now = 1_000;
    const c = new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 10, now: () => now });
    const compute = counter((n) => n);
    await c.getOrCompute('ws', 'k', {}, compute);
    now += 299_999;
    expect(await c.getOrCompute('ws', 'k', {}, compute)).toBe(1);
    now += 2;
    expect(await c.getOrCompute('ws', 'k', {}, compute)).toBe(2);
  });

  it('holds at most maxEntries, evicting the least recently used', async () => {
    const c = new MemoryQueryCache({ ttlMs: 60_000, maxEntries: 3 });
    const compute = counter((n) => n);
    for (const k of ['a', 'b', 'c']) await c.getOrCompute('ws', k, {}, compute);
    await c.getOrCompute('ws', 'a', {}, compute); // a is now the most recent; b the least
    await c.getOrCompute('ws', 'd', {}, compute); // evicts b
    expect(c.stats().entries).toBe(3);
    expect(await c.getOrCompute('ws', 'a', {}, compute)).toBe(1);
    expect(await c.getOrCompute('ws', 'b', {}, compute)).toBe(5);
    expect(compute.calls).toBe(5);
  });
});

describe('memory query cache: per-entry TTL', () => {
  it('an entry written with { ttlMs } outlives the default TTL; others expire as before', async () => {
    let now = 1_000;
    const c = new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 10, now: () => now });
    const compute = counter((n) => n);
    await c.getOrCompute('ws', 'long', {}, compute, { ttlMs: 86_400_000 });
    await c.getOrCompute('ws', 'short', {}, compute);
    now += 300_001;
    expect(await c.getOrCompute('ws', 'long', {}, compute)).toBe(1);
    expect(await c.getOrCompute('ws', 'short', {}, compute)).toBe(3);
    now += 86_400_000 - 300_000;
    expect(await c.getOrCompute('ws', 'long', {}, compute)).toBe(4);
  });

  it('a hit asking for a longer TTL extends the entry; a hit asking for a shorter one never shortens it', async () => {
    let now = 1_000;
    const c = new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 10, now: () => now });
    const compute = counter((n) => n);
    await c.getOrCompute('ws', 'k', {}, compute); // 5 min
    now += 200_000;
    expect(await c.getOrCompute('ws', 'k', {}, compute, { ttlMs: 3_600_000 })).toBe(1); // now 1 h from here
    expect(await c.getOrCompute('ws', 'k', {}, compute, { ttlMs: 1_000 })).toBe(1);
    now += 3_599_000;
    expect(await c.getOrCompute('ws', 'k', {}, compute)).toBe(1);
    now += 2_000;
    expect(await c.getOrCompute('ws', 'k', {}, compute)).toBe(2);
  });

  it('concurrent callers of one key: the entry is written once with the longest TTL asked for', async () => {
    let now = 1_000;
    const c = new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 10, now: () => now });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const compute = counter(async (n) => {
      await gate;
      return n;
    });
    const a = c.getOrCompute('ws', 'k', {}, async () => compute()); // a request: default TTL
    await until(() => c.inflightCount() === 1);
    const b = c.getOrCompute('ws', 'k', {}, async () => compute(), { ttlMs: 86_400_000 }); // the precompute joins
    await until(() => c.stats().misses === 2);
    release();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    now += 3_600_000;
    expect(await c.getOrCompute('ws', 'k', {}, async () => compute())).toBe(1);
    expect(compute.calls).toBe(1);
  });
});

describe.skipIf(!REDIS_URL)('redis query cache: per-entry TTL', () => {
  it("SET PX uses the entry's TTL; a hit asking for longer extends it (PEXPIRE GT), never shortens it", async () => {
    const prefix = `netra-test:${randomUUID()}:`;
    const c = await redisCache(prefix, 300_000);
    await c.getOrCompute('ws', 'long', {}, async () => 1, { ttlMs: 86_400_000 });
    await c.getOrCompute('ws', 'short', {}, async () => 2);
    const pttl = async (kind: string) => {
      const [key] = await c.redis.keys(`${prefix}qc:e:*:${kind}:*`);
      return c.redis.pttl(key!);
    };
    expect(await pttl('long')).toBeGreaterThan(86_000_000);
    expect(await pttl('short')).toBeLessThanOrEqual(300_000);
    expect(await c.getOrCompute('ws', 'short', {}, async () => 3, { ttlMs: 3_600_000 })).toBe(2);
    expect(await pttl('short')).toBeGreaterThan(3_500_000);
    expect(await c.getOrCompute('ws', 'short', {}, async () => 4, { ttlMs: 1_000 })).toBe(2);
    expect(await pttl('short')).toBeGreaterThan(3_500_000);
  });

  it('concurrent callers: written once with the longest TTL asked for', async () => {
    const prefix = `netra-test:${randomUUID()}:`;
    const c = await redisCache(prefix, 300_000);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const slow = async () => {
      calls++;
      await gate;
      return { v: 1 };
    };
    const a = c.getOrCompute('ws', 'k', {}, slow);
    await until(() => c.inflightCount() === 1);
    const b = c.getOrCompute('ws', 'k', {}, slow, { ttlMs: 86_400_000 });
    await until(() => c.stats().misses === 2); // b's lookup missed: it joins a's computation
    release();
    expect(await Promise.all([a, b])).toEqual([{ v: 1 }, { v: 1 }]);
    expect(calls).toBe(1);
    const [key] = await c.redis.keys(`${prefix}qc:e:*`);
    expect(await c.redis.pttl(key!)).toBeGreaterThan(86_000_000);
  });
});

describe('redis query cache without a reachable Redis', () => {
  it('computes every lookup without the cache and counts the errors', async () => {
    const c = new RedisQueryCache({ url: 'redis://127.0.0.1:1', ttlMs: 1000 });
    await c.connect(); // logs and carries on
    const compute = counter((n) => n);
    expect(await c.getOrCompute('ws', 'k', {}, compute)).toBe(1);
    expect(await c.getOrCompute('ws', 'k', {}, compute)).toBe(2);
    await c.invalidate('ws'); // does not throw
    expect(c.stats()).toMatchObject({ hits: 0, misses: 2, errors: 3, backend: 'redis', entries: null });
    c.redis.disconnect();
  });
});

describe.skipIf(!REDIS_URL)('redis query cache shared by processes', () => {
  it("two instances on one Redis see each other's entries and invalidations", async () => {
    const prefix = `netra-test:${randomUUID()}:`;
    const a = await redisCache(prefix);
    const b = await redisCache(prefix);
    const compute = counter((n) => ({ n }));
    await a.getOrCompute('ws', 'analysis', { goal: 'cost' }, compute);
    expect(await b.getOrCompute('ws', 'analysis', { goal: 'cost' }, compute)).toEqual({ n: 1 });
    expect(b.stats()).toMatchObject({ hits: 1, misses: 0 });
    await b.invalidate('ws');
    expect(await a.generation('ws')).toBe(1);
    expect(await a.getOrCompute('ws', 'analysis', { goal: 'cost' }, compute)).toEqual({ n: 2 });
    expect(await b.getOrCompute('ws', 'analysis', { goal: 'cost' }, compute)).toEqual({ n: 2 });
    expect(compute.calls).toBe(2);
  });

  it('stores entries with the TTL (PX) and keeps the generation counter without expiry', async () => {
    const prefix = `netra-test:${randomUUID()}:`;
    const c = await redisCache(prefix, 300_000);
    await c.getOrCompute('ws', 'k', {}, async () => 1);
    await c.invalidate('ws');
    const [entry] = await c.redis.keys(`${prefix}qc:e:*`);
    const pttl = await c.redis.pttl(entry!);
    expect(pttl).toBeGreaterThan(290_000);
    expect(pttl).toBeLessThanOrEqual(300_000);
    expect(await c.redis.pttl(`${prefix}qc:gen:ws`)).toBe(-1);
  });
});

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const ev = (i: number, model = 'gpt-4o-mini') => ({
  event_id: `e-${i}`,
  timestamp: new Date(T0 + i * 60_000).toISOString(),
  model,
  prompt_tokens: 1000,
  completion_tokens: 100,
  latency_ms: 500 + i,
});

describe.each([
  { name: 'memory', overrides: {} },
  ...(REDIS_URL ? [{ name: 'redis', overrides: { redisUrl: REDIS_URL, cache: { redisPrefix: `netra-test:${randomUUID()}:` } } }] : []),
])('query cache in the app ($name)', ({ overrides }) => {
  let t: TestApp;
  let auth: { authorization: string };
  const inject = (o: import('fastify').InjectOptions) => t.app.server.inject({ ...o, headers: { ...auth, ...o.headers } });

  beforeAll(async () => {
    t = await startTestApp(overrides);
    auth = await t.auth();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves a repeated analysis from the cache and recomputes it after an ingest into the workspace', async () => {
    expect(t.app.cache?.backend).toBe(REDIS_URL && 'redisUrl' in overrides ? 'redis' : 'memory');
    expect(
      (await inject({ method: 'POST', url: '/api/v1/events?workspace=qc', payload: Array.from({ length: 30 }, (_, i) => ev(i)) })).json(),
    ).toMatchObject({ accepted: 30 });
    expect((await inject({ method: 'POST', url: '/api/v1/events?workspace=other', payload: [ev(1)] })).statusCode).toBe(200);
    const before = t.app.cache!.stats();

    const first = (await inject({ url: '/api/v1/analysis?workspace=qc' })).json();
    expect(first.summary.events).toBe(30);
    const afterFirst = t.app.cache!.stats();
    expect(afterFirst.misses).toBeGreaterThan(before.misses);
    const hitsBefore = afterFirst.hits;

    const second = (await inject({ url: '/api/v1/analysis?workspace=qc' })).json();
    expect(t.app.cache!.stats().hits).toBe(hitsBefore + 1);
    expect(second.summary).toEqual(first.summary);
    expect(second.recommendations).toEqual(first.recommendations);
    // the hit rate shows in the performance analysis, current as of this request
    expect(second.performance.store_health.cache).toMatchObject({ hits: hitsBefore + 1 });
    expect(second.performance.store_health.cache_hit_rate).toBeGreaterThan(0);

    // another workspace's ingest leaves this entry alone
    await inject({ method: 'POST', url: '/api/v1/events?workspace=other', payload: [ev(2)] });
    await inject({ url: '/api/v1/analysis?workspace=qc' });
    expect(t.app.cache!.stats().hits).toBe(hitsBefore + 2);

    expect(
      (
        await inject({
          method: 'POST',
          url: '/api/v1/events?workspace=qc',
          payload: Array.from({ length: 10 }, (_, i) => ev(100 + i, 'gpt-4o')),
        })
      ).json(),
    ).toMatchObject({ accepted: 10 });
    const third = (await inject({ url: '/api/v1/analysis?workspace=qc' })).json();
    expect(third.summary.events).toBe(40);
    expect(third.summary.spend_usd).toBeGreaterThan(first.summary.spend_usd);
  });

  it('caches simulations and stats the same way, and a resend of stored events invalidates nothing', async () => {
    const policy = { routing: [{ match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }] };
    const sim1 = (await inject({ method: 'POST', url: '/api/v1/simulations', payload: { workspace: 'qc', policy } })).json();
    const gen = await t.app.cache!.generation('qc');
    const hits = t.app.cache!.stats().hits;
    const sim2 = (await inject({ method: 'POST', url: '/api/v1/simulations', payload: { workspace: 'qc', policy } })).json();
    expect(sim2).toEqual(sim1);
    expect(t.app.cache!.stats().hits).toBeGreaterThan(hits);
    const s1 = await t.app.analysis.stats({ workspace: 'qc' });
    const s2 = await t.app.analysis.stats({ workspace: 'qc' });
    expect(s2).toEqual(s1);
    expect(s1.events).toBe(40);
    // duplicates only: nothing stored, nothing invalidated
    expect((await inject({ method: 'POST', url: '/api/v1/events?workspace=qc', payload: [ev(1)] })).json()).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });
    expect(await t.app.cache!.generation('qc')).toBe(gen);
    // a generated workload is an ingest too
    await t.app.generate({ preset: 'chat-support', events: 50, days: 1, seed: 2, workspace: 'qc', end: T0 });
    expect(await t.app.cache!.generation('qc')).toBeGreaterThan(gen);
    expect((await t.app.analysis.stats({ workspace: 'qc' })).events).toBe(90);
  });
});
