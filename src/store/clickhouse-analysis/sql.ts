/**
 * Shared pieces of the ClickHouse analysis SQL (kept apart from index.ts so the area files do not import their own
 * aggregator): the read-path signature, top-N samples, the µs timestamp expression, and JSON value readers.
 */
import type { ClickHouseExecutor } from '../clickhouse-executor.js';

export type ChRunRead = <T>(kind: string, fn: (ex: ClickHouseExecutor, table: string) => Promise<T>) => Promise<T>;

/** `arrayMap(x -> x.2, groupArraySorted(n)((key, value)))`: the values of the n smallest keys, key order. */
export function topN(n: number, key: string, value: string, cond?: string): string {
  return cond
    ? `arrayMap(x -> x.2, groupArraySortedIf(${n})((${key}, ${value}), ${cond}))`
    : `arrayMap(x -> x.2, groupArraySorted(${n})((${key}, ${value})))`;
}

/** Epoch µs of the event timestamp (Int64). */
export const TS_US = 'toUnixTimestamp64Micro("timestamp")';

export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
export const str = (v: unknown): string => (v == null ? '' : String(v));
