/**
 * DuckDB's memory limit while the spool's files are loaded.
 *
 * Loading spooled events from their files, DuckDB's JSON reader takes two buffers of the largest line it accepts
 * (256 MiB, duckdb-bulk-load.ts) per thread; under that the load fails with DuckDB's out-of-memory error (seen: 400MB,
 * and 1GB with 2 threads). The analysis needs far less, and the limit is what bounds the process's memory while it
 * runs, so a limit below the reader's need is raised for the load alone (`SET memory_limit` is instance-wide: queries
 * running meanwhile may use the raised limit too) and set back after it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sizeBytes } from '../config.js';

const MiB = 2 ** 20;

/** Memory DuckDB's JSON reader needs to load spool files with `threads` threads. */
export function spoolLoadMemoryBytes(threads: number): number {
  return threads * 512 * MiB + 256 * MiB;
}

/**
 * Runs spool file loads on one connection with DuckDB's memory limit at least what the reader needs. `limit` is the
 * configured limit (undefined: DuckDB's own, 80% of RAM, left alone).
 */
export class SpoolLoadMemory {
  /** the limit could not be set back after a load (DuckDB could not free enough at once): tried again later */
  private raised = false;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly limit: string | undefined,
  ) {}

  /** Runs fn (a `read_ndjson` load on the connection) under the raised limit, then sets the configured one back. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const limit = this.limit;
    if (limit === undefined) return fn();
    const threads = Number((await this.conn.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0]![0]);
    const needed = spoolLoadMemoryBytes(threads);
    if (sizeBytes(limit) >= needed) return fn();
    await this.conn.run(`SET memory_limit = '${Math.ceil(needed / MiB)}MiB'`);
    this.raised = true;
    try {
      return await fn();
    } finally {
      // never fails the load: its rows are committed, and a failed load is retried (it would store them twice)
      await this.restore().catch(() => undefined);
    }
  }

  /** Sets the configured limit back if a load left it raised; rejects when DuckDB cannot free enough yet. */
  async restore(): Promise<void> {
    if (!this.raised || this.limit === undefined) return;
    await this.conn.run(`SET memory_limit = '${this.limit.replace(/'/g, '')}'`);
    this.raised = false;
  }

  /** True while the limit is raised for a load (or could not be set back after one). */
  get isRaised(): boolean {
    return this.raised;
  }
}
