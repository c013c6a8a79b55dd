/**
 * Smaller HTTP hardening: 413/415 name a field; `__proto__` keys are removed the same way in JSON and NDJSON (valid rows
 * kept); gzip/deflate bodies are inflated, other encodings refused 415 naming content-encoding; 10,001 events → 413
 * NETRA_E_TOO_MANY_EVENTS (as the README says); the data directory is 0700 and its files 0600; tokens carry
 * Cache-Control: no-store; client errors are logged at info without a stack; a store error's text never reaches the
 * body; simulation responses carry no SQL.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, deflateSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetraError } from '../src/errors.js';
import { installErrorHandler } from '../src/server/errors.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
let n = 0;
const ev = (extra: Record<string, unknown> = {}) => ({
  event_id: `h-${++n}`,
  timestamp: T0 + n,
  model: 'gpt-4o-mini',
  prompt_tokens: 10,
  completion_tokens: 1,
  ...extra,
});

describe('HTTP hardening', () => {
  let t: TestApp;
  let auth: { authorization: string };
  const inject = (opts: import('fastify').InjectOptions) => t.app.server.inject({ ...opts, headers: { ...auth, ...opts.headers } });
  beforeAll(async () => {
    t = await startTestApp({ ingest: { maxBodyBytes: 2 << 20 } });
    auth = await t.auth();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('413 and 415 name the field', async () => {
    const big = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=h',
      payload: JSON.stringify([ev({ prompt_text: 'x'.repeat(3 << 20) })]),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toMatchObject({ code: 'NETRA_E_BODY_TOO_LARGE', field: '(body)' });
    const media = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=h',
      payload: 'a,b',
      headers: { 'content-type': 'text/csv' },
    });
    expect(media.statusCode).toBe(415);
    expect(media.json().error).toMatchObject({ code: 'NETRA_E_UNSUPPORTED_MEDIA_TYPE', field: 'content-type' });
  });

  it('10,001 events → 413 NETRA_E_TOO_MANY_EVENTS naming events', async () => {
    const r = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=h',
      payload: Array.from({ length: 10_001 }, () => ({ model: 'x', timestamp: T0 })),
    });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatchObject({ code: 'NETRA_E_TOO_MANY_EVENTS', field: 'events' });
  });

  it('__proto__ keys are removed the same way in JSON and NDJSON; every valid row is kept', async () => {
    const rows = () => [
      `{"event_id":"p-${++n}","timestamp":${T0},"model":"gpt-4o-mini","__proto__":{"admin":true},"tags":{"__proto__":{"x":1},"a":"b"}}`,
      `{"event_id":"p-${++n}","timestamp":${T0},"model":"gpt-4o-mini","constructor":{"prototype":{"x":1}}}`,
      JSON.stringify(ev()),
    ];
    const json = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=proto',
      payload: `[${rows().join(',')}]`,
      headers: { 'content-type': 'application/json' },
    });
    expect(json.statusCode, json.body).toBe(200);
    expect(json.json().accepted).toBe(3);
    const nd = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=proto',
      payload: rows().join('\n'),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(nd.statusCode, nd.body).toBe(200);
    expect(nd.json().accepted).toBe(3);
    const stored = await t.app.store.listEvents({ workspace: 'proto' });
    expect(stored.filter((e) => e.tags.a === 'b').map((e) => e.tags)).toEqual([{ a: 'b' }, { a: 'b' }]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('gzip and deflate bodies are inflated (JSON and NDJSON); an unknown encoding is 415 naming content-encoding', async () => {
    const gz = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=gz',
      payload: gzipSync(JSON.stringify([ev(), ev()])),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(gz.statusCode, gz.body).toBe(200);
    expect(gz.json().accepted).toBe(2);
    const nd = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=gz',
      payload: deflateSync([ev(), ev(), ev()].map((e) => JSON.stringify(e)).join('\n')),
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'deflate' },
    });
    expect(nd.statusCode, nd.body).toBe(200);
    expect(nd.json().accepted).toBe(3);
    const bomb = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=gz',
      payload: gzipSync(Buffer.alloc(8 << 20, 32)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(bomb.statusCode).toBe(413);
    const odd = await inject({
      method: 'POST',
      url: '/api/v1/events?workspace=gz',
      payload: 'xx',
      headers: { 'content-type': 'application/json', 'content-encoding': 'zstd-ish' },
    });
    expect(odd.statusCode).toBe(415);
    expect(odd.json().error.field).toBe('content-encoding');
  });

  it('the data directory is 0700, its stores 0600 / 0700', () => {
    expect(statSync(t.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(t.dir, 'events.duckdb')).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.dir, 'pg')).mode & 0o777).toBe(0o700);
  });

  it('the local sign-in token is not cacheable', async () => {
    const r = await t.app.server.inject({ method: 'POST', url: '/api/v1/auth/local', headers: { host: '127.0.0.1' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('client errors are logged at info, one line, without a stack', async () => {
    const before = t.logs.length;
    await inject({ method: 'POST', url: '/api/v1/events?workspace=h', payload: { nope: 1 } });
    const lines = t.logs.slice(before).map((l) => JSON.parse(l) as { level: number; msg: string; err?: { stack?: string } });
    expect(lines.some((l) => l.level === 30 && /events|body/.test(l.msg))).toBe(true);
    expect(lines.every((l) => l.level < 50 && !l.err?.stack)).toBe(true);
  });

  it('a store error answers 503 without echoing its text (stored tag values, SQL)', async () => {
    const app = Fastify();
    installErrorHandler(app, { maxBodyBytes: 1024 });
    app.get('/x', async () => {
      throw new NetraError('STORE', 'DuckDB: Malformed JSON: Input: "{\\"secret-tag\\":1}" in SELECT * FROM events');
    });
    const r = await app.inject({ url: '/x' });
    expect(r.statusCode).toBe(503);
    expect(r.body).not.toMatch(/secret-tag|SELECT/);
    expect(r.json().error.code).toBe('NETRA_E_STORE');
    expect(r.headers['retry-after']).toBe('5');
    await app.close();
  });

  it('simulation responses carry no SQL', async () => {
    await t.app.generate({ preset: 'chat-support', events: 300, days: 1, seed: 2, workspace: 'sim', end: T0 });
    const r = await inject({
      method: 'POST',
      url: '/api/v1/simulations',
      payload: { workspace: 'sim', policy: { routing: [{ match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }] } },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().query).toBeUndefined();
    expect(r.body).not.toMatch(/SELECT|FROM events/);
  }, 30_000);
});
