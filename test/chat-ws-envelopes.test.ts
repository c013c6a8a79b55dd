/**
 * The WebSocket envelopes' hot path (bench/ws.ts): the hand-written ping/pong check gives exactly zod's result on every frame
 * it accepts and leaves every other frame (valid or not) to zod, so errors are unchanged; the pong template is byte for byte
 * the serialized envelope; the per-millisecond ISO time is the time; ws message counts reach /metrics when scraped.
 */
import { describe, expect, it } from 'vitest';
import { AppMetrics, type MetricSources } from '../src/observability/metrics.js';
import {
  envelope,
  fastHeartbeatMessage,
  isoNow,
  parseClientMessage,
  pongFrame,
  ProtocolError,
  validateClientMessage,
} from '../src/server/ws/envelopes.js';

/** parseClientMessage's outcome as data: the message, or the error's code, field, message and request id. */
function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { code: err.code, field: err.field, message: err.message, requestId: err.requestId };
  }
}

const zodOnly = (text: string) => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return parseClientMessage(text);
  } // bad JSON: same path either way
  return validateClientMessage(raw);
};

describe('ws envelope fast path', () => {
  const valid = [
    '{"type":"ping"}',
    '{"type":"pong"}',
    '{"type":"ping","request_id":"r1"}',
    '{"request_id":"","type":"pong"}',
    '{"type":"ping","payload":{}}',
    '{"payload":{},"type":"ping","request_id":"x"}',
    `{"type":"ping","request_id":"${'a'.repeat(128)}"}`,
  ];
  const handedToZod = [
    // valid, but not the exact shape the fast path takes
    '{"type":"ping","payload":{"a":1}}',
    '{"type":"list_threads"}',
    '{"type":"user_message","payload":{"content":" hi "}}',
    // invalid
    '{"type":"ping","request_id":5}',
    `{"type":"ping","request_id":"${'a'.repeat(129)}"}`,
    '{"type":"ping","extra":1}',
    '{"type":"ping","payload":null}',
    '{"type":"ping","payload":[]}',
    '{"type":"ping","payload":"x"}',
    '{"type":"ping","payload":{"__proto__":{"polluted":1}},"request_id":"r"}',
    '{"type":"ping","__proto__":{}}',
    '{"type":"PING"}',
    '{"type":"ping ","request_id":"r"}',
    '{"type":["ping"]}',
    '["ping"]',
    'null',
    '"ping"',
    '{"type":"ping","request_id":null}',
    '{"type":"ping","request_id":"r","request_id":7}',
    '{}',
    '{"type":""}',
    '{"type":"no_such"}',
  ];

  it('accepts the exact ping/pong shapes with the same result as zod', () => {
    for (const f of valid) {
      const fast = fastHeartbeatMessage(JSON.parse(f));
      expect(fast, f).not.toBeNull();
      expect(fast, f).toEqual(validateClientMessage(JSON.parse(f)));
      expect(parseClientMessage(f), f).toEqual(fast);
    }
  });

  it('hands every other frame, valid or not, to zod: same message or same error', () => {
    for (const f of handedToZod) {
      expect(fastHeartbeatMessage(JSON.parse(f)), f).toBeNull();
      expect(
        outcome(() => parseClientMessage(f)),
        f,
      ).toEqual(outcome(() => zodOnly(f)));
    }
    expect(outcome(() => parseClientMessage('{"type":"ping","request_id":5}'))).toMatchObject({
      code: 'NETRA_E_VALIDATION',
      field: 'request_id',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('agrees with zod on a fuzz of mutated ping frames', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const values = [undefined, null, 0, 'r', '', 'x'.repeat(129), {}, { a: 1 }, [], true, 'ping', 'pong'] as const;
    let fastTaken = 0;
    for (let i = 0; i < 2000; i++) {
      const o: Record<string, unknown> = {};
      for (const k of ['type', 'payload', 'request_id', 'extra']) {
        if (rnd() < (k === 'extra' ? 0.1 : 0.6))
          o[k] = k === 'type' ? pick(['ping', 'pong', 'list_threads', '', 7] as const) : pick(values);
      }
      const f = JSON.stringify(o);
      if (fastHeartbeatMessage(JSON.parse(f))) fastTaken++;
      expect(
        outcome(() => parseClientMessage(f)),
        f,
      ).toEqual(outcome(() => zodOnly(f)));
    }
    expect(fastTaken).toBeGreaterThan(50); // the fuzz exercised the fast path, not only zod
  });

  it('writes the pong frame byte for byte as the serialized envelope', () => {
    const t = isoNow();
    for (const rid of [undefined, 'r1', '', 'quote"back\\slash\u2028', 'é']) {
      const e = { ...envelope('pong', { server_time: t }, rid !== undefined ? { request_id: rid } : {}), ts: t };
      expect(pongFrame(rid, t)).toBe(JSON.stringify(e));
    }
  });

  it('isoNow is the current time as an ISO string', () => {
    const before = Date.now();
    const t = Date.parse(isoNow());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
    expect(isoNow()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

describe('ws message metrics', () => {
  it('counts messages by direction and type, visible at every scrape', async () => {
    const src: MetricSources = {
      syncStoreTimings() {},
      cache: () => null,
      pool: () => null,
      eventLoop: () => ({ mean_ms: 0, p50_ms: 0, p99_ms: 0, max_ms: 0 }),
      memory: () => ({ heap_used_bytes: 0, heap_total_bytes: 0, heap_limit_bytes: 0, rss_bytes: 0, external_bytes: 0, heap_used_ratio: 0 }),
      memoryStatus: () => 'healthy',
      failedStartupTasks: () => 0,
      llmBreakers: () => [],
    };
    const m = new AppMetrics(src, { pool: false });
    const line = (text: string, dir: string, type: string) =>
      Number(new RegExp(`netra_ws_messages_total\\{direction="${dir}",type="${type}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? NaN);
    for (let i = 0; i < 3; i++) m.observeWsMessage('in', 'ping');
    m.observeWsMessage('out', 'pong');
    let text = await m.text();
    expect(line(text, 'in', 'ping')).toBe(3);
    expect(line(text, 'out', 'pong')).toBe(1);
    m.observeWsMessage('in', 'ping');
    m.observeWsMessage('in', 'invalid');
    text = await m.text();
    expect(line(text, 'in', 'ping')).toBe(4); // cumulative across scrapes, not reset
    expect(line(text, 'in', 'invalid')).toBe(1);
    expect(line(await m.text(), 'out', 'pong')).toBe(1); // a scrape with nothing new changes nothing
  });
});
