/**
 * Bounds at the ingest door: timestamps outside 2000-01-01..2100-01-01 (including values outside JavaScript's date range)
 * are row errors naming the field and the row, never a 500 and never losing the valid rows of the request; OTLP attribute
 * values and message parts nested deeper than the decoding cap reject their span with a reason and keep the others;
 * text with lone UTF-16 surrogates or NUL characters is repaired to U+FFFD before it is stored.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const ev = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `b-${i}`,
  timestamp: T0 + i * 1000,
  model: 'gpt-4o-mini',
  prompt_tokens: 100,
  completion_tokens: 10,
  ...extra,
});

function span(id: string, attrs: unknown[], start = String(BigInt(T0) * 1_000_000n)) {
  return {
    traceId: 'aa'.repeat(16),
    spanId: id,
    name: 'chat',
    startTimeUnixNano: start,
    endTimeUnixNano: start,
    attributes: [
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '10' } },
      ...attrs,
    ],
  };
}
const otlp = (spans: unknown[]) => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });

/** JSON text of a kvlistValue nested `depth` deep (built as text: JSON.stringify itself would overflow the stack). */
function deepKvlist(depth: number): string {
  return '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth) + '{"stringValue":"bottom"}' + '}]}}'.repeat(depth);
}
/** An OTLP body as text, with `raw` (JSON text) spliced in as the value of a marker attribute. */
function otlpText(spans: unknown[], raw: string): string {
  return JSON.stringify(otlp(spans)).replace('"@@RAW@@"', raw);
}

describe('ingest bounds', () => {
  let t: TestApp;
  let auth: { authorization: string };
  const inject = (opts: import('fastify').InjectOptions) => t.app.server.inject({ ...opts, headers: { ...auth, ...opts.headers } });
  beforeAll(async () => {
    t = await startTestApp();
    auth = await t.auth();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('JSON: timestamps outside the JavaScript date range are row errors naming index and field; valid rows kept', async () => {
    const r = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=tsj',
      payload: [ev(1), ev(2, { timestamp: 1e21 }), ev(3, { timestamp: 8.64000000000001e15 }), ev(4, { timestamp: -1e20 }), ev(5)],
    });
    expect(r.statusCode).toBe(207);
    const j = r.json();
    expect(j.accepted).toBe(2);
    expect(j.errors.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([
      [1, 'timestamp'],
      [2, 'timestamp'],
      [3, 'timestamp'],
    ]);
    expect(j.errors[0].message).toMatch(/outside 2000-01-01\.\.2100-01-01/);
  });

  it('NDJSON: a bad timestamp names its line and the rows after it are kept', async () => {
    const body = [ev(11), ev(12, { timestamp: 1e21 }), ev(13), ev(14)].map((e) => JSON.stringify(e)).join('\n');
    const r = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=tsn',
      payload: body,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(r.statusCode).toBe(207);
    expect(r.json()).toMatchObject({ accepted: 3, rejected: 1, errors: [{ line: 2, field: 'timestamp' }] });
  });

  it('OTLP: startTimeUnixNano 1e30 rejects that span only', async () => {
    const r = await inject({
      method: 'POST',
      url: '/v1/traces?workspace=tso',
      payload: otlp([
        span('01'.repeat(8), []),
        span('02'.repeat(8), [], '1' + '0'.repeat(30)),
        { ...span('03'.repeat(8), []), startTimeUnixNano: 1e30 },
      ]),
    });
    expect(r.statusCode).toBe(200); // OTLP: partial success is a 200 with partialSuccess
    expect(r.json().partialSuccess?.rejectedSpans).toBe(r.json().rejected);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 2 });
    const errs = r.json().errors as { index: number; field: string }[];
    expect(errs.filter((e) => e.field === 'timestamp').map((e) => e.index)).toEqual([1, 2]);
  });

  it('OpenAI logs: created 1e13 (seconds) is a row error', async () => {
    const log = (id: string, created: number) => ({
      response: { id, created, model: 'gpt-4o-mini', usage: { prompt_tokens: 5, completion_tokens: 1 } },
    });
    const r = await inject({ method: 'POST', url: '/api/v1/logs/openai?workspace=tsa', payload: [log('a', T0 / 1000), log('b', 1e13)] });
    expect(r.statusCode).toBe(207);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 1, errors: [{ index: 1, field: 'timestamp' }] });
  });

  it('netra import (file): a bad timestamp is a row error with its line; the other rows are stored', async () => {
    const file = join(t.dir, 'bad-ts.jsonl');
    writeFileSync(file, [ev(21), ev(22, { timestamp: 1e21 }), ev(23)].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const r = await t.app.importFile(file, { workspace: 'tsf', format: 'jsonl' });
    expect(r).toMatchObject({ accepted: 2, rejected: 1 });
    expect(r.errors[0]).toMatchObject({ line: 2, field: 'timestamp' });
  });

  it('OTLP: an attribute nested 20,000 deep rejects its span with a reason; the valid span is kept', async () => {
    const payload = otlpText(
      [span('04'.repeat(8), [{ key: 'netra.tag.x', value: '@@RAW@@' }]), span('05'.repeat(8), [])],
      deepKvlist(20_000),
    );
    const r = await inject({ method: 'POST', url: '/v1/traces?workspace=deep', payload, headers: { 'content-type': 'application/json' } });
    expect(r.statusCode).toBe(200); // OTLP: partial success is a 200 with partialSuccess
    expect(r.json().partialSuccess?.rejectedSpans).toBe(r.json().rejected);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 1 });
    expect(r.json().errors[0].message).toMatch(/nested deeper than/);
  });

  it('OTLP: a message part 5,000 deep rejects its span; the valid span is kept', async () => {
    const part = '{"type":"wrap","inner":['.repeat(5000) + '{"type":"text","content":"x"}' + ']}'.repeat(5000);
    const input = `[{"role":"user","parts":[${part}]}]`;
    const r = await inject({
      method: 'POST',
      url: '/v1/traces?workspace=deep2',
      payload: otlp([span('06'.repeat(8), [{ key: 'gen_ai.input.messages', value: { stringValue: input } }]), span('07'.repeat(8), [])]),
    });
    expect(r.statusCode).toBe(200); // OTLP: partial success is a 200 with partialSuccess
    expect(r.json().partialSuccess?.rejectedSpans).toBe(r.json().rejected);
    expect(r.json()).toMatchObject({ accepted: 1, rejected: 1 });
    expect(r.json().errors[0].message).toMatch(/nested deeper than/);
  });

  it('lone surrogates and NUL are repaired to U+FFFD in every text field and tag', async () => {
    const r = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=utf',
      payload: `[${JSON.stringify(ev(31, { app: 'a\u0000b', prompt_text: 'p' })).replace('"prompt_text":"p"', '"prompt_text":"x\\ud800y","tags":{"k\\udc00":"v\\ud800"}')}]`,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(200);
    const [row] = await t.app.store.listEvents({ workspace: 'utf' });
    expect(row!.app).toBe('a\ufffdb');
    expect(row!.prompt_text).toBe('x\ufffdy');
    expect(row!.tags).toEqual({ 'k\ufffd': 'v\ufffd' });
    const a = await inject({ url: '/api/v1/analysis?workspace=utf' });
    expect(a.statusCode).toBe(200);
  });
});
