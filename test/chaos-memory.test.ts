/**
 * Chaos: memory pressure. Concurrent large ingest requests reserve their worst case from a global budget before their
 * body is read: over it, 503 NETRA_E_OVERLOADED with Retry-After at once (nothing buffered), and the budget comes back
 * when they finish; OTLP exports reserve from the same budget. One request's memory is bounded by batch bytes (text-heavy events flush early). Readiness reports
 * resident memory against the memory limit.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestor } from '../src/ingest/pipeline.js';
import { decodeStatus, encodeTraceRequest } from '../src/ingest/otlp-proto.js';
import { OTLP_PROTOBUF_EXPANSION } from '../src/server/memory-budget.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const line = (i: number, text = 'hello') =>
  JSON.stringify({
    event_id: `m-${i}`,
    timestamp: T0 + i,
    model: 'gpt-4o-mini',
    prompt_tokens: 10,
    completion_tokens: 1,
    prompt_text: text,
  }) + '\n';

describe('chaos: memory pressure', () => {
  let t: TestApp;
  let base: string;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ ingest: { memoryBudgetBytes: 40 << 20, maxBatchBytes: 8 << 20 } });
    base = await t.app.listen();
    token = await t.token();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Opens an NDJSON upload and sends its first line; the body stays open until `finish`. */
  function openUpload(from: number): {
    req: ClientRequest;
    res: Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }>;
    finish: () => void;
  } {
    const req = request(`${base}/api/v1/events?workspace=mem`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    });
    const res = new Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }>((resolve, reject) => {
      req.on('response', (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode!, body, headers: r.headers }));
      });
      req.on('error', reject);
    });
    req.write(line(from));
    return {
      req,
      res,
      finish: () => {
        for (let i = 1; i < 50; i++) req.write(line(from + i));
        req.end();
      },
    };
  }

  it('refuses a request that does not fit the global budget at once (503 + Retry-After); the budget comes back', async () => {
    const budget = () => t.app.server.inject({ url: '/health/ready' });
    const a = openUpload(1000);
    const b = openUpload(2000);
    // both hold their reservation once the server started reading them; wait until it did (they are in flight)
    const reserve = 2 * (8 << 20) + (1 << 20);
    for (;;) {
      // polls the budget the server reports until both uploads hold their reservation
      const used = (await budget()).json().body_budget.in_use_bytes as number;
      if (used >= 2 * reserve) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const t0 = performance.now();
    const refused = await t.app.server.inject({
      method: 'POST',
      url: '/api/v1/events?workspace=mem',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      payload: line(3000),
    });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error).toMatchObject({ code: 'NETRA_E_OVERLOADED', field: '(body)' });
    expect(refused.headers['retry-after']).toBe('2');
    a.finish();
    b.finish();
    const [ra, rb] = await Promise.all([a.res, b.res]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect(JSON.parse(ra.body).accepted).toBe(50);
    const again = await t.app.server.inject({
      method: 'POST',
      url: '/api/v1/events?workspace=mem',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      payload: line(3000),
    });
    expect(again.statusCode).toBe(200);
    const after = (await budget()).json();
    expect(after.body_budget).toMatchObject({ in_use_bytes: 0, refused: 1 });
    expect(after.memory.rss_bytes).toBeGreaterThan(0);
  }, 30_000);

  it('an OTLP export reserves from the same budget: refused with 503 + Retry-After and an OTLP status while it is spent', async () => {
    const budget = async () => (await t.app.server.inject({ url: '/health/ready' })).json().body_budget;
    const refusedBefore = (await budget()).refused as number;
    // 3,072 GenAI spans: about 1 MB of protobuf, reserved at 20 times its size: more than the 6 MiB left below
    const attrs = (n: number) =>
      [
        ['gen_ai.operation.name', 'chat'],
        ['gen_ai.provider.name', 'openai'],
        ['gen_ai.request.model', 'gpt-4o-mini'],
        ['gen_ai.response.model', 'gpt-4o-mini-2024-07-18'],
        ['session.id', `session-${n % 50}`],
        ['user.id', `user-${n % 200}`],
      ].map(([key, v]) => ({ key, value: { stringValue: v } }));
    const spans = Array.from({ length: 3072 }, (_, n) => ({
      traceId: (n + 1).toString(16).padStart(32, '0'),
      spanId: (n + 1).toString(16).padStart(16, '0'),
      startTimeUnixNano: String(BigInt(T0 + n) * 1_000_000n),
      endTimeUnixNano: String(BigInt(T0 + n + 500) * 1_000_000n),
      attributes: [...attrs(n), { key: 'gen_ai.usage.input_tokens', value: { intValue: '100' } }],
    }));
    const body = Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    expect(body.length * OTLP_PROTOBUF_EXPANSION).toBeGreaterThan(8 << 20);
    const otlp = () =>
      t.app.server.inject({
        method: 'POST',
        url: '/v1/traces?workspace=mem-otlp',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' },
        payload: body,
      });
    // two open uploads hold 34 of the 40 MiB
    const a = openUpload(5000);
    const b = openUpload(6000);
    while ((await budget()).in_use_bytes < 2 * (2 * (8 << 20) + (1 << 20))) await new Promise((res) => setTimeout(res, 10));
    const refused = await otlp();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(decodeStatus(refused.rawPayload)).toMatchObject({ code: 14, message: expect.stringMatching(/memory budget/) });
    a.finish();
    b.finish();
    await Promise.all([a.res, b.res]);
    const ok = await otlp();
    expect(ok.statusCode).toBe(200);
    expect(await budget()).toMatchObject({ in_use_bytes: 0, refused: refusedBefore + 1 });
  }, 30_000);

  it('one request holds at most two batches of text: text-heavy events flush by bytes', async () => {
    const batches: number[] = [];
    const ingestor = createIngestor({
      store: {
        append: async (evs: readonly WorkloadEvent[]) => {
          batches.push(evs.length);
          return { inserted: evs.length, duplicates: 0 };
        },
      },
      pricer: { price: () => ({ cost_usd: 0, provider: 'openai' }) },
      maxBatchBytes: 4 << 20,
    });
    const big = 'x'.repeat(500_000);
    const r = await ingestor.ingest(
      'w',
      Array.from({ length: 40 }, (_, i) => ({ index: i, raw: { event_id: `b${i}`, timestamp: T0, model: 'm', prompt_text: big } })),
    );
    expect(r.accepted).toBe(40);
    // each event holds ≈ 1,000,400 bytes; a batch is stored once it reaches 4 MiB: 5 events at most (never 2,000)
    expect(Math.max(...batches)).toBeLessThanOrEqual(5);
    expect(batches.length).toBeGreaterThanOrEqual(8);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(40);
  });
});
