/**
 * Events in columns (src/workload/event-columns.ts) and the generator's column stream: the object view of every
 * column batch is the event stream `batches()` gives for the same options (also when the batches are read after
 * the stream ended: prompt text and hash are made on read), and each string encoding reads back right.
 */
import { describe, expect, it } from 'vitest';
import { generateAll, generateWorkload } from '../src/corpus/generator.js';
import { base32, Rng } from '../src/corpus/random.js';
import { NetraError } from '../src/errors.js';
import { crockford7, eventAt, fromEvents, NULL_CODE, stringAt, toEvents } from '../src/workload/event-columns.js';
import type { Pricer } from '../src/workload/event.js';

const pricer: Pricer = { price: (_ws, _m, u) => ({ cost_usd: u.prompt_tokens * 2e-6 + u.completion_tokens * 8e-6, provider: 'openai' }) };
const END = Date.UTC(2026, 10, 22);

describe('event columns', () => {
  it.each(['agent-tool-use', 'chat-support', 'rag-assistant'])('%s: the column stream viewed as objects is the event stream', (preset) => {
    const o = { preset, events: 4000, days: 2, seed: 9, end: END, pricer, batchSize: 999 };
    const { events, manifest } = generateAll(o);
    const w = generateWorkload(o);
    const viewed = [];
    const lengths = [];
    const kept = [];
    for (const b of w.columnBatches()) {
      kept.push(b);
      lengths.push(b.length);
      viewed.push(...toEvents(b));
      expect(eventAt(b, b.length - 1)).toEqual(viewed[viewed.length - 1]);
    }
    expect(lengths.slice(0, -1).every((n) => n === 999)).toBe(true);
    expect(viewed).toEqual(events);
    // prompt text and hash are made when read: the same after the whole stream has moved on
    expect(kept.flatMap((b) => toEvents(b))).toEqual(events);
    expect(w.manifest()).toEqual(manifest);
    expect(() => w.batches()).toThrow(NetraError);
  });

  it('reads each string encoding back', () => {
    const rng = new Rng(3);
    for (let k = 0; k < 1000; k++) {
      const x = Math.floor(rng.next() * 32 ** 7);
      expect(crockford7(x)).toBe(base32(x, 7));
    }
    const keys = Float64Array.of(0, 35, 36 ** 3, Number.NaN);
    const keyed = { kind: 'keyed' as const, prefix: 'id_', radix: 'base36' as const, keys };
    expect([0, 1, 2, 3].map((i) => stringAt(keyed, i))).toEqual(['id_0', 'id_z', 'id_1000', null]);
    const dict = { kind: 'dict' as const, dict: ['a', 'b'], codes: Uint32Array.of(1, NULL_CODE, 0) };
    expect([0, 1, 2].map((i) => stringAt(dict, i))).toEqual(['b', null, 'a']);
    const values = { kind: 'values' as const, values: ['x', null] };
    expect([stringAt(values, 0), stringAt(values, 1)]).toEqual(['x', null]);
    const lazy = { kind: 'lazy' as const, at: (i: number) => (i === 1 ? null : `row ${i}`) };
    expect([0, 1, 2].map((i) => stringAt(lazy, i))).toEqual(['row 0', null, 'row 2']);
  });

  it('fromEvents and toEvents round-trip events', () => {
    const { events } = generateAll({ preset: 'coding-assistant', events: 500, days: 1, seed: 2, end: END, pricer });
    expect(toEvents(fromEvents(events))).toEqual(events);
  });
});
