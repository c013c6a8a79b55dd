/**
 * Appends EventColumns batches (workload/event-columns.ts) to DuckDB without a JS value per cell.
 *
 * Batches are kept (by reference) until a commit, which is one `INSERT INTO events SELECT ... FROM
 * netra_event_columns()`: a table function that hands DuckDB the batches chunk by chunk. Typed arrays go into the
 * vectors with one native call per column and chunk (nulls as a validity mask), dictionary codes and base-36 id keys
 * stay integers and are decoded by the SELECT on DuckDB's threads (`list_extract` of the dictionary bound as a
 * parameter, prefix || to_base(key, 36)); only free text (prompt text and hash) and Crockford ids cost one native
 * call per value. So DuckDB writes each row once, without a staging table.
 * Why not the Appender's row calls or the node-api vector wrappers: one call per value (a BigInt per validity bit).
 * Measured on 100,000 generated events (docs/BENCHMARKS.md, "Generation"): 7–13 µs of CPU per event to store them
 * this way (DuckDB's own write included; the JS side 2–4.5) against 12.5–20 µs through the row Appender.
 * `@duckdb/node-bindings` is the binding node-api itself is built on (same pinned version): raw vector copies.
 *
 * Batches of one commit share a shape (each string column's encoding, prefix and dictionary): a batch of another
 * shape needs a commit first (`fits`). A batch must not change after it was added. The store keeps the
 * de-duplication and durability rules (duckdb-store.ts).
 */
import duckdb from '@duckdb/node-bindings';
import {
  DOUBLE,
  LIST,
  UINTEGER,
  UTINYINT,
  VARCHAR,
  listValue,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { NetraError } from '../errors.js';
import { NULL_CODE, STRING_COLUMNS, stringAt, type EventColumns, type StringColumn } from '../workload/event-columns.js';
import { keyHash, type KeyHashSet } from './duckdb-key-index.js';
import { EVENT_TABLE_COLUMNS, q, type ColumnDef } from './duckdb-schema.js';
import { tagsToJson } from './duckdb-row-writer.js';
import { BatchScan, ScanThreads, setValidity, validityWords } from './duckdb-batch-scan.js';

const VARCHAR_LIST = LIST(VARCHAR);

type Source =
  | { kind: 'dict'; dict: readonly unknown[] }
  | { kind: 'keyed'; prefix: string; radix: string }
  | { kind: 'values' }
  /** a string column sent as text (Crockford ids: formatting them in SQL is slower than here) */
  | { kind: 'text' }
  | { kind: 'u32' | 'f64' | 'u8' | 'timestamp' | 'key_hash' | 'null' };

const REQUIRED_STRINGS = [
  'event_id',
  'workspace',
  'app',
  'environment',
  'provider',
  'model',
  'operation',
  'status',
  'cost_source',
  'token_source',
] as const;
const UINT_COLUMNS = ['http_status', 'max_tokens', 'prefix_tokens', 'prefix_block_size'] as const;

function invalid(i: number, field: string, message: string): NetraError {
  return new NetraError('VALIDATION', `event ${i}: ${field} ${message}`, { field, details: [{ index: i, field, message }] });
}

/**
 * Checks what the typed columns do not guarantee (the row path's validateEvents, for columns): required values
 * present, numbers finite, integers in their column's range, dictionary codes in range. Throws naming the first bad field.
 */
export function checkColumns(b: EventColumns): void {
  for (const name of STRING_COLUMNS) {
    const col = b[name];
    const required = (REQUIRED_STRINGS as readonly string[]).includes(name);
    for (let i = 0; i < b.length; i++) {
      if (col.kind === 'dict') {
        const c = col.codes[i]!;
        if (c !== NULL_CODE && c >= col.dict.length) throw invalid(i, name, 'has a dictionary code out of range');
        if (c === NULL_CODE && required) throw invalid(i, name, 'is required');
      } else if (col.kind === 'keyed') {
        if (!required) break;
        if (Number.isNaN(col.keys[i]!)) throw invalid(i, name, 'is required');
      } else if (col.kind === 'lazy') {
        // made in this process from a producer's own pieces: strings by construction; a read here would build them twice
        if (!required) break;
        if (col.at(i) === null) throw invalid(i, name, 'is required');
      } else {
        const v = col.values[i];
        if (v == null) {
          if (required) throw invalid(i, name, 'is required');
        } else if (typeof v !== 'string') throw invalid(i, name, 'must be a string');
      }
    }
  }
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(b.timestamp[i]!)) throw invalid(i, 'timestamp', 'must be a finite number');
    if (!Number.isFinite(b.cost_usd[i]!)) throw invalid(i, 'cost_usd', 'must be a finite number');
    const t = b.tags.codes[i]!;
    if (t !== NULL_CODE && t >= b.tags.dict.length) throw invalid(i, 'tags', 'has a dictionary code out of range');
    for (const name of UINT_COLUMNS) {
      const v = b[name][i]!;
      const max = name === 'http_status' ? 65535 : 4294967295;
      if (!Number.isNaN(v) && !(Number.isInteger(v) && v >= 0 && v <= max)) throw invalid(i, name, `must be an integer in 0..${max}`);
    }
    for (const name of ['latency_ms', 'ttft_ms', 'temperature', 'quality_score'] as const) {
      const v = b[name][i]!;
      if (!Number.isNaN(v) && !Number.isFinite(v)) throw invalid(i, name, 'must be a finite number');
    }
  }
}

/** A batch can be staged when its chains are all null (block chains go through the row path). */
export function columnarFits(batch: EventColumns): boolean {
  const chains = batch.prefix_block_hashes;
  if (chains) for (let i = 0; i < batch.length; i++) if (chains[i] != null) return false;
  return true;
}

/**
 * Key hashes of the batch's rows, added to the index; null (index unchanged) when any key may be stored already or
 * repeats within the batch: such a batch goes through the row path, which settles suspects exactly.
 */
export function newKeyHashes(batch: EventColumns, keys: KeyHashSet): Float64Array | null {
  const n = batch.length;
  const hashes = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = keyHash(stringAt(batch.workspace, i)!, stringAt(batch.event_id, i)!);
    if (keys.has(h)) return null;
    hashes[i] = h;
  }
  for (let i = 0; i < n; i++) {
    if (!keys.add(hashes[i]!)) {
      for (let j = 0; j < i; j++) keys.delete(hashes[j]!);
      return null;
    }
  }
  return hashes;
}

function sourceOf(batch: EventColumns, col: ColumnDef): Source {
  if (col.name === 'key_hash') return { kind: 'key_hash' };
  if (col.name === 'timestamp') return { kind: 'timestamp' };
  if (col.name === 'prefix_block_hashes') return { kind: 'null' };
  if (col.name === 'tags') return { kind: 'dict', dict: batch.tags.dict };
  const v = batch[col.name as keyof EventColumns];
  if (v instanceof Uint32Array) return { kind: 'u32' };
  if (v instanceof Float64Array) return { kind: 'f64' };
  if (v instanceof Uint8Array) return { kind: 'u8' };
  const s = v as StringColumn;
  if (s.kind === 'dict') return { kind: 'dict', dict: s.dict };
  if (s.kind === 'keyed') return s.radix === 'base36' ? { kind: 'keyed', prefix: s.prefix, radix: s.radix } : { kind: 'text' };
  return { kind: 'values' };
}

const STAGE_TYPE: Record<Source['kind'], [string, DuckDBType]> = {
  dict: ['UINTEGER', UINTEGER],
  keyed: ['DOUBLE', DOUBLE],
  values: ['VARCHAR', VARCHAR],
  text: ['VARCHAR', VARCHAR],
  u32: ['UINTEGER', UINTEGER],
  f64: ['DOUBLE', DOUBLE],
  u8: ['UTINYINT', UTINYINT],
  timestamp: ['DOUBLE', DOUBLE],
  key_hash: ['DOUBLE', DOUBLE],
  null: ['UTINYINT', UTINYINT],
};

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The SQL expression giving column `col` of `events` from staged column `c`. */
function decode(col: ColumnDef, src: Source, c: string, param: string): string {
  switch (src.kind) {
    case 'dict':
      return col.kind === 'json' ? `list_extract($${param}, ${c} + 1)::JSON` : `list_extract($${param}, ${c} + 1)`;
    case 'keyed':
      return `${sqlString(src.prefix)} || lower(to_base(${c}::BIGINT, 36))`;
    case 'timestamp':
      return `make_timestamp(round(${c} * 1000)::BIGINT)`;
    case 'u8':
      return `CASE ${c} WHEN 2 THEN NULL ELSE ${c} = 1 END`;
    case 'null':
      return `NULL::${col.sqlType}`;
    default:
      return col.sqlType === 'DOUBLE' || col.sqlType === 'VARCHAR' ? c : `${c}::${col.sqlType}`;
  }
}

const shapeKey = (sources: readonly Source[]): string =>
  sources.map((s) => (s.kind === 'keyed' ? `keyed:${s.radix}:${s.prefix}` : s.kind)).join('|');

/** Validity words (1 = valid) for a run of rows; null when every row is valid. */
function validity(isNull: (i: number) => boolean, from: number, n: number, out: Uint32Array): Uint32Array | null {
  let any = false;
  const words = (n + 31) >>> 5;
  out.fill(0xffffffff, 0, words);
  for (let r = 0; r < n; r++) {
    if (isNull(from + r)) {
      out[r >>> 5]! &= ~(1 << (r & 31));
      any = true;
    }
  }
  return any ? out : null;
}

const FUNCTION = 'netra_event_columns';

export class ColumnarStage {
  private sources: Source[] | null = null;
  private shape = '';
  private readonly scan = new BatchScan<{ batch: EventColumns; hashes: Float64Array }>({
    name: FUNCTION,
    columns: () => EVENT_TABLE_COLUMNS.map((c, k) => ({ name: c.name, type: STAGE_TYPE[this.sources![k]!.kind][1] })),
    rows: (b) => b.batch.length,
    fill: (out, { batch, hashes }, from, n) => {
      const sources = this.sources!;
      for (let k = 0; k < sources.length; k++)
        this.fill(duckdb.data_chunk_get_vector(out.chunk, k), batch, EVENT_TABLE_COLUMNS[k]!, sources[k]!, hashes, from, n);
    },
  });
  private readonly valid = validityWords();
  /** rows added and not yet committed */
  rows = 0;

  /** `threads`: the instance's guard, shared with its other scans (duckdb-batch-scan.ts) */
  constructor(
    private readonly conn: DuckDBConnection,
    private readonly threads = new ScanThreads(),
  ) {}

  /** Whether the batch can join the rows already added (otherwise commit first). */
  fits(batch: EventColumns): boolean {
    if (this.rows === 0 || !this.sources) return true;
    const next = EVENT_TABLE_COLUMNS.map((c) => sourceOf(batch, c));
    return (
      shapeKey(next) === this.shape && next.every((s, k) => s.kind !== 'dict' || s.dict === (this.sources![k] as { dict: unknown }).dict)
    );
  }

  /** Adds the batch to the next commit; `hashes[i]` is row i's key hash. Call fits() first. */
  add(batch: EventColumns, hashes: Float64Array): void {
    if (this.rows === 0) {
      this.sources = EVENT_TABLE_COLUMNS.map((c) => sourceOf(batch, c));
      this.shape = shapeKey(this.sources);
    }
    this.scan.batches.push({ batch, hashes });
    this.rows += batch.length;
  }

  private fill(v: duckdb.Vector, batch: EventColumns, col: ColumnDef, src: Source, hashes: Float64Array, from: number, n: number): void {
    let data: Uint32Array | Float64Array | Uint8Array | null = null;
    let valid: Uint32Array | null = null;
    switch (src.kind) {
      case 'null':
        valid = this.valid.fill(0, 0, (n + 31) >>> 5);
        break;
      case 'key_hash':
        data = hashes.subarray(from, from + n);
        break;
      case 'timestamp':
        data = batch.timestamp.subarray(from, from + n);
        break;
      case 'values':
      case 'text': {
        const column = batch[col.name as keyof EventColumns] as StringColumn;
        const words = this.valid.fill(0xffffffff, 0, (n + 31) >>> 5);
        let nulls = false;
        for (let r = 0; r < n; r++) {
          const s = stringAt(column, from + r);
          if (s !== null) duckdb.vector_assign_string_element(v, r, s);
          else {
            words[r >>> 5]! &= ~(1 << (r & 31));
            nulls = true;
          }
        }
        if (nulls) valid = words;
        break;
      }
      case 'dict': {
        const codes = col.name === 'tags' ? batch.tags.codes : (batch[col.name as keyof EventColumns] as { codes: Uint32Array }).codes;
        data = codes.subarray(from, from + n);
        valid = validity((i) => codes[i] === NULL_CODE, from, n, this.valid);
        break;
      }
      default: {
        const arr =
          src.kind === 'keyed'
            ? (batch[col.name as keyof EventColumns] as { keys: Float64Array }).keys
            : batch[col.name as keyof EventColumns];
        data = (arr as Float64Array).subarray(from, from + n);
        if (data instanceof Float64Array) {
          const f = data;
          valid = validity((i) => Number.isNaN(f[i - from]!), from, n, this.valid);
        }
      }
    }
    if (data) duckdb.copy_data_to_vector(v, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (valid) setValidity(v, valid, n);
  }

  /** Moves every added row into `events` (one statement, run by DuckDB's threads). */
  async commit(): Promise<void> {
    if (this.rows === 0 || !this.sources) return;
    this.scan.register(this.conn);
    const params: Record<string, DuckDBValue> = {};
    const types: Record<string, DuckDBType> = {};
    const exprs = EVENT_TABLE_COLUMNS.map((col, k) => {
      const src = this.sources![k]!;
      const p = `d${k}`;
      if (src.kind === 'dict') {
        const dict = col.kind === 'json' ? (src.dict as Record<string, string>[]).map((t) => tagsToJson(t)) : (src.dict as string[]);
        if (dict.length === 0) return `NULL::${col.sqlType} AS ${q(col.name)}`;
        params[p] = listValue(dict);
        types[p] = VARCHAR_LIST;
      }
      return `${decode(col, src, `s.${q(col.name)}`, p)} AS ${q(col.name)}`;
    });
    try {
      const sql = `INSERT INTO events SELECT ${exprs.join(', ')} FROM ${FUNCTION}() s`;
      await this.threads.run(this.conn, () => this.conn.run(sql, params, types));
    } finally {
      this.scan.batches = [];
      this.rows = 0;
    }
  }

  close(): void {
    this.scan.batches = [];
    this.rows = 0;
  }
}
