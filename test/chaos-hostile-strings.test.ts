/**
 * Chaos: hostile strings through every ingest path (JSON, NDJSON, OTLP JSON, OpenAI logs, a CSV file) — lone UTF-16
 * surrogates, NUL, SQL and parameter syntax, JSON fragments, control and bidi characters, long text — then the whole
 * read side: stats, event listing, analysis, policy, a simulation, the precompute and a chat run. Nothing may fail
 * or answer 5xx, and no stored string may hold an invalid code unit.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

const HOSTILE = [
  '\ud800',
  'a\udc00b',
  '\udfff\ud800',
  'nul\u0000byte',
  "'; DROP TABLE events; --",
  '" OR 1=1 --',
  '$1',
  '$ws',
  '{ws:String}',
  '?',
  '{"a":',
  '\\',
  '\\u0000',
  '"',
  'line\nbreak\r\ttab',
  '\u2028\u2029',
  '\u202eevil',
  '\ufeffbom',
  '🔥'.repeat(50),
  'é'.repeat(150),
  'x'.repeat(1999),
  '%s%n%x',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'NaN',
  'null',
  '',
];
const WS = 'hostile';
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed() && !s.includes('\u0000');
const short = (s: string, n: number) => (s === '' ? '-' : s.slice(0, n));

function jsonEvent(i: number, h: string) {
  return {
    event_id: `j-${i}`,
    timestamp: T0 + i * 1000,
    model: i % 3 === 0 ? short(h, 100) : 'gpt-4o-mini',
    cost_usd: 0.001,
    prompt_tokens: 100 + i,
    completion_tokens: 10,
    latency_ms: 200 + i,
    app: short(h, 200),
    environment: short(h, 100),
    end_user: short(h, 200),
    session_id: short(h, 200),
    error_type: h.slice(0, 200),
    finish_reason: h.slice(0, 60),
    prompt_text: h,
    response_text: h,
    tags: { [short(h, 100)]: h.slice(0, 2000), plain: h.slice(0, 2000) },
    ...(i % 2 === 0
      ? {
          messages: [
            { role: 'system', content: h },
            { role: short(h, 30), content: h },
          ],
        }
      : {}),
  };
}

describe('chaos: hostile strings through every ingest path', () => {
  let t: TestApp;
  let auth: { authorization: string };
  const inject = (opts: import('fastify').InjectOptions) => t.app.server.inject({ ...opts, headers: { ...auth, ...opts.headers } });
  beforeAll(async () => {
    t = await startTestApp();
    auth = await t.auth();
    await t.app.generate({ preset: 'chat-support', events: 1500, days: 2, seed: 5, workspace: WS, end: T0 });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('every path accepts them (repaired where needed); nothing answers 5xx', async () => {
    const json = await inject({ method: 'POST', url: `/api/v1/events?workspace=${WS}`, payload: HOSTILE.map((h, i) => jsonEvent(i, h)) });
    expect(json.statusCode, json.body).toBe(200);

    const ndjson = HOSTILE.map((h, i) => JSON.stringify({ ...jsonEvent(i, h), event_id: `n-${i}` })).join('\n');
    const nd = await inject({
      method: 'POST',
      url: `/api/v1/events?workspace=${WS}`,
      payload: ndjson,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(nd.statusCode, nd.body).toBe(200);

    const spans = HOSTILE.map((h, i) => ({
      traceId: 'ab'.repeat(16),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: 'chat',
      startTimeUnixNano: String(BigInt(T0 + i * 1000) * 1_000_000n),
      endTimeUnixNano: String(BigInt(T0 + i * 1000 + 300) * 1_000_000n),
      attributes: [
        { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: '50' } },
        { key: 'netra.app', value: { stringValue: short(h, 200) } },
        { key: 'netra.tag.' + short(h, 60), value: { stringValue: h.slice(0, 2000) } },
        { key: 'netra.tag.list', value: { arrayValue: { values: [{ stringValue: h.slice(0, 100) }] } } },
        { key: 'gen_ai.input.messages', value: { stringValue: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: h }] }]) } },
        {
          key: 'gen_ai.output.messages',
          value: { stringValue: JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: h }] }]) },
        },
      ],
    }));
    const otlp = await inject({
      method: 'POST',
      url: `/v1/traces?workspace=${WS}`,
      payload: {
        resourceSpans: [
          { resource: { attributes: [{ key: 'service.name', value: { stringValue: '\ud800svc' } }] }, scopeSpans: [{ spans }] },
        ],
      },
    });
    expect(otlp.statusCode, otlp.body).toBe(200);

    const logs = HOSTILE.map((h, i) => ({
      request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: h }] },
      response: {
        id: `chatcmpl-${i}`,
        created: Math.floor(T0 / 1000) + i,
        model: 'gpt-4o-mini',
        usage: { prompt_tokens: 20, completion_tokens: 5 },
        choices: [{ message: { role: 'assistant', content: h }, finish_reason: 'stop' }],
      },
      metadata: { app: short(h, 200), tags: { [short(h, 100)]: h.slice(0, 2000) }, end_user: short(h, 200) },
    }));
    const oa = await inject({ method: 'POST', url: `/api/v1/logs/openai?workspace=${WS}`, payload: logs });
    expect(oa.statusCode, oa.body).toBe(200);

    // CSV: quoted fields with quotes, newlines and commas; raw bytes a UTF-8 decoder must repair (CESU surrogate, NUL, 0xFF)
    const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
    const rows = HOSTILE.map((h, i) =>
      [String(T0 + i * 1000), 'gpt-4o-mini', '10', '2', q(short(h, 200)), q(h), q(JSON.stringify({ k: h.slice(0, 500) }))].join(','),
    );
    const head = Buffer.from(`timestamp,model,prompt_tokens,completion_tokens,app,prompt_text,tags\n${rows.join('\n')}\n`);
    const raw = Buffer.concat([
      head,
      Buffer.from(`${T0},gpt-4o-mini,1,1,`),
      Buffer.from([0xed, 0xa0, 0x80, 0x00, 0xff]),
      Buffer.from(',x,{}\n'),
    ]);
    const file = join(t.dir, 'hostile.csv');
    writeFileSync(file, raw);
    const csv = await t.app.importFile(file, { workspace: WS, format: 'csv' });
    expect(csv.rejected, JSON.stringify(csv.errors)).toBe(0);
    expect(csv.accepted).toBe(HOSTILE.length + 1);

    const stored = await t.app.store.listEvents({ workspace: WS, from: T0 - 1 }, { limit: 1000 });
    expect(stored.length).toBeGreaterThanOrEqual(HOSTILE.length * 5);
    for (const e of stored) {
      for (const v of [
        e.app,
        e.model,
        e.environment,
        e.end_user ?? '',
        e.prompt_text ?? '',
        e.response_text ?? '',
        ...Object.keys(e.tags),
        ...Object.values(e.tags),
      ]) {
        expect(wellFormed(v), JSON.stringify(v).slice(0, 80)).toBe(true);
      }
    }
  }, 60_000);

  it('the whole read side still works: stats, events, analysis, policy, simulation, precompute, a chat run, readiness', async () => {
    for (const url of [
      `/api/v1/stats?workspace=${WS}`,
      `/api/v1/events?workspace=${WS}&limit=1000`,
      `/api/v1/analysis?workspace=${WS}`,
      `/api/v1/policy?workspace=${WS}`,
    ]) {
      const r = await inject({ url });
      expect(r.statusCode, `${url}: ${r.body.slice(0, 300)}`).toBe(200);
    }
    for (const goal of ['cost', 'latency', 'balanced'])
      expect((await inject({ url: `/api/v1/policy?workspace=${WS}&goal=${goal}` })).statusCode).toBe(200);
    const sim = await inject({
      method: 'POST',
      url: '/api/v1/simulations',
      payload: { workspace: WS, policy: { routing: [{ match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }] } },
    });
    expect(sim.statusCode, sim.body.slice(0, 300)).toBe(200);
    const pre = await t.app.precompute.run(WS);
    expect(pre.outcome, pre.reason).not.toBe('failed');
    const started = await inject({
      method: 'POST',
      url: `/api/v1/runs?workspace=${WS}`,
      payload: { request: "Where does my money go? \ud800 '; DROP TABLE runs; --" },
    });
    expect(started.statusCode).toBe(202);
    await t.app.runs.whenDone(started.json().id);
    const run = (await inject({ url: `/api/v1/runs/${started.json().id}?workspace=${WS}` })).json();
    expect(run.status, JSON.stringify(run.events.at(-1))).toBe('completed');
    expect(run.events.map((e: { type: string }) => e.type)).toContain('final_report');
    const ready = await inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
  }, 120_000);
});
