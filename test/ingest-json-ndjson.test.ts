/**
 * JSON bodies and streaming NDJSON: shapes, positions, malformed lines, chunk boundaries (inside multi-byte
 * characters and CRLF pairs), blank lines, over-long lines.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../src/ingest/json-body.js';
import { parseNdjson, parseNdjsonBatches } from '../src/ingest/ndjson.js';
import { readLines } from '../src/ingest/text-lines.js';
import type { IngestItem } from '../src/ingest/types.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The text as Buffers of `size` bytes: boundaries fall anywhere, including inside UTF-8 sequences. */
function bytesChunks(text: string, size: number): Buffer[] {
  const buf = Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('parseJsonBody', () => {
  it('accepts an array and { events: [...] }, positions are 0-based indexes', () => {
    const a = parseJsonBody([{ model: 'a' }, 7]);
    expect(a).toEqual({
      ok: true,
      items: [
        { index: 0, raw: { model: 'a' } },
        { index: 1, raw: 7 },
      ],
    });
    const b = parseJsonBody({ events: [{ model: 'b' }] });
    expect(b).toEqual({ ok: true, items: [{ index: 0, raw: { model: 'b' } }] });
  });

  it('rejects other top-level shapes with a clear message', () => {
    for (const body of [null, 'x', 3, { model: 'gpt-4o' }, { data: [] }]) {
      const r = parseJsonBody(body);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/array of events or an object \{ "events": \[\.\.\.\] \}/);
    }
    const r = parseJsonBody({ events: { a: 1 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/'events' must be an array/);
  });
});

describe('parseNdjson', () => {
  const text = '{"model":"a","n":1}\r\n\r\n  \n{"model":"ü€😀","n":2}\n{not json}\n[1,2]\n{"model":"z","n":3}';

  it('yields parsed lines and malformed ones with 1-based line numbers, skipping blank lines', async () => {
    const items = await collect(parseNdjson([text]));
    expect(items).toHaveLength(5);
    expect(items[0]).toEqual({ line: 1, raw: { model: 'a', n: 1 } });
    expect(items[1]).toEqual({ line: 4, raw: { model: 'ü€😀', n: 2 } });
    expect(items[2]!.line).toBe(5);
    expect(items[2]!.errors?.[0]?.field).toBe('(json)');
    expect(items[2]!.errors?.[0]?.message).toMatch(/^malformed JSON: /);
    expect(items[3]).toEqual({ line: 6, raw: [1, 2] });
    expect(items[4]).toEqual({ line: 7, raw: { model: 'z', n: 3 } });
  });

  it('gives the same result whatever the chunk boundaries (every size from 1 to 40 bytes), per item or per chunk', async () => {
    const expected = await collect(parseNdjson([text]));
    for (let size = 1; size <= 40; size++) {
      const got = await collect(parseNdjson(bytesChunks(text, size)));
      expect(got, `chunk size ${size}`).toEqual(expected);
      const batches = await collect(parseNdjsonBatches(bytesChunks(text, size)));
      expect(batches.every((b) => b.length > 0)).toBe(true);
      expect(batches.flat(), `chunk size ${size}, batches`).toEqual(expected);
    }
  });

  it('handles a trailing newline, a UTF-8 BOM and string chunks', async () => {
    const items = await collect(parseNdjson(['\uFEFF{"a":1}\n', '{"a":', '2}\n']));
    expect(items).toEqual([
      { line: 1, raw: { a: 1 } },
      { line: 2, raw: { a: 2 } },
    ]);
    const fromBytes = await collect(parseNdjson([Buffer.from('\uFEFF{"a":1}\n')]));
    expect(fromBytes).toEqual([{ line: 1, raw: { a: 1 } }]);
  });

  it('rejects an over-long line without buffering it and goes on with the next', async () => {
    const long = `{"x":"${'a'.repeat(500)}"}`;
    const chunks = ['{"a":1}\n', long.slice(0, 200), long.slice(200), '\n{"a":2}\n'];
    const items: IngestItem[] = await collect(parseNdjson(chunks, { maxLineChars: 100 }));
    expect(items).toEqual([
      { line: 1, raw: { a: 1 } },
      { line: 2, errors: [{ field: '(json)', message: 'line too long: not parsed' }] },
      { line: 3, raw: { a: 2 } },
    ]);
  });

  it('never throws on garbage', async () => {
    const items = await collect(parseNdjson([Buffer.from([0xff, 0xfe, 0x0a, 0x7b, 0x0a])]));
    expect(items).toHaveLength(2);
    expect(items.every((i) => i.errors !== undefined)).toBe(true);
  });
});

describe('readLines', () => {
  it('counts every physical line and strips CR only at the end', async () => {
    const lines = await collect(readLines(['a\r\nb\rc\n\nd']));
    expect(lines).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'b\rc' },
      { line: 3, text: '' },
      { line: 4, text: 'd' },
    ]);
  });
});
