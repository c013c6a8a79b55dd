/**
 * The DuckDB store's in-memory key index (src/store/duckdb-key-index.ts): deletion by backward shift keeps every other
 * key findable, through probe runs that wrap around the table and through growth after deletions.
 */
import { describe, expect, it } from 'vitest';
import { KeyHashSet, keyHash } from '../src/store/duckdb-key-index.js';

describe('KeyHashSet.delete', () => {
  it('removes keys and keeps every remaining key findable', () => {
    const set = new KeyHashSet(10);
    const hashes = Array.from({ length: 100_000 }, (_, i) => keyHash('ws', `e${i}`));
    for (const h of hashes) set.add(h);
    const removed = hashes.filter((_, i) => i % 3 === 0);
    expect(removed.every((h) => set.delete(h))).toBe(true);
    expect(set.delete(removed[0]!)).toBe(false);
    expect(set.size).toBe(hashes.length - removed.length);
    expect(hashes.filter((h, i) => set.has(h) !== (i % 3 !== 0))).toEqual([]);
    // re-adding a removed key works, an existing one is still refused
    expect(set.add(removed[1]!)).toBe(true);
    expect(set.add(hashes[1]!)).toBe(false);
  });

  it('handles clustered keys whose probe runs wrap around the end of the table', () => {
    const set = new KeyHashSet(10); // 65,536 slots: homes near the end, runs wrap to slot 0
    const cap = 1 << 16;
    // hashes with the same low 32 bits land on the same home slot; vary the high bits
    const near = (home: number, k: number) => (k + 1) * 4294967296 + home;
    const keys = [...Array.from({ length: 6 }, (_, k) => near(cap - 2, k)), ...Array.from({ length: 4 }, (_, k) => near(1, k))];
    for (const h of keys) expect(set.add(h)).toBe(true);
    for (const victim of [keys[0]!, keys[7]!, keys[3]!]) {
      expect(set.delete(victim)).toBe(true);
      expect(set.has(victim)).toBe(false);
    }
    expect(keys.filter((h) => ![keys[0], keys[7], keys[3]].includes(h)).every((h) => set.has(h))).toBe(true);
    expect(set.size).toBe(7);
  });
});
