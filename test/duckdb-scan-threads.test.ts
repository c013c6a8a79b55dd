/**
 * ScanThreads (src/store/duckdb-batch-scan.ts): a statement that reads a JS table function runs with DuckDB's
 * `threads` at 1 while no read runs, a read runs with the instance's setting even during such a statement, and the
 * instance's own setting is back once the last statement has ended, whether loads and reads overlap or fail.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanThreads } from '../src/store/duckdb-batch-scan.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';

let instance: DuckDBInstance;
let a: DuckDBConnection;
let b: DuckDBConnection;
/** A statement that runs until released: `statement` resolves `started` when it begins. */
function held(): { statement: () => Promise<void>; started: Promise<void>; release: () => void } {
  let release!: () => void;
  let begin!: () => void;
  const wait = new Promise<void>((r) => {
    release = r;
  });
  const started = new Promise<void>((r) => {
    begin = r;
  });
  return {
    statement: () => {
      begin();
      return wait;
    },
    started,
    release,
  };
}
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

  it('gives a read running during a load the instance setting, and lowers it again only for the next load', async () => {
    const guard = new ScanThreads();
    const h = held();
    const load = guard.run(a, h.statement);
    // the load's statement runs: the setting is 1
    await h.started;
    expect(await threads(b)).toBe(1);
    expect(await guard.reading(b, () => threads(b))).toBe(3);
    // the rest of this load keeps the instance setting (lowering it would wait for the load's end)
    expect(await threads(b)).toBe(3);
    h.release();
    await load;
    expect(await threads(b)).toBe(3);
    expect(await guard.run(a, () => threads(b))).toBe(1);
    expect(await threads(b)).toBe(3);
    expect(guard.isLowered).toBe(false);
  });

  it('keeps the instance setting for a load that starts while a read runs', async () => {
    const guard = new ScanThreads();
    const h = held();
    let load!: Promise<number>;
    const read = guard.reading(b, async () => {
      load = guard.run(a, () => threads(a));
      await h.statement();
      return threads(b);
    });
    // the load ran to its end inside the read, with the instance's threads
    expect(await load).toBe(3);
    h.release();
    expect(await read).toBe(3);
    expect(await threads(b)).toBe(3);
  });

  it("policy 'always' lowers the setting for reads too, 'off' never lowers it", async () => {
    const always = new ScanThreads('always');
    const h = held();
    const load = always.run(a, h.statement);
    await h.started;
    expect(await always.reading(b, () => threads(b))).toBe(1);
    h.release();
    await load;
    expect(await threads(b)).toBe(3);
    const off = new ScanThreads('off');
    expect(await off.run(a, () => threads(b))).toBe(3);
  });

  it('leaves the instance setting in place after many overlapping loads and reads, and every read sees it', async () => {
    const guard = new ScanThreads();
    const conns = await Promise.all(Array.from({ length: 6 }, () => instance.connect()));
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const yieldTimes = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    const seenByReads: number[] = [];
    const tasks: Promise<unknown>[] = [];
    // each connection runs its own statements one after another, as the store's connections do
    for (const [k, conn] of conns.entries()) {
      tasks.push(
        (async () => {
          for (let i = 0; i < 12; i++) {
            await yieldTimes(rand(5));
            if ((k + i) % 3 === 0) seenByReads.push(await guard.reading(conn, () => threads(conn)));
            else await guard.run(conn, () => yieldTimes(rand(8)));
          }
        })(),
      );
    }
    await Promise.all(tasks);
    for (const c of conns) c.closeSync();
    expect(seenByReads.length).toBe(24);
    expect(seenByReads.every((n) => n === 3)).toBe(true);
    expect(guard.isLowered).toBe(false);
    expect(await threads(b)).toBe(3);
  });

  it('follows a setting changed between loads, and keeps one changed during a load', async () => {
    const guard = new ScanThreads();
    try {
      await b.run('SET threads = 2');
      expect(await guard.run(a, () => threads(b))).toBe(1);
      expect(await threads(b)).toBe(2);
      await guard.run(a, () => b.run('SET threads = 4'));
      expect(await threads(b)).toBe(4);
    } finally {
      await b.run('SET threads = 3');
    }
  });

  it('restores the setting at the next step when a restore failed', async () => {
    const guard = new ScanThreads();
    const c = await instance.connect();
    // the load's connection is gone when its restore runs: the restore fails, the load itself does not
    await guard.run(c, async () => c.closeSync());
    expect(await threads(b)).toBe(1);
    expect(guard.isLowered).toBe(true);
    expect(await guard.reading(b, () => threads(b))).toBe(3);
    expect(await threads(b)).toBe(3);
    expect(guard.isLowered).toBe(false);
  });
});

describe('DuckDbStore reads during a load', () => {
  it("run with the instance's threads while a load from a JS table function holds them at 1", async () => {
    const store = createDuckDbStore({ path: ':memory:', duckdb: { threads: '3' } });
    await store.init();
    try {
      const inner = store as unknown as {
        scanThreads: ScanThreads;
        appendConn: DuckDBConnection;
        read: <T>(fn: (c: DuckDBConnection) => Promise<T>, urgent?: boolean) => Promise<T>;
      };
      const h = held();
      const load = inner.scanThreads.run(inner.appendConn, h.statement);
      await h.started;
      expect(await threads(inner.appendConn)).toBe(1);
      // an analysis query and an urgent figure query
      expect(await inner.read((c) => threads(c))).toBe(3);
      expect(await inner.read((c) => threads(c), true)).toBe(3);
      // the rest of the load keeps the instance setting
      expect(await threads(inner.appendConn)).toBe(3);
      h.release();
      await load;
      expect(await inner.read((c) => threads(c))).toBe(3);
      expect(await threads(inner.appendConn)).toBe(3);
      expect(await inner.scanThreads.run(inner.appendConn, () => threads(inner.appendConn))).toBe(1);
    } finally {
      await store.close();
    }
  });
});
