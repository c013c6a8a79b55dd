/**
 * Streaming RFC 4180 CSV tokenizer: chunks in, records out. Quoted fields, "" escapes, newlines inside quotes,
 * CRLF or LF line ends, a UTF-8 BOM, chunk boundaries anywhere (even inside a multi-byte character or a quote pair).
 * Each record carries the 1-based physical line it starts on; blank lines are skipped. Never throws on bad data:
 * an unterminated quote at the end of the input is reported on the record.
 */
import type { Chunk } from './types.js';

export interface CsvRecord {
  line: number;
  fields: string[];
  /** set when the record is malformed (unterminated quoted field) */
  error?: string;
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export async function* readCsvRecords(chunks: AsyncIterable<Chunk> | Iterable<Chunk>): AsyncGenerator<CsvRecord> {
  const decoder = new TextDecoder('utf-8');
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quotePending = false; // saw a quote inside a quoted field: either an escape ("") or the closing quote
  let sawQuote = false; // the current record had a quoted field (so a record of one empty field is not a blank line)
  let physLine = 1;
  let recordLine = 1;
  let first = true;
  const out: CsvRecord[] = [];

  const endRecord = (): void => {
    if (field.length > 0 && field.charCodeAt(field.length - 1) === CR) field = field.slice(0, -1);
    if (fields.length === 0 && field.length === 0 && !sawQuote) {
      field = '';
      return; // blank line
    }
    fields.push(field);
    out.push({ line: recordLine, fields });
    fields = [];
    field = '';
    sawQuote = false;
  };

  const consume = (text: string): void => {
    let seg = 0;
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) seg = 1;
    }
    const n = text.length;
    for (let i = seg; i < n; i++) {
      const c = text.charCodeAt(i);
      if (inQuotes) {
        if (quotePending) {
          quotePending = false;
          if (c === QUOTE) {
            field += '"';
            seg = i + 1;
            continue;
          }
          inQuotes = false; // the quote closed the field; handle c below as unquoted
        } else {
          if (c === QUOTE) {
            field += text.slice(seg, i);
            seg = i + 1;
            quotePending = true;
          } else if (c === LF) physLine++;
          continue;
        }
      }
      if (c === COMMA) {
        fields.push(field + text.slice(seg, i));
        field = '';
        seg = i + 1;
      } else if (c === LF) {
        field += text.slice(seg, i);
        seg = i + 1;
        endRecord();
        physLine++;
        recordLine = physLine;
      } else if (c === QUOTE && field.length === 0 && i === seg) {
        inQuotes = true;
        sawQuote = true;
        seg = i + 1;
      }
      // any other character (including a stray quote inside an unquoted field) is kept literally
    }
    field += text.slice(seg); // when a quote is pending, seg is already past it
  };

  for await (const chunk of chunks) {
    consume(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (out.length > 0) {
      for (const r of out) yield r;
      out.length = 0;
    }
  }
  consume(decoder.decode());
  if (inQuotes && !quotePending) {
    fields.push(field);
    out.push({ line: recordLine, fields, error: 'unterminated quoted field (a " opened here is never closed)' });
  } else if (fields.length > 0 || field.length > 0 || sawQuote) {
    endRecord();
  }
  for (const r of out) yield r;
}
