/**
 * OTLP/HTTP receiver at POST /v1/traces: protobuf and JSON, gzip, responses in the request's encoding, OTLP status
 * semantics, and bad input (truncated protobuf, wrong content type, gzip bomb, 100k spans, hostile attributes).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOtlpExporter } from '../src/ingest/otlp-export.js';
import { decodeStatus, decodeTraceResponse, encodeTraceRequest } from '../src/ingest/otlp-proto.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const START = 1_795_000_000_000_000_000n; // 2026-11-18
type Attr = { key: string; value: Record<string, unknown> };
const s = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const i = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } });

function span(n: number, attributes: Attr[], extra: Record<string, unknown> = {}) {
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: n.toString(16).padStart(16, '0'),
    name: 'chat',
    kind: 3,
    startTimeUnixNano: String(START + BigInt(n) * 1_000_000n),
    endTimeUnixNano: String(START + BigInt(n) * 1_000_000n + 700_000_000n),
    attributes,
    status: {},
    ...extra,
  };
}
const llm = (n: number, extra: Attr[] = []) =>
  span(n, [
    s('gen_ai.operation.name', 'chat'),
    s('gen_ai.provider.name', 'openai'),
    s('gen_ai.request.model', 'gpt-4o-mini'),
    i('gen_ai.usage.input_tokens', 100 + n),
    i('gen_ai.usage.output_tokens', 10),
    ...extra,
  ]);
const request = (spans: unknown[], service = 'otlp-svc') => ({
  resourceSpans: [{ resource: { attributes: [s('service.name', service)] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }],
});

describe('OTLP/HTTP receiver', () => {
  let t: TestApp;
  let auth: { authorization: string };
  const post = (ws: string, payload: Buffer | string, headers: Record<string, string>) =>
    t.app.server.inject({ method: 'POST', url: `/v1/traces?workspace=${ws}`, payload, headers: { ...auth, ...headers } });
  const events = async (ws: string) =>
    (await t.app.server.inject({ url: `/api/v1/events?workspace=${ws}&limit=1000`, headers: auth })).json().events as Record<
      string,
      unknown
    >[];

  beforeAll(async () => {
    t = await startTestApp({ otlp: { grpcPort: 0, maxBodyBytes: 32 * 1024 * 1024, maxSpansPerRequest: 100_000 } });
    auth = await t.auth();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('takes protobuf, answers an ExportTraceServiceResponse in protobuf, stores the spans', async () => {
    const body = Buffer.from(encodeTraceRequest(request([llm(1), llm(2), span(3, [s('http.method', 'GET')])])));
    const r = await post('pb', body, { 'content-type': 'application/x-protobuf' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeTraceResponse(r.rawPayload)).toEqual({});
    const ev = await events('pb');
    expect(ev.map((e) => e.event_id).sort()).toEqual(['0000000000000001', '0000000000000002']);
    expect(ev.find((e) => e.event_id === '0000000000000002')).toMatchObject({
      app: 'otlp-svc',
      model: 'gpt-4o-mini',
      provider: 'openai',
      prompt_tokens: 102,
      completion_tokens: 10,
      latency_ms: 700,
      trace_id: '5b8efff798038103d269b633813fc60c',
    });
  });

  it('takes gzip protobuf and gzip JSON; JSON answers with partialSuccess and Netra counts', async () => {
    const pb = gzipSync(encodeTraceRequest(request([llm(10)])));
    const r1 = await post('gz', pb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r1.statusCode).toBe(200);
    const js = gzipSync(
      JSON.stringify(
        request([
          llm(11),
          llm(12, [i('gen_ai.usage.input_tokens', -4)]),
          span(13, [s('traceloop.span.kind', 'workflow'), s('traceloop.workflow.name', 'w')]),
        ]),
      ),
    );
    const r2 = await post('gz', js, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r2.statusCode).toBe(200);
    expect(r2.json()).toMatchObject({
      partialSuccess: { rejectedSpans: 1, errorMessage: expect.stringMatching(/span 1: prompt_tokens: must be >= 0/) },
      accepted: 1,
      rejected: 1,
      spans: 3,
      skipped_spans: 1,
      skipped_by_kind: { workflow: 1 },
    });
    expect((await events('gz')).length).toBe(2);
  });

  it('partial success in protobuf names the reason; valid spans of the batch are kept', async () => {
    const body = Buffer.from(
      encodeTraceRequest(request([llm(20), span(21, [s('gen_ai.operation.name', 'chat'), i('gen_ai.usage.input_tokens', 5)])])),
    );
    const r = await post('partial', body, { 'content-type': 'application/x-protobuf' });
    expect(r.statusCode).toBe(200);
    const res = decodeTraceResponse(r.rawPayload);
    expect(Number(res.partialSuccess?.rejectedSpans)).toBe(1);
    expect(res.partialSuccess?.errorMessage).toMatch(/span 1: model: required/);
    expect((await events('partial')).map((e) => e.event_id)).toEqual(['0000000000000014']);
  });

  it('answers a truncated protobuf with 400 and a google.rpc.Status body', async () => {
    const full = Buffer.from(encodeTraceRequest(request([llm(30), llm(31)])));
    const r = await post('trunc', full.subarray(0, full.length - 7), { 'content-type': 'application/x-protobuf' });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeStatus(r.rawPayload)).toMatchObject({ code: 3, message: expect.stringMatching(/malformed OTLP protobuf/) });
    const bad = await post('trunc', '{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'NETRA_E_VALIDATION', message: expect.stringMatching(/malformed OTLP\/JSON/) });
  });

  it('answers another content type with 415, an unknown encoding with 415, bad gzip with 400', async () => {
    const r = await post('ct', 'x', { 'content-type': 'text/plain' });
    expect(r.statusCode).toBe(415);
    expect(r.json().error.message).toMatch(/application\/x-protobuf or application\/json/);
    const br = await post('ct', Buffer.from(encodeTraceRequest(request([llm(1)]))), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'br',
    });
    expect(br.statusCode).toBe(415);
    const gz = await post('ct', Buffer.from('not gzip at all'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(gz.statusCode).toBe(400);
    expect(decodeStatus(gz.rawPayload).message).toMatch(/not valid gzip/);
  });

  it('refuses a gzip bomb (small body inflating past the limit) with 413 and keeps serving', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KiB
    expect(bomb.length).toBeLessThan(200_000);
    const r = await post('bomb', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r.statusCode).toBe(413);
    expect(decodeStatus(r.rawPayload)).toMatchObject({ code: 8, message: expect.stringMatching(/inflates past 33554432 bytes/) });
    const ok = await post('bomb', Buffer.from(encodeTraceRequest(request([llm(1)]))), { 'content-type': 'application/x-protobuf' });
    expect(ok.statusCode).toBe(200);
  });

  it('stores a 100k-span request (gzip) in full', async () => {
    const spans = Array.from({ length: 100_000 }, (_, n) => llm(n));
    const body = gzipSync(encodeTraceRequest(request(spans)));
    const r = await post('big', body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r.statusCode).toBe(200);
    expect(decodeTraceResponse(r.rawPayload)).toEqual({});
    const stats = (await t.app.server.inject({ url: '/api/v1/stats?workspace=big', headers: auth })).json();
    expect(stats.events).toBe(100_000);
  }, 120_000);

  it('keeps hostile attributes from doing harm: wrong types name the field, __proto__ keys stay data', async () => {
    const hostile = llm(40, [
      s('netra.tags.__proto__', 'polluted'),
      { key: 'metadata', value: { stringValue: '{"__proto__": {"x": 1}, "team": "a"}' } },
      { key: 'weird', value: { arrayValue: { values: [{ arrayValue: { values: [{ kvlistValue: {} }] } }] } } },
    ]);
    const nonsense = { spanId: 12, attributes: [{ key: 5 }, null, { key: 'gen_ai.request.model', value: 7 }] };
    const kvMessages = llm(42, [
      { key: 'gen_ai.input.messages', value: { kvlistValue: { values: [{ key: '__proto__', value: { stringValue: 'x' } }] } } },
    ]);
    const r = await post(
      'hostile',
      JSON.stringify(
        request([hostile, nonsense, llm(41, [{ key: 'gen_ai.usage.output_tokens', value: { stringValue: 'many' } }]), kvMessages]),
      ),
      { 'content-type': 'application/json' },
    );
    expect(r.statusCode).toBe(200);
    const j = r.json();
    expect(j.partialSuccess.rejectedSpans).toBe(3);
    expect(j.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, field: 'timestamp' }),
        expect.objectContaining({ index: 2, field: 'completion_tokens' }),
        expect.objectContaining({ index: 3, field: 'messages', message: 'expected array, received object' }),
      ]),
    );
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    const [e] = await events('hostile');
    expect(e).toMatchObject({ event_id: '0000000000000028' });
    expect((e!.tags as Record<string, string>).team).toBe('a');
  });

  it('refuses an export beyond the concurrency limit with a retryable NETRA_E_OVERLOADED (503 + Retry-After over HTTP)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started!: () => void;
    const inIngest = new Promise<void>((r) => {
      started = r;
    });
    const exporter = createOtlpExporter({
      ingest: async (_ws, items) => {
        started();
        await gate;
        return { accepted: [...(items as Iterable<unknown>)].length, rejected: 0, duplicates: 0, errors: [] };
      },
      maxSpansPerRequest: 10,
      maxConcurrent: 1,
    });
    const first = exporter.export('w', request([llm(1)]));
    await inIngest;
    expect(exporter.inFlight()).toBe(1);
    await expect(exporter.export('w', request([llm(2)]))).rejects.toMatchObject({ code: 'NETRA_E_OVERLOADED', status: 503 });
    release();
    expect(await first).toMatchObject({ accepted: 1, rejected_spans: 0 });
    expect(exporter.inFlight()).toBe(0);
    // spans beyond the per-request limit are rejected in partial success, the first ones stored
    const over = await exporter.export('w', request(Array.from({ length: 12 }, (_, n) => llm(n))));
    expect(over).toMatchObject({
      accepted: 10,
      rejected_spans: 2,
      error_message: expect.stringMatching(/2 span\(s\) beyond the limit of 10/),
    });
  });
});
