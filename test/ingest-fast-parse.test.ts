/**
 * The hand-written fast path of event validation must never accept what EventInputSchema (zod) rejects, and must
 * return exactly zod's parsed value when it accepts. Checked differentially over every field × a set of edge values,
 * and over seeded random combinations. Also: normalizeEvent's field errors (required vs wrong type, no spurious
 * cross-field errors).
 */
import { describe, expect, it } from 'vitest';
import { EventInputSchema, normalizeEvent, type Pricer } from '../src/workload/event.js';
import { parseEventInputFast } from '../src/workload/event-fast-parse.js';
import { INPUT_FIELD_NAMES } from '../src/workload/otel-mapping.js';

const T0 = Date.UTC(2026, 0, 1);
const BASES: Record<string, unknown>[] = [
  { timestamp: T0, model: 'gpt-4o' },
  {
    event_id: 'e-1',
    timestamp: '2026-01-01T00:00:00.123Z',
    app: 'bot',
    environment: 'prod',
    end_user: 'u',
    session_id: 's',
    trace_id: 't',
    span_id: 'sp',
    provider: 'openai',
    model: 'gpt-4o',
    operation: 'chat',
    prompt_tokens: 100,
    completion_tokens: 20,
    cached_prompt_tokens: 50,
    latency_ms: 900,
    ttft_ms: 300,
    status: 'ok',
    error_type: null,
    http_status: 200,
    finish_reason: 'stop',
    max_tokens: 512,
    temperature: 0.5,
    stream: true,
    cost_usd: 0.01,
    prompt_hash: 'h',
    prefix_hash: null,
    prefix_tokens: 10,
    prompt_text: 'p',
    response_text: '',
    quality_score: 1,
    tags: { team: 'a', n: 3, b: false },
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: '' },
    ],
    unknown_extra_field: 'ignored',
  },
];

const s = (n: number) => 'x'.repeat(n);
const PROBES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  s(32),
  s(33),
  s(64),
  s(65),
  s(128),
  s(129),
  s(200),
  s(201),
  s(256),
  s(257),
  s(2001),
  0,
  -1,
  1,
  1.5,
  5,
  5.01,
  50,
  100,
  101,
  99,
  599,
  600,
  899,
  900,
  901,
  10_000_000,
  10_000_001,
  100_000_000,
  100_000_001,
  86_400_000,
  86_400_001,
  NaN,
  Infinity,
  -Infinity,
  true,
  false,
  [],
  {},
  '12',
  '2026-01-01T00:00:00Z',
  '1999-12-31T23:59:59Z',
  '2100-01-01T00:00:00Z',
  Date.UTC(2100, 0, 1),
  Date.UTC(2100, 0, 1) - 1,
  Date.UTC(2000, 0, 1),
  Date.UTC(2000, 0, 1) - 1,
  'chat',
  'tool',
  'ok',
  'error',
  'nope',
  'not a date',
  [{ role: 'user', content: 'hi' }],
  [{ role: '', content: 'x' }],
  [{ role: 'user', content: 'x', extra: 1 }],
  [{ role: 'user' }],
  [null],
  ['x'],
  { a: 'b' },
  { a: 1, b: true },
  { a: {} },
  { a: null },
  { [s(201)]: 'v' },
  { a: s(2001) },
  { a: Infinity },
  [1],
  new Date(T0),
];

function check(raw: Record<string, unknown>): 'fast' | 'zod-ok' | 'rejected' {
  const fast = parseEventInputFast(raw);
  const z = EventInputSchema.safeParse(raw);
  if (fast !== null) {
    expect(
      z.success,
      `fast path accepted what zod rejects: ${JSON.stringify(raw).slice(0, 300)} → ${JSON.stringify(z.error?.issues)}`,
    ).toBe(true);
    expect(fast).toEqual(z.data);
    return 'fast';
  }
  return z.success ? 'zod-ok' : 'rejected';
}

describe('parseEventInputFast', () => {
  it('takes the fast path for the valid bases', () => {
    for (const b of BASES) expect(check(b)).toBe('fast');
  });

  it('agrees with zod for every field × edge value', () => {
    const tally = { fast: 0, 'zod-ok': 0, rejected: 0 };
    for (const base of BASES) {
      for (const field of INPUT_FIELD_NAMES) {
        for (const v of PROBES) tally[check({ ...base, [field]: v })]++;
      }
    }
    // both outcomes are exercised heavily; every valid probe took the fast path (were one to fall back to zod,
    // results would still be right, only slower: this line is the performance guard)
    expect(tally.fast).toBeGreaterThan(900);
    expect(tally.rejected).toBeGreaterThan(3_000);
    expect(tally['zod-ok']).toBe(0);
  });

  it('agrees with zod on seeded random combinations of three edits', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 3_000; i++) {
      const raw: Record<string, unknown> = { ...BASES[rnd(BASES.length)] };
      for (let k = 0; k < 3; k++) raw[INPUT_FIELD_NAMES[rnd(INPUT_FIELD_NAMES.length)]!] = PROBES[rnd(PROBES.length)];
      check(raw);
    }
  });
});

describe('normalizeEvent field errors', () => {
  const pricer: Pricer = { price: (_w, _m, u) => ({ cost_usd: u.prompt_tokens * 1e-6, provider: 'p' }) };
  const errs = (raw: Record<string, unknown>) => {
    const r = normalizeEvent(raw, { workspace: 'w', pricer, newId: () => 'id' });
    return r.ok ? [] : r.errors;
  };

  it('says required for missing fields and names the type otherwise', () => {
    expect(errs({})).toEqual([
      { field: 'timestamp', message: 'required' },
      { field: 'model', message: 'required' },
    ]);
    expect(errs({ timestamp: true, model: 'm', prompt_tokens: 'abc' })).toEqual([
      { field: 'timestamp', message: 'expected string or number, received boolean' },
      { field: 'prompt_tokens', message: 'expected number, received string' },
    ]);
  });

  it('reports a negative token count or latency once, on its own field', () => {
    expect(errs({ timestamp: T0, model: 'm', prompt_tokens: -3, latency_ms: -1, ttft_ms: 5 })).toEqual([
      { field: 'prompt_tokens', message: 'must be >= 0' },
      { field: 'latency_ms', message: 'must be >= 0' },
    ]);
    expect(errs({ timestamp: T0, model: 'm', prompt_tokens: 3, cached_prompt_tokens: 4 })).toEqual([
      { field: 'cached_prompt_tokens', message: 'must be <= prompt_tokens (3)' },
    ]);
  });
});
