/**
 * The usage-based recommendation kinds on small hand-computed fixtures: model_routing, batch_api, max_tokens,
 * retry_waste, context_growth, latency_slo. Each fixture runs through the real DuckDB store (events → SQL rows →
 * pure kind function), and the pure functions are also fed hand-written rows for the branches a store fixture
 * would make long-winded (quality scores, context windows, bulk bursts, skipped kinds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recommendBatchApi, withScheduled } from '../src/optimize/recommend/batch-api.js';
import { recommendContextGrowth } from '../src/optimize/recommend/context-growth.js';
import { recommendLatencySlo } from '../src/optimize/recommend/latency-slo.js';
import { recommendMaxTokens, suggestedCap } from '../src/optimize/recommend/max-tokens.js';
import { recommendModelRouting } from '../src/optimize/recommend/model-routing.js';
import { recommendRetryWaste } from '../src/optimize/recommend/retry-waste.js';
import type { RoutingSegmentRow } from '../src/optimize/ports/usage.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import type { AnalyticsStore } from '../src/store/types.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { usageContext } from './helpers/usage-analysis-context.js';

const T0 = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
const MONTH = 30; // the window is one day: monthly = 30 x window figures
let seq = 0;

/** USD per token, as in data/price-catalog.json. */
const P = {
  sonnet: { in: 3e-6, out: 15e-6 },
  haiku45: { in: 1e-6, out: 5e-6 },
  mini: { in: 0.15e-6, out: 0.6e-6 },
};

function ev(o: Partial<WorkloadEvent> & { ws: string }): WorkloadEvent {
  const { ws, ...rest } = o;
  seq++;
  return {
    event_id: `e${String(seq).padStart(5, '0')}`,
    timestamp: T0 + seq * 1000,
    workspace: ws,
    app: 'app',
    environment: 'production',
    end_user: null,
    session_id: null,
    trace_id: null,
    span_id: null,
    provider: 'openai',
    model: 'gpt-4o-mini',
    operation: 'chat',
    prompt_tokens: 100,
    completion_tokens: 10,
    cached_prompt_tokens: 0,
    latency_ms: 500,
    ttft_ms: 100,
    status: 'ok',
    error_type: null,
    http_status: null,
    finish_reason: 'stop',
    max_tokens: null,
    temperature: null,
    stream: null,
    cost_usd: 0,
    cost_source: 'given',
    token_source: 'reported',
    prompt_hash: null,
    prefix_hash: null,
    prefix_tokens: null,
    prompt_text: null,
    response_text: null,
    quality_score: null,
    tags: {},
    ...rest,
  };
}
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

let store: AnalyticsStore;
beforeAll(async () => {
  store = createDuckDbStore({ path: ':memory:' });
  await store.init();
});
afterAll(async () => {
  await store?.close();
});

async function load(ws: string, events: WorkloadEvent[]) {
  await store.append(events);
  const spend = events.reduce((a, e) => a + e.cost_usd, 0);
  const scope = { workspace: ws, from: T0, to: T0 + DAY };
  return {
    scope,
    ctx: (params = {}) =>
      usageContext({ workspace: ws, from: T0, to: T0 + DAY, total_events: events.length, total_spend_usd: spend, params }),
  };
}

describe('model_routing', () => {
  it('routes a simple task on a premium model to the cheapest same-provider tier-2 model (store fixture)', async () => {
    const sonnetCost = 1000 * P.sonnet.in + 100 * P.sonnet.out; // 0.0045
    const events = [
      ...times(30, () =>
        ev({
          ws: 'route',
          app: 'bot',
          model: 'claude-sonnet-4-5',
          provider: 'anthropic',
          prompt_tokens: 1000,
          completion_tokens: 100,
          cost_usd: sonnetCost,
          tags: { task: 'faq' },
        }),
      ),
      ...times(10, () =>
        ev({
          ws: 'route',
          app: 'bot',
          model: 'claude-sonnet-4-5',
          provider: 'anthropic',
          prompt_tokens: 3000,
          completion_tokens: 500,
          cost_usd: 0.0165,
          tags: { task: 'drafting' },
        }),
      ),
      ...times(25, () =>
        ev({
          ws: 'route',
          app: 'bot',
          model: 'gpt-4o-mini',
          prompt_tokens: 1000,
          completion_tokens: 100,
          cost_usd: 0.00021,
          tags: { task: 'faq' },
        }),
      ),
    ];
    const { scope, ctx } = await load('route', events);
    const rows = await store.analysis.routingSegments(scope);
    const faq = rows.rows.find((r) => r.model === 'claude-sonnet-4-5' && r.task === 'faq')!;
    expect(faq).toMatchObject({
      size_band: 's',
      events: 30,
      billed_uncached_prompt_tokens: 30_000,
      billed_completion_tokens: 3000,
      max_prompt_tokens: 1000,
      small_completions: 30,
    });
    const { recommendations: recs, skipped } = recommendModelRouting(rows, ctx());
    expect(skipped).toBeUndefined();
    expect(recs).toHaveLength(1);
    const r = recs[0]!;
    expect(r.scope).toMatchObject({
      app: 'bot',
      model: 'claude-sonnet-4-5',
      task: 'faq',
      target_model: 'claude-haiku-4-5',
      basis: 'simple_task',
    });
    expect(r.affected_share).toBeCloseTo(30 / 65, 6);
    // 30 x (0.0045 - 0.0015) = 0.09 a day
    expect(r.evidence.figures.target_cost_usd).toBeCloseTo(30 * (1000 * P.haiku45.in + 100 * P.haiku45.out), 9);
    expect(r.monthly_savings_usd).toBeCloseTo(0.09 * MONTH, 6);
    expect(r.quality_risk.level).toBe('low'); // simple task, one tier down
    expect(r.evidence.sample_event_ids.length).toBeGreaterThan(0);
    expect(r.evidence.query).toContain('GROUP BY');
    expect(r.how_to_apply.length).toBeGreaterThanOrEqual(3);
  });

  const row = (o: Partial<RoutingSegmentRow>): RoutingSegmentRow => ({
    app: 'a',
    model: 'claude-opus-4-1',
    operation: 'chat',
    task: 'extraction',
    size_band: 'm',
    events: 100,
    ok_events: 100,
    spend_usd: 10,
    billed_uncached_prompt_tokens: 400_000,
    billed_cached_prompt_tokens: 0,
    billed_completion_tokens: 50_000,
    max_prompt_tokens: 3000,
    small_completions: 0,
    quality_events: 0,
    mean_quality: null,
    sample_event_ids: ['x1'],
    ...o,
  });
  const ctx = usageContext({ from: T0, to: T0 + DAY, total_events: 1000, total_spend_usd: 100 });

  it('needs a context window that holds the largest prompt (pure rows)', () => {
    const { recommendations } = recommendModelRouting({ rows: [row({ max_prompt_tokens: 300_000 })], sql: 'q' }, ctx);
    // haiku-4-5 has 200k tokens; the 1M-context Sonnets are tier 3 (gap 0) and cheapest: 'claude-sonnet-4' wins the tie by id
    expect(recommendations[0]!.scope.target_model).toBe('claude-sonnet-4');
    expect(recommendations[0]!.quality_risk.level).toBe('low');
    expect(recommendations[0]!.quality_risk.reason).toContain('same quality tier');
  });

  it('takes the quality risk from quality scores when both models carry them (pure rows)', () => {
    const rows = [
      row({ quality_events: 50, mean_quality: 0.9 }),
      row({ model: 'claude-haiku-4-5', spend_usd: 1, quality_events: 50, mean_quality: 0.8 }),
    ];
    const { recommendations } = recommendModelRouting({ rows, sql: 'q' }, ctx);
    const r = recommendations.find((x) => x.scope.model === 'claude-opus-4-1')!;
    expect(r.scope.target_model).toBe('claude-haiku-4-5');
    expect(r.quality_risk.level).toBe('high'); // 0.8 - 0.9 = -0.1 < -0.05
    expect(r.quality_risk.reason).toContain('0.800');
  });

  it('routes small prompts with small outputs on size alone, at medium risk; skips without task tags or catalog models', () => {
    const small = row({ task: 'chat', size_band: 'xs', max_prompt_tokens: 200, small_completions: 99 });
    const { recommendations } = recommendModelRouting({ rows: [small], sql: 'q' }, ctx);
    expect(recommendations[0]!.scope.basis).toBe('small_io');
    expect(recommendations[0]!.quality_risk.level).toBe('medium');
    expect(recommendModelRouting({ rows: [row({ task: 'chat' })], sql: 'q' }, ctx).recommendations).toHaveLength(0);
    expect(recommendModelRouting({ rows: [row({ task: null })], sql: 'q' }, ctx).skipped?.needs).toContain('tags.task');
    expect(recommendModelRouting({ rows: [row({ model: 'my-finetune' })], sql: 'q' }, ctx).skipped?.needs).toContain('price catalog');
    expect(recommendModelRouting({ rows: [row({ events: 5 })], sql: 'q' }, ctx).recommendations).toHaveLength(0); // under min_events
  });
});

describe('batch_api', () => {
  it('counts offline, user-less, session-less traffic and prices it at the batch discount (store fixture)', async () => {
    const events = [
      ...times(40, () => ev({ ws: 'batch', app: 'nightly', cost_usd: 0.01, tags: { latency_class: 'offline' } })),
      ...times(10, () => ev({ ws: 'batch', app: 'nightly', cost_usd: 0.01, end_user: 'u1', tags: { latency_class: 'offline' } })),
      ...times(5, () => ev({ ws: 'batch', app: 'chat', cost_usd: 0.01, end_user: 'u2', tags: { latency_class: 'interactive' } })),
    ];
    const { scope, ctx } = await load('batch', events);
    const result = await store.analysis.batchCandidates(scope);
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]).toMatchObject({ app: 'nightly', model: 'gpt-4o-mini', basis: 'offline_tag', events: 40 });
    expect(result.rows[0]!.spend_usd).toBeCloseTo(0.4, 9);
    const [r] = recommendBatchApi(result, ctx()).recommendations;
    expect(r!.affected_share).toBeCloseTo(40 / 55, 6);
    expect(r!.affected_spend_share).toBeCloseTo(0.4 / 0.55, 6);
    expect(r!.monthly_savings_usd).toBeCloseTo(0.2 * MONTH, 6); // 50% of $0.40 a day
    expect(r!.quality_risk.level).toBe('low');
    expect(r!.latency_impact.description).toContain('24 h');
  });

  it('finds untagged bulk bursts without end user or session (store fixture)', async () => {
    const minute = T0 + 5 * 3_600_000;
    const events = [
      ...times(35, (i) => ev({ ws: 'bulk', app: 'etl', timestamp: minute + i * 100, cost_usd: 0.01 })), // one minute, 35 calls
      ...times(5, (i) => ev({ ws: 'bulk', app: 'etl', timestamp: minute + 600_000 + i * 100, cost_usd: 0.01 })), // a quiet minute
      ...times(40, (i) => ev({ ws: 'bulk', app: 'ui', timestamp: minute + i * 100, stream: true, cost_usd: 0.01 })), // streamed: someone watches
      ...times(40, (i) =>
        ev({ ws: 'bulk', app: 'tagged', timestamp: minute + i * 100, tags: { latency_class: 'interactive' }, cost_usd: 0.01 }),
      ),
    ];
    const { scope, ctx } = await load('bulk', events);
    const result = await store.analysis.batchCandidates(scope);
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]).toMatchObject({ app: 'etl', basis: 'bulk_burst', events: 35, active_minutes: 1, peak_per_minute: 35 });
    const [r] = recommendBatchApi(result, ctx()).recommendations;
    expect(r!.scope.basis).toBe('bulk_burst');
    expect(r!.monthly_savings_usd).toBeCloseTo(35 * 0.01 * 0.5 * MONTH, 6);
  });

  it('infers bulk bursts at lower confidence, saves nothing without a batch API, skips with nothing deferrable (pure rows)', () => {
    const ctx = usageContext({ from: T0, to: T0 + DAY, total_events: 1000, total_spend_usd: 10 });
    const base = {
      app: 'etl',
      events: 600,
      spend_usd: 2,
      mean_latency_ms: 800,
      active_minutes: 10,
      peak_per_minute: 90,
      sample_event_ids: ['b1'],
    };
    const bulk = recommendBatchApi({ rows: [{ ...base, model: 'gpt-4o-mini', basis: 'bulk_burst' }], sql: 'q' }, ctx).recommendations[0]!;
    const tagged = recommendBatchApi({ rows: [{ ...base, model: 'gpt-4o-mini', basis: 'offline_tag' }], sql: 'q' }, ctx)
      .recommendations[0]!;
    expect(bulk.quality_risk.level).toBe('medium');
    expect(bulk.confidence).toBeCloseTo(tagged.confidence * 0.6, 2);
    expect(
      recommendBatchApi({ rows: [{ ...base, model: 'deepseek-chat', basis: 'offline_tag' }], sql: 'q' }, ctx).recommendations,
    ).toHaveLength(0);
    expect(recommendBatchApi({ rows: [], sql: 'q' }, ctx).skipped?.needs).toContain('latency_class');
  });
});

describe('max_tokens', () => {
  it('flags caps >= 4x the nearest-rank p99 and suggests p99 x 1.5 rounded (store fixture)', async () => {
    const events = [
      // 199 ok completions 1..199 plus one runaway that hit the cap: n = 200, rank ceil(198) = 198 → p99 = 198
      ...times(199, (i) => ev({ ws: 'cap', app: 'x', max_tokens: 1000, completion_tokens: i + 1, cost_usd: 0.001 })),
      ev({ ws: 'cap', app: 'x', max_tokens: 1000, completion_tokens: 1000, finish_reason: 'length', cost_usd: 0.001 }),
      ...times(30, () => ev({ ws: 'cap', app: 'y', max_tokens: 256, completion_tokens: 200, cost_usd: 0.001 })),
      ev({ ws: 'cap', app: 'z', max_tokens: null, cost_usd: 0.001 }),
    ];
    const { scope, ctx } = await load('cap', events);
    const result = await store.analysis.maxTokensGroups(scope);
    const x = result.rows.find((r) => r.app === 'x')!;
    expect(x).toMatchObject({
      max_tokens: 1000,
      events: 200,
      ok_events: 200,
      p99_completion_tokens: 198,
      max_completion_tokens: 1000,
      truncated: 1,
    });
    expect(result.rows.find((r) => r.app === 'y')!.p99_completion_tokens).toBe(200);
    expect(suggestedCap(198)).toBe(300);
    const { recommendations } = recommendMaxTokens(result, ctx());
    expect(recommendations).toHaveLength(1);
    const r = recommendations[0]!;
    expect(r.scope).toMatchObject({ app: 'x', model: 'gpt-4o-mini' });
    expect(r.evidence.figures.suggested_max_tokens).toBe(300);
    expect(r.evidence.figures.over_provisioned_share).toBeCloseTo(200 / 231, 4);
    // only the runaway saves: (1000 - 300) output tokens at $0.60/M, once a day
    expect(r.monthly_savings_usd).toBeCloseTo(700 * P.mini.out * MONTH, 6);
    expect(r.quality_risk.level).toBe('medium'); // the runaway (1000 tokens) is above the new cap
  });

  it('rounds suggested caps to two significant figures and skips without max_tokens', () => {
    expect([suggestedCap(37), suggestedCap(1234), suggestedCap(2), suggestedCap(0)]).toEqual([56, 1900, 16, 16]);
    const ctx = usageContext({ from: T0, to: T0 + DAY, total_events: 10, total_spend_usd: 1 });
    expect(recommendMaxTokens({ rows: [], sql: 'q' }, ctx).skipped?.needs).toContain('max_tokens');
  });
});

describe('retry_waste', () => {
  it('counts failed calls, retries after an error and 429 peaks (store fixture)', async () => {
    const t = T0 + 3_600_000;
    const events = [
      // a 500 after 10 streamed tokens: billed for them
      ev({ ws: 'retry', timestamp: t, trace_id: 't1', prompt_hash: 'h1', status: 'error', http_status: 500, cost_usd: 0.01 }),
      ev({ ws: 'retry', timestamp: t + 1000, trace_id: 't1', prompt_hash: 'h1', cost_usd: 0.01 }),
      // 429s are never billed, even when the ingest priced their prompt
      ev({
        ws: 'retry',
        timestamp: t + 2000,
        trace_id: 't2',
        prompt_hash: 'h2',
        status: 'error',
        http_status: 429,
        completion_tokens: 0,
        cost_usd: 0.004,
      }),
      ev({ ws: 'retry', timestamp: t + 3000, trace_id: 't2', prompt_hash: 'h2', status: 'error', http_status: 429, completion_tokens: 0 }),
      ev({ ws: 'retry', timestamp: t + 4000, trace_id: 't2', prompt_hash: 'h2', cost_usd: 0.02 }),
      // same trace and hash BEFORE the error: not a retry; same trace, other hash after it: not a retry either
      ev({ ws: 'retry', timestamp: t + 5000, trace_id: 't3', prompt_hash: 'h3', cost_usd: 0.01 }),
      // a 503 with no output: not billed
      ev({
        ws: 'retry',
        timestamp: t + 6000,
        trace_id: 't3',
        prompt_hash: 'h3',
        status: 'error',
        http_status: 503,
        completion_tokens: 0,
        cost_usd: 0.002,
      }),
      ev({ ws: 'retry', timestamp: t + 7000, trace_id: 't3', prompt_hash: 'h4', cost_usd: 0.01 }),
    ];
    const { scope, ctx } = await load('retry', events);
    const failures = await store.analysis.retryWaste(scope);
    expect(failures.rows).toHaveLength(1);
    expect(failures.rows[0]).toMatchObject({ errors: 4, billed_errors: 1, rate_limited: 2, retries: 3, failed_retries: 1 });
    expect(failures.rows[0]!.error_spend_usd).toBeCloseTo(0.016, 9); // what the ingest recorded
    expect(failures.rows[0]!.billed_error_spend_usd).toBeCloseTo(0.01, 9); // what a provider bills
    expect(failures.rows[0]!.retry_spend_usd).toBeCloseTo(0.03, 9);
    const rateLimits = await store.analysis.rateLimitBursts(scope);
    expect(rateLimits.rows).toEqual([
      { app: 'app', rate_limited: 2, minutes_with_429: 1, burst_minutes: 0, peak_per_minute: 2, peak_minute: t },
    ]);
    const { recommendations } = recommendRetryWaste({ failures, rateLimits }, ctx({ min_events: 1 }));
    expect(recommendations).toHaveLength(1);
    const r = recommendations[0]!;
    expect(r.title).toContain('4 errors (1 of them billed, $0.01)');
    expect(r.affected_share).toBeCloseTo((4 + 2) / 8, 6); // 4 errors + 2 retries that succeeded
    expect(r.monthly_savings_usd).toBeCloseTo(0.01 * MONTH, 6);
    expect(r.how_to_apply.join(' ')).toMatch(/jitter/);
    expect(recommendRetryWaste({ failures, rateLimits }, ctx()).recommendations).toHaveLength(0); // 4 errors < min_events 20
  });
});

describe('retry_waste billing', () => {
  it('counts as billed only what providers bill, per HTTP status and error type', async () => {
    const t = T0 + 7_200_000;
    const err = (o: Partial<WorkloadEvent>) => ev({ ws: 'billing', status: 'error', cost_usd: 0.001, completion_tokens: 0, ...o });
    const events = [
      err({ timestamp: t, http_status: 429 }), // rate limited: never
      err({ timestamp: t + 1, http_status: 429, completion_tokens: 5 }), // even with tokens recorded
      err({ timestamp: t + 2, http_status: null, error_type: 'rate_limit_exceeded' }), // a rate limit without a status
      err({ timestamp: t + 3, http_status: 400 }), // rejected before the model ran
      err({ timestamp: t + 4, http_status: 500 }), // server error, no output
      err({ timestamp: t + 5, http_status: 529 }), // overloaded, no output
      err({ timestamp: t + 6, http_status: 502, completion_tokens: 40 }), // failed mid-stream: the streamed part is billed
      err({ timestamp: t + 7, http_status: null, error_type: 'json_parse_error', completion_tokens: 80 }), // the provider answered
      err({ timestamp: t + 8, http_status: 200, error_type: 'content_filter' }), // an answer the app rejected
    ];
    const { scope } = await load('billing', events);
    const [row] = (await store.analysis.retryWaste(scope)).rows;
    expect(row).toMatchObject({ errors: 9, billed_errors: 3, rate_limited: 2 });
    expect(row!.billed_error_spend_usd).toBeCloseTo(0.003, 9);
    expect(row!.error_spend_usd).toBeCloseTo(0.009, 9);
  });
});

describe('context_growth', () => {
  it('finds growing sessions and prices the history above first turn + window (store fixture)', async () => {
    const at = (i: number) => T0 + 7_200_000 + i * 60_000;
    const cost = (p: number) => p * P.mini.in;
    const events = [
      ...[1000, 2000, 3000, 4000].map((p, i) =>
        ev({ ws: 'ctx', session_id: 's1', timestamp: at(i), prompt_tokens: p, completion_tokens: 0, cost_usd: cost(p) }),
      ),
      ...[3000, 2000, 1000].map((p, i) =>
        ev({ ws: 'ctx', session_id: 's2', timestamp: at(10 + i), prompt_tokens: p, completion_tokens: 0, cost_usd: cost(p) }),
      ),
      ...[1000, 5000].map((p, i) =>
        ev({ ws: 'ctx', session_id: 's3', timestamp: at(20 + i), prompt_tokens: p, completion_tokens: 0, cost_usd: cost(p) }),
      ),
    ];
    const { scope, ctx } = await load('ctx', events);
    const result = await store.analysis.contextGrowth(scope, { window_tokens: 500 });
    expect(result.session_events).toBe(9);
    expect(result.multi_turn_sessions).toBe(2);
    expect(result.rows).toHaveLength(1);
    const row = result.rows[0]!;
    // cap 1000 + 500: excess (2000-1500) + (3000-1500) + (4000-1500) = 4500; growth 1000 tokens a turn
    expect(row).toMatchObject({
      app: 'app',
      model: 'gpt-4o-mini',
      sessions: 1,
      events: 4,
      prompt_tokens: 10_000,
      excess_prompt_tokens: 4500,
    });
    expect(row.mean_growth_tokens_per_turn).toBeCloseTo(1000, 6);
    const { recommendations } = recommendContextGrowth(result, ctx({ min_events: 4 }), 500);
    expect(recommendations).toHaveLength(1);
    expect(recommendations[0]!.monthly_savings_usd).toBeCloseTo(4500 * P.mini.in * MONTH, 6);
    expect(recommendations[0]!.quality_risk.level).toBe('medium');
  });

  it('is skipped when no event has a session_id', async () => {
    const { scope, ctx } = await load('nosession', [ev({ ws: 'nosession', cost_usd: 0.001 })]);
    const result = await store.analysis.contextGrowth(scope);
    expect(result).toMatchObject({ session_events: 0, multi_turn_sessions: 0, rows: [] });
    expect(recommendContextGrowth(result, ctx()).skipped?.needs).toContain('session_id');
  });
});

describe('batch_api on a schedule', () => {
  it('finds a nightly user-less job at 21 calls a minute (under the bulk threshold) and leaves round-the-clock traffic alone', async () => {
    const events: WorkloadEvent[] = [];
    for (let d = 0; d < 3; d++) {
      // 02:00-02:59 UTC each night, 21 calls a minute for 20 minutes
      for (let i = 0; i < 420; i++)
        events.push(
          ev({
            ws: 'sched',
            app: 'nightly-summary',
            model: 'gpt-4o',
            timestamp: T0 + d * DAY + 2 * 3_600_000 + Math.floor(i / 21) * 60_000 + (i % 21) * 1000,
            cost_usd: 0.01,
          }),
        );
      // a user-less feed spread over every hour of the day
      for (let h = 0; h < 24; h++)
        events.push(ev({ ws: 'sched', app: 'feed', model: 'gpt-4o', timestamp: T0 + d * DAY + h * 3_600_000 + 7_000, cost_usd: 0.01 }));
    }
    await store.append(events);
    const scope = { workspace: 'sched', from: T0, to: T0 + 3 * DAY };
    const c = usageContext({
      workspace: 'sched',
      from: T0,
      to: T0 + 3 * DAY,
      total_events: events.length,
      total_spend_usd: events.length * 0.01,
    });
    const bulk = await store.analysis.batchCandidates(scope);
    expect(bulk.rows.filter((r) => r.app === 'nightly-summary')).toEqual([]); // 21 a minute is under the bulk threshold
    const hours = await store.analysis.scheduledTraffic(scope);
    expect(hours.rows.find((r) => r.app === 'nightly-summary')).toMatchObject({ hour_of_day: 2, events: 1260, days: 3 });
    const { recommendations } = recommendBatchApi(withScheduled(bulk, hours.rows, c), c);
    const nightly = recommendations.find((r) => r.scope.app === 'nightly-summary')!;
    expect(nightly.scope.basis).toBe('schedule');
    expect(nightly.title).toContain('02:00 UTC each day');
    expect(nightly.quality_risk).toMatchObject({ level: 'medium', reason: expect.stringContaining('assumption') });
    expect(nightly.monthly_savings_usd).toBeGreaterThan(0);
    expect(recommendations.find((r) => r.scope.app === 'feed')).toBeUndefined();
  });
});

describe('latency_slo', () => {
  it('flags apps and models over the p95 target, suggests streaming and a faster same-tier model (store fixture)', async () => {
    const events = [
      ...times(40, () =>
        ev({ ws: 'lat', app: 'slow', model: 'claude-sonnet-4-5', latency_ms: 6000, ttft_ms: 800, stream: false, cost_usd: 0.01 }),
      ),
      ...times(40, () =>
        ev({ ws: 'lat', app: 'fast', model: 'claude-opus-4-1', latency_ms: 2000, ttft_ms: 400, stream: true, cost_usd: 0.05 }),
      ),
      ...times(20, () =>
        ev({
          ws: 'lat',
          app: 'nightly',
          model: 'claude-sonnet-4-5',
          latency_ms: 60_000,
          tags: { latency_class: 'offline' },
          cost_usd: 0.01,
        }),
      ),
      ev({ ws: 'lat', app: 'slow', model: 'claude-sonnet-4-5', status: 'error', latency_ms: 90_000, cost_usd: 0 }),
    ];
    const { scope, ctx } = await load('lat', events);
    const result = await store.analysis.latencyByAppModel(scope);
    expect(result.events_with_latency).toBe(100);
    expect(result.offline_events_excluded).toBe(20);
    expect(result.rows.find((r) => r.dimension === 'model' && r.key === 'claude-sonnet-4-5')).toMatchObject({
      events: 40,
      latency_p95_ms: 6000,
      ttft_p95_ms: 800,
      stream_share: 0,
    });
    const { recommendations } = recommendLatencySlo(result, ctx());
    expect(recommendations.map((r) => r.id).sort()).toEqual(['latency_slo:app/slow', 'latency_slo:model/claude-sonnet-4-5']);
    const m = recommendations.find((r) => r.scope.model === 'claude-sonnet-4-5')!;
    expect(m.latency_impact.p95_ms_delta).toBe(2000 - 6000);
    expect(m.evidence.figures.faster_same_tier_model).toBe('claude-opus-4-1');
    expect(m.quality_risk.level).toBe('medium');
    expect(m.monthly_savings_usd).toBe(0);
    const app = recommendations.find((r) => r.scope.app === 'slow')!;
    expect(app.how_to_apply.join(' ')).toContain('Stream responses');
    expect(app.affected_share).toBeCloseTo(40 / 101, 6);
  });

  it('suggests only a model of the same modality and an equal or higher tier, saying the tier; never a model for an app', async () => {
    const events = [
      ...times(40, () => ev({ ws: 'lat2', app: 'chat', model: 'gpt-4.1', latency_ms: 9000, ttft_ms: 900, stream: true, cost_usd: 0.01 })),
      // faster, but an embedding model and a lower tier chat model: neither stands in for a tier-2 chat model
      ...times(40, () =>
        ev({
          ws: 'lat2',
          app: 'embed',
          model: 'text-embedding-3-small',
          operation: 'embedding',
          latency_ms: 90,
          ttft_ms: null,
          cost_usd: 0.0001,
        }),
      ),
      ...times(40, () =>
        ev({ ws: 'lat2', app: 'cheap', model: 'gpt-4.1-nano', latency_ms: 800, ttft_ms: 200, stream: true, cost_usd: 0.001 }),
      ),
    ];
    const { scope, ctx } = await load('lat2', events);
    const c = ctx();
    expect(c.resolve('gpt-4.1-nano')!.quality_tier).toBeLessThan(c.resolve('gpt-4.1')!.quality_tier);
    const { recommendations } = recommendLatencySlo(await store.analysis.latencyByAppModel(scope), c);
    const text = recommendations.map((r) => r.how_to_apply.join(' ')).join(' ');
    expect(recommendations.find((r) => r.scope.model === 'gpt-4.1')!.evidence.figures.faster_same_tier_model).toBeNull();
    expect(text).not.toContain('text-embedding');
    expect(text).not.toContain('gpt-4.1-nano');
    // with a faster tier-3 chat model observed, the tier-2 model gets it, with both tiers named
    const more = [
      ...events,
      ...times(40, () =>
        ev({ ws: 'lat3', app: 'big', model: 'claude-opus-4-1', latency_ms: 2000, ttft_ms: 300, stream: true, cost_usd: 0.05 }),
      ),
    ].map((e) => ({ ...e, workspace: 'lat3', event_id: `${e.event_id}-3` }));
    const l3 = await load('lat3', more);
    const recs3 = recommendLatencySlo(await store.analysis.latencyByAppModel(l3.scope), l3.ctx()).recommendations;
    const m = recs3.find((r) => r.scope.model === 'gpt-4.1')!;
    expect(m.evidence.figures.faster_same_tier_model).toBe('claude-opus-4-1');
    expect(m.how_to_apply.join(' ')).toMatch(/claude-opus-4-1 \(catalog tier 3, above gpt-4\.1's tier 2; same modality\)/);
  });

  it('is skipped without latencies', () => {
    const ctx = usageContext({ from: T0, to: T0 + DAY, total_events: 10, total_spend_usd: 1 });
    expect(recommendLatencySlo({ rows: [], sql: 'q', events_with_latency: 0, offline_events_excluded: 0 }, ctx).skipped?.needs).toContain(
      'latency_ms',
    );
  });
});
