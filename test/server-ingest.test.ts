import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

function ev(i: number, extra: Record<string, unknown> = {}) {
  return {
    event_id: `e-${i}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    model: 'gpt-4o-mini',
    prompt_tokens: 1000,
    completion_tokens: 100,
    latency_ms: 500 + i,
    ...extra,
  };
}

describe('HTTP ingestion and queries', () => {
  let t: TestApp;
  // every request as the local owner (all routes but /health/* need a token)
  let auth: { authorization: string };
  const inject = (opts: import('fastify').InjectOptions) => t.app.server.inject({ ...opts, headers: { ...auth, ...opts.headers } });

  beforeAll(async () => {
    t = await startTestApp({ ingest: { maxEventsPerRequest: 50, maxBodyBytes: 64 * 1024 } });
    auth = await t.auth();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers liveness and readiness with per-dependency status', async () => {
    expect((await inject({ url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    const deps = ready.json().dependencies as { name: string; ok: boolean }[];
    expect(deps.map((d) => d.name)).toEqual(['relational (pglite)', 'analytics (duckdb)']);
    expect(deps.every((d) => d.ok)).toBe(true);
  });

  it('stores a valid JSON array (200), prices it from the catalog, and stores nothing twice on resend', async () => {
    const body = [ev(1), ev(2), ev(3)];
    const r = await inject({ method: 'POST', url: '/api/v1/events?workspace=ws1', payload: body });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ accepted: 3, rejected: 0, duplicates: 0 });
    const again = await inject({ method: 'POST', url: '/api/v1/events?workspace=ws1', payload: { events: body } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 3 });
    const stats = (await inject({ url: '/api/v1/stats?workspace=ws1' })).json();
    expect(stats.events).toBe(3);
    expect(stats.prompt_tokens).toBe(3000);
    const rates = t.app.catalog().rates('ws1', 'gpt-4o-mini')!;
    expect(stats.spend_usd).toBeCloseTo(3 * (1000 * rates.input + 100 * rates.output), 12);
  });

  it('keeps the valid events of a partly invalid batch (207) and names index and field of each bad one', async () => {
    const body = [
      ev(10),
      ev(11, { prompt_tokens: -5 }),
      ev(12, { model: '' }),
      ev(13, { timestamp: 'yesterday' }),
      { model: 'gpt-4o' },
      ev(15, { completion_tokens: 'many' }),
      ev(16),
    ];
    const r = await inject({ method: 'POST', url: '/api/v1/events?workspace=ws2', payload: body });
    expect(r.statusCode).toBe(207);
    const j = r.json();
    expect(j.accepted).toBe(2);
    expect(j.rejected).toBe(5);
    const byIndex = Object.fromEntries(j.errors.map((e: { index: number; field: string }) => [e.index, e.field]));
    expect(byIndex).toEqual({ 1: 'prompt_tokens', 2: 'model', 3: 'timestamp', 4: 'timestamp', 5: 'completion_tokens' });
    expect((await inject({ url: '/api/v1/stats?workspace=ws2' })).json().events).toBe(2);
  });

  it('answers 400 when no event is valid, and 413 above the event and byte limits', async () => {
    const none = await inject({ method: 'POST', url: '/api/v1/events?workspace=ws3', payload: [ev(1, { model: '' })] });
    expect(none.statusCode).toBe(400);
    expect(none.json().error.code).toBe('NETRA_E_NO_VALID_EVENTS');
    const many = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=ws3',
      payload: Array.from({ length: 51 }, (_, i) => ev(i)),
    });
    expect(many.statusCode).toBe(413);
    expect(many.json().error).toMatchObject({ code: 'NETRA_E_TOO_MANY_EVENTS', field: 'events' });
    const big = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=ws3',
      payload: [ev(1, { prompt_text: 'x'.repeat(70 * 1024) })],
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('NETRA_E_BODY_TOO_LARGE');
    expect((await inject({ url: '/api/v1/stats?workspace=ws3' })).json().events).toBe(0);
  });

  it('rejects malformed JSON, wrong shapes, bad workspace names and unknown content types with a clear error', async () => {
    const bad = await inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: '[{"model": ',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/malformed JSON/);
    const shape = await inject({ method: 'POST', url: '/api/v1/events', payload: { foo: 1 } });
    expect(shape.statusCode).toBe(400);
    expect(shape.json().error.message).toMatch(/array of events/);
    const ws = await inject({ method: 'POST', url: '/api/v1/events?workspace=../etc', payload: [ev(1)] });
    expect(ws.statusCode).toBe(400);
    expect(ws.json().error.field).toBe('workspace');
    const ct = await inject({ method: 'POST', url: '/api/v1/events', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(ct.statusCode).toBe(415);
  });

  it('streams NDJSON bodies, reporting malformed lines by line number and keeping the rest', async () => {
    const lines = [JSON.stringify(ev(100)), '{"oops', '', JSON.stringify(ev(101, { latency_ms: -1 })), JSON.stringify(ev(102))].join('\n');
    const r = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=nd',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: lines,
    });
    expect(r.statusCode).toBe(207);
    const j = r.json();
    expect(j.accepted).toBe(2);
    expect(j.errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [2, '(json)'],
      [4, 'latency_ms'],
    ]);
  });

  it('turns OTLP GenAI spans into events', async () => {
    const attr = (key: string, v: string | number) => ({
      key,
      value: typeof v === 'string' ? { stringValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
    });
    const start = BigInt(T0) * 1_000_000n;
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', 'support-bot')] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  name: 'chat gpt-4o',
                  startTimeUnixNano: String(start),
                  endTimeUnixNano: String(start + 1_500_000_000n),
                  attributes: [
                    attr('gen_ai.operation.name', 'chat'),
                    attr('gen_ai.request.model', 'gpt-4o'),
                    attr('gen_ai.usage.input_tokens', 800),
                    attr('gen_ai.usage.output_tokens', 120),
                  ],
                },
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b175',
                  name: 'db query',
                  startTimeUnixNano: String(start),
                  endTimeUnixNano: String(start + 1000n),
                  attributes: [],
                },
              ],
            },
          ],
        },
      ],
    };
    const r = await inject({ method: 'POST', url: '/v1/traces?workspace=otel', payload: body });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ accepted: 1, skipped_spans: 1 });
    const events = (await inject({ url: '/api/v1/events?workspace=otel' })).json().events;
    expect(events[0]).toMatchObject({
      model: 'gpt-4o',
      app: 'support-bot',
      prompt_tokens: 800,
      completion_tokens: 120,
      latency_ms: 1500,
      span_id: 'eee19b7ec3c1b174',
    });
  });

  it('applies a workspace price override and reprices stored events of that workspace only', async () => {
    await inject({ method: 'POST', url: '/api/v1/events?workspace=pa', payload: [ev(1), ev(2)] });
    await inject({ method: 'POST', url: '/api/v1/events?workspace=pb', payload: [ev(1), ev(2)] });
    const before = (await inject({ url: '/api/v1/stats?workspace=pb' })).json().spend_usd;
    const bad = await inject({ method: 'PUT', url: '/api/v1/workspaces/pa/price-overrides/gpt-4o-mini', payload: { input: 0.15 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('input');
    const put = await inject({
      method: 'PUT',
      url: '/api/v1/workspaces/pa/price-overrides/gpt-4o-mini',
      payload: { input: 1e-6, output: 2e-6 },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json().repriced.updated).toBe(2);
    const pa = (await inject({ url: '/api/v1/stats?workspace=pa' })).json();
    expect(pa.spend_usd).toBeCloseTo(2 * (1000 * 1e-6 + 100 * 2e-6), 12);
    expect((await inject({ url: '/api/v1/stats?workspace=pb' })).json().spend_usd).toBe(before);
    const later = await inject({ method: 'POST', url: '/api/v1/events?workspace=pa', payload: [ev(3)] });
    expect(later.statusCode).toBe(200);
    expect((await inject({ url: '/api/v1/stats?workspace=pa' })).json().spend_usd).toBeCloseTo(3 * (1000 * 1e-6 + 100 * 2e-6), 12);
  });

  it('validates time ranges', async () => {
    const r = await inject({ url: '/api/v1/stats?workspace=ws1&from=2026-11-21&to=2026-11-20' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.field).toBe('from');
    const ok = await inject({ url: `/api/v1/stats?workspace=ws1&from=${T0 + 2000}&to=${T0 + 3000}` });
    expect(ok.json().events).toBe(1);
  });
});
