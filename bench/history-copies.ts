/**
 * Bench helper: grows a generated history K-fold inside the DuckDB store, for runs at 10M events without the
 * minutes it takes to generate them. Copy k (1..K-1) is the original shifted by k × `days`, with its event ids and
 * prompt hashes made distinct (so an exact-cache hit stays within its copy, as in K separate periods). Rows go in
 * copy and time order, as a real history would arrive (zone maps on "timestamp" stay useful).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DuckDbStore } from '../src/store/duckdb-store.js';

/** Bench-only reach into the store's private read queue (it runs after every pending append is committed). */
export function storeRead(store: DuckDbStore): <T>(fn: (c: DuckDBConnection) => Promise<T>) => Promise<T> {
  return (store as unknown as { read: <T>(fn: (c: DuckDBConnection) => Promise<T>) => Promise<T> }).read.bind(store);
}

export async function storeHistoryCopies(store: DuckDbStore, copies: number, days: number): Promise<void> {
  if (copies <= 1) return;
  if (!Number.isInteger(copies) || !Number.isInteger(days)) throw new Error('copies and days must be whole numbers');
  await storeRead(store)((c) =>
    c.run(`INSERT INTO events SELECT * EXCLUDE (k) REPLACE (event_id || '~' || k AS event_id,
      "timestamp" + INTERVAL (${days} * k) DAY AS "timestamp", prompt_hash || '~' || k AS prompt_hash)
    FROM (SELECT * FROM events, range(1, ${copies}) r(k) ORDER BY k, "timestamp")`),
  );
}
