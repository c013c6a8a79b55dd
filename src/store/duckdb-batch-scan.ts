/**
 * A DuckDB table function over batches held in JS: DuckDB pulls chunks of up to `vector_size()` rows, and `fill`
 * writes rows [from, from + n) of the current batch into the chunk's vectors. The store's column loads
 * (duckdb-columnar-append.ts, duckdb-load-columns.ts) are one `INSERT ... SELECT` from such a function, so DuckDB
 * writes each row once, without a staging table. The scan's callbacks run on the JS thread.
 *
 * Such a statement runs with DuckDB's thread count at 1 (`ScanThreads`): the scan is one task, and while DuckDB's
 * background thread runs it (waiting for the JS thread to fill each chunk), the thread that drives the statement finds
 * no other task and polls in a loop (DuckDB's `PendingQueryResult::ExecuteInternal` waits only on a BLOCKED task, not
 * on NO_TASKS_AVAILABLE): a core spent for nothing, on a 2-core machine 21% of the HTTP ingest's CPU. With one thread
 * the driving thread runs the scan itself and sleeps while the JS thread fills. Measurements: docs/BENCHMARKS.md
 * ("Where the CPU of HTTP ingestion goes").
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

/**
 * Runs statements that read a BatchScan with DuckDB's `threads` at 1, and restores the instance's setting when the last
 * one ends (one per DuckDB instance: the setting is global; statements of other connections running meanwhile get
 * one thread too). The SET statements run in order on one chain, so overlapping scans cannot restore too early.
 */
export class ScanThreads {
  private active = 0;
  private configured: number | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  async run<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
    if (this.active++ === 0) this.serial(() => this.enter(conn));
    try {
      await this.chain;
      return await fn();
    } finally {
      if (--this.active === 0) await this.serial(() => this.leave(conn));
    }
  }

  /**
   * Queues a SET. Its failure is dropped: the statement then runs with the threads it has, and a failed restore must
   * not turn a committed load into a failed one (its rows would be loaded again).
   */
  private serial(step: () => Promise<void>): Promise<void> {
    const p = this.chain.then(step).catch(() => undefined);
    this.chain = p;
    return p;
  }

  private async enter(conn: DuckDBConnection): Promise<void> {
    if (this.active === 0) return; // left already (its statement failed before this ran)
    this.configured ??= Number((await conn.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0]![0]);
    if (this.configured > 1) await conn.run('SET threads = 1');
  }

  private async leave(conn: DuckDBConnection): Promise<void> {
    if (this.active > 0 || this.configured === null || this.configured <= 1) return;
    await conn.run(`SET threads = ${this.configured}`);
  }
}

/** Validity words for one chunk (1 bit per row, 1 = valid). */
export const validityWords = (): Uint32Array => new Uint32Array(duckdb.vector_size() / 32 + 2);

/** Sets the first n rows' validity of a vector from `words`. */
export function setValidity(vec: duckdb.Vector, words: Uint32Array, n: number): void {
  duckdb.vector_ensure_validity_writable(vec);
  duckdb.copy_data_to_vector_validity(vec, 0, words.buffer as ArrayBuffer, 0, ((n + 63) >>> 6) * 8);
}
