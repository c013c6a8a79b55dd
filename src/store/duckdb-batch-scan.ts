/**
 * A DuckDB table function over batches held in JS: DuckDB pulls chunks of up to `vector_size()` rows, and `fill`
 * writes rows [from, from + n) of the current batch into the chunk's vectors. The store's column loads
 * (duckdb-columnar-append.ts, duckdb-load-columns.ts) are one `INSERT ... SELECT` from such a function, so DuckDB
 * writes each row once, without a staging table. The scan's callbacks run on the JS thread.
 */
import duckdb from '@duckdb/node-bindings';
import { type DuckDBConnection, type DuckDBDataChunk, DuckDBTableFunction, type DuckDBType } from '@duckdb/node-api';

export interface BatchScanSpec<B> {
  name: string;
  /** result columns, asked when a statement using the function is bound */
  columns: () => readonly { name: string; type: DuckDBType }[];
  rows: (batch: B) => number;
  fill: (out: DuckDBDataChunk, batch: B, from: number, n: number) => void;
}

export class BatchScan<B> {
  /** the batches the next scan hands out, in order */
  batches: B[] = [];
  private at = 0;
  private row = 0;
  private registered = false;

  constructor(private readonly spec: BatchScanSpec<B>) {}

  /** Registers the function on the connection (once). */
  register(conn: DuckDBConnection): void {
    if (this.registered) return;
    conn.registerTableFunction(
      DuckDBTableFunction.create({
        name: this.spec.name,
        bindFunction: (info) => {
          for (const c of this.spec.columns()) info.addResultColumn(c.name, c.type);
        },
        initFunction: () => {
          this.at = 0;
          this.row = 0;
        },
        mainFunction: (_info, out) => this.scan(out),
      }),
    );
    this.registered = true;
  }

  /** Fills the next chunk of the scan (a row count of 0 ends it). */
  private scan(out: DuckDBDataChunk): void {
    while (this.at < this.batches.length && this.row >= this.spec.rows(this.batches[this.at]!)) {
      this.at++;
      this.row = 0;
    }
    const cur = this.batches[this.at];
    if (cur === undefined) {
      out.rowCount = 0;
      return;
    }
    const n = Math.min(duckdb.vector_size(), this.spec.rows(cur) - this.row);
    out.rowCount = n;
    this.spec.fill(out, cur, this.row, n);
    this.row += n;
  }
}

/** Validity words for one chunk (1 bit per row, 1 = valid). */
export const validityWords = (): Uint32Array => new Uint32Array(duckdb.vector_size() / 32 + 2);

/** Sets the first n rows' validity of a vector from `words`. */
export function setValidity(vec: duckdb.Vector, words: Uint32Array, n: number): void {
  duckdb.vector_ensure_validity_writable(vec);
  duckdb.copy_data_to_vector_validity(vec, 0, words.buffer as ArrayBuffer, 0, ((n + 63) >>> 6) * 8);
}
