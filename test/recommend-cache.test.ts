/**
 * The cache kinds (exact_cache, semantic_cache, prompt_caching) on small hand-computed fixtures: the pure functions
 * over hand-written rows, and the same cases through the DuckDB store (the SQL of src/store/analysis/cache/).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD, GPTCACHE_DUPLICATE_FACTS } from '../src/optimize/near-duplicate-calibration.js';
import { jaccardSorted, promptFeatures } from '../src/optimize/prompt-features.js';
import type { ExactCacheGroup, PrefixCacheGroup, PromptTextRow } from '../src/optimize/ports/cache.js';
import { recommendExactCache } from '../src/optimize/recommend/exact-cache.js';
import { identifierHash, LONG_PROMPT_WORDS, wordCount } from '../src/optimize/recommend/long-prompt-matcher.js';
import { prefixCacheQueryOptions, recommendPromptCaching } from '../src/optimize/recommend/prompt-caching.js';
import { analyzeSemanticCache, createSemanticCacheAnalysis } from '../src/optimize/recommend/semantic-cache.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { usageContext } from './helpers/usage-analysis-context.js';

const T0 = Date.UTC(2026, 0, 5, 9);
const DAY = 86_400_000;
const MIN = 60_000;
const ctxOf = (total_events: number, total_spend_usd: number, params: Record<string, unknown> = {}) =>
  usageContext({ workspace: 'w', from: T0, to: T0 + DAY, total_events, total_spend_usd, params: { min_events: 1, ...params } });

let n = 0;
function ev(p: Partial<WorkloadEvent>): WorkloadEvent {
  n++;
  return {
    event_id: `e${n}`,
    timestamp: T0,
    workspace: 'w',
    app: 'a',
    environment: 'production',
    end_user: null,
    session_id: null,
    trace_id: null,
    span_id: null,
    provider: 'openai',
    model: 'gpt-4o',
    operation: 'chat',
    prompt_tokens: 100,
    completion_tokens: 10,
    cached_prompt_tokens: 0,
    latency_ms: 800,
    ttft_ms: null,
    status: 'ok',
    error_type: null,
    http_status: null,
    finish_reason: 'stop',
    max_tokens: null,
    temperature: 0.2,
    stream: null,
    cost_usd: 0.01,
    cost_source: 'given',
    token_source: 'reported',
    prompt_hash: null,
    prefix_hash: null,
    prefix_tokens: null,
    prompt_text: null,
    response_text: null,
    quality_score: null,
    tags: {},
    ...p,
  };
}

let store: DuckDbStore;
beforeAll(async () => {
  store = createDuckDbStore({ path: ':memory:', flushIntervalMs: 0 });
  await store.init();
});
afterAll(async () => {
  await store.close();
});

describe('exact_cache (pure)', () => {
  const g = (p: Partial<ExactCacheGroup>): ExactCacheGroup => ({
    app: 'a',
    model: 'gpt-4o',
    provider: 'openai',
    events: 10,
    spend_usd: 1,
    hits: 0,
    hit_spend_usd: 0,
    hits_at: [0, 0, 0],
    hit_spend_at: [0, 0, 0],
    hit_latency_p50_ms: null,
    hit_latency_p95_ms: null,
    hit_temperature_avg: null,
    sample_event_ids: [],
    ...p,
  });
  const groups = [
    g({
      hits: 4,
      hit_spend_usd: 0.4,
      hits_at: [2, 4, 5],
      hit_spend_at: [0.2, 0.4, 0.5],
      hit_latency_p50_ms: 800,
      hit_latency_p95_ms: 1200,
      hit_temperature_avg: 0.2,
      sample_event_ids: ['x1', 'x2'],
    }),
    g({
      model: 'gpt-4o-mini',
      events: 5,
      spend_usd: 0.05,
      hits: 1,
      hit_spend_usd: 0.01,
      hits_at: [0, 1, 1],
      hit_spend_at: [0, 0.01, 0.01],
      hit_temperature_avg: 0.2,
      sample_event_ids: ['x3'],
    }),
    g({ app: 'b', events: 5, spend_usd: 0.95 }),
  ];
  const result = { groups, query: 'SELECT 1' };

  it('one recommendation per app with hits: shares, 30-day savings, hit rates per TTL', () => {
    const r = recommendExactCache(result, ctxOf(20, 2));
    expect(r.skipped).toBeUndefined();
    expect(r.recommendations).toHaveLength(1);
    const x = r.recommendations[0]!;
    expect(x.id).toBe('exact_cache:a');
    expect(x.scope.app).toBe('a');
    expect(x.affected_share).toBeCloseTo(5 / 20, 6);
    expect(x.affected_spend_share).toBeCloseTo(0.41 / 2, 6);
    expect(x.monthly_savings_usd).toBeCloseTo(0.41 * 30, 4);
    expect(x.savings_share).toBeCloseTo(0.41 / 2, 6);
    expect(x.evidence.figures.hits).toBe(5);
    expect(x.evidence.figures.hit_rate).toBeCloseTo(5 / 15, 4);
    expect(x.evidence.figures.hit_rate_at_5m).toBeCloseTo(2 / 15, 4);
    expect(x.evidence.figures.hit_rate_at_1h).toBeCloseTo(5 / 15, 4);
    expect(x.evidence.figures.hit_rate_at_1d).toBeCloseTo(6 / 15, 4);
    expect(x.evidence.figures['hits:gpt-4o-mini']).toBe(1);
    expect(x.evidence.sample_event_ids).toEqual(['x1', 'x2', 'x3']);
    expect(x.evidence.query).toBe('SELECT 1');
    expect(x.quality_risk.level).toBe('low');
    expect(x.how_to_apply.join(' ')).toContain('ttl: 3600');
  });

  it('applies min_events, flags high-temperature repeats, skips without prompt hashes', () => {
    expect(recommendExactCache(result, ctxOf(20, 2, { min_events: 6 })).recommendations).toHaveLength(0);
    const hot = recommendExactCache({ groups: [g({ hits: 4, hit_spend_usd: 0.4, hit_temperature_avg: 0.9 })], query: '' }, ctxOf(20, 2));
    expect(hot.recommendations[0]!.quality_risk.level).toBe('medium');
    const skipped = recommendExactCache({ groups: [], query: '' }, ctxOf(20, 2));
    expect(skipped.recommendations).toHaveLength(0);
    expect(skipped.skipped?.kind).toBe('exact_cache');
    expect(skipped.skipped?.needs).toContain('prompt_hash');
    expect(recommendExactCache({ groups: [], query: '' }, ctxOf(0, 0)).skipped).toBeUndefined();
  });
});

describe('exact_cache through DuckDB', () => {
  it('counts an event as a hit only after a strictly earlier ok call of the same model and prompt within the TTL', async () => {
    const t = (ms: number) => T0 + ms;
    const events = [
      ev({ workspace: 'x1', timestamp: t(0), prompt_hash: 'h1', cost_usd: 0.01 }),
      ev({ workspace: 'x1', timestamp: t(10 * MIN), prompt_hash: 'h1', cost_usd: 0.02 }), // gap 10 min: hit at 1 h and 24 h
      ev({ workspace: 'x1', timestamp: t(130 * MIN), prompt_hash: 'h1', cost_usd: 0.03 }), // gap 2 h: hit at 24 h only
      ev({ workspace: 'x1', timestamp: t(131 * MIN), prompt_hash: 'h1', cost_usd: 0.04, status: 'error' }), // failed, still a hit (1 min)
      ev({ workspace: 'x1', timestamp: t(0), prompt_hash: 'h2', status: 'error', cost_usd: 0.05 }),
      ev({ workspace: 'x1', timestamp: t(MIN), prompt_hash: 'h2', cost_usd: 0.06 }), // earlier call failed: not a hit
      ev({ workspace: 'x1', timestamp: t(2 * MIN), prompt_hash: 'h2', cost_usd: 0.07, latency_ms: 1000 }), // hit (1 min)
      ev({ workspace: 'x1', timestamp: t(300 * MIN), prompt_hash: 'h3', cost_usd: 0.08 }),
      ev({ workspace: 'x1', timestamp: t(300 * MIN), prompt_hash: 'h3', cost_usd: 0.09 }), // same instant: not earlier
      ev({ workspace: 'x1', timestamp: t(11 * MIN), prompt_hash: 'h1', model: 'gpt-4o-mini', cost_usd: 0.1 }), // other model
      ev({ workspace: 'x1', timestamp: t(12 * MIN), prompt_hash: null, cost_usd: 0.11 }),
    ];
    await store.append(events);
    const res = await store.analysis.exactCacheGroups(
      { workspace: 'x1', from: T0, to: T0 + DAY },
      { ttl_seconds: 3600, compare_ttls_seconds: [300, 3600, 86_400] },
    );
    const big = res.groups.find((x) => x.model === 'gpt-4o')!;
    expect(big.events).toBe(9);
    expect(big.hits).toBe(3);
    expect(big.hit_spend_usd).toBeCloseTo(0.02 + 0.04 + 0.07, 10);
    expect(big.hits_at).toEqual([2, 3, 4]);
    expect(big.hit_spend_at[2]).toBeCloseTo(0.02 + 0.03 + 0.04 + 0.07, 10);
    expect(big.sample_event_ids).toEqual([events[6]!.event_id, events[1]!.event_id, events[3]!.event_id]);
    expect(big.hit_latency_p50_ms).toBe(800);
    const mini = res.groups.find((x) => x.model === 'gpt-4o-mini')!;
    expect(mini.hits).toBe(0);
    expect(mini.hits_at).toEqual([0, 0, 0]);
    const r = recommendExactCache(
      res,
      ctxOf(
        11,
        events.reduce((s, e) => s + e.cost_usd, 0),
      ),
    );
    expect(r.recommendations).toHaveLength(1);
    expect(r.recommendations[0]!.affected_share).toBeCloseTo(3 / 11, 6);
    expect(r.recommendations[0]!.evidence.query).toContain('RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING');
  });
});

describe('prompt_caching (pure)', () => {
  const g = (p: Partial<PrefixCacheGroup>): PrefixCacheGroup => ({
    app: 'a',
    model: 'gpt-4o',
    provider: 'openai',
    min_tokens_bucket: 1024,
    events: 0,
    spend_usd: 0,
    warm: 0,
    warm_spend_usd: 0,
    hits: 0,
    hit_spend_usd: 0,
    hit_prefix_tokens: 0,
    writes: 0,
    write_prefix_tokens: 0,
    already_cached_events: 0,
    already_cached_tokens: 0,
    sample_event_ids: [],
    ...p,
  });
  const groups = [
    // Anthropic: read 3e-7 vs input 3e-6; write premium 3.75e-6 - 3e-6 on 4,000 cold prefix tokens
    g({
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
      events: 33,
      spend_usd: 1,
      warm: 31,
      warm_spend_usd: 0.9,
      hits: 30,
      hit_spend_usd: 0.8,
      hit_prefix_tokens: 60_000,
      writes: 2,
      write_prefix_tokens: 4000,
      already_cached_events: 1,
      already_cached_tokens: 2000,
      sample_event_ids: ['s1'],
    }),
    g({
      model: 'gpt-4o',
      events: 12,
      spend_usd: 0.5,
      warm: 10,
      warm_spend_usd: 0.4,
      hits: 10,
      hit_spend_usd: 0.4,
      hit_prefix_tokens: 15_000,
      writes: 2,
      write_prefix_tokens: 3000,
      sample_event_ids: ['s2'],
    }),
    // Haiku 4.5 needs 4,096 tokens: a 2,048-bucket prefix is below its minimum
    g({
      model: 'claude-haiku-4-5',
      provider: 'anthropic',
      min_tokens_bucket: 2048,
      events: 50,
      warm: 49,
      hits: 49,
      hit_spend_usd: 0.2,
      hit_prefix_tokens: 100_000,
    }),
    // Mistral has no prompt caching
    g({ model: 'mistral-large', provider: 'mistral', events: 20, warm: 19, hits: 19, hit_spend_usd: 0.3, hit_prefix_tokens: 40_000 }),
  ];

  it('discounts warm prefix tokens at each model catalog cached price, minus the Anthropic write premium', () => {
    const ctx = ctxOf(200, 4);
    const r = recommendPromptCaching({ groups, query: 'Q' }, ctx);
    expect(r.recommendations).toHaveLength(1);
    const x = r.recommendations[0]!;
    const sonnet = 60_000 * (3e-6 - 3e-7) - 4000 * (3.75e-6 - 3e-6);
    const gpt4o = 15_000 * (2.5e-6 - 1.25e-6);
    expect(x.monthly_savings_usd).toBeCloseTo((sonnet + gpt4o) * 30, 4);
    expect(x.affected_share).toBeCloseTo(40 / 200, 6);
    expect(x.affected_spend_share).toBeCloseTo(1.2 / 4, 6);
    expect(x.evidence.figures.prefix_cacheable_events).toBe(41);
    expect(x.evidence.figures.cache_write_premium_usd).toBeCloseTo(0.003, 9);
    expect(x.evidence.figures.already_cached_events).toBe(1);
    expect(x.evidence.figures.already_saving_usd).toBeCloseTo(2000 * (3e-6 - 3e-7), 9);
    expect(x.evidence.figures.below_min_prefix_events).toBe(50);
    expect(x.evidence.figures.models_without_prompt_caching).toBe('mistral-large');
    expect(x.evidence.sample_event_ids).toEqual(['s1', 's2']);
    expect(x.how_to_apply.join(' ')).toContain('cache_control');
    expect(prefixCacheQueryOptions(ctx).min_token_thresholds).toEqual(expect.arrayContaining([64, 1024, 2048, 4096]));
  });

  it('skips a workspace without prefixes and omits an app below min_events', () => {
    const s = recommendPromptCaching({ groups: [], query: '' }, ctxOf(10, 1));
    expect(s.skipped?.needs).toContain('prefix_hash');
    expect(recommendPromptCaching({ groups, query: '' }, ctxOf(200, 4, { min_events: 41 })).recommendations).toHaveLength(0);
  });
});

describe('prompt_caching through DuckDB', () => {
  it('finds warm prefixes within the 5-minute window and separates calls that already read the cache', async () => {
    const s = (sec: number) => T0 + sec * 1000;
    const p = { workspace: 'x2', prefix_hash: 'p1', prefix_tokens: 2000 };
    const events = [
      ev({ ...p, timestamp: s(0) }), // cold: write
      ev({ ...p, timestamp: s(60) }), // warm (60 s)
      ev({ ...p, timestamp: s(460) }), // cold (400 s)
      ev({ ...p, timestamp: s(560), cached_prompt_tokens: 2000 }), // warm, already cached
      ev({ ...p, timestamp: s(610), status: 'error' }), // warm (50 s)
      ev({ ...p, timestamp: s(620) }), // warm: 60 s after the last ok call (the error does not count)
      ev({ workspace: 'x2', prefix_hash: 'p2', prefix_tokens: 500, timestamp: s(0) }),
      ev({ workspace: 'x2', prefix_hash: 'p2', prefix_tokens: 500, timestamp: s(10) }), // warm but 500 tokens: bucket 64
    ];
    await store.append(events);
    const ctx = ctxOf(8, 0.08);
    const opts = prefixCacheQueryOptions(ctx);
    const res = await store.analysis.prefixCacheGroups({ workspace: 'x2', from: T0, to: T0 + DAY }, opts);
    const big = res.groups.find((x) => x.min_tokens_bucket === 1024)!;
    expect(big).toMatchObject({
      events: 6,
      warm: 4,
      hits: 3,
      hit_prefix_tokens: 6000,
      writes: 2,
      write_prefix_tokens: 4000,
      already_cached_events: 1,
      already_cached_tokens: 2000,
    });
    expect(big.sample_event_ids).toEqual([events[1]!.event_id, events[4]!.event_id, events[5]!.event_id]);
    const small = res.groups.find((x) => x.min_tokens_bucket === 64)!;
    expect(small).toMatchObject({ events: 2, warm: 1 });
    const r = recommendPromptCaching(res, ctx, opts);
    expect(r.recommendations).toHaveLength(1);
    expect(r.recommendations[0]!.monthly_savings_usd).toBeCloseTo(6000 * (2.5e-6 - 1.25e-6) * 30, 6);
    expect(r.recommendations[0]!.evidence.figures.below_min_prefix_events).toBe(2);
  });
});

const LONG =
  'Hello support team, this is about order 7741. I ordered the premium baby monitor over the weekend and it will not turn on. ' +
  'My partner has the same running shoes and they arrived with a broken sole last week. I ordered the standing desk last month and it shows the wrong size. ' +
  'What should I do to fix it?';
const LONG_SYNONYM = LONG.replace('it shows the wrong size', 'it displays the wrong size');
const LONG_OTHER_ID = LONG.replace('order 7741', 'order 7742').replace('shows', 'displays');
const SHORT = 'How do I reset the password of the admin console?';
const SHORT_SLOT = 'How do I reset the username of the admin console?';

function textRows(): PromptTextRow[] {
  const r = (i: number, text: string, p: Partial<PromptTextRow> = {}): PromptTextRow => ({
    event_id: `t${i}`,
    timestamp: T0 + i * MIN,
    app: 'bot',
    model: 'gpt-4o',
    prompt_hash: `h:${text}`,
    prompt_text: text,
    cost_usd: 0.01 * i,
    status: 'ok',
    ...p,
  });
  return [
    r(1, LONG),
    r(2, LONG_SYNONYM), // near (long prompt, one synonym): hit
    r(3, SHORT),
    r(4, SHORT), // exact repeat: exact_cache's, excluded here
    r(5, SHORT_SLOT), // one slot changed in a short question: not a near hit
    r(6, LONG_OTHER_ID), // different order id: not a near hit
    r(7, LONG_SYNONYM, { model: 'gpt-4o-mini' }), // other model: not a hit
    r(8, LONG_SYNONYM.replace('What should', 'what should'), { status: 'error' }), // near, failed call: a hit all the same
    r(200, LONG.replace('shows', 'displays')), // 199 min after the last ok LONG*: beyond the 1 h TTL
  ];
}

describe('semantic_cache', () => {
  it('word counts and identifier hashes ignore case', () => {
    expect(wordCount('Hello, wor_ld 42!')).toBe(3);
    expect(identifierHash('order 2K7Z4KW in region eu_west')).toBe(identifierHash('Order 2k7z4kw in Region EU_WEST'));
    expect(identifierHash('order 1')).not.toBe(identifierHash('order 2'));
    expect(identifierHash('no ids here')).toBe(0);
  });

  it('finds rewordings within the TTL, not exact repeats, slot swaps, other identifiers or other models', () => {
    const rows = textRows();
    const a = createSemanticCacheAnalysis(ctxOf(20, 1));
    a.observe(rows.slice(0, 4));
    a.observe(rows.slice(4));
    const r = a.finish({ rows: rows.length, query: 'SCAN' });
    expect(r.recommendations).toHaveLength(1);
    const x = r.recommendations[0]!;
    expect(x.evidence.sample_event_ids).toEqual(['t2', 't8']);
    expect(x.affected_share).toBeCloseTo(2 / 20, 6);
    expect(x.monthly_savings_usd).toBeCloseTo((0.02 + 0.08) * 30, 6);
    expect(x.evidence.figures).toMatchObject({
      near_hits: 2,
      exact_repeats_excluded: 1,
      text_events: 9,
      near_hits_long_prompts: 2,
      threshold: 0.75,
    });
    expect(x.evidence.figures.expected_false_hit_rate).toBe(0);
    expect(Number(x.evidence.figures.false_hit_rate_upper_95)).toBeGreaterThan(0);
    expect(String(x.evidence.figures.example_pairs)).toContain('t2 ~ t1');
    expect(x.quality_risk.level).toBe('medium');
    expect(x.evidence.query).toContain('SCAN');
  });

  it('says what data is missing when no event carries prompt text', () => {
    const r = createSemanticCacheAnalysis(ctxOf(5, 1)).finish({ rows: 0, query: '' });
    expect(r.recommendations).toHaveLength(0);
    expect(r.skipped).toEqual({
      kind: 'semantic_cache',
      reason: 'no prompt text: semantic-cache analysis skipped; send prompt_text (or messages) on events',
      needs: 'prompt_text (or messages) on events',
    });
    expect(createSemanticCacheAnalysis(ctxOf(0, 0)).finish({ rows: 0, query: '' }).skipped).toBeUndefined();
  });

  it('streams text events from DuckDB in timestamp order and in chunks, with the same result', async () => {
    const rows = textRows();
    const events = [...rows].reverse().map((x) =>
      ev({
        workspace: 'x3',
        event_id: x.event_id,
        timestamp: x.timestamp,
        app: x.app,
        model: x.model,
        prompt_hash: x.prompt_hash,
        prompt_text: x.prompt_text,
        cost_usd: x.cost_usd,
        status: x.status,
      }),
    );
    events.push(ev({ workspace: 'x3', timestamp: T0 + 3 * MIN, prompt_text: null, prompt_hash: 'no-text' }));
    await store.append(events);
    const scope = { workspace: 'x3', from: T0, to: T0 + DAY };
    const chunks: string[][] = [];
    const scan = await store.analysis.scanPromptTexts(scope, (c) => chunks.push(c.map((x) => x.event_id)), { chunk_rows: 4 });
    expect(scan.rows).toBe(9);
    expect(chunks).toEqual([['t1', 't2', 't3', 't4'], ['t5', 't6', 't7', 't8'], ['t200']]);
    const r = await analyzeSemanticCache(store.analysis, scope, ctxOf(20, 1));
    expect(r.recommendations[0]!.evidence.sample_event_ids).toEqual(['t2', 't8']);
    const none = await analyzeSemanticCache(store.analysis, { workspace: 'x1', from: T0, to: T0 + DAY }, ctxOf(11, 1));
    expect(none.skipped?.kind).toBe('semantic_cache');
  });
});

describe('semantic_cache long-prompt path on real paraphrases', () => {
  it('adds no false hit among the long GPTCache texts (every other pair is a negative) and finds long paraphrases', () => {
    const pairs = JSON.parse(
      readFileSync(fileURLToPath(new URL('./fixtures/data/gptcache-paraphrase-pairs.json', import.meta.url)), 'utf8'),
    ) as { origin: string; similar: string }[];
    const parent = pairs.map((_, i) => i);
    const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
    for (const [a, b] of GPTCACHE_DUPLICATE_FACTS) parent[find(a)] = find(b);
    const long = pairs
      .flatMap((p, i) => [p.origin, p.similar].map((text) => ({ pair: i, text })))
      .filter((x) => wordCount(x.text) >= LONG_PROMPT_WORDS)
      .map((x) => ({ ...x, ids: identifierHash(x.text), shingles: promptFeatures(x.text, Number.MAX_SAFE_INTEGER).shingles }));
    expect(long.length).toBeGreaterThan(100);
    const sim = (a: (typeof long)[number], b: (typeof long)[number]) => (a.ids === b.ids ? jaccardSorted(a.shingles, b.shingles) : 0);
    let truePairs = 0;
    let falseHits = 0;
    for (let i = 0; i < long.length; i++) {
      for (let j = i + 1; j < long.length; j++) {
        const a = long[i]!;
        const b = long[j]!;
        const hit = sim(a, b) >= DEFAULT_NEAR_DUPLICATE_THRESHOLD;
        if (a.pair === b.pair) truePairs += hit ? 1 : 0;
        else if (find(a.pair) !== find(b.pair) && a.text.toLowerCase() !== b.text.toLowerCase() && hit) falseHits++;
      }
    }
    expect(falseHits).toBe(0);
    expect(truePairs).toBeGreaterThan(0);
  });
});
