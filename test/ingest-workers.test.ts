/**
 * JSON ingestion in worker threads (src/ingest/json-ingest-pool.ts): a body the workers encode is stored exactly as the
 * main thread's path stores it, every other body gets the main thread's answer, and prices follow catalog changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareJsonBatch } from '../src/ingest/json-batch.js';
import { JsonIngestPool } from '../src/ingest/json-ingest-pool.js';
import { encodeSpoolBatch } from '../src/store/duckdb-bulk-load.js';
import { normalizeEvent, type WorkloadEvent } from '../src/workload/event.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const ev = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `w-${i}`,
  timestamp: new Date(T0 + i * 1000).toISOString(),
  model: i % 2 ? 'gpt-4o-mini' : 'claude-sonnet-4',
  prompt_tokens: 1000 + i,
  completion_tokens: 100,
  latency_ms: 500 + i,
  prompt_text: `question ${i} about the invoice`,
  messages:
    i % 3 === 0
      ? [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: `q${i}` },
        ]
      : undefined,
  tags: { team: i % 2 ? 'a' : 'b' },
  ...extra,
});
const body = (events: unknown) => Buffer.from(JSON.stringify(events));
const catalog = loadPriceCatalog();
const ctx = (c = catalog) => ({ workspace: 'ws', pricer: c, newId: () => 'fixed-id' });

function inline(events: unknown[], c = catalog) {
  const normalized = events.map((e) => {
    const r = normalizeEvent(e, ctx(c));
    if (!r.ok) throw new Error('invalid');
    return r.event as WorkloadEvent;
  });
  return encodeSpoolBatch(normalized);
}

describe('prepareJsonBatch', () => {
  it('encodes a valid body exactly as the main thread would', () => {
    const events = Array.from({ length: 30 }, (_, i) => ev(i));
    const r = prepareJsonBatch(body(events), 100, ctx());
    expect(r.ok).toBe(true);
    const expected = inline(events);
    if (!r.ok) return;
    expect(r.batch.rows).toBe(30);
    expect([...r.batch.hashes]).toEqual([...expected.hashes]);
    expect(Buffer.from(r.batch.bytes).toString()).toBe(Buffer.from(expected.bytes).toString());
  });

  it('hands back every body the main thread must answer', () => {
    const cases: Array<[string, Buffer]> = [
      ['malformed JSON', Buffer.from('[{"event_id": ')],
      ['special keys', body([{ ...ev(1), __proto__x: 1, tags: { constructor: 'x' } }])],
      ['special keys', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body([ev(1)])])],
      ['shape', body({ items: [ev(1)] })],
      ['event count', body([])],
      ['event count', body([ev(1), ev(2), ev(3)])],
      ['invalid event', body([ev(1), ev(2, { prompt_tokens: -1 })])],
    ];
    for (const [reason, b] of cases) expect(prepareJsonBatch(b, 2, ctx())).toEqual({ ok: false, reason });
  });
});

describe('JsonIngestPool', () => {
  it('encodes in a worker thread, with the catalog the main thread has now', async () => {
    let current = catalog;
    const pool = new JsonIngestPool({ threads: 2, catalog: () => current });
    try {
      const events = Array.from({ length: 50 }, (_, i) => ev(i));
      const [a, b] = await Promise.all([pool.encode('ws', body(events), 100), pool.encode('ws', body(events.slice(10)), 100)]);
      expect(Buffer.from(a!.bytes).toString()).toBe(Buffer.from(inline(events).bytes).toString());
      expect(b!.rows).toBe(40);
      // an override: the workers price with the new catalog from the next body on
      current = catalog.withOverrides([{ workspace: 'ws', model: 'gpt-4o-mini', input: 1e-4, output: 2e-4 }]);
      const c = await pool.encode('ws', body(events), 100);
      const text = Buffer.from(c!.bytes).toString();
      expect(text).toBe(Buffer.from(inline(events, current).bytes).toString());
      expect(text).not.toBe(Buffer.from(a!.bytes).toString());
      expect(await pool.encode('ws', body([ev(1, { status: 'maybe' })]), 100)).toBeNull();
      expect(pool.counts).toEqual({ encoded: 3, declined: 1 });
    } finally {
      await pool.close();
    }
  });
});

describe('POST /api/v1/events with ingest workers', () => {
  let workers: TestApp;
  let main: TestApp;
  beforeAll(async () => {
    [workers, main] = await Promise.all([
      startTestApp({ ingest: { maxEventsPerRequest: 100, workerThreads: 1, workerMinBodyBytes: 0 } }),
      startTestApp({ ingest: { maxEventsPerRequest: 100, workerThreads: 0 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([workers?.close(), main?.close()]);
  });

  it('answers and stores exactly as the main-thread path, and takes valid bodies off the event loop', async () => {
    const requests: unknown[] = [
      Array.from({ length: 60 }, (_, i) => ev(i)),
      { events: Array.from({ length: 60 }, (_, i) => ev(i + 30)) }, // 30 repeats
      [ev(200), ev(201, { prompt_tokens: -5 }), ev(202)], // 207
      Array.from({ length: 101 }, (_, i) => ev(300 + i)), // too many
      '[{"event_id": ',
      '{"events":[{"event_id":"p1","timestamp":1795000000000,"model":"gpt-4o","prompt_tokens":5,"completion_tokens":1,"__proto__":{"x":1}}]}',
      '   ',
    ];
    for (const payload of requests) {
      const send = async (t: TestApp) => {
        const r = await t.app.server.inject({
          method: 'POST',
          url: '/api/v1/events?workspace=wk',
          headers: { ...(await t.auth()), 'content-type': 'application/json' },
          payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
        });
        return { status: r.statusCode, body: r.json() };
      };
      const [a, b] = [await send(workers), await send(main)];
      expect(a).toEqual(b);
    }
    const scope = { workspace: 'wk', from: 0, to: Date.UTC(2100, 0, 1) };
    const [a, b] = await Promise.all([
      workers.app.store.listEvents(scope, { limit: 1000 }),
      main.app.store.listEvents(scope, { limit: 1000 }),
    ]);
    expect(a.length).toBe(93);
    expect(a).toEqual(b);
    expect(workers.app.ingestWorkerCounts()).toEqual({ encoded: 2, declined: 5 });
    expect(main.app.ingestWorkerCounts()).toEqual({ encoded: 0, declined: 0 });
  });
});
