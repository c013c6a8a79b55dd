/**
 * Spooled rows by column in binary, for DuckDB's live load: the spool line (duckdb-bulk-load.ts) stays the durable
 * record, and this copy of the same rows is what DuckDB loads while the process lives, through a table function
 * (one `INSERT INTO events SELECT ... FROM netra_load_columns()` per load) instead of re-reading the spool with
 * `read_ndjson`. The spool is read back only after a crash (replay at start).
 *
 * Layout (`LoadColumns`), built off the event loop (an ingest worker, next to the spool line) and posted with its
 * buffers transferred (no copy): every number-like column of `events` (EVENT_TABLE_COLUMNS minus `key_hash`) as
 * float64, column after column (NaN: null; timestamps in integer µs, booleans 0/1), and every text-like column
 * (strings, the tags' JSON, the block chains' JSON) as UTF-8 bytes with offsets and a null flag per value, except the
 * text columns of few distinct values (names, enums: DICT_NAMES), sent as int32 codes into a per-batch dictionary.
 * Filling DuckDB's vectors then costs one native call per number or code column and chunk, and one per non-null text
 * value, with no JS string made on the main thread. Values are the ones the spool line's load would store (same µs rounding, same
 * U+FFFD for a lone surrogate, tags `{}` as NULL), so both loads give identical rows (test/store-load-columns.test.ts).
 * Why: docs/BENCHMARKS.md, "Ingestion off the event loop".
 */
import duckdb from '@duckdb/node-bindings';
import {
  DOUBLE,
  INTEGER,
  LIST,
  VARCHAR,
  listValue,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { BatchScan, ScanThreads, setValidity, validityWords } from './duckdb-batch-scan.js';
import type { WorkloadEvent } from '../workload/event.js';
import { tagsToJson } from './duckdb-row-writer.js';
import { EVENT_TABLE_COLUMNS, FIELD_READERS, q, type ColumnDef } from './duckdb-schema.js';
import { LONE_SURROGATE_ESCAPE, repairedValue } from './well-formed-json.js';

export interface LoadColumns {
  rows: number;
  /** NUMBER_COLUMNS[k] of row i at [k * rows + i] */
  numbers: Float64Array;
  /** UTF-8 of TEXT_COLUMNS[k] of row i at text[offsets[k * rows + i] .. offsets[k * rows + i + 1]) */
  text: Uint8Array;
  offsets: Uint32Array;
  /** 1 where that text value is null */
  nulls: Uint8Array;
  /** DICT_COLUMNS[k] of row i as an index into dicts[k] at [k * rows + i]; -1: null */
  codes: Int32Array;
  /** each DICT_COLUMNS[k]'s distinct values, in first-seen order (well-formed UTF-16) */
  dicts: string[][];
}

const isText = (c: ColumnDef): boolean => c.kind === 'string' || c.kind === 'json' || c.kind === 'double_list';
const STORED = EVENT_TABLE_COLUMNS.filter((c) => c.name !== 'key_hash');
/**
 * Text columns of few distinct values (names, enums): sent as codes into a per-batch dictionary, so filling DuckDB's
 * vector is one native call per chunk instead of one per value; DuckDB decodes them in the INSERT with the load's
 * dictionary (`list_extract`). A batch with many distinct values there is still right, only larger.
 */
const DICT_NAMES: ReadonlySet<string> = new Set(
  'workspace app environment provider model operation status error_type finish_reason cost_source token_source'.split(' '),
);
const isDict = (c: ColumnDef): boolean => c.kind === 'string' && DICT_NAMES.has(c.name);
const NUMBER_COLUMNS = STORED.filter((c) => !isText(c));
const TEXT_COLUMNS = STORED.filter((c) => isText(c) && !isDict(c));
const DICT_COLUMNS = STORED.filter(isDict);
const NULLABLE_NUMBER = NUMBER_COLUMNS.map((c) => c.nullable);

/** The column's reader (a monomorphic property load, FIELD_READERS). */
const readerOf = (c: ColumnDef) => FIELD_READERS[c.name as keyof WorkloadEvent] as (e: WorkloadEvent) => unknown;

function numberOf(v: unknown, c: ColumnDef): number {
  if (v == null) return Number.NaN;
  if (c.kind === 'timestamp') return Math.round((v as number) * 1000);
  if (c.kind === 'boolean') return v ? 1 : 0;
  return v as number;
}

function textOf(v: unknown, c: ColumnDef): string | null {
  if (v == null) return null;
  if (c.kind === 'json') {
    const json = tagsToJson(v as Record<string, string>);
    return json !== null && LONE_SURROGATE_ESCAPE.test(json) ? tagsToJson(repairedValue(v) as Record<string, string>) : json;
  }
  if (c.kind === 'double_list') return JSON.stringify(v);
  return v as string;
}

/** The rows (validated events) as LoadColumns. Pure, so an ingest worker runs it. */
export function encodeLoadColumns(events: readonly WorkloadEvent[]): LoadColumns {
  const n = events.length;
  const numbers = new Float64Array(NUMBER_COLUMNS.length * n);
  for (let k = 0; k < NUMBER_COLUMNS.length; k++) {
    const c = NUMBER_COLUMNS[k]!;
    const read = readerOf(c);
    const base = k * n;
    for (let i = 0; i < n; i++) numbers[base + i] = numberOf(read(events[i]!), c);
  }
  const offsets = new Uint32Array(TEXT_COLUMNS.length * n + 1);
  const nulls = new Uint8Array(TEXT_COLUMNS.length * n);
  let text = Buffer.allocUnsafe(Math.max(1024, n * 1024));
  let at = 0;
  const values = new Array<string>(n);
  for (let k = 0; k < TEXT_COLUMNS.length; k++) {
    const c = TEXT_COLUMNS[k]!;
    const read = readerOf(c);
    const base = k * n;
    // offsets in UTF-16 units first: one write of the joined column, exact as bytes when it is all ASCII
    let units = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      offsets[base + i] = at + units;
      const s = textOf(read(events[i]!), c);
      if (s === null) nulls[base + i] = 1;
      else {
        values[m++] = s;
        units += s.length;
      }
    }
    if (m === 0) continue;
    // a UTF-16 unit is at most 3 bytes of UTF-8 (a lone surrogate becomes U+FFFD, 3 bytes)
    if (at + units * 3 > text.length) {
      const grown = Buffer.allocUnsafe(Math.max(text.length * 2, at + units * 3));
      text.copy(grown, 0, 0, at);
      text = grown;
    }
    values.length = m;
    const written = text.write(values.join(''), at, 'utf8');
    if (written === units) {
      at += written;
      continue;
    }
    // some value is not ASCII: byte offsets value by value
    for (let i = 0; i < n; i++) {
      offsets[base + i] = at;
      if (nulls[base + i] === 0) at += text.write(textOf(read(events[i]!), c)!, at, 'utf8');
    }
  }
  offsets[TEXT_COLUMNS.length * n] = at;
  // a buffer of its own (transferable whole), not a view into Node's shared pool
  const exact = new Uint8Array(at);
  exact.set(text.subarray(0, at));
  const codes = new Int32Array(DICT_COLUMNS.length * n);
  const dicts: string[][] = [];
  for (let k = 0; k < DICT_COLUMNS.length; k++) {
    const read = readerOf(DICT_COLUMNS[k]!) as (e: WorkloadEvent) => string | null;
    const base = k * n;
    const index = new Map<string, number>();
    const dict: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = read(events[i]!);
      if (v == null) {
        codes[base + i] = -1;
        continue;
      }
      let code = index.get(v);
      if (code === undefined) {
        code = dict.length;
        index.set(v, code);
        // a lone surrogate becomes U+FFFD, as in the UTF-8 of the other text columns
        dict.push(repairedValue(v) as string);
      }
      codes[base + i] = code;
    }
    dicts.push(dict);
  }
  return { rows: n, numbers, text: exact, offsets, nulls, codes, dicts };
}

/** Memory a LoadColumns holds. */
export function loadColumnsBytes(c: LoadColumns): number {
  let dictChars = 0;
  for (const d of c.dicts) for (const s of d) dictChars += s.length;
  return c.numbers.byteLength + c.text.byteLength + c.offsets.byteLength + c.nulls.byteLength + c.codes.byteLength + 2 * dictChars;
}

/** Buffers of LoadColumns that can be transferred to another thread (each spans its whole ArrayBuffer). */
export function loadColumnsBuffers(c: LoadColumns): ArrayBuffer[] {
  return [c.numbers, c.text, c.offsets, c.nulls, c.codes]
    .filter((v) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength)
    .map((v) => v.buffer as ArrayBuffer);
}

/** The SQL expression giving column `c` of `events` from the scanned column of the same name. */
function decode(c: ColumnDef): string {
  const col = `s.${q(c.name)}`;
  if (isDict(c)) return `list_extract($${dictParam(c)}, ${col} + 1)`;
  switch (c.kind) {
    case 'timestamp':
      return `make_timestamp(${col}::BIGINT)`;
    case 'boolean':
      return `${col} = 1`;
    case 'double':
      return col;
    case 'string':
      return col;
    default:
      return `${col}::${c.sqlType}`;
  }
}

const dictParam = (c: ColumnDef): string => `d_${c.name}`;
const VARCHAR_LIST = LIST(VARCHAR);
const FUNCTION = 'netra_load_columns';
const SCAN_COLUMNS = [...STORED, EVENT_TABLE_COLUMNS.find((c) => c.name === 'key_hash')!];
const scanType = (c: ColumnDef): DuckDBType => (isDict(c) ? INTEGER : isText(c) ? VARCHAR : DOUBLE);
/** how each scanned column is filled: from the numbers, the text, the codes (with its index in each), or the hashes */
const FILL_PLAN = SCAN_COLUMNS.map((c) => {
  if (c.name === 'key_hash') return { from: 'hash' as const, k: 0 };
  if (isDict(c)) return { from: 'codes' as const, k: DICT_COLUMNS.indexOf(c) };
  if (isText(c)) return { from: 'text' as const, k: TEXT_COLUMNS.indexOf(c) };
  return { from: 'numbers' as const, k: NUMBER_COLUMNS.indexOf(c) };
});
const INSERT_SQL = `INSERT INTO events SELECT ${SCAN_COLUMNS.map((c) => `${decode(c)} AS ${q(c.name)}`).join(', ')} FROM ${FUNCTION}() s`;

interface StagedBatch {
  cols: LoadColumns;
  hashes: Float64Array;
  /** per DICT_COLUMNS[k]: the batch's codes → the load's dictionary (set by commit) */
  remap: Int32Array[];
}

/**
 * LoadColumns batches held until one INSERT moves them into `events` (on DuckDB's threads; the scan's vector fills
 * run on the JS thread). `hashes[i]` is row i's key hash.
 */
export class LoadColumnsStage {
  private readonly scan = new BatchScan<StagedBatch>({
    name: FUNCTION,
    columns: () => SCAN_COLUMNS.map((c) => ({ name: c.name, type: scanType(c) })),
    rows: (b) => b.cols.rows,
    fill: (out, b, from, n) => this.fill(out, b, from, n),
  });
  private readonly valid = validityWords();
  private readonly codes = new Int32Array(duckdb.vector_size());
  rows = 0;

  /** `threads`: the instance's guard, shared with its other scans (duckdb-batch-scan.ts) */
  constructor(
    private readonly conn: DuckDBConnection,
    private readonly threads = new ScanThreads(),
  ) {}

  add(cols: LoadColumns, hashes: Float64Array): void {
    this.scan.batches.push({ cols, hashes, remap: [] });
    this.rows += cols.rows;
  }

  private fill(out: DuckDBDataChunk, b: StagedBatch, from: number, n: number): void {
    const { cols } = b;
    for (let v = 0; v < FILL_PLAN.length; v++) {
      const { from: source, k } = FILL_PLAN[v]!;
      const vec = duckdb.data_chunk_get_vector(out.chunk, v);
      if (source === 'hash') this.fillNumbers(vec, b.hashes, from, n, false);
      else if (source === 'codes') this.fillCodes(vec, cols.codes, b.remap[k]!, k * cols.rows + from, n);
      else if (source === 'text') this.fillText(vec, cols, k * cols.rows + from, n);
      else this.fillNumbers(vec, cols.numbers, k * cols.rows + from, n, NULLABLE_NUMBER[k]!);
    }
  }

  private fillNumbers(vec: duckdb.Vector, data: Float64Array, from: number, n: number, nullable: boolean): void {
    duckdb.copy_data_to_vector(vec, 0, data.buffer as ArrayBuffer, data.byteOffset + from * 8, n * 8);
    if (!nullable) return;
    const words = this.valid.fill(0xffffffff, 0, (n + 31) >>> 5);
    let any = false;
    for (let r = 0; r < n; r++) {
      if (Number.isNaN(data[from + r]!)) {
        words[r >>> 5]! &= ~(1 << (r & 31));
        any = true;
      }
    }
    if (any) setValidity(vec, words, n);
  }

  /** The load's codes of one chunk: one native copy, whatever the number of rows. */
  private fillCodes(vec: duckdb.Vector, codes: Int32Array, remap: Int32Array, from: number, n: number): void {
    const out = this.codes;
    const words = this.valid.fill(0xffffffff, 0, (n + 31) >>> 5);
    let any = false;
    for (let r = 0; r < n; r++) {
      const code = codes[from + r]!;
      if (code < 0) {
        out[r] = 0;
        words[r >>> 5]! &= ~(1 << (r & 31));
        any = true;
      } else out[r] = remap[code]!;
    }
    duckdb.copy_data_to_vector(vec, 0, out.buffer as ArrayBuffer, 0, n * 4);
    if (any) setValidity(vec, words, n);
  }

  private fillText(vec: duckdb.Vector, cols: LoadColumns, from: number, n: number): void {
    const { text, offsets, nulls } = cols;
    const words = this.valid.fill(0xffffffff, 0, (n + 31) >>> 5);
    let any = false;
    for (let r = 0; r < n; r++) {
      const j = from + r;
      if (nulls[j] === 1) {
        words[r >>> 5]! &= ~(1 << (r & 31));
        any = true;
      } else duckdb.vector_assign_string_element_len(vec, r, text.subarray(offsets[j]!, offsets[j + 1]!));
    }
    if (any) setValidity(vec, words, n);
  }

  /** The load's dictionary of each code column (the batches' dictionaries merged) and each batch's remap into it. */
  private dictionaries(): { params: Record<string, DuckDBValue>; types: Record<string, DuckDBType> } {
    const params: Record<string, DuckDBValue> = {};
    const types: Record<string, DuckDBType> = {};
    for (let k = 0; k < DICT_COLUMNS.length; k++) {
      const index = new Map<string, number>();
      const merged: string[] = [];
      for (const b of this.scan.batches) {
        const dict = b.cols.dicts[k]!;
        const remap = new Int32Array(dict.length);
        for (let i = 0; i < dict.length; i++) {
          let at = index.get(dict[i]!);
          if (at === undefined) {
            at = merged.length;
            index.set(dict[i]!, at);
            merged.push(dict[i]!);
          }
          remap[i] = at;
        }
        b.remap[k] = remap;
      }
      const p = dictParam(DICT_COLUMNS[k]!);
      params[p] = listValue(merged);
      types[p] = VARCHAR_LIST;
    }
    return { params, types };
  }

  /** Moves every added row into `events` (one statement); the batches are dropped whether it commits or fails. */
  async commit(): Promise<void> {
    if (this.rows === 0) return;
    this.scan.register(this.conn);
    try {
      const { params, types } = this.dictionaries();
      await this.threads.run(this.conn, () => this.conn.run(INSERT_SQL, params, types));
    } finally {
      this.scan.batches = [];
      this.rows = 0;
    }
  }
}
