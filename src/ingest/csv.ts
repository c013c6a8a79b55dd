/**
 * CSV files of events: a header row, then one event per record. Streaming, over chunks.
 *
 * Columns map to Netra fields by name (a column named `prompt_tokens` fills prompt_tokens; `tags.team` fills
 * tags.team); `mapping: { <netra field>: <csv column> }` overrides or adds to that. Unmapped columns are ignored
 * (reported once through `onHeader`). Values are coerced by field type: numbers, booleans (true/false/1/0/yes/no),
 * timestamps (epoch ms, or ISO 8601; a zone-less date-time is UTC), JSON for `tags` and `messages`; an empty cell
 * is an absent value. A bad value yields `{ line, errors: [{ field, message }] }`; a record with the wrong number of
 * columns is an error naming its line. Header problems (an unknown field or a missing column in the mapping)
 * throw a NetraError before any row: they are the caller's configuration, not bad data.
 */
import { NetraError } from '../errors.js';
import { EVENT_FIELD_BY_NAME, type FieldType } from '../workload/otel-mapping.js';
import { readCsvRecords } from './csv-records.js';
import { type Chunk, type IngestItem, type ItemError, isPlainObject, preview } from './types.js';
import { parseJsonSafe } from './safe-json.js';

export interface CsvHeaderInfo {
  columns: string[];
  /** netra field → csv column */
  mapped: Record<string, string>;
  /** header columns that feed no field */
  ignored: string[];
}

export interface CsvOptions {
  /** `{ <netra field>: <csv column> }`; fields not named here map by identity on the header */
  mapping?: Readonly<Record<string, string>>;
  onHeader?: (info: CsvHeaderInfo) => void;
}

const NOT_INPUT = new Set(['cost_source', 'token_source', 'workspace']);
const TAG_PREFIX = 'tags.';

interface Plan {
  field: string;
  col: number;
  type: FieldType;
  /** set for tags.<name> columns */
  tag?: string;
}

export async function* parseCsv(chunks: AsyncIterable<Chunk> | Iterable<Chunk>, opts: CsvOptions = {}): AsyncGenerator<IngestItem> {
  let plan: Plan[] | null = null;
  let width = 0;
  for await (const rec of readCsvRecords(chunks)) {
    if (plan === null) {
      if (rec.error) throw new NetraError('VALIDATION', `CSV header (line ${rec.line}): ${rec.error}`);
      width = rec.fields.length;
      plan = planColumns(
        rec.fields.map((h) => h.trim()),
        opts,
      );
      continue;
    }
    if (rec.error) {
      yield { line: rec.line, errors: [{ field: '(row)', message: rec.error }] };
      continue;
    }
    if (rec.fields.length !== width) {
      yield {
        line: rec.line,
        errors: [{ field: '(row)', message: `expected ${width} columns (as in the header), found ${rec.fields.length}` }],
      };
      continue;
    }
    yield coerceRow(rec.line, rec.fields, plan);
  }
}

function planColumns(header: string[], opts: CsvOptions): Plan[] {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    if (!index.has(h)) index.set(h, i);
  });
  const mapped = new Map<string, string>();
  for (const [field, col] of Object.entries(opts.mapping ?? {})) {
    if (!isInputField(field)) throw new NetraError('VALIDATION', `mapping: '${field}' is not an event field`, { field });
    if (!index.has(col))
      throw new NetraError('VALIDATION', `mapping: column '${col}' (for ${field}) is not in the CSV header (${header.join(', ')})`, {
        field,
      });
    mapped.set(field, col);
  }
  const usedCols = new Set(mapped.values());
  for (const h of header) {
    if (isInputField(h) && !mapped.has(h) && !usedCols.has(h)) mapped.set(h, h);
  }
  const plan: Plan[] = [];
  for (const [field, col] of mapped) {
    const col_i = index.get(col)!;
    if (field.startsWith(TAG_PREFIX)) plan.push({ field: 'tags', col: col_i, type: 'string', tag: field.slice(TAG_PREFIX.length) });
    else plan.push({ field, col: col_i, type: EVENT_FIELD_BY_NAME.get(field)!.type });
  }
  const usedNames = new Set(mapped.values());
  opts.onHeader?.({ columns: header, mapped: Object.fromEntries(mapped), ignored: header.filter((h) => !usedNames.has(h)) });
  return plan;
}

function isInputField(name: string): boolean {
  if (name.startsWith(TAG_PREFIX)) return name.length > TAG_PREFIX.length;
  return EVENT_FIELD_BY_NAME.has(name) && !NOT_INPUT.has(name);
}

function coerceRow(line: number, cells: string[], plan: Plan[]): IngestItem {
  const raw: Record<string, unknown> = {};
  let errors: ItemError[] | null = null;
  for (const p of plan) {
    const cell = cells[p.col]!;
    const r = coerce(cell, p.type);
    if (r === undefined) continue;
    if (r instanceof CoerceError) {
      (errors ??= []).push({ field: p.tag === undefined ? p.field : `tags.${p.tag}`, message: r.message });
      continue;
    }
    if (p.tag !== undefined) {
      const tags = (raw.tags ??= {}) as Record<string, unknown>;
      tags[p.tag] = r;
    } else if (p.field === 'tags' && isPlainObject(raw.tags) && isPlainObject(r)) {
      raw.tags = { ...r, ...raw.tags };
    } else raw[p.field] = r;
  }
  return errors ? { line, errors } : { line, raw };
}

class CoerceError {
  constructor(readonly message: string) {}
}

const ZONELESS_DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

function coerce(cell: string, type: FieldType): unknown {
  if (cell === '') return undefined;
  if (type === 'string' || type === 'enum') return cell;
  const t = cell.trim();
  if (t === '') return undefined;
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(t);
      return Number.isFinite(n) ? n : new CoerceError(`not a number: ${preview(cell)}`);
    }
    case 'boolean': {
      const l = t.toLowerCase();
      if (l === 'true' || l === '1' || l === 'yes' || l === 't' || l === 'y') return true;
      if (l === 'false' || l === '0' || l === 'no' || l === 'f' || l === 'n') return false;
      return new CoerceError(`not a boolean: ${preview(cell)} (use true/false, 1/0, yes/no)`);
    }
    case 'timestamp':
      if (NUMERIC.test(t)) return Number(t);
      if (ZONELESS_DATETIME.test(t)) return `${t.replace(' ', 'T')}Z`;
      return t;
    case 'tags':
    case 'messages': {
      try {
        return parseJsonSafe(t);
      } catch {
        return new CoerceError(`not valid JSON: ${preview(cell)}`);
      }
    }
    default:
      return cell;
  }
}
