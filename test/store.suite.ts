/**
 * The AnalyticsStore contract as a vitest suite, run against every implementation (DuckDB now, ClickHouse later):
 *   runStoreSuite('duckdb', async () => { const s = createDuckDbStore(...); await s.init(); return s; });
 *
 * `makeStore` returns an initialised store over fresh, empty storage. `openPersistent(key)` (optional) opens and
 * initialises a store over storage named by `key`; opening the same key again after close() must see the same data.
 * Fixtures are plain WorkloadEvent objects built with `makeEvent`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AnalyticsStore } from '../src/store/types.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { fromEvents } from '../src/workload/event-columns.js';
import { costOf, type ModelRates } from '../src/workload/pricing.js';

export const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

let counter = 0;

/** A complete WorkloadEvent with sensible defaults; every optional field null unless overridden. */
export function makeEvent(overrides: Partial<WorkloadEvent> = {}): WorkloadEvent {
  counter++;
  return {
    event_id: `evt-${counter}`,
    timestamp: T0 + counter,
    workspace: 'ws-a',
    app: 'support-bot',
    environment: 'production',
    end_user: null,
    session_id: null,
    trace_id: null,
    span_id: null,
    provider: 'openai',
    model: 'gpt-4o-mini',
    operation: 'chat',
    prompt_tokens: 100,
    completion_tokens: 20,
    cached_prompt_tokens: 0,
    latency_ms: null,
    ttft_ms: null,
    status: 'ok',
    error_type: null,
    http_status: null,
    finish_reason: null,
    max_tokens: null,
    temperature: null,
    stream: null,
    cost_usd: 0.25,
    cost_source: 'catalog',
    token_source: 'reported',
    prompt_hash: null,
    prefix_hash: null,
    prefix_tokens: null,
    prefix_block_hashes: null,
    prefix_block_size: null,
    prompt_text: null,
    response_text: null,
    quality_score: null,
    tags: {},
    ...overrides,
  };
}

/** Every optional field set, awkward text included. */
export function makeFullEvent(overrides: Partial<WorkloadEvent> = {}): WorkloadEvent {
  return makeEvent({
    end_user: 'user-42',
    session_id: 'sess-9',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    span_id: '00f067aa0ba902b7',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    operation: 'completion',
    prompt_tokens: 12_345,
    completion_tokens: 678,
    cached_prompt_tokens: 2_000,
    latency_ms: 1234.5,
    ttft_ms: 210.25,
    status: 'error',
    error_type: 'rate_limit',
    http_status: 429,
    finish_reason: 'length',
    max_tokens: 4096,
    temperature: 0.7,
    stream: false,
    cost_usd: 0.0123456789,
    cost_source: 'given',
    token_source: 'estimated',
    prompt_hash: 'a'.repeat(64),
    prefix_hash: 'b'.repeat(64),
    prefix_tokens: 512,
    // the chain's extremes: 0 and 2^53 - 1 are stored exactly
    prefix_block_hashes: [0, 1, 2 ** 53 - 1, 123_456_789_012_345, 7],
    prefix_block_size: 128,
    prompt_text: `system: "quotes", 'single', back\\slash, tab\t, newline\n, unicode é ü 日本語 😀 ${'long text '.repeat(20_000)}`,
    response_text: 'Sure: {"json": [1, 2, 3]}\r\nend',
    quality_score: 0.875,
    tags: { team: 'growth', 'key with space': 'välue "quoted"', empty: '', feature: 'f1' },
    ...overrides,
  });
}

const byTime = (a: WorkloadEvent, b: WorkloadEvent) => a.timestamp - b.timestamp || (a.event_id < b.event_id ? -1 : 1);

export interface StoreSuiteOptions {
  /** Opens (and inits) a store over persistent storage named by key; reopening a key sees the same data. */
  openPersistent?: (key: string) => Promise<AnalyticsStore>;
}

export function runStoreSuite(name: string, makeStore: () => Promise<AnalyticsStore>, opts: StoreSuiteOptions = {}): void {
  describe(`AnalyticsStore contract: ${name}`, () => {
    const open: AnalyticsStore[] = [];
    const fresh = async (): Promise<AnalyticsStore> => {
      const s = await makeStore();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('round-trips every field, including nulls, tags and long text', async () => {
      const store = await fresh();
      const full = makeFullEvent({ timestamp: T0 + 1000 });
      const bare = makeEvent({ timestamp: T0 + 2000, tags: {} });
      expect(await store.append([bare, full])).toEqual({ inserted: 2, duplicates: 0 });
      const got = await store.listEvents({ workspace: 'ws-a' });
      expect(got).toEqual([full, bare]);
      expect(got[0]!.prompt_text!.length).toBe(full.prompt_text!.length);
    });

    it('stores column batches as append stores their events; keys already stored are duplicates', async () => {
      const store = await fresh();
      // no block chain: the columnar path; with one: the row path behind the same call
      const full = makeFullEvent({ timestamp: T0 + 1000, prefix_block_hashes: null, prefix_block_size: null });
      const chained = makeFullEvent({ timestamp: T0 + 1500 });
      const many = Array.from({ length: 2500 }, (_, i) => makeEvent({ timestamp: T0 + 3000 + i, latency_ms: i / 4, stream: i % 3 === 0 }));
      const plain = [makeEvent({ timestamp: T0 + 2000, tags: {} }), full, ...many];
      expect(await store.appendColumns(fromEvents(plain))).toEqual({ inserted: plain.length, duplicates: 0 });
      expect(await store.appendColumns(fromEvents([chained]))).toEqual({ inserted: 1, duplicates: 0 });
      const got = await store.listEvents({ workspace: 'ws-a' }, { limit: 10_000 });
      expect(got).toEqual([full, chained, plain[0], ...many]);
      expect(await store.appendColumns(fromEvents([plain[1]!, { ...many[0]!, cost_usd: 9 }]))).toEqual({ inserted: 0, duplicates: 2 });
      expect((await store.stats({ workspace: 'ws-a' })).events).toBe(plain.length + 1);
    });

    it('de-duplicates on (workspace, event_id) across and within batches; the first copy wins', async () => {
      const store = await fresh();
      const a = makeEvent({ event_id: 'dup-a', cost_usd: 1 });
      const b = makeEvent({ event_id: 'dup-b' });
      const c = makeEvent({ event_id: 'dup-c' });
      expect(await store.append([a, b, { ...a, cost_usd: 99 }])).toEqual({ inserted: 2, duplicates: 1 });
      expect(await store.append([{ ...b, cost_usd: 42 }, c, c])).toEqual({ inserted: 1, duplicates: 2 });
      // same event id in another workspace is a different event
      expect(await store.append([{ ...a, workspace: 'ws-b' }])).toEqual({ inserted: 1, duplicates: 0 });
      expect(await store.append([])).toEqual({ inserted: 0, duplicates: 0 });
      const list = await store.listEvents({ workspace: 'ws-a' });
      expect(list.map((e) => e.event_id).sort()).toEqual(['dup-a', 'dup-b', 'dup-c']);
      expect(list.find((e) => e.event_id === 'dup-a')!.cost_usd).toBe(1);
      expect(list.find((e) => e.event_id === 'dup-b')!.cost_usd).toBe(0.25);
      expect((await store.stats({ workspace: 'ws-a' })).events).toBe(3);
    });

    it('de-duplicates batches larger than one storage chunk, with repeats far apart', async () => {
      const store = await fresh();
      const events = Array.from({ length: 5000 }, (_, i) => makeEvent({ event_id: `big-${i % 4000}`, timestamp: T0 + i }));
      expect(await store.append(events)).toEqual({ inserted: 4000, duplicates: 1000 });
      const again = Array.from({ length: 4500 }, (_, i) => makeEvent({ event_id: `big-${i}`, timestamp: T0 + i }));
      expect(await store.append(again)).toEqual({ inserted: 500, duplicates: 4000 });
      expect((await store.stats({ workspace: 'ws-a' })).events).toBe(4500);
    });

    it('serialises concurrent appends: every key stored once', async () => {
      const store = await fresh();
      const batches = Array.from({ length: 8 }, (_, b) =>
        Array.from({ length: 300 }, (_, i) => makeEvent({ event_id: `c-${(b * 200 + i) % 1500}` })),
      );
      const results = await Promise.all(batches.map((batch) => store.append(batch)));
      expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(1500);
      expect(results.reduce((n, r) => n + r.inserted + r.duplicates, 0)).toBe(2400);
      expect((await store.stats({ workspace: 'ws-a' })).events).toBe(1500);
    });

    it('isolates workspaces in stats, listEvents, models, workspaces, reprice and delete', async () => {
      const store = await fresh();
      const a = [
        makeEvent({ workspace: 'ws-a', model: 'gpt-4o', cost_usd: 1 }),
        makeEvent({ workspace: 'ws-a', model: 'gpt-4o-mini', cost_usd: 2 }),
      ];
      const b = [
        makeEvent({ workspace: 'ws-b', model: 'gpt-4o', cost_usd: 4 }),
        makeEvent({ workspace: 'ws-b', model: 'o3', cost_usd: 8 }),
      ];
      await store.append([...a, ...b]);
      const sb = await store.stats({ workspace: 'ws-b' });
      expect(sb.events).toBe(2);
      expect(sb.spend_usd).toBe(12);
      expect(sb.by_model.map((m) => m.model).sort()).toEqual(['gpt-4o', 'o3']);
      expect((await store.listEvents({ workspace: 'ws-b' })).every((e) => e.workspace === 'ws-b')).toBe(true);
      expect(await store.models('ws-b')).toEqual(['gpt-4o', 'o3']);
      expect(await store.models('ws-a')).toEqual(['gpt-4o', 'gpt-4o-mini']);
      expect(await store.models('ws-none')).toEqual([]);
      expect((await store.stats({ workspace: "ws-a' OR '1'='1" })).events).toBe(0);
      expect(await store.listEvents({ workspace: "ws-a' OR workspace <> '" })).toEqual([]);
      expect((await store.workspaces()).map((w) => [w.workspace, w.events])).toEqual([
        ['ws-a', 2],
        ['ws-b', 2],
      ]);

      const rates = new Map<string, ModelRates>([
        ['gpt-4o', { model: 'gpt-4o', provider: 'openai', input: 1 / 1024, output: 1 / 512, cached_input: 1 / 2048, cache_write: null }],
      ]);
      const r = await store.reprice('ws-b', rates);
      expect(r.updated).toBe(1);
      expect(r.spend_before_usd).toBe(12);
      expect((await store.stats({ workspace: 'ws-a' })).spend_usd).toBe(3);
      expect((await store.listEvents({ workspace: 'ws-a' })).find((e) => e.model === 'gpt-4o')!.cost_usd).toBe(1);

      expect(await store.deleteWorkspace('ws-b')).toBe(2);
      expect((await store.stats({ workspace: 'ws-b' })).events).toBe(0);
      expect((await store.stats({ workspace: 'ws-a' })).events).toBe(2);
      expect((await store.workspaces()).map((w) => w.workspace)).toEqual(['ws-a']);
      expect(await store.deleteWorkspace('ws-none')).toBe(0);
    });

    it('lists datasets (one per app) with events, first/last event, spend and models, scoped to the workspace', async () => {
      const store = await fresh();
      await store.append([
        makeEvent({ app: 'rag-assistant', model: 'gpt-4o', cost_usd: 0.5, timestamp: T0 + 10 }),
        makeEvent({ app: 'rag-assistant', model: 'claude-3-5-haiku', cost_usd: 0.25, timestamp: T0 + 30 }),
        makeEvent({ app: 'rag-assistant', model: 'gpt-4o', cost_usd: 0.125, timestamp: T0 + 20 }),
        makeEvent({ app: 'batch-jobs', model: 'gpt-4o-mini', cost_usd: 2, timestamp: T0 + 5 }),
        makeEvent({ workspace: 'ws-b', app: 'rag-assistant', model: 'o3', cost_usd: 8, timestamp: T0 + 1 }),
      ]);
      expect(await store.datasets('ws-a')).toEqual([
        { app: 'batch-jobs', events: 1, first_event: T0 + 5, last_event: T0 + 5, spend_usd: 2, models: ['gpt-4o-mini'] },
        {
          app: 'rag-assistant',
          events: 3,
          first_event: T0 + 10,
          last_event: T0 + 30,
          spend_usd: 0.875,
          models: ['claude-3-5-haiku', 'gpt-4o'],
        },
      ]);
      expect(await store.datasets('ws-b')).toEqual([
        { app: 'rag-assistant', events: 1, first_event: T0 + 1, last_event: T0 + 1, spend_usd: 8, models: ['o3'] },
      ]);
      expect(await store.datasets('ws-none')).toEqual([]);
      expect(await store.datasets("ws-a' OR '1'='1")).toEqual([]);
    });

    it('deletes one dataset (app) of one workspace; its event ids can be stored again afterwards', async () => {
      const store = await fresh();
      const rag = Array.from({ length: 50 }, (_, i) => makeEvent({ event_id: `rag-${i}`, app: 'rag-assistant', cost_usd: 1 }));
      const chat = Array.from({ length: 20 }, (_, i) => makeEvent({ event_id: `chat-${i}`, app: 'chat-support', cost_usd: 0.5 }));
      const other = [makeEvent({ event_id: 'rag-0', workspace: 'ws-b', app: 'rag-assistant' })];
      await store.append([...rag, ...chat, ...other]);
      expect(await store.deleteEvents('ws-a', { app: "rag-assistant' OR '1'='1" })).toBe(0);
      expect(await store.deleteEvents('ws-a', { app: 'no-such-app' })).toBe(0);
      expect(await store.deleteEvents('ws-a', { app: 'rag-assistant' })).toBe(50);
      expect((await store.datasets('ws-a')).map((d) => [d.app, d.events])).toEqual([['chat-support', 20]]);
      const s = await store.stats({ workspace: 'ws-a' });
      expect([s.events, s.spend_usd]).toEqual([20, 10]);
      expect((await store.stats({ workspace: 'ws-b' })).events).toBe(1);
      // the deleted ids are new events again; the kept ones still de-duplicate
      expect(await store.append([...rag.slice(0, 10), chat[0]!])).toEqual({ inserted: 10, duplicates: 1 });
      expect(await store.append(rag.slice(0, 10))).toEqual({ inserted: 0, duplicates: 10 });
      expect((await store.datasets('ws-a')).map((d) => [d.app, d.events])).toEqual([
        ['chat-support', 20],
        ['rag-assistant', 10],
      ]);
      // the same holds after deleting a whole workspace
      expect(await store.deleteWorkspace('ws-b')).toBe(1);
      expect(await store.append(other)).toEqual({ inserted: 1, duplicates: 0 });
      await expect(store.deleteEvents('ws-a', { app: '' })).rejects.toMatchObject({ code: 'NETRA_E_VALIDATION', field: 'app' });
    });

    it('scopes reads to [from, to) in epoch milliseconds', async () => {
      const store = await fresh();
      const ev = [0, 999, 1000, 1999, 2000].map((dt) => makeEvent({ event_id: `t${dt}`, timestamp: T0 + dt, latency_ms: dt }));
      await store.append(ev);
      const s = await store.stats({ workspace: 'ws-a', from: T0 + 1000, to: T0 + 2000 });
      expect(s.events).toBe(2);
      expect(s.first_event).toBe(T0 + 1000);
      expect(s.last_event).toBe(T0 + 1999);
      expect(s.from).toBe(T0 + 1000);
      expect(s.to).toBe(T0 + 2000);
      expect((await store.listEvents({ workspace: 'ws-a', from: T0 + 1000, to: T0 + 2000 })).map((e) => e.event_id)).toEqual([
        't1000',
        't1999',
      ]);
      expect((await store.listEvents({ workspace: 'ws-a', from: T0 + 1000 })).map((e) => e.event_id)).toEqual(['t1000', 't1999', 't2000']);
      expect((await store.listEvents({ workspace: 'ws-a', to: T0 + 1000 })).map((e) => e.event_id)).toEqual(['t0', 't999']);
      expect((await store.stats({ workspace: 'ws-a', from: T0 + 5000 })).events).toBe(0);
      const all = await store.stats({ workspace: 'ws-a' });
      expect([all.events, all.from, all.to, all.first_event, all.last_event]).toEqual([5, null, null, T0, T0 + 2000]);
    });

    it('lists oldest first with limit and offset', async () => {
      const store = await fresh();
      const ev = [5, 1, 4, 2, 3].map((k) => makeEvent({ event_id: `o${k}`, timestamp: T0 + k * 10 }));
      await store.append(ev);
      expect((await store.listEvents({ workspace: 'ws-a' })).map((e) => e.event_id)).toEqual(['o1', 'o2', 'o3', 'o4', 'o5']);
      expect((await store.listEvents({ workspace: 'ws-a' }, { limit: 2, offset: 1 })).map((e) => e.event_id)).toEqual(['o2', 'o3']);
      expect(await store.listEvents({ workspace: 'ws-a' }, { limit: 0 })).toEqual([]);
    });

    it('computes stats that match a hand-computed fixture', async () => {
      const store = await fresh();
      // model X: 10 events, latencies 10..100, 2 errors; model Y: 3 events, one without latency, 1 error
      const x = Array.from({ length: 10 }, (_, i) =>
        makeEvent({
          model: 'x-model',
          provider: 'px',
          latency_ms: (i + 1) * 10,
          status: i < 2 ? 'error' : 'ok',
          prompt_tokens: 1000 + i,
          completion_tokens: 10 * i,
          cached_prompt_tokens: i,
          cost_usd: 0.5,
          timestamp: T0 + i * 100,
        }),
      );
      const y = [
        makeEvent({
          model: 'y-model',
          provider: 'py',
          latency_ms: 200,
          prompt_tokens: 7,
          completion_tokens: 3,
          cost_usd: 0.125,
          timestamp: T0 + 5000,
          token_source: 'estimated',
        }),
        makeEvent({
          model: 'y-model',
          provider: 'py',
          latency_ms: 400,
          prompt_tokens: 8,
          completion_tokens: 4,
          cost_usd: 0.125,
          status: 'error',
          timestamp: T0 + 6000,
        }),
        makeEvent({
          model: 'y-model',
          provider: 'py',
          latency_ms: null,
          prompt_tokens: 9,
          completion_tokens: 5,
          cost_usd: 0.25,
          timestamp: T0 + 7000,
        }),
      ];
      const z = [
        makeEvent({ model: 'z-model', provider: 'pz', latency_ms: null, cost_usd: 0, cost_source: 'unknown_model', timestamp: T0 + 8000 }),
      ];
      await store.append([...x, ...y, ...z]);
      const s = await store.stats({ workspace: 'ws-a' });
      expect(s.workspace).toBe('ws-a');
      expect(s.events).toBe(14);
      expect(s.errors).toBe(3);
      expect(s.prompt_tokens).toBe(10_045 + 24 + 100);
      expect(s.completion_tokens).toBe(450 + 12 + 20);
      expect(s.cached_prompt_tokens).toBe(45);
      expect(s.spend_usd).toBe(5.5);
      // overall latencies: 10..100 plus 200, 400 (12 values), linear interpolation
      expect(s.latency_p50_ms).toBeCloseTo(65, 9);
      expect(s.latency_p95_ms).toBeCloseTo(290, 9);
      expect(s.first_event).toBe(T0);
      expect(s.last_event).toBe(T0 + 8000);
      // how much rests on estimates: one event with estimated tokens (7 + 3), one unpriced
      expect(s.estimated_token_events).toBe(1);
      expect(s.estimated_tokens).toBe(10);
      expect(s.estimated_token_share).toBeCloseTo(10 / (s.prompt_tokens + s.completion_tokens), 12);
      expect(s.unpriced_events).toBe(1);
      const m = Object.fromEntries(s.by_model.map((r) => [r.model, r]));
      expect(s.by_model.map((r) => r.model)).toEqual(['x-model', 'y-model', 'z-model']); // by spend, descending
      expect(m['x-model']).toEqual({
        model: 'x-model',
        provider: 'px',
        events: 10,
        errors: 2,
        prompt_tokens: 10_045,
        completion_tokens: 450,
        cached_prompt_tokens: 45,
        spend_usd: 5,
        latency_p50_ms: expect.closeTo(55, 9),
        latency_p95_ms: expect.closeTo(95.5, 9),
        estimated_token_events: 0,
        unpriced_events: 0,
      });
      expect(m['y-model']).toMatchObject({
        provider: 'py',
        events: 3,
        errors: 1,
        prompt_tokens: 24,
        completion_tokens: 12,
        spend_usd: 0.5,
      });
      expect(m['y-model']!.latency_p50_ms).toBeCloseTo(300, 9);
      expect(m['y-model']!.latency_p95_ms).toBeCloseTo(390, 9);
      expect(m['z-model']).toMatchObject({ events: 1, spend_usd: 0, latency_p50_ms: null, latency_p95_ms: null, unpriced_events: 1 });
      expect(m['y-model']).toMatchObject({ estimated_token_events: 1, unpriced_events: 0 });
    });

    it('returns zeroed stats for an empty scope', async () => {
      const store = await fresh();
      await store.append([makeEvent({ workspace: 'other' })]);
      expect(await store.stats({ workspace: 'ws-a', from: T0, to: T0 + 1 })).toEqual({
        workspace: 'ws-a',
        from: T0,
        to: T0 + 1,
        events: 0,
        errors: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cached_prompt_tokens: 0,
        spend_usd: 0,
        latency_p50_ms: null,
        latency_p95_ms: null,
        estimated_token_events: 0,
        estimated_tokens: 0,
        estimated_token_share: 0,
        unpriced_events: 0,
        first_event: null,
        last_event: null,
        by_model: [],
      });
    });

    it('reprices only catalog-priced events of the given models', async () => {
      const store = await fresh();
      const usage = { prompt_tokens: 3000, completion_tokens: 700, cached_prompt_tokens: 1000 };
      const ev = [
        makeEvent({ event_id: 'm1-cat-1', model: 'm1', ...usage, cost_usd: 1, cost_source: 'catalog' }),
        makeEvent({
          event_id: 'm1-cat-2',
          model: 'm1',
          prompt_tokens: 10,
          completion_tokens: 0,
          cached_prompt_tokens: 0,
          cost_usd: 1,
          cost_source: 'catalog',
        }),
        makeEvent({ event_id: 'm1-given', model: 'm1', ...usage, cost_usd: 1, cost_source: 'given' }),
        makeEvent({ event_id: 'm2-cat', model: 'm2', ...usage, cost_usd: 1, cost_source: 'catalog' }),
        makeEvent({ event_id: 'm3-cat', model: 'm3', ...usage, cost_usd: 1, cost_source: 'catalog' }),
        makeEvent({ event_id: 'other-ws', workspace: 'ws-b', model: 'm1', ...usage, cost_usd: 1, cost_source: 'catalog' }),
      ];
      await store.append(ev);
      const r1: ModelRates = { model: 'm1', provider: 'p', input: 2.5e-6, output: 1e-5, cached_input: 1.25e-6, cache_write: null };
      const r2: ModelRates = { model: 'm2', provider: 'p', input: 1.5e-7, output: 6e-7, cached_input: 1.5e-7, cache_write: null };
      const result = await store.reprice(
        'ws-a',
        new Map([
          ['m1', r1],
          ['m2', r2],
        ]),
      );
      const expected: Record<string, number> = {
        'm1-cat-1': costOf(r1, usage),
        'm1-cat-2': costOf(r1, { prompt_tokens: 10, completion_tokens: 0, cached_prompt_tokens: 0 }),
        'm1-given': 1,
        'm2-cat': costOf(r2, usage),
        'm3-cat': 1,
      };
      expect(result.updated).toBe(3);
      expect(result.spend_before_usd).toBe(5);
      const sumExpected = Object.values(expected).reduce((a, b) => a + b, 0);
      expect(result.spend_after_usd).toBeCloseTo(sumExpected, 12);
      const got = await store.listEvents({ workspace: 'ws-a' });
      for (const e of got) expect(e.cost_usd, e.event_id).toBeCloseTo(expected[e.event_id]!, 15);
      expect((await store.stats({ workspace: 'ws-a' })).spend_usd).toBeCloseTo(sumExpected, 12);
      expect((await store.listEvents({ workspace: 'ws-b' }))[0]!.cost_usd).toBe(1);
      const none = await store.reprice('ws-a', new Map());
      expect(none.updated).toBe(0);
      expect(none.spend_after_usd).toBe(none.spend_before_usd);
    });

    it('pages chainless prompt texts in (timestamp, event_id) order and stores derived chains only where none is stored', async () => {
      const store = await fresh();
      const long = (i: number) => `question ${i}: ${'word '.repeat(300)}`; // 1,500+ bytes
      const evs = [
        // two events at the same timestamp: the cursor orders them by event_id
        makeEvent({ event_id: 'c-b', timestamp: T0 + 10, prompt_text: long(1) }),
        makeEvent({ event_id: 'c-a', timestamp: T0 + 10, prompt_text: long(2) }),
        makeEvent({ event_id: 'c-c', timestamp: T0 + 20, prompt_text: long(3) }),
        makeEvent({ event_id: 'short', timestamp: T0 + 30, prompt_text: 'too short for any provider cache' }),
        makeEvent({ event_id: 'no-text', timestamp: T0 + 40 }),
        makeEvent({ event_id: 'given', timestamp: T0 + 50, prompt_text: long(4), prefix_block_hashes: [7, 8], prefix_block_size: 512 }),
        makeEvent({ event_id: 'other-ws', workspace: 'ws-b', timestamp: T0 + 60, prompt_text: long(5) }),
      ];
      await store.append(evs);
      expect(await store.countChainlessPrompts('ws-a', null)).toBe(3);
      const first = await store.chainlessPrompts('ws-a', null, 2);
      expect(first.map((r) => r.event_id)).toEqual(['c-a', 'c-b']);
      expect(first[0]).toEqual({ event_id: 'c-a', timestamp_us: (T0 + 10) * 1000, model: 'gpt-4o-mini', prompt_text: long(2) });
      expect(await store.countChainlessPrompts('ws-a', first[1]!)).toBe(1);
      const second = await store.chainlessPrompts('ws-a', first[1]!, 2);
      expect(second.map((r) => r.event_id)).toEqual(['c-c']);

      // 'given' already has a chain and 'other-ws' is another workspace's: neither changes
      const chain = { hashes: [1, 2 ** 52 + 3], block_size: 128 };
      const changed = await store.setPrefixBlocks('ws-a', [
        { event_id: 'c-a', ...chain },
        { event_id: 'given', ...chain },
        { event_id: 'other-ws', ...chain },
      ]);
      expect(changed).toBe(1);
      expect(await store.setPrefixBlocks('ws-a', [{ event_id: 'c-a', hashes: [9], block_size: 128 }])).toBe(0); // a second write is a no-op
      const byId = new Map(
        [...(await store.listEvents({ workspace: 'ws-a' })), ...(await store.listEvents({ workspace: 'ws-b' }))].map((e) => [
          e.event_id,
          e,
        ]),
      );
      expect(byId.get('c-a')).toMatchObject({ prefix_block_hashes: chain.hashes, prefix_block_size: 128 });
      expect(byId.get('given')).toMatchObject({ prefix_block_hashes: [7, 8], prefix_block_size: 512 });
      expect(byId.get('other-ws')).toMatchObject({ prefix_block_hashes: null, prefix_block_size: null });
      expect(byId.get('c-b')).toMatchObject({ prefix_block_hashes: null, prefix_block_size: null });
      expect((await store.chainlessPrompts('ws-a', null, 10)).map((r) => r.event_id)).toEqual(['c-b', 'c-c']);
    });

    it('deletes a workspace and accepts its events again afterwards', async () => {
      const store = await fresh();
      const ev = Array.from({ length: 5 }, (_, i) => makeEvent({ event_id: `del-${i}`, workspace: 'ws-del' }));
      await store.append([...ev, makeEvent({ event_id: 'keep', workspace: 'ws-keep' })]);
      expect(await store.deleteWorkspace('ws-del')).toBe(5);
      expect(await store.listEvents({ workspace: 'ws-del' })).toEqual([]);
      expect(await store.append(ev)).toEqual({ inserted: 5, duplicates: 0 });
      expect((await store.stats({ workspace: 'ws-del' })).events).toBe(5);
      expect((await store.stats({ workspace: 'ws-keep' })).events).toBe(1);
    });

    it('reports health and closes twice safely', async () => {
      const store = await makeStore();
      expect(await store.health()).toMatchObject({ ok: true, engine: store.engine });
      await store.append([makeEvent()]);
      await store.close();
      await store.close();
      expect((await store.health()).ok).toBe(false);
      await expect(store.append([makeEvent()])).rejects.toThrow();
    });

    if (opts.openPersistent) {
      const openPersistent = opts.openPersistent;
      it('keeps data and schema across close and reopen; init() is idempotent', async () => {
        const key = `persist-${Date.now()}-${Math.random().toString(36).slice(2)}`;
        const first = await openPersistent(key);
        await first.init();
        const ev = Array.from({ length: 50 }, (_, i) => makeFullEvent({ event_id: `p-${i}`, timestamp: T0 + i }));
        expect(await first.append(ev)).toEqual({ inserted: 50, duplicates: 0 });
        await first.close();

        const second = await openPersistent(key);
        open.push(second);
        await second.init();
        await second.init();
        expect((await second.stats({ workspace: 'ws-a' })).events).toBe(50);
        expect(await second.listEvents({ workspace: 'ws-a' })).toEqual([...ev].sort(byTime));
        // the de-duplication index survives the reopen
        expect(await second.append(ev.slice(0, 10))).toEqual({ inserted: 0, duplicates: 10 });
        expect(await second.append([makeEvent({ event_id: 'p-new' })])).toEqual({ inserted: 1, duplicates: 0 });
      });
    }
  });
}
