/**
 * A DuckDB table function over batches held in JS: DuckDB pulls chunks of up to `vector_size()` rows, and `fill`
 * writes rows [from, from + n) of the current batch into the chunk's vectors. The store's column loads
 * (duckdb-columnar-append.ts, duckdb-load-columns.ts) are one `INSERT ... SELECT` from such a function, so DuckDB
 * writes each row once, without a staging table. The scan's callbacks run on the JS thread.
 *
 * Such a statement runs with DuckDB's thread count at 1 while no read runs (`ScanThreads`): the scan is one task, and while DuckDB's
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
 * When DuckDB's `threads` drops to 1 for statements that read a BatchScan (the setting is global: statements of other
 * connections running meanwhile get one thread too):
 * - `reads` (the store's default): from the start of such a statement that begins while no read runs, until the last
 *   one ends or a read starts. A read starting during a load brings the instance's setting back (the load's driving
 *   thread then polls again, for the rest of that load); a load starting during a read keeps it;
 * - `always`: for the whole of every such statement (reads running meanwhile get one thread);
 * - `off`: never.
 * A read that ends during a load does not lower the setting again: a DuckDB thread that has taken the load's scan runs
 * it to its end, so `SET threads = 1` would wait for the load (measured: 0.76 s of a 0.82 s load) and change nothing.
 */
export type ScanThreadsPolicy = 'reads' | 'always' | 'off';

/**
 * The one place that sets DuckDB's `threads` for scans (one per DuckDB instance). Statements that read a BatchScan run
 * through `run`, the store's reads through `reading`; every SET runs in order on one chain and is decided from the
 * counts when it runs, so overlapping loads and reads cannot leave the setting at 1: the step after the last load
 * restores it. The instance's setting is read each time it is lowered, and a restore keeps a value someone else set
 * meanwhile, so a `SET threads` from outside between or during loads is not undone.
 */
export class ScanThreads {
  private loads = 0;
  private reads = 0;
  /** the instance's setting while lowered (null: not lowered by this guard) */
  private lowered: number | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(public policy: ScanThreadsPolicy = 'reads') {}

  /** Runs a statement that reads a BatchScan (`conn`: its connection, idle until fn runs). */
  async run<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
    this.loads++;
    try {
      await this.serial(() => this.lower(conn));
      return await fn();
    } finally {
      this.loads--;
      await this.serial(() => (this.loads === 0 ? this.restore(conn) : Promise.resolve()));
    }
  }

  /** Runs a read with the instance's threads (policy `reads`; `conn`: the read's connection, idle until fn runs). */
  async reading<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
    this.reads++;
    try {
      // nothing lowered and no load: no step to wait for (a load starting meanwhile sees this read)
      if (this.policy === 'reads' && (this.lowered !== null || this.loads > 0)) await this.serial(() => this.restore(conn));
      return await fn();
    } finally {
      this.reads--;
    }
  }

  /** DuckDB's threads are at 1 because of this guard. */
  get isLowered(): boolean {
    return this.lowered !== null;
  }

  /**
   * Queues a step. Its failure is dropped: the statement then runs with the threads it has, and a failed restore must
   * not turn a committed load into a failed one (its rows would be loaded again); the next restore tries again.
   */
  private serial(step: () => Promise<void>): Promise<void> {
    const p = this.chain.then(step).catch(() => undefined);
    this.chain = p;
    return p;
  }

  private async lower(conn: DuckDBConnection): Promise<void> {
    if (this.lowered !== null || this.loads === 0 || this.policy === 'off' || (this.policy === 'reads' && this.reads > 0)) return;
    const configured = await currentThreads(conn);
    if (configured <= 1) return;
    await conn.run('SET threads = 1');
    this.lowered = configured;
  }

  private async restore(conn: DuckDBConnection): Promise<void> {
    if (this.lowered === null) return;
    // someone else set it meanwhile: theirs stays
    if ((await currentThreads(conn)) === 1) await conn.run(`SET threads = ${this.lowered}`);
    this.lowered = null;
  }
}

const currentThreads = async (conn: DuckDBConnection): Promise<number> =>
  Number((await conn.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0]![0]);

/** Validity words for one chunk (1 bit per row, 1 = valid). */
export const validityWords = (): Uint32Array => new Uint32Array(duckdb.vector_size() / 32 + 2);

/** Sets the first n rows' validity of a vector from `words`. */
export function setValidity(vec: duckdb.Vector, words: Uint32Array, n: number): void {
  duckdb.vector_ensure_validity_writable(vec);
  duckdb.copy_data_to_vector_validity(vec, 0, words.buffer as ArrayBuffer, 0, ((n + 63) >>> 6) * 8);
}
