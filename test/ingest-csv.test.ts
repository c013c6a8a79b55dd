/**
 * CSV: the RFC 4180 tokenizer (quotes, escapes, newlines in quotes, CRLF, chunk boundaries), column mapping,
 * coercion per field type, bad rows naming line and field; and the Azure trace parser.
 */
import { describe, expect, it } from 'vitest';
import { NetraError } from '../src/errors.js';
import { azureEventId, parseAzureTimestamp, parseAzureTrace } from '../src/ingest/azure-trace.js';
import { readCsvRecords } from '../src/ingest/csv-records.js';
import { type CsvHeaderInfo, parseCsv } from '../src/ingest/csv.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function bytesChunks(text: string, size: number): Buffer[] {
  const buf = Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('readCsvRecords (RFC 4180)', () => {
  const text = 'a,b,c\r\n"x, y","he said ""hi""","multi\r\nline ✓"\r\n\r\n1,,3\r\n"",last,"q"';

  it('reads quoted fields, escaped quotes, newlines inside quotes, CRLF, empty fields; lines are where records start', async () => {
    const recs = await collect(readCsvRecords([text]));
    expect(recs).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'he said "hi"', 'multi\r\nline ✓'] },
      { line: 5, fields: ['1', '', '3'] },
      { line: 6, fields: ['', 'last', 'q'] },
    ]);
  });

  it('is independent of chunk boundaries (every size from 1 to 30 bytes)', async () => {
    const expected = await collect(readCsvRecords([text]));
    for (let size = 1; size <= 30; size++) {
      expect(await collect(readCsvRecords(bytesChunks(text, size))), `chunk size ${size}`).toEqual(expected);
    }
  });

  it('reports an unterminated quote instead of throwing', async () => {
    const recs = await collect(readCsvRecords(['a,b\n1,"open\n2,3\n']));
    expect(recs[0]).toEqual({ line: 1, fields: ['a', 'b'] });
    expect(recs[1]!.line).toBe(2);
    expect(recs[1]!.error).toMatch(/unterminated quoted field/);
  });
});

describe('parseCsv', () => {
  it('maps columns by name, coerces types, treats empty cells as absent, ignores unknown columns', async () => {
    const csv = [
      'timestamp,model,prompt_tokens,completion_tokens,stream,latency_ms,tags.team,notes,app',
      '2026-01-02 03:04:05.678,gpt-4o,100,20,true,1234.5,search,hello,',
      '1767323045678,gpt-4o-mini,7,,no,,,x,bot',
    ].join('\n');
    let header: CsvHeaderInfo | undefined;
    const items = await collect(parseCsv([csv], { onHeader: (h) => (header = h) }));
    expect(header?.ignored).toEqual(['notes']);
    expect(header?.mapped.model).toBe('model');
    expect(items).toEqual([
      {
        line: 2,
        raw: {
          timestamp: '2026-01-02T03:04:05.678Z',
          model: 'gpt-4o',
          prompt_tokens: 100,
          completion_tokens: 20,
          stream: true,
          latency_ms: 1234.5,
          tags: { team: 'search' },
        },
      },
      { line: 3, raw: { timestamp: 1767323045678, model: 'gpt-4o-mini', prompt_tokens: 7, stream: false, app: 'bot' } },
    ]);
  });

  it('applies an explicit mapping { netra field: column }', async () => {
    const csv = 'when,llm,in,out,model\n2026-01-02T00:00:00Z,gpt-4o,5,6,ignored-model\n';
    const items = await collect(
      parseCsv([csv], { mapping: { timestamp: 'when', model: 'llm', prompt_tokens: 'in', completion_tokens: 'out' } }),
    );
    expect(items).toEqual([
      { line: 2, raw: { timestamp: '2026-01-02T00:00:00Z', model: 'gpt-4o', prompt_tokens: 5, completion_tokens: 6 } },
    ]);
  });

  it('reports bad values and wrong column counts naming line and field, and keeps the good rows', async () => {
    const csv = [
      'timestamp,model,prompt_tokens,stream,tags',
      '2026-01-02T00:00:00Z,gpt-4o,abc,maybe,{bad',
      '2026-01-02T00:00:00Z,gpt-4o,1',
      '2026-01-02T00:00:00Z,gpt-4o,-5,1,"{""team"":""a""}"',
    ].join('\r\n');
    const items = await collect(parseCsv([csv]));
    expect(items[0]).toEqual({
      line: 2,
      errors: [
        { field: 'prompt_tokens', message: 'not a number: "abc"' },
        { field: 'stream', message: 'not a boolean: "maybe" (use true/false, 1/0, yes/no)' },
        { field: 'tags', message: 'not valid JSON: "{bad"' },
      ],
    });
    expect(items[1]).toEqual({ line: 3, errors: [{ field: '(row)', message: 'expected 5 columns (as in the header), found 3' }] });
    // a negative token count is a valid number here: normalizeEvent rejects it later, naming the field
    expect(items[2]).toEqual({
      line: 4,
      raw: { timestamp: '2026-01-02T00:00:00Z', model: 'gpt-4o', prompt_tokens: -5, stream: true, tags: { team: 'a' } },
    });
  });

  it('throws a NetraError for a mapping that does not fit the header', async () => {
    await expect(collect(parseCsv(['a,b\n1,2\n'], { mapping: { model: 'nope' } }))).rejects.toThrow(
      /column 'nope' \(for model\) is not in the CSV header/,
    );
    await expect(collect(parseCsv(['a,b\n1,2\n'], { mapping: { colour: 'a' } }))).rejects.toBeInstanceOf(NetraError);
  });
});

describe('parseAzureTrace', () => {
  it('parses 7-digit fractional UTC timestamps, truncating to the millisecond', () => {
    expect(parseAzureTimestamp('2023-11-16 18:17:03.9799600')).toBe(Date.UTC(2023, 10, 16, 18, 17, 3, 979));
    expect(parseAzureTimestamp('2023-11-16 18:17:03')).toBe(Date.UTC(2023, 10, 16, 18, 17, 3));
    expect(parseAzureTimestamp('2023-02-30 00:00:00.1')).toBeNull();
    expect(parseAzureTimestamp('yesterday')).toBeNull();
  });

  it('turns rows into events with deterministic ids; bad rows name line and field', async () => {
    const csv =
      'TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:17:03.9799600,4808,10\r\nnot-a-time,-3,x\r\n2023-11-16 18:17:04.0319600,3180,8';
    const items = await collect(parseAzureTrace([csv], { model: 'gpt-4o-mini', app: 'copilot' }));
    expect(items[0]).toEqual({
      line: 2,
      raw: {
        event_id: azureEventId(2, '2023-11-16 18:17:03.9799600,4808,10'),
        timestamp: Date.UTC(2023, 10, 16, 18, 17, 3, 979),
        model: 'gpt-4o-mini',
        prompt_tokens: 4808,
        completion_tokens: 10,
        app: 'copilot',
      },
    });
    expect(items[1]).toEqual({
      line: 3,
      errors: [
        { field: 'timestamp', message: 'not a timestamp like 2023-11-16 18:17:03.9799600: "not-a-time"' },
        { field: 'prompt_tokens', message: 'must be a whole number >= 0, got "-3"' },
        { field: 'completion_tokens', message: 'must be a whole number >= 0, got "x"' },
      ],
    });
    expect(items[2]!.line).toBe(4);
    const again = await collect(parseAzureTrace([csv], { model: 'gpt-4o-mini' }));
    expect(again.map((i) => (i.raw as { event_id?: string } | undefined)?.event_id)).toEqual(
      items.map((i) => (i.raw as { event_id?: string } | undefined)?.event_id),
    );
    expect(azureEventId(2, 'a')).not.toBe(azureEventId(3, 'a'));
  });

  it('requires a model and the trace header', async () => {
    const csv = 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,1,1\n';
    await expect(collect(parseAzureTrace([csv], { model: undefined }))).rejects.toThrow(/names no model/);
    await expect(collect(parseAzureTrace([csv], { model: '  ' }))).rejects.toMatchObject({ code: 'NETRA_E_VALIDATION', field: 'model' });
    await expect(collect(parseAzureTrace(['a,b\n1,2\n'], { model: 'm' }))).rejects.toThrow(
      /expected the header TIMESTAMP,ContextTokens,GeneratedTokens/,
    );
  });
});
