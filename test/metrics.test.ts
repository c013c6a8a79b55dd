/**
 * Observability through the real app: GET /metrics parsed as Prometheus text (names, types, values moving after
 * requests, ingest, analyses), pool gauges with PostgreSQL (DATABASE_URL), GET /api/v1/system/performance (snapshots
 * over time, bounded history), /health/ready's memory block, and the memory health thresholds.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMemory, type MemoryFigures } from '../src/observability/runtime-health.js';
import { startTestApp, type TestApp } from './helpers/app.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (what prom-client writes): samples plus # TYPE lines. */
function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `unparseable metric line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m![1]!, labels, value: m![3] === 'NaN' ? Number.NaN : Number(m![3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.reduce((a, s) => a + s.value, 0);
}

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const ev = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `m-${i}`,
  timestamp: new Date(T0 + i * 60_000).toISOString(),
  model: 'gpt-4o-mini',
  prompt_tokens: 500,
  completion_tokens: 50,
  latency_ms: 300 + i,
  ...extra,
});

describe('observability in the app', () => {
  let t: TestApp;
  let auth: { authorization: string };
  const inject = (o: import('fastify').InjectOptions) => t.app.server.inject({ ...o, headers: { ...auth, ...o.headers } });
  const scrape = async () => {
    const r = await t.app.server.inject({ url: '/metrics' }); // public: no token
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseProm(r.body);
  };

  beforeAll(async () => {
    t = await startTestApp({ observability: { snapshotIntervalMs: 1000, historyMs: 3000 } });
    auth = await t.auth();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exposes the metrics by name and type, and no empty ones for features not built yet', async () => {
    const { samples, types } = await scrape();
    expect(Object.fromEntries(types)).toMatchObject({
      netra_http_request_duration_seconds: 'histogram',
      netra_ingest_events_total: 'counter',
      netra_store_query_duration_seconds: 'histogram',
      netra_query_cache_lookups_total: 'counter',
      netra_query_cache_hit_ratio: 'gauge',
      netra_query_cache_entries: 'gauge',
      netra_event_loop_lag_seconds: 'gauge',
      netra_process_memory_bytes: 'gauge',
      netra_memory_health: 'gauge',
      netra_startup_tasks_failed: 'gauge',
    });
    const names = [...types.keys()];
    // the chat WebSocket: an open-connection gauge and a message counter
    expect(names.filter((n) => /websocket|_ws_/.test(n)).sort()).toEqual(['netra_ws_connections', 'netra_ws_messages_total']);
    expect(Object.fromEntries(types)).toMatchObject({ netra_ws_connections: 'gauge', netra_ws_messages_total: 'counter' });
    expect(value(samples, 'netra_ws_connections', {})).toBe(0);
    expect(Object.fromEntries(types)).toMatchObject({
      netra_llm_calls_total: 'counter',
      netra_llm_call_duration_seconds: 'histogram',
      netra_llm_breaker_open: 'gauge',
    });
    expect(value(samples, 'netra_llm_breaker_open', { provider: 'builtin' })).toBe(0);
    expect(names.filter((n) => n.startsWith('netra_pg_pool'))).toEqual([]); // PGlite has no pool
    expect(value(samples, 'netra_process_memory_bytes', { type: 'heap_used' })).toBeGreaterThan(1e6);
    expect(value(samples, 'netra_process_memory_bytes', { type: 'rss' })).toBeGreaterThan(
      value(samples, 'netra_process_memory_bytes', { type: 'heap_used' }) / 2,
    );
    expect(
      value(samples, 'netra_memory_health', { status: 'healthy' }) +
        value(samples, 'netra_memory_health', { status: 'degraded' }) +
        value(samples, 'netra_memory_health', { status: 'critical' }),
    ).toBe(1);
    expect(
      samples
        .filter((s) => s.name === 'netra_event_loop_lag_seconds')
        .map((s) => s.labels.stat)
        .sort(),
    ).toEqual(['max', 'mean', 'p50', 'p99']);
    expect(samples.every((s) => s.labels.service === 'netra')).toBe(true);
  });

  it('moves after requests, ingest and analyses', async () => {
    const before = (await scrape()).samples;
    const statsCount = () => ({ route: '/api/v1/stats', method: 'GET', status: '200' });
    const ingest = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=m',
      payload: [ev(1), ev(2), ev(3), ev(4, { prompt_tokens: -1 }), ev(5, { model: '' })],
    });
    expect(ingest.json()).toMatchObject({ accepted: 3, rejected: 2 });
    for (let i = 0; i < 3; i++) expect((await inject({ url: '/api/v1/stats?workspace=m' })).statusCode).toBe(200);
    await inject({ method: 'POST', url: '/api/v1/events?workspace=m', payload: [ev(1)] }); // a duplicate
    await inject({ url: '/api/v1/analysis?workspace=m' });
    await inject({ url: '/api/v1/analysis?workspace=m' });
    await inject({ url: '/api/v1/no-such-route' });

    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta('netra_http_request_duration_seconds_count', statsCount())).toBe(3);
    expect(delta('netra_http_request_duration_seconds_bucket', { ...statsCount(), le: '+Inf' })).toBe(3);
    expect(delta('netra_http_request_duration_seconds_sum', statsCount())).toBeGreaterThan(0);
    expect(delta('netra_http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).toBe(1);
    expect(after.some((s) => s.labels.route?.includes('no-such-route'))).toBe(false); // raw URLs never become labels
    expect(delta('netra_ingest_events_total', { source: 'api', outcome: 'accepted' })).toBe(3);
    expect(delta('netra_ingest_events_total', { source: 'api', outcome: 'rejected' })).toBe(2);
    expect(delta('netra_ingest_events_total', { source: 'api', outcome: 'duplicate' })).toBe(1);
    // stats and analyses are served through the query cache: 2 of the 3 stats calls and the second analysis are hits
    expect(delta('netra_query_cache_lookups_total', { result: 'hit' })).toBeGreaterThanOrEqual(3);
    expect(delta('netra_query_cache_lookups_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(delta('netra_query_cache_invalidations_total')).toBe(1); // the duplicate-only ingest stored nothing
    const ratio = value(after, 'netra_query_cache_hit_ratio');
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
    expect(delta('netra_store_query_duration_seconds_count', { kind: 'stats' })).toBeGreaterThanOrEqual(1);
    expect(delta('netra_store_query_duration_seconds_count', { kind: 'performance_buckets' })).toBe(1); // one analysis computed, one served from the cache
    // a second scrape does not count the same store queries again
    const again = (await scrape()).samples;
    expect(value(again, 'netra_store_query_duration_seconds_count', { kind: 'performance_buckets' })).toBe(
      value(after, 'netra_store_query_duration_seconds_count', { kind: 'performance_buckets' }),
    );
  });

  it('counts LLM calls by provider and outcome, cache hits included', async () => {
    const before = (await scrape()).samples;
    const req = { messages: [{ role: 'user' as const, content: 'How much did gpt-4o cost last week?' }] };
    await t.app.llm.complete(req);
    await t.app.llm.complete(req); // identical request: served from the LLM response cache
    const after = (await scrape()).samples;
    const d = (labels: Record<string, string>) =>
      value(after, 'netra_llm_calls_total', labels) - value(before, 'netra_llm_calls_total', labels);
    expect(d({ provider: 'builtin', outcome: 'ok' })).toBe(1);
    expect(d({ provider: 'builtin', outcome: 'cache_hit' })).toBe(1);
  });

  it('serves the performance history for a dashboard, bounded to the configured hour (here 3 s / 1 s)', async () => {
    const obs = t.app.observability;
    obs.sample(); // close the window with the traffic so far
    await inject({ method: 'POST', url: '/api/v1/events?workspace=m', payload: [ev(10), ev(11)] });
    await inject({ url: '/api/v1/stats?workspace=m' });
    const snap = obs.sample();
    expect(snap.ingest).toMatchObject({ accepted: 2, rejected: 0 });
    expect(snap.ingest.accepted_per_s).toBeGreaterThan(0);
    expect(snap.http.requests).toBe(2);
    expect(snap.http.latency_p95_ms).toBeGreaterThan(0);
    expect(snap.store_queries.map((q) => q.kind)).toContain('stats');
    expect(snap.memory.heap_used_bytes).toBeGreaterThan(0);
    expect(['healthy', 'degraded', 'critical']).toContain(snap.memory_status);

    const r = await inject({ url: '/api/v1/system/performance' });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ interval_ms: 1000, history_ms: 3000 });
    expect(body.snapshots.at(-1)).toMatchObject({ at: snap.at, ingest: { accepted: 2 } });
    expect(body.current.http.requests).toBe(0); // the new window: this request is counted when it ends
    expect(body.memory_health.status).toBe(snap.memory_status);
    expect(body.startup_tasks.map((s: { name: string }) => s.name)).toEqual([
      'store-maintenance',
      'reprice-after-catalog-change',
      'prefix-block-backfill',
      'cache-warm-up',
    ]);
    expect(body.snapshots.at(-1).cache).toMatchObject({ backend: 'memory' });

    for (let i = 0; i < 5; i++) obs.sample();
    expect(obs.snapshots().length).toBe(3);
    const since = Date.parse(obs.snapshots()[1]!.at);
    const recent = (await inject({ url: `/api/v1/system/performance?since=${since}` })).json();
    expect(recent.snapshots.length).toBeGreaterThanOrEqual(2);
    expect((await inject({ url: '/api/v1/system/performance?since=yesterday' })).statusCode).toBe(400);
    expect((await t.app.server.inject({ url: '/api/v1/system/performance' })).statusCode).toBe(401); // admin only
  });

  it('reports memory health and startup tasks in /health/ready', async () => {
    const r = await t.app.server.inject({ url: '/health/ready' });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.status).toBe('ready');
    expect(body.memory.status).toBe('healthy');
    expect(body.memory.heap_used_ratio).toBeGreaterThan(0);
    expect(body.memory.heap_used_ratio).toBeLessThan(1);
    expect(body.startup_tasks.every((s: { state: string }) => s.state === 'pending')).toBe(true); // not listening: not started
    expect(body.degraded).toEqual([]);
  });
});

describe('memory health thresholds', () => {
  const mem = (ratio: number): MemoryFigures => ({
    heap_used_bytes: ratio * 1000,
    heap_total_bytes: 1000,
    heap_limit_bytes: 1000,
    rss_bytes: 2000,
    external_bytes: 0,
    heap_used_ratio: ratio,
  });
  const lag = (p99: number) => ({ mean_ms: p99 / 2, p50_ms: p99 / 2, p99_ms: p99, max_ms: p99 });
  const th = { heapDegradedRatio: 0.85, heapCriticalRatio: 0.95, eventLoopLagDegradedMs: 200, eventLoopLagCriticalMs: 1000 };
  it('is healthy below, degraded and critical at the thresholds, and names why', () => {
    expect(classifyMemory(mem(0.5), lag(10), th)).toEqual({ status: 'healthy', reasons: [] });
    expect(classifyMemory(mem(0.85), lag(10), th).status).toBe('degraded');
    expect(classifyMemory(mem(0.95), lag(10), th).status).toBe('critical');
    expect(classifyMemory(mem(0.5), lag(200), th)).toMatchObject({
      status: 'degraded',
      reasons: [expect.stringMatching(/event-loop lag p99 is 200 ms/)],
    });
    const both = classifyMemory(mem(0.9), lag(1500), th);
    expect(both.status).toBe('critical');
    expect(both.reasons).toHaveLength(2);
    expect(classifyMemory(mem(0.96), lag(300), th).status).toBe('critical');
  });
});

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) console.warn('[metrics.test] PostgreSQL pool metrics skipped: DATABASE_URL is not set');

describe.skipIf(!DATABASE_URL)('pool metrics with PostgreSQL', () => {
  const dbName = `netra_metrics_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: DATABASE_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  it('exposes pool gauges (max = 20 + 30) and leaves no connection checked out', async () => {
    await admin(`CREATE DATABASE ${dbName}`);
    const u = new URL(DATABASE_URL!);
    u.pathname = `/${dbName}`;
    t = await startTestApp({ databaseUrl: u.toString() });
    const auth = await t.auth();
    await t.app.server.inject({ url: '/api/v1/workspaces', headers: auth });
    const { samples, types } = parseProm((await t.app.server.inject({ url: '/metrics' })).body);
    expect(types.get('netra_pg_pool_connections')).toBe('gauge');
    expect(value(samples, 'netra_pg_pool_max_connections')).toBe(50);
    expect(value(samples, 'netra_pg_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'netra_pg_pool_connections', { state: 'in_use' })).toBe(0);
    expect(value(samples, 'netra_pg_pool_saturation_ratio')).toBe(0);
    expect(types.get('netra_pg_pool_timeouts_total')).toBe('counter');
    t.app.db.pool!.assertNoLeaks();
    const snap = t.app.observability.sample();
    expect(snap.pg_pool).toMatchObject({ max: 50, in_use: 0 });
  });
});
