/**
 * What-if replay: a hand-built 10-event history through the real DuckDB store with a routing rule, an exact cache, a
 * batch rule and a max_tokens cap gives the hand-computed baseline and projected figures (spend, latency percentiles,
 * hit rate, changed share, per day); replays are deterministic; per-day rows sum to the totals; the semantic cache
 * finds a near-duplicate; tag matching is exact; generated workloads give the manifest's planted counts and dollars;
 * malformed policies get errors naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAll } from '../src/corpus/generator.js';
import { NetraError } from '../src/errors.js';
import { parsePolicy, validatePolicy } from '../src/optimize/policy.js';
import { replayPolicy, type ReplayContext } from '../src/optimize/replay.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import type { AnalyticsStore } from '../src/store/types.js';
import { normalizeEvent, type WorkloadEvent } from '../src/workload/event.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const catalog = loadPriceCatalog();
const DAY1 = Date.UTC(2026, 10, 10);
const DAY2 = Date.UTC(2026, 10, 11);
const H = 3_600_000;
const M = 60_000;

let seq = 0;
function ev(workspace: string, raw: Record<string, unknown>): WorkloadEvent {
  const r = normalizeEvent(raw, { workspace, pricer: catalog, newId: () => `e${++seq}` });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.event;
}

const ctxFor = (workspace: string, from: number, to: number): ReplayContext => ({
  workspace,
  from,
  to,
  rates: (m) => catalog.rates(workspace, m),
  resolve: (m) => catalog.resolve(m),
});

async function storeWith(events: WorkloadEvent[]): Promise<AnalyticsStore> {
  const store = createDuckDbStore({ path: ':memory:' });
  await store.init();
  await store.append(events);
  return store;
}

// gpt-4o: $2.5 / $10 per M tokens, batch discount 0.5; gpt-4o-mini: $0.15 / $0.6 (the hand computation below uses these)
const HISTORY = (ws: string) => {
  const faq = {
    app: 'support',
    model: 'gpt-4o',
    tags: { task: 'faq' },
    prompt_tokens: 1000,
    completion_tokens: 100,
    prompt_hash: 'H1',
    latency_ms: 2000,
    ttft_ms: 500,
    end_user: 'u1',
  };
  const nightly = {
    app: 'nightly',
    model: 'gpt-4o',
    tags: { latency_class: 'offline' },
    prompt_tokens: 3000,
    completion_tokens: 500,
    prompt_hash: 'H5',
    latency_ms: 8000,
  };
  return [
    ev(ws, { ...faq, event_id: 'e1', timestamp: DAY1 + 10 * H }), // routed: 0.0035 → 0.00021, latency x0.5
    ev(ws, { ...faq, event_id: 'e2', timestamp: DAY1 + 10 * H + 5 * M }), // routed + exact hit (e1, 5 min) → 0, 20 ms
    ev(ws, { ...faq, event_id: 'e3', timestamp: DAY1 + 10 * H + 20 * M }), // routed, 15 min after e2 > TTL → 0.00021
    ev(ws, {
      ...faq,
      event_id: 'e4',
      timestamp: DAY1 + 10 * H + 21 * M,
      tags: { task: 'chat' },
      prompt_tokens: 2000,
      completion_tokens: 300,
      prompt_hash: 'H2',
      latency_ms: 3000,
    }), // 0.008
    ev(ws, {
      event_id: 'e5',
      timestamp: DAY1 + 11 * H,
      app: 'writer',
      model: 'gpt-4o',
      prompt_tokens: 500,
      completion_tokens: 400,
      max_tokens: 1000,
      prompt_hash: 'H3',
      latency_ms: 5000,
      ttft_ms: 1000,
      end_user: 'u5',
    }), // capped at 100: 0.00525 → 0.00225, 2000 ms
    ev(ws, {
      event_id: 'e6',
      timestamp: DAY1 + 11 * H + 30 * M,
      app: 'writer',
      model: 'gpt-4o',
      prompt_tokens: 500,
      completion_tokens: 80,
      prompt_hash: 'H4',
      latency_ms: 1500,
      end_user: 'u6',
    }), // under the cap: 0.00205
    ev(ws, { ...nightly, event_id: 'e7', timestamp: DAY2 + 2 * H }), // batch: 0.0125 → 0.00625
    ev(ws, { ...nightly, event_id: 'e8', timestamp: DAY2 + 2 * H + M }), // exact hit of e7 → 0 (cache before batch)
    ev(ws, {
      ...nightly,
      event_id: 'e9',
      timestamp: DAY2 + 2 * H + 2 * M,
      end_user: 'u9',
      prompt_tokens: 1000,
      completion_tokens: 200,
      prompt_hash: 'H6',
      latency_ms: 2500,
    }), // someone waits: no batch, 0.0045
    ev(ws, {
      event_id: 'e10',
      timestamp: DAY2 + 3 * H,
      app: 'support',
      model: 'gpt-4o-mini',
      tags: { task: 'faq' },
      prompt_tokens: 400,
      completion_tokens: 50,
      prompt_hash: 'H7',
      latency_ms: 400,
      end_user: 'u10',
    }), // not matched: 0.00009
  ];
};

const POLICY = {
  name: 'hand',
  routing: [{ match: { app: 'support', model: 'gpt-4o', task: 'faq' }, target_model: 'gpt-4o-mini' }],
  exact_cache: { enabled: true, ttl_seconds: 600 },
  batch: [{ match: { offline: true, tags: { latency_class: 'offline' } }, discount_from_catalog: true }],
  max_tokens_caps: [{ match: { app: 'writer' }, cap: 100 }],
};

describe('replay of a hand-built history', () => {
  let store: AnalyticsStore;
  const ctx = ctxFor('hand', DAY1, DAY2 + 24 * H);
  beforeAll(async () => {
    store = await storeWith(HISTORY('hand'));
  });
  afterAll(() => store.close());

  it('uses the catalog rates the hand computation assumes', () => {
    expect(catalog.rates('hand', 'gpt-4o')).toMatchObject({ input: 2.5e-6, output: 1e-5 });
    expect(catalog.rates('hand', 'gpt-4o-mini')).toMatchObject({ input: 1.5e-7, output: 6e-7 });
    expect(catalog.resolve('gpt-4o')!.batch_discount).toBe(0.5);
  });

  it('gives the hand-computed baseline and projected figures', async () => {
    const r = await replayPolicy(store.analysis, ctx, POLICY);
    expect(r.baseline.events).toBe(10);
    expect(r.baseline.spend_usd).toBeCloseTo(0.05539, 10);
    expect(r.projected.spend_usd).toBeCloseTo(0.02356, 10);
    expect(r.savings_usd).toBeCloseTo(0.03183, 10);
    expect(r.breakdown).toMatchObject({
      routed_events: 3,
      exact_cache_hits: 2,
      semantic_cache_hits: 0,
      batch_events: 1,
      truncated_events: 1,
      routing_rule_events: [3],
    });
    expect(r.breakdown.routing_savings_usd).toBeCloseTo(3 * (0.0035 - 0.00021), 10);
    expect(r.breakdown.cache_savings_usd).toBeCloseTo(0.00021 + 0.0125, 10);
    expect(r.breakdown.batch_savings_usd).toBeCloseTo(0.00625, 10);
    expect(r.breakdown.cap_savings_usd).toBeCloseTo(0.003, 10);
    expect(r.changed_events).toBe(6);
    expect(r.changed_share).toBeCloseTo(0.6, 12);
    expect(r.baseline.cache_hit_rate).toBe(0);
    expect(r.projected.cache_hit_rate).toBeCloseTo(0.2, 12);
    // latency: gpt-4o median 16 ms per output token, gpt-4o-mini 8 → routed calls x0.5; hits 20 ms; e5 1000 + 4000 x 100/400
    expect(r.baseline.latency_p50_ms).toBeCloseTo(2250, 9);
    expect(r.baseline.latency_p95_ms).toBeCloseTo(8000, 9);
    expect(r.projected.latency_p50_ms).toBeCloseTo(1250, 9);
    expect(r.projected.latency_p95_ms).toBeCloseTo(5750, 9);
    expect(r.per_day.map((d) => d.day)).toEqual(['2026-11-10', '2026-11-11']);
    expect(r.per_day[0]!.baseline.spend_usd).toBeCloseTo(0.0258, 10);
    expect(r.per_day[0]!.projected.spend_usd).toBeCloseTo(0.01272, 10);
    expect(r.per_day[1]!.baseline.spend_usd).toBeCloseTo(0.02959, 10);
    expect(r.per_day[1]!.projected.spend_usd).toBeCloseTo(0.01084, 10);
    expect(r.per_day[0]!.changed_share).toBeCloseTo(4 / 6, 12);
    expect(r.per_day[1]!.projected.cache_hit_rate).toBeCloseTo(0.25, 12);
    expect(r.monthly_savings_usd).toBeCloseTo(0.03183 * 15, 9);
    expect(r.assumptions.join('\n')).toMatch(/Batch: .*latency/);
    expect(r.query).toContain('RANGE BETWEEN 600000000 PRECEDING');
  });

  it('is deterministic', async () => {
    const a = await replayPolicy(store.analysis, ctx, POLICY);
    const b = await replayPolicy(store.analysis, ctx, POLICY);
    expect(b).toEqual(a);
  });

  it('per-day rows sum to the totals', async () => {
    const r = await replayPolicy(store.analysis, ctx, POLICY);
    const sum = (f: (d: (typeof r.per_day)[number]) => number) => r.per_day.reduce((s, d) => s + f(d), 0);
    expect(sum((d) => d.baseline.events)).toBe(r.baseline.events);
    expect(sum((d) => d.baseline.spend_usd)).toBeCloseTo(r.baseline.spend_usd, 12);
    expect(sum((d) => d.projected.spend_usd)).toBeCloseTo(r.projected.spend_usd, 12);
    expect(sum((d) => d.savings_usd)).toBeCloseTo(r.savings_usd, 12);
    expect(sum((d) => d.projected.cache_hit_rate * d.projected.events)).toBeCloseTo(r.projected.cache_hit_rate * r.projected.events, 9);
    expect(sum((d) => d.changed_share * d.baseline.events)).toBeCloseTo(r.changed_events, 9);
  });

  it('an empty policy changes nothing', async () => {
    const r = await replayPolicy(store.analysis, ctx, {});
    expect(r.projected.spend_usd).toBeCloseTo(r.baseline.spend_usd, 12);
    expect(r.projected.latency_p95_ms).toBe(r.baseline.latency_p95_ms);
    expect(r.changed_events).toBe(0);
  });

  it('routing to the model an event already uses changes nothing, and the latency note says what is unknown', async () => {
    const r = await replayPolicy(store.analysis, ctx, {
      routing: [
        { match: { app: 'support' }, target_model: 'gpt-4o-mini' },
        { match: {}, target_model: 'claude-3-haiku' },
      ],
    });
    expect(r.breakdown.routing_rule_events).toEqual([5, 5]);
    expect(r.breakdown.routed_events).toBe(9); // e10 is on gpt-4o-mini already
    expect(r.assumptions.join('\n')).toMatch(/routing\[1\]: the workspace has no latency data for claude-3-haiku/);
  });
});

describe('semantic cache and tag matching', () => {
  it('counts a near-duplicate prompt as a semantic hit and an exact repeat as an exact hit', async () => {
    const text = 'please summarise the quarterly revenue report for the emea sales region and list the three largest accounts by growth';
    const base = { app: 'a', model: 'gpt-4o-mini', prompt_tokens: 100, completion_tokens: 10, latency_ms: 900, end_user: 'u' };
    const store = await storeWith([
      ev('sem', { ...base, event_id: 's1', timestamp: DAY1 + H, prompt_text: text }),
      ev('sem', { ...base, event_id: 's2', timestamp: DAY1 + H + M, prompt_text: 'could you ' + text }),
      ev('sem', { ...base, event_id: 's3', timestamp: DAY1 + H + 2 * M, prompt_text: text }),
      ev('sem', {
        ...base,
        event_id: 's4',
        timestamp: DAY1 + H + 3 * M,
        prompt_text: 'translate the attached onboarding checklist into german and keep the numbered list format intact',
      }),
      ev('sem', { ...base, event_id: 's5', timestamp: DAY1 + H + 4 * M }), // no text: cannot be a semantic hit
    ]);
    try {
      const ctx = ctxFor('sem', DAY1, DAY2);
      const r = await replayPolicy(store.analysis, ctx, { semantic_cache: { enabled: true, ttl_seconds: 3600 } });
      expect(r.breakdown.exact_cache_hits).toBe(1);
      expect(r.breakdown.semantic_cache_hits).toBe(1);
      expect(r.projected.cache_hit_rate).toBeCloseTo(0.4, 12);
      expect(r.assumptions.join('\n')).toMatch(/streaming the 4 text-bearing events \(of 5\)/);
      const off = await replayPolicy(store.analysis, ctx, { exact_cache: { enabled: true, ttl_seconds: 3600 } });
      expect(off.breakdown).toMatchObject({ exact_cache_hits: 1, semantic_cache_hits: 0 });
    } finally {
      await store.close();
    }
  });

  it('matches tags exactly, whatever the characters', async () => {
    const odd = 'a "quoted", {braced} / slashed ünï';
    const base = { app: 'a', model: 'gpt-4o', prompt_tokens: 100, completion_tokens: 10 };
    const store = await storeWith([
      ev('tags', { ...base, event_id: 't1', timestamp: DAY1 + H, tags: { team: odd, 'k"ey': 'v' } }),
      ev('tags', { ...base, event_id: 't2', timestamp: DAY1 + 2 * H, tags: { team: odd + 'x' } }),
      ev('tags', { ...base, event_id: 't3', timestamp: DAY1 + 3 * H, tags: { other: 'x', team: odd } }),
      ev('tags', { ...base, event_id: 't4', timestamp: DAY1 + 4 * H, tags: { note: `"team":${JSON.stringify(odd)}` } }),
      ev('tags', { ...base, event_id: 't5', timestamp: DAY1 + 5 * H }),
    ]);
    try {
      const ctx = ctxFor('tags', DAY1, DAY2);
      const routed = async (tags: Record<string, string>) =>
        (await replayPolicy(store.analysis, ctx, { routing: [{ match: { tags }, target_model: 'gpt-4o-mini' }] })).breakdown.routed_events;
      expect(await routed({ team: odd })).toBe(2);
      expect(await routed({ 'k"ey': 'v' })).toBe(1);
      expect(await routed({ team: odd, other: 'x' })).toBe(1);
      expect(await routed({ team: 'a' })).toBe(0);
      // every policy value is a bound parameter: SQL-looking text is just a value
      const inj = await replayPolicy(store.analysis, ctx, {
        routing: [{ match: { app: ["a' OR 1=1 --", 'a'] }, target_model: 'gpt-4o-mini' }],
      });
      expect(inj.breakdown.routed_events).toBe(5);
      expect(inj.query).not.toContain('OR 1=1');
    } finally {
      await store.close();
    }
  });
});

describe('provider prompt caching over block chains', () => {
  // claude-sonnet-4: input $3, cached input $0.30, cache write $3.75 per M tokens; caches from 1,024 tokens
  const turn = (id: string, t: number, hashes: number[], prompt: number) =>
    ev('pc', {
      event_id: id,
      timestamp: DAY1 + t * 1000,
      app: 'chat',
      model: 'claude-sonnet-4',
      prompt_tokens: prompt,
      completion_tokens: 100,
      prefix_block_hashes: hashes,
      prefix_block_size: 512,
    });

  it('bills the simulated cache reads at the cached price and the writes they confirm at the write premium', async () => {
    const store = await storeWith([
      turn('a1', 0, [1, 2, 3], 1400), // writes 3 blocks
      turn('a2', 60, [1, 2, 4, 5], 1900), // reads 1,024 (confirms blocks 1, 2)
      turn('a3', 120, [1, 2, 4, 6, 7], 2500), // reads 1,536 (confirms block 4, written by a2)
      turn('a4', 1000, [1, 2, 4, 6, 7, 8], 2900), // 880 s later: expired
    ]);
    const r = await replayPolicy(store.analysis, ctxFor('pc', DAY1, DAY2), { prompt_caching: { enabled: true } });
    const saved = (1024 + 1536) * (3e-6 - 3e-7) - (1024 + 512) * (3.75e-6 - 3e-6);
    expect(r.breakdown.prompt_cache_hits).toBe(2);
    expect(r.breakdown.prompt_cache_savings_usd).toBeCloseTo(saved, 12);
    expect(r.savings_usd).toBeCloseTo(saved, 12);
    expect(r.changed_events).toBe(2);
    expect(r.assumptions.some((a) => a.startsWith('Prompt caching (cache lifetime 300 s'))).toBe(true);
    // a 1,000 s lifetime keeps the conversation warm for a4 too: 2,560 more tokens read, and a3's writes of blocks 6
    // (512 tokens) and 7 (its last, partial block: 2,500 - 4 x 512 = 452 tokens) confirmed
    const long = await replayPolicy(store.analysis, ctxFor('pc', DAY1, DAY2), { prompt_caching: { enabled: true, window_seconds: 1000 } });
    expect(long.breakdown.prompt_cache_hits).toBe(3);
    expect(long.breakdown.prompt_cache_savings_usd).toBeCloseTo(saved + 2560 * (3e-6 - 3e-7) - (512 + 452) * (3.75e-6 - 3e-6), 12);
    expect(() => validatePolicy({ prompt_caching: { enabled: true, window_seconds: 0 } })).toThrow(/prompt_caching.window_seconds/);
    await store.close();
  });
});

describe('planted truth of generated workloads', () => {
  for (const preset of ['chat-support', 'batch-summarization']) {
    it(`${preset}: exact cache, batch and routing recover the manifest's counts and dollars`, async () => {
      const tierOf = (m: string) => catalog.resolve(m)?.quality_tier ?? null;
      const { events, manifest: m } = generateAll({
        preset,
        events: 20_000,
        days: 3,
        seed: 5,
        end: DAY2,
        pricer: catalog,
        tierOf,
        workspace: 'gen',
      });
      const store = await storeWith(events);
      try {
        const ctx = ctxFor('gen', m.from, m.to);
        const cache = await replayPolicy(store.analysis, ctx, {
          exact_cache: { enabled: true, ttl_seconds: m.params.exact_cache_ttl_seconds },
        });
        expect(cache.breakdown.exact_cache_hits).toBe(m.counts.exact_duplicate);
        expect(cache.breakdown.cache_savings_usd).toBeCloseTo(m.spend_usd.exact_duplicate, 6);
        expect(cache.savings_usd).toBeCloseTo(m.spend_usd.exact_duplicate, 6);

        const batch = await replayPolicy(store.analysis, ctx, {
          batch: [{ match: { offline: true, tags: { latency_class: 'offline' } } }],
        });
        expect(batch.breakdown.batch_events).toBe(m.counts.batchable);
        const batchable = events.filter((e) => e.tags.latency_class === 'offline' && e.end_user === null && e.session_id === null);
        const expected = batchable.reduce((s, e) => s + e.cost_usd * catalog.resolve(e.model)!.batch_discount, 0);
        expect(batch.savings_usd).toBeCloseTo(expected, 6);

        const tier3 = Object.entries(m.params.tiers)
          .filter(([, t]) => t === 3)
          .map(([k]) => k);
        const routing = await replayPolicy(store.analysis, ctx, {
          routing: [{ match: { model: tier3, task: m.params.simple_tasks }, target_model: 'gpt-4.1-nano' }],
        });
        expect(routing.breakdown.routed_events).toBe(m.counts.routable);
        expect(routing.breakdown.routing_rule_events[0]).toBe(m.counts.routable);
      } finally {
        await store.close();
      }
    }, 60_000);
  }
});

describe('malformed policies', () => {
  const check = { knownModel: (m: string) => catalog.rates('w', m) !== null };
  const fields = (raw: unknown) => {
    const r = parsePolicy(raw, check);
    return r.ok ? [] : r.errors.map((e) => e.field);
  };

  it('names the field of every problem', () => {
    expect(fields({ routing: [{ match: {}, target_model: 'gpt-9-imaginary' }] })).toEqual(['routing[0].target_model']);
    expect(fields({ routing: [{ match: { foo: 1 }, target_model: 'gpt-4o' }] })).toEqual(['routing[0].match.foo']);
    expect(fields({ routing: [{ match: {} }] })).toEqual(['routing[0].target_model']);
    expect(fields({ routing: [{ match: { min_prompt_tokens: 10, max_prompt_tokens: 5 }, target_model: 'gpt-4o' }] })).toEqual([
      'routing[0].match.min_prompt_tokens',
    ]);
    expect(fields({ semantic_cache: { enabled: true, threshold: 2 } })).toEqual(['semantic_cache.threshold']);
    expect(fields({ exact_cache: { enabled: 'yes' } })).toEqual(['exact_cache.enabled']);
    expect(fields({ max_tokens_caps: [{ match: {}, cap: -1 }] })).toEqual(['max_tokens_caps[0].cap']);
    expect(fields({ batch: [{ match: {}, discount_from_catalog: false }] })).toEqual(['batch[0].discount_from_catalog']);
    expect(fields({ routes: [] })).toEqual(['routes']);
    expect(fields([])).toEqual(['(policy)']);
  });

  it('says why, and throws NETRA_E_VALIDATION from validatePolicy and replayPolicy', async () => {
    const r = parsePolicy({ routing: [{ match: {}, target_model: 'gpt-9-imaginary' }] }, check);
    expect(r.ok ? '' : r.errors[0]!.message).toMatch(/unknown model 'gpt-9-imaginary'/);
    expect(() => validatePolicy({ max_tokens_caps: [{ cap: 1.5 }] })).toThrowError(/max_tokens_caps\[0\]\.cap: must be a whole number/);
    const store = await storeWith([]);
    try {
      const err = await replayPolicy(store.analysis, ctxFor('w', DAY1, DAY2), { routing: [{ target_model: 'nope' }] }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NetraError);
      expect((err as NetraError).code).toBe('NETRA_E_VALIDATION');
      expect((err as NetraError).field).toBe('routing[0].target_model');
    } finally {
      await store.close();
    }
  });

  it('accepts a full, valid policy with defaults filled in', () => {
    const p = validatePolicy(
      { routing: [{ match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }], semantic_cache: { enabled: true } },
      check,
    );
    expect(p.routing[0]!.match.model).toEqual(['gpt-4o']);
    expect(p.semantic_cache).toEqual({ enabled: true, ttl_seconds: 3600 });
    expect(p.batch).toEqual([]);
  });
});
