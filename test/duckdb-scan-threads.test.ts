/**
 * ScanThreads (src/store/duckdb-batch-scan.ts): a statement that reads a JS table function runs with DuckDB's
 * `threads` at 1, and the instance's own setting is back once the last such statement has ended, whether the
 * statements overlap or fail.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanThreads } from '../src/store/duckdb-batch-scan.js';

let instance: DuckDBInstance;
let a: DuckDBConnection;
let b: DuckDBConnection;
const threads = async (conn: DuckDBConnection) =>
  Number((await conn.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0]![0]);

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', { threads: '3' });
  a = await instance.connect();
  b = await instance.connect();
});
afterAll(() => {
  a.closeSync();
  b.closeSync();
  instance.closeSync();
});

describe('ScanThreads', () => {
  it('runs a statement with one thread and restores the instance setting after it', async () => {
    const guard = new ScanThreads();
    const inside = await guard.run(a, () => threads(b));
    expect(inside).toBe(1);
    expect(await threads(b)).toBe(3);
  });

  it('keeps one thread until the last of overlapping statements ends', async () => {
    const guard = new ScanThreads();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const first = guard.run(a, async () => {
      await held;
      return threads(a);
    });
    const second = await guard.run(b, () => threads(b));
    expect(second).toBe(1);
    // the first statement is still running: the setting stays at 1
    expect(await threads(b)).toBe(1);
    release();
    expect(await first).toBe(1);
    expect(await threads(a)).toBe(3);
  });

  it('restores the setting after a failed statement and passes its error on', async () => {
    const guard = new ScanThreads();
    await expect(guard.run(a, () => a.run('SELECT * FROM no_such_table'))).rejects.toThrow(/no_such_table/);
    expect(await threads(b)).toBe(3);
    expect(await guard.run(a, () => threads(a))).toBe(1);
    expect(await threads(a)).toBe(3);
  });
});
