/**
 * In-memory index of the (workspace, event_id) keys already stored, for de-duplication at append time.
 *
 * Each key is reduced to a 53-bit hash (`keyHash`, cyrb53-style, an exact integer in a double) and kept in an
 * open-addressing hash set over a Float64Array: ~11-16 bytes per stored event, no per-key allocation, no 2^24
 * entry cap like a JS Set. A miss proves the key is new; a hit only says "maybe": the store then checks the
 * exact (workspace, event_id) in the table, so a hash collision never drops an event. Deleting events removes their
 * hashes (`delete`), unless another stored row shares one.
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import type { WorkloadEvent } from '../workload/event.js';
import { toNumber } from './duckdb-rows.js';

/** Unambiguous string key of (workspace, event_id). */
export const fullKey = (workspace: string, eventId: string): string => `${workspace.length}:${workspace}${eventId}`;

/** 53-bit hash of (workspace, event_id); never 0 (0 marks an empty slot). */
export function keyHash(workspace: string, eventId: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < workspace.length; i++) {
    const c = workspace.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  // separator outside the UTF-16 range, so ("ab", "c") and ("a", "bc") differ
  h1 = Math.imul(h1 ^ 0x10000, 2654435761);
  h2 = Math.imul(h2 ^ 0x10000, 1597334677);
  for (let i = 0; i < eventId.length; i++) {
    const c = eventId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const h = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return h === 0 ? 1 : h;
}

const MAX_LOAD = 0.7;

export class KeyHashSet {
  private slots: Float64Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1 << 16) {
    let cap = 1 << 16;
    while (cap * MAX_LOAD < expected) cap *= 2;
    this.slots = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  has(h: number): boolean {
    const slots = this.slots;
    let i = (h >>> 0) & this.mask;
    for (;;) {
      const v = slots[i]!;
      if (v === h) return true;
      if (v === 0) return false;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds h; returns false when it was already present. */
  add(h: number): boolean {
    if (this.count + 1 > this.slots.length * MAX_LOAD) this.grow();
    const slots = this.slots;
    let i = (h >>> 0) & this.mask;
    for (;;) {
      const v = slots[i]!;
      if (v === h) return false;
      if (v === 0) {
        slots[i] = h;
        this.count++;
        return true;
      }
      i = (i + 1) & this.mask;
    }
  }

  /**
   * Removes h; returns false when it was absent. Backward-shift deletion (no tombstones): every later key of the probe
   * run that may live in the freed slot moves back, so lookups of the remaining keys still end at an empty slot.
   */
  delete(h: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let i = (h >>> 0) & mask;
    for (;;) {
      const v = slots[i]!;
      if (v === 0) return false;
      if (v === h) break;
      i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = slots[j]!;
      if (v === 0) break;
      const home = (v >>> 0) & mask;
      // v stays when its home slot lies cyclically in (i, j]; otherwise it moves into the hole at i
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        slots[i] = v;
        i = j;
      }
    }
    slots[i] = 0;
    this.count--;
    return true;
  }

  clear(): void {
    this.slots = new Float64Array(1 << 16);
    this.mask = this.slots.length - 1;
    this.count = 0;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.mask = this.slots.length - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i++) {
      const v = old[i]!;
      if (v !== 0) this.add(v);
    }
  }
}

/**
 * Decides, in batch order, which rows whose key hash was already known are really new. Returns the indices to
 * store. Only hashes known before this batch need the table; repeats within the batch are settled in memory.
 */
export async function settleSuspects(
  events: readonly WorkloadEvent[],
  hashes: Float64Array,
  suspects: number[],
  storedKeys: (hashes: number[]) => Promise<Set<string>>,
): Promise<number[]> {
  const n = events.length;
  const isSuspect = new Uint8Array(n);
  const suspectHashes = new Set<number>();
  for (const i of suspects) {
    isSuspect[i] = 1;
    suspectHashes.add(hashes[i]!);
  }
  const firstIndex = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const h = hashes[i]!;
    if (suspectHashes.has(h) && !firstIndex.has(h)) firstIndex.set(h, i);
  }
  const tableHashes = [...suspectHashes].filter((h) => isSuspect[firstIndex.get(h)!] === 1);
  const stored = tableHashes.length > 0 ? await storedKeys(tableHashes) : new Set<string>();
  const seen = new Set<string>();
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!suspectHashes.has(hashes[i]!)) {
      keep.push(i);
      continue;
    }
    const e = events[i]!;
    const k = fullKey(e.workspace, e.event_id);
    if (stored.has(k) || seen.has(k)) continue;
    seen.add(k);
    keep.push(i);
  }
  return keep;
}

/** The index of every key hash stored in `events`. */
export async function loadKeyIndex(conn: DuckDBConnection): Promise<KeyHashSet> {
  const count = toNumber((await conn.runAndReadAll('SELECT count(*) FROM events')).getRowsJS()[0]![0]);
  const keys = new KeyHashSet(count);
  const result = await conn.stream('SELECT key_hash FROM events');
  for await (const chunk of result) {
    const vector = chunk.getColumnVector(0);
    const rows = chunk.rowCount;
    for (let i = 0; i < rows; i++) keys.add(vector.getItem(i) as number);
  }
  return keys;
}
