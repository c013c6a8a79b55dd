/**
 * DuckDB ↔ ClickHouse parity: the same generated workload (two presets, 5,000 events each, one workspace per preset)
 * goes into the DuckDB store (in memory) and the ClickHouse store (chdb), and every analysis query must return the
 * same rows in the same order (numbers within 1e-9 relative), the full analysis the same recommendations, and a
 * what-if replay the same projection. The last test checks that every method of the analysis port ran on both engines
 * (a query added to the port without a case here fails it).
 *
 * What is allowed to differ, and why:
 * - the SQL text (`sql` / `query` fields): two dialects;
 * - floating sums in the last bits (DuckDB fsum vs ClickHouse sumKahan, different summation orders): 1e-9 relative;
 * - values picked among ties: DuckDB's arg_max/arg_min(x, by[, n]) leave the choice among equal `by` values open (it
 *   depends on its hash tables and threads), ClickHouse breaks ties by id or by the earliest minute. So sample ids
 *   (`sample_event_ids`, the evidence's `sample_session_ids`) are compared by count, and the busiest 429 minute
 *   (`peak_minute`, `peak_429_minute`) is checked separately: each store's pick must be a minute with the peak count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../src/corpus/generator.js';
import { analyzeWorkspace } from '../src/optimize/analyze.js';
import { analysisContext } from '../src/optimize/catalog-context.js';
import type { AnalysisQueries, AnalysisScope } from '../src/optimize/ports/index.js';
import { OTHER_KEY, type BreakdownDimension, type BreakdownQuery } from '../src/optimize/ports/breakdown.js';
import type { PrefixBlockRow, PromptTextRow } from '../src/optimize/ports/cache.js';
import type { ReplayMatch, ReplayPlan, ReplayTextRow } from '../src/optimize/ports/replay.js';
import { policyFromRecommendations } from '../src/optimize/policy-from-recommendations.js';
import { replayPolicy } from '../src/optimize/replay.js';
import { createChdbExecutor } from '../src/store/clickhouse-chdb-executor.js';
import { createClickHouseStore } from '../src/store/clickhouse-store.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import type { AnalyticsStore } from '../src/store/types.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { priceCatalog } from './helpers/usage-analysis-context.js';

const END = Date.UTC(2026, 10, 16);
const PRESETS = ['chat-support', 'agent-tool-use'] as const;
const EVENTS = 5_000;
const REL = 1e-9;

/** Fields whose value is picked among ties DuckDB leaves open (see above). */
const TIE_FIELDS = new Set(['sample_event_ids', 'sample_session_ids', 'peak_minute', 'peak_429_minute']);
/** Fields that are SQL text or timings: different by design. */
const SKIP_FIELDS = new Set(['sql', 'query', 'timings_ms']);

const dir = mkdtempSync(join(tmpdir(), 'netra-parity-'));
let duck: AnalyticsStore;
let ch: AnalyticsStore;
const scopes = new Map<string, AnalysisScope>();
const tieDiffs: string[] = [];
/** port methods each engine was asked for: the last test checks that every query of the port ran on both */
const called = { duckdb: new Set<string>(), clickhouse: new Set<string>() };

/** The store with its analysis queries recorded as they are called. */
function tracked(store: AnalyticsStore, seen: Set<string>): AnalyticsStore {
  const analysis = new Proxy(store.analysis, {
    get(target, key) {
      seen.add(String(key));
      return Reflect.get(target, key) as unknown;
    },
  });
  return new Proxy(store, {
    get(target, key) {
      if (key === 'analysis') return analysis;
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Deep comparison: same shape, strings/booleans/null equal, numbers within REL. Returns the first difference. */
function diff(a: unknown, b: unknown, path: string): string | null {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return null;
    const scale = Math.max(Math.abs(a), Math.abs(b));
    return Math.abs(a - b) <= REL * scale || Math.abs(a - b) < 1e-12 ? null : `${path}: ${a} (duckdb) vs ${b} (clickhouse)`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = diff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (SKIP_FIELDS.has(k)) continue;
      const va = (a as Record<string, unknown>)[k];
      const vb = (b as Record<string, unknown>)[k];
      if (TIE_FIELDS.has(k)) {
        const size = (v: unknown) =>
          Array.isArray(v) ? v.length : typeof v === 'string' && k.startsWith('sample') ? v.split(', ').length : typeof v;
        if (size(va) !== size(vb)) return `${path}.${k}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`;
        if (JSON.stringify(va) !== JSON.stringify(vb)) tieDiffs.push(`${path}.${k}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`);
        continue;
      }
      const d = diff(va, vb, `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

function expectSame(a: unknown, b: unknown, what: string): void {
  const d = diff(a, b, what);
  if (d) process.stderr.write(`PARITY DIFF ${d}\n`);
  expect(d).toBeNull();
}

beforeAll(async () => {
  const cat = priceCatalog();
  duck = tracked(createDuckDbStore({ path: ':memory:' }), called.duckdb);
  ch = tracked(createClickHouseStore({ executor: createChdbExecutor(dir), database: 'parity' }), called.clickhouse);
  await duck.init();
  await ch.init();
  for (const [i, preset] of PRESETS.entries()) {
    const w = generateWorkload({
      preset,
      events: EVENTS,
      days: 7,
      seed: 11 + i,
      end: END,
      pricer: cat,
      tierOf: (m) => cat.resolve(m)?.quality_tier,
      workspace: preset,
    });
    for (const batch of w.batches()) {
      const [d, c] = await Promise.all([duck.append(batch), ch.append(batch)]);
      expect(c).toEqual(d);
    }
    scopes.set(preset, { workspace: preset, from: w.from, to: w.to });
    // conversations with block chains (the generator plants none): turns a few minutes apart re-send the conversation so far
    const chained = chainedConversations(preset, w.from, w.to, i);
    const [d, c] = await Promise.all([duck.append(chained), ch.append(chained)]);
    expect(c).toEqual(d);
  }
});

/** 60 conversations of 2-8 turns; each turn's chain extends the previous one (ids unique per conversation). */
function chainedConversations(workspace: string, from: number, to: number, salt: number): WorkloadEvent[] {
  const out: WorkloadEvent[] = [];
  let x = 12_345 + salt;
  const rnd = () => (x = (x * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  for (let c = 0; c < 60; c++) {
    let t = from + rnd() * (to - from - 3_600_000);
    const chain: number[] = [];
    const turns = 2 + Math.floor(rnd() * 7);
    for (let k = 0; k < turns; k++) {
      for (let b = 0, n = 2 + Math.floor(rnd() * 6); b < n; b++) chain.push(c * 10_000 + chain.length + (salt + 1) * 2 ** 40);
      const prompt = chain.length * 128 - Math.floor(rnd() * 100);
      out.push({
        event_id: `chain-${salt}-${c}-${k}`,
        timestamp: t,
        workspace,
        app: c % 3 === 0 ? 'docs-chat' : 'conversations',
        environment: 'production',
        end_user: null,
        session_id: `s${c}`,
        trace_id: null,
        span_id: null,
        provider: c % 2 ? 'anthropic' : 'openai',
        model: c % 2 ? 'claude-sonnet-4' : 'gpt-4o-mini',
        operation: 'chat',
        prompt_tokens: prompt,
        completion_tokens: 50,
        cached_prompt_tokens: k === 3 ? 128 : 0,
        latency_ms: 900,
        ttft_ms: null,
        status: rnd() < 0.1 ? 'error' : 'ok',
        error_type: null,
        http_status: null,
        finish_reason: 'stop',
        max_tokens: null,
        temperature: null,
        stream: null,
        cost_usd: prompt * 1e-6,
        cost_source: 'given',
        token_source: 'reported',
        prompt_hash: null,
        prefix_hash: null,
        prefix_tokens: null,
        prefix_block_hashes: [...chain],
        prefix_block_size: 128,
        prompt_text: null,
        response_text: null,
        quality_score: null,
        tags: {},
      });
      t += 20_000 + rnd() * 400_000;
    }
  }
  return out;
}
afterAll(async () => {
  if (process.env.PARITY_DEBUG) process.stderr.write(`picks among ties that differ:\n${tieDiffs.join('\n')}\n`);
  await duck?.close();
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(PRESETS)('DuckDB and ClickHouse agree on %s', (preset) => {
  const scope = () => scopes.get(preset)!;
  /** the middle of the window: scoping by time, partial days */
  const inner = () => ({ ...scope(), from: scope().from + 86_400_000 + 12_345.5, to: scope().to - 86_400_000 - 0.25 });

  it('stats, workspaces and event listing', async () => {
    for (const s of [scope(), inner()]) expectSame(await duck.stats(s), await ch.stats(s), 'stats');
    expectSame(await duck.workspaces(), await ch.workspaces(), 'workspaces');
    expectSame(await duck.models(preset), await ch.models(preset), 'models');
    expectSame(
      await duck.listEvents(inner(), { limit: 300, offset: 100 }),
      await ch.listEvents(inner(), { limit: 300, offset: 100 }),
      'listEvents',
    );
  });

  it('usage queries', async () => {
    for (const s of [scope(), inner()]) {
      for (const q of [
        'routingSegments',
        'batchCandidates',
        'scheduledTraffic',
        'maxTokensGroups',
        'retryWaste',
        'rateLimitBursts',
        'contextGrowth',
        'latencyByAppModel',
      ] as const) {
        const [a, b] = await Promise.all([duck.analysis[q](s), ch.analysis[q](s)]);
        expect(a.rows.length, q).toBeGreaterThanOrEqual(0);
        expectSame(a, b, q);
      }
    }
    const [a, b] = await Promise.all([
      duck.analysis.contextGrowth(scope(), { window_tokens: 500 }),
      ch.analysis.contextGrowth(scope(), { window_tokens: 500 }),
    ]);
    expectSame(a, b, 'contextGrowth(500)');
  });

  it('each store picks a busiest minute that really has the peak number of 429s', async () => {
    const perMinute = new Map<string, number>();
    for (const e of await duck.listEvents(scope(), { limit: EVENTS * 2 })) {
      if (e.http_status !== 429) continue;
      const k = `${e.app}@${Math.floor(e.timestamp / 60_000) * 60_000}`;
      perMinute.set(k, (perMinute.get(k) ?? 0) + 1);
    }
    const [a, b] = await Promise.all([duck.analysis.rateLimitBursts(scope()), ch.analysis.rateLimitBursts(scope())]);
    expect(a.rows.length).toBeGreaterThan(0);
    for (const r of [...a.rows, ...b.rows]) expect(perMinute.get(`${r.app}@${r.peak_minute}`), r.app).toBe(r.peak_per_minute);
  });

  it('cache queries', async () => {
    const exact = { ttl_seconds: 3600, compare_ttls_seconds: [60, 300, 86_400] };
    const prefix = { window_seconds: 300, min_token_thresholds: [1024, 2048, 4096] };
    for (const s of [scope(), inner()]) {
      expectSame(await duck.analysis.exactCacheGroups(s, exact), await ch.analysis.exactCacheGroups(s, exact), 'exactCacheGroups');
      expectSame(
        await duck.analysis.exactCacheGroups(s, { ttl_seconds: 30, compare_ttls_seconds: [] }),
        await ch.analysis.exactCacheGroups(s, { ttl_seconds: 30, compare_ttls_seconds: [] }),
        'exactCacheGroups(30)',
      );
      expectSame(await duck.analysis.prefixCacheGroups(s, prefix), await ch.analysis.prefixCacheGroups(s, prefix), 'prefixCacheGroups');
    }
    const collect = async (store: AnalyticsStore) => {
      const rows: PromptTextRow[] = [];
      const chunks: number[] = [];
      const r = await store.analysis.scanPromptTexts(
        scope(),
        (c) => {
          rows.push(...c);
          chunks.push(c.length);
        },
        { chunk_rows: 1000 },
      );
      return { rows, chunks, n: r.rows };
    };
    const [a, b] = await Promise.all([collect(duck), collect(ch)]);
    expect(a.n).toBeGreaterThan(0);
    expectSame(a, b, 'scanPromptTexts');
    // sampled slices (the semantic pass): only the rows inside the ranges, still oldest first, in one scan; and the
    // events (with or without text) in each range, as the window figures count them
    const t0 = a.rows[0]!.timestamp;
    const third = Math.floor((a.rows[a.rows.length - 1]!.timestamp - t0) / 3);
    const ranges = [
      { from: t0 + Math.floor(third / 5), to: t0 + third },
      { from: t0 + 2 * third, to: t0 + 3 * third + 1 },
    ];
    const inRanges = a.rows.filter((r) => ranges.some((x) => r.timestamp >= x.from && r.timestamp < x.to));
    expect(inRanges.length).toBeGreaterThan(0);
    expect(inRanges.length).toBeLessThan(a.rows.length);
    for (const store of [duck, ch]) {
      const rows: PromptTextRow[] = [];
      const r = await store.analysis.scanPromptTexts(scope(), (c) => rows.push(...c), { ranges });
      expect(r.rows).toBe(inRanges.length);
      expect(rows).toEqual(inRanges);
      const counts = await store.analysis.countEvents(scope(), ranges);
      const expected = await Promise.all(ranges.map(async (x) => (await store.analysis.windowPercentiles({ ...scope(), ...x })).events));
      expect(counts).toEqual(expected);
    }
    for (const s of [scope(), inner()]) {
      const blocks = async (store: AnalyticsStore) => {
        const rows: PrefixBlockRow[] = [];
        const r = await store.analysis.scanPrefixBlocks(s, (c) => rows.push(...c), { chunk_rows: 100 });
        return { rows, r };
      };
      const [x, y] = await Promise.all([blocks(duck), blocks(ch)]);
      expect(x.rows.length).toBeGreaterThan(50);
      expectSame(x, y, 'scanPrefixBlocks');
      // the replay asks for the chains only: the same rows, no per-(app, model) totals
      for (const [store, full] of [
        [duck, x],
        [ch, y],
      ] as const) {
        const rows: PrefixBlockRow[] = [];
        const r = await store.analysis.scanPrefixBlocks(s, (c) => rows.push(...c), { chunk_rows: 100, totals: false });
        expect(full.r.totals.length).toBeGreaterThan(0);
        expect(r.totals).toEqual([]);
        expect(r.rows).toBe(full.r.rows);
        expect(rows).toEqual(full.rows);
      }
    }
  });

  it('performance queries', async () => {
    for (const s of [scope(), inner()]) {
      expectSame(
        await duck.analysis.performanceBuckets(s, 3_600_000),
        await ch.analysis.performanceBuckets(s, 3_600_000),
        'performanceBuckets',
      );
      expectSame(await duck.analysis.windowPercentiles(s), await ch.analysis.windowPercentiles(s), 'windowPercentiles');
    }
  });

  it('breakdown queries: any metric by any dimension, filtered, bucketed, top-N with other', async () => {
    const queries: BreakdownQuery[] = [
      { dimension: null, granularity: null, filters: [], rank_by: 'spend', top: null },
      { dimension: 'app', granularity: 'day', filters: [], rank_by: 'spend', top: null },
      { dimension: 'model', granularity: null, filters: [], rank_by: 'latency_p95', top: 2 },
      { dimension: 'end_user', granularity: null, filters: [], rank_by: 'spend', top: 5 },
      { dimension: { tag: 'task' }, granularity: 'week', filters: [], rank_by: 'calls', top: 3 },
      { dimension: 'model', granularity: 'hour', filters: [{ column: 'environment', value: 'production' }], rank_by: 'error_rate', top: 2 },
      // buckets of the workspace's time zone: whole-hour, half-hour and DST zones
      { dimension: 'app', granularity: 'day', filters: [], rank_by: 'spend', top: null, time_zone: 'America/New_York' },
      { dimension: null, granularity: 'hour', filters: [], rank_by: 'spend', top: null, time_zone: 'Asia/Kolkata' },
      { dimension: null, granularity: 'week', filters: [], rank_by: 'calls', top: null, time_zone: 'Europe/Paris' },
    ];
    for (const s of [scope(), inner()]) {
      for (const q of queries) {
        const [a, b] = await Promise.all([duck.analysis.breakdown(s, q), ch.analysis.breakdown(s, q)]);
        expectSame(a, b, `breakdown ${JSON.stringify(q)}`);
        // the rows partition the filtered window: their events add up to its total
        expect(a.rows.reduce((n, r) => n + r.events, 0)).toBe(a.total.events);
      }
    }
    // spend per app per day equals the events' own sums, and top-2 + other + none covers every event
    const events = await duck.listEvents(scope(), { limit: EVENTS * 2 });
    const r = await duck.analysis.breakdown(scope(), { dimension: 'app', granularity: 'day', filters: [], rank_by: 'spend', top: null });
    for (const row of r.rows) {
      const mine = events.filter((e) => e.app === row.key && Math.floor(e.timestamp / 86_400_000) * 86_400_000 === row.bucket_start);
      expect(row.spend_usd).toBeCloseTo(
        mine.reduce((t, e) => t + (e.cost_usd ?? 0), 0),
        9,
      );
      expect(row.events).toBe(mine.length);
    }
    // per day in New York: each bucket starts at a New York midnight and holds the events of that local day
    const ny = await ch.analysis.breakdown(scope(), {
      dimension: null,
      granularity: 'day',
      filters: [],
      rank_by: 'spend',
      top: null,
      time_zone: 'America/New_York',
    });
    const nyDay = (t: number) => new Date(t).toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
    for (const row of ny.rows) {
      expect(new Date(row.bucket_start!).toLocaleTimeString('en-GB', { timeZone: 'America/New_York' })).toBe('00:00:00');
      expect(row.events).toBe(events.filter((e) => nyDay(e.timestamp) === nyDay(row.bucket_start!)).length);
    }
    const top2 = await ch.analysis.breakdown(scope(), { dimension: 'end_user', granularity: null, filters: [], rank_by: 'spend', top: 2 });
    const byUser = new Map<string, number>();
    for (const e of events) if (e.end_user) byUser.set(e.end_user, (byUser.get(e.end_user) ?? 0) + (e.cost_usd ?? 0));
    const expected = [...byUser]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, 2)
      .map(([u]) => u)
      .sort();
    expect(top2.rows.filter((x) => x.key !== null && x.key !== OTHER_KEY).map((x) => x.key)).toEqual(expected);
    expect(byUser.size).toBeGreaterThan(2);
    expect(top2.groups).toBe(byUser.size);
    if (byUser.size > 2) expect(top2.rows.some((x) => x.key === OTHER_KEY)).toBe(true);
    expect(top2.keyed_events).toBe(events.filter((e) => e.end_user).length);
  });

  it('top values (the names a chat turn plans with): the most frequent values of each dimension, as counted from the events', async () => {
    const events = await duck.listEvents(scope(), { limit: EVENTS * 2 });
    const dims: BreakdownDimension[] = ['app', { tag: 'task' }, 'environment', 'end_user'];
    const dimValue = (e: (typeof events)[number], d: BreakdownDimension): string | null | undefined =>
      typeof d === 'string' ? (e[d as keyof typeof e] as string | null | undefined) : (e.tags?.[d.tag] as string | undefined);
    for (const top of [200, 2]) {
      const [a, b] = await Promise.all([duck.analysis.topValues(scope(), dims, top), ch.analysis.topValues(scope(), dims, top)]);
      expect(b).toEqual(a);
      dims.forEach((d, i) => {
        const counts = new Map<string, number>();
        for (const e of events) {
          const v = dimValue(e, d);
          if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        const expected = [...counts]
          .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
          .slice(0, top)
          .map(([k]) => k)
          .sort();
        expect(a[i]).toEqual(expected);
      });
    }
    expect((await duck.analysis.topValues(scope(), dims, 200))[3]!.length).toBeGreaterThan(2);
    // without bounds: the whole history (the scope above spans all of it)
    for (const store of [duck, ch])
      expect(await store.analysis.topValues({ workspace: scope().workspace }, dims, 200)).toEqual(
        await store.analysis.topValues(scope(), dims, 200),
      );
    // a dimension is checked like a breakdown's
    await expect(duck.analysis.topValues(scope(), [{ tag: 'bad key' }], 10)).rejects.toThrow(/tag dimension/);
    await expect(duck.analysis.topValues(scope(), ['app'], 0)).rejects.toThrow(/top must be/);
  });

  it('the full analysis gives the same recommendations, and replaying them the same projection', async () => {
    const cat = priceCatalog();
    const run = async (store: AnalyticsStore) => {
      const totals = await store.stats(scope());
      const ctx = analysisContext({
        catalog: cat,
        workspace: preset,
        from: scope().from,
        to: scope().to,
        total_events: totals.events,
        total_spend_usd: totals.spend_usd,
      });
      return { ctx, analysis: await analyzeWorkspace(store.analysis, ctx, { goal: 'cost' }) };
    };
    const [a, b] = [await run(duck), await run(ch)];
    expect(a.analysis.recommendations.length).toBeGreaterThan(0);
    expectSame(a.analysis, b.analysis, 'analysis');

    const policy = {
      ...policyFromRecommendations(
        a.analysis.recommendations.map((r) => r),
        { cache_ttl_seconds: 1800 },
      ),
      semantic_cache: { enabled: true, ttl_seconds: 3600 },
      max_tokens_caps: [{ match: { min_prompt_tokens: 100 }, cap: 64 }],
      batch: [{ match: { offline: true } }],
    };
    const [ra, rb] = [await replayPolicy(duck.analysis, a.ctx, policy), await replayPolicy(ch.analysis, b.ctx, policy)];
    expect(ra.per_day.length).toBeGreaterThan(0);
    expectSame(ra, rb, 'replay');
    // exact-cache TTLs above ClickHouse's 32-bit RANGE offset in µs (2,147 s): the policy default 3600 s, and a day
    const changed: number[] = [];
    for (const ttl of [1800, 3600, 86_400]) {
      const p = { name: `exact ${ttl}`, exact_cache: { enabled: true, ttl_seconds: ttl } };
      const [da, db] = [await replayPolicy(duck.analysis, a.ctx, p), await replayPolicy(ch.analysis, b.ctx, p)];
      expectSame(da, db, `replay exact_cache ttl ${ttl}`);
      changed.push(db.changed_events);
    }
    // a longer TTL can only add hits
    expect(changed).toEqual([...changed].sort((x, y) => x - y));
    const texts = async (store: AnalyticsStore) => {
      const rows: ReplayTextRow[] = [];
      const routing = [
        {
          match: { apps: null, models: null, tasks: null, min_prompt_tokens: 200, max_prompt_tokens: null, tags: [], offline: false },
          target_model: 'gpt-4o-mini',
          same_models: [],
        },
      ];
      const n = await store.analysis.replayTextEvents(scope(), routing, (r) => rows.push(...r));
      return { n, rows };
    };
    expectSame(await texts(duck), await texts(ch), 'replayTextEvents');
    for (const latency of [true, false])
      expectSame(
        await duck.analysis.replayModels(scope(), { latency }),
        await ch.analysis.replayModels(scope(), { latency }),
        'replayModels',
      );
    // the semantic simulation sampled (each hit found stands for several events): the extrapolated terms of the SQL
    const sampled = { ...policy, exact_cache: { enabled: true, ttl_seconds: 600 } };
    const [sa, sb] = [
      await replayPolicy(duck.analysis, a.ctx, sampled, { semantic_max_events: 1000 }),
      await replayPolicy(ch.analysis, b.ctx, sampled, { semantic_max_events: 1000 }),
    ];
    expect(sa.breakdown.semantic_cache_hits).toBeGreaterThan(0);
    expectSame(sa, sb, 'replay, semantic simulation sampled');
  });

  it('replaySimulate of a plan using every kind of match, and over an empty scope', async () => {
    const segs = (await duck.analysis.routingSegments(scope())).rows;
    const models = await duck.analysis.replayModels(scope(), { latency: true });
    const texts: PromptTextRow[] = [];
    await duck.analysis.scanPromptTexts(scope(), (r) => texts.push(...r));
    // two segments with a task from different apps (or tasks): each rule then matches events the other does not
    const s1 = segs.find((r) => r.task !== null && r.max_prompt_tokens >= 10)!;
    const s2 = segs.find((r) => r.task !== null && r.max_prompt_tokens >= 10 && (r.app !== s1.app || r.task !== s1.task))!;
    const any: ReplayMatch = {
      apps: null,
      models: null,
      tasks: null,
      min_prompt_tokens: null,
      max_prompt_tokens: null,
      tags: [],
      offline: false,
    };
    const rate = (model: string, i: number) => ({
      model,
      input: 1e-6 * (i + 1),
      cached_input: 5e-7,
      output: 4e-6 / (i + 1),
      batch_discount: i % 2 ? 0.5 : 0,
      ms_per_output_token: i % 3 ? 20 + i : null,
      cache_write_premium: i % 2 ? 1e-6 / (i + 1) : 0,
    });
    // provider prompt-cache reads on some events (the chained conversations and a few generated ones)
    const pcEvents = (await duck.listEvents(scope(), { limit: EVENTS * 2 })).filter((e, i) => i % 11 === 0 || e.prefix_block_hashes);
    const plan: ReplayPlan = {
      routing: [
        {
          match: { ...any, apps: [s1.app], tasks: [s1.task!], max_prompt_tokens: 1e6 },
          target_model: 'target-a',
          same_models: [models[0]!.model],
        },
        {
          match: { ...any, models: [s2.model], tags: [['task', s2.task!]], min_prompt_tokens: 10 },
          target_model: models[0]!.model,
          same_models: [],
        },
      ],
      exact_cache_ttl_ms: 900_000,
      semantic_hit_ids: texts.filter((_, i) => i % 7 === 0).map((t) => t.event_id),
      semantic_hit_weight: 2.5,
      prompt_cache: {
        event_ids: pcEvents.map((e) => e.event_id),
        hit_tokens: pcEvents.map((e, i) => Math.floor(((e.prompt_tokens - e.cached_prompt_tokens) * (i % 4)) / 4)),
        write_tokens: pcEvents.map((_, i) => (i % 3) * 64),
      },
      cache_latency_ms: 40,
      batch: [
        { ...any, offline: true },
        { ...any, tasks: [s2.task!] },
      ],
      caps: [
        { match: { ...any, min_prompt_tokens: 200 }, cap: 48 },
        { match: any, cap: 400 },
      ],
      rates: [...models.map((m, i) => rate(m.model, i)), rate('target-a', 9)],
    };
    const [a, b] = await Promise.all([duck.analysis.replaySimulate(scope(), plan), ch.analysis.replaySimulate(scope(), plan)]);
    expect(a.rows[0]!.day).toBeNull();
    expect(a.rows[0]!.semantic_hits).toBeGreaterThan(0);
    expect(a.rows[0]!.prompt_cache_hits).toBeGreaterThan(0);
    expect(a.rows[0]!.prompt_cache_savings_usd).not.toBe(0);
    expect(a.rows[0]!.rule_events.every((n) => n > 0)).toBe(true);
    expectSame(a, b, 'replaySimulate');
    const empty = { ...scope(), from: scope().to + 1, to: scope().to + 2 };
    const [ea, eb] = await Promise.all([duck.analysis.replaySimulate(empty, plan), ch.analysis.replaySimulate(empty, plan)]);
    expect(ea.rows).toHaveLength(1);
    expect(ea.rows[0]!.events).toBe(0);
    expectSame(ea, eb, 'replaySimulate (empty scope)');
  });
});

describe('DuckDB and ClickHouse agree on the gateway savings', () => {
  it('gatewaySavings: per mode and policy version, the saving tags summed per kind', async () => {
    const cat = priceCatalog();
    const w = generateWorkload({ preset: 'chat-support', events: 600, days: 2, seed: 5, end: END, pricer: cat, workspace: 'gw' });
    // tags as the gateway writes them (src/gateway/savings-tags.ts), varied by index: modes, versions, kinds, gaps
    const tagged = [...w.batches()].flat().map((e, i) => {
      const mode = i % 3 === 0 ? 'enforce' : 'shadow';
      const tags: Record<string, string> = { ...e.tags, 'netra.source': 'gateway' };
      if (i % 7 !== 0) tags['netra.policy'] = mode;
      if (i % 11 !== 0) tags['netra.policy_version'] = i % 5 === 0 ? 'aaaaaaaaaaaa' : 'bbbbbbbbbbbb';
      const v = (k: number) => String((e.cost_usd * k) / 10);
      if (i % 2 === 0) tags[mode === 'shadow' ? 'netra.would_save_routing_usd' : 'netra.saved_routing_usd'] = v(3);
      if (i % 4 === 1) tags[mode === 'shadow' ? 'netra.would_save_cache_usd' : 'netra.saved_cache_usd'] = v(5);
      else if (i % 4 === 2 && mode === 'shadow') tags['netra.would_save_cap_usd'] = i % 8 === 2 ? '0' : v(1);
      else if (i % 4 === 2) tags['netra.capped_from'] = 'none';
      else if (i % 4 === 3) tags[mode === 'shadow' ? 'netra.would_save_semantic_usd' : 'netra.saved_semantic_usd'] = v(2);
      return { ...e, tags };
    });
    const [d, c] = await Promise.all([duck.append(tagged), ch.append(tagged)]);
    expect(c).toEqual(d);
    const scope = { workspace: 'gw', from: w.from, to: w.to };
    const inner = { ...scope, from: w.from + 3_600_000.5, to: w.to - 3_600_000 };
    for (const s of [scope, inner]) {
      const [a, b] = await Promise.all([duck.analysis.gatewaySavings(s), ch.analysis.gatewaySavings(s)]);
      expect(a.rows.length).toBe(6); // enforce and shadow, each under two versions and none
      expect(a.rows.some((r) => r.routing_events > 0 && r.cache_events > 0 && r.semantic_events > 0 && r.cap_events > 0)).toBe(true);
      expectSame(a, b, 'gatewaySavings');
    }
  });
});

describe('parity coverage', () => {
  it('ran every query of the analysis port on both engines', () => {
    const port = Object.keys(duck.analysis as AnalysisQueries).sort();
    expect(port.length).toBeGreaterThanOrEqual(15);
    expect([...called.duckdb].filter((k) => port.includes(k)).sort()).toEqual(port);
    expect([...called.clickhouse].filter((k) => port.includes(k)).sort()).toEqual(port);
  });
});
