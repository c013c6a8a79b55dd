/**
 * Streaming near-duplicate prompt detector: the evidence behind the `semantic_cache` recommendation. Pure; no I/O.
 *
 * It simulates a cache in front of the model: each event is looked up among the cached prompts of the same model
 * that are at most `ttlMs` old; a miss is "sent to the model" and cached, a hit (exact or near) is served from the
 * cache and not cached again (so an entry expires `ttlMs` after the call that filled it, as in a real cache).
 * - exact: same (model, prompt_hash) (or, without a hash, same prompt_text) cached within the TTL;
 * - near: different text, `nearDuplicateSimilarity` >= threshold with a cached prompt of the same model, measured
 *   without the leading template (system prompt, preamble) the two share, as learned from this stream
 *   (prompt-similarity.ts);
 * - miss: neither.
 * Candidate search is MinHash LSH (minhash.ts) salted with model, head and identifier hashes, so only prompts that
 * could pass the gates are compared; at most `maxCandidates` candidates (newest first) are verified with the exact
 * similarity. Memory is bounded: entries older than the TTL are evicted as time advances (events arrive in timestamp
 * order), plus a hard cap on entries.
 */
import { createMinHasher } from './minhash.js';
import { hashString, promptFeatures, type PromptFeatures } from './prompt-features.js';
import { createTemplateRegistry, nearDuplicateSimilarity } from './prompt-similarity.js';
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD } from './near-duplicate-calibration.js';

export interface PromptObservation {
  event_id: string;
  timestamp: number;
  model: string;
  prompt_hash: string | null;
  prompt_text: string | null;
}

export type MatchKind = 'exact' | 'near' | 'miss';

export interface MatchResult {
  kind: MatchKind;
  /** The cached event that would have served this one (exact or near). */
  matchedEventId?: string;
  /** Similarity to that event (1 for exact). */
  similarity?: number;
}

export interface NearDuplicateIndexOptions {
  /** Minimum similarity for a near hit. Default: DEFAULT_NEAR_DUPLICATE_THRESHOLD (measured). */
  threshold?: number;
  /** Cache entry lifetime in milliseconds. */
  ttlMs: number;
  /** Hard cap on cached entries (oldest evicted first). Default 500,000. */
  maxEntries?: number;
  /** Long prompts: compare only the last N words and require an identical head. Default 64. */
  windowWords?: number;
  /** LSH bands x rows (default 12 x 3 = 36 permutations: 99.9% candidate recall at similarity 0.75). */
  bands?: number;
  rows?: number;
  /** Chain steps (candidates looked at) per event, newest first (default 32): bounds the work on skewed buckets. */
  maxCandidates?: number;
  /** MinHash seed (deterministic). */
  seed?: number;
}

export interface NearDuplicateIndex {
  observe(event: PromptObservation): MatchResult;
  /** Live cached entries. */
  size(): number;
  /** Live LSH buckets (for memory checks). */
  bucketCount(): number;
}

/** A cached prompt. LSH buckets are chains: `heads` maps a band key to its newest entry, `prev[b]` links older ones. */
interface Entry {
  id: string;
  ts: number;
  model: string;
  exactKey: string;
  features: PromptFeatures | null;
  keys: number[] | null;
  prev: (Entry | null)[] | null;
  visit: number;
  dead: boolean;
}

/** LSH table size cap: 2^22 slots (16-32 MB of pointers), reached at ~350k live entries (12 bands); grows from 2^12. */
const TABLE_BITS_MAX = 22;
export function createNearDuplicateIndex(opts: NearDuplicateIndexOptions): NearDuplicateIndex {
  const threshold = opts.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
  const ttlMs = opts.ttlMs;
  const maxEntries = opts.maxEntries ?? 500_000;
  const windowWords = opts.windowWords ?? 64;
  const maxCandidates = opts.maxCandidates ?? 32;
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  if (!(ttlMs >= 0) || !Number.isFinite(ttlMs)) throw new RangeError(`ttlMs must be a finite number >= 0, got ${ttlMs}`);
  if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be >= 1, got ${maxEntries}`);
  const hasher = createMinHasher({ bands: opts.bands ?? 12, rows: opts.rows ?? 3, seed: opts.seed });

  const queue: Entry[] = [];
  let head = 0;
  // Direct-mapped LSH table: slot (band key & mask) -> newest entry; colliding keys share a chain (verification
  // rejects strangers, and chains are walked newest first, so everything behind an evicted entry is older and dead).
  let tableBits = 12;
  let mask = (1 << tableBits) - 1;
  let heads: (Entry | undefined)[] = new Array<Entry | undefined>(1 << tableBits).fill(undefined);
  let liveSlots = 0;
  const exact = new Map<string, Entry>();
  const templates = createTemplateRegistry();
  const modelSalts = new Map<string, number>();
  let visitStamp = 0;

  function link(entry: Entry, keys: number[]): void {
    const prev = new Array<Entry | null>(keys.length);
    for (let b = 0; b < keys.length; b++) {
      const slot = keys[b]! & mask;
      const old = heads[slot];
      if (old === undefined) liveSlots++;
      prev[b] = old === undefined || old === entry ? null : old; // two bands in one slot: no self-loop
      heads[slot] = entry;
    }
    entry.prev = prev;
  }

  /** Doubles the table when it gets crowded and re-links the live entries, oldest first. */
  function maybeGrow(): void {
    const live = queue.length - head;
    if (tableBits >= TABLE_BITS_MAX || live * hasher.bands < 1 << tableBits) return;
    tableBits++;
    mask = (1 << tableBits) - 1;
    heads = new Array<Entry | undefined>(1 << tableBits).fill(undefined);
    liveSlots = 0;
    for (let k = head; k < queue.length; k++) {
      const e = queue[k]!;
      if (e.keys !== null) link(e, e.keys);
    }
  }

  function evict(e: Entry): void {
    e.dead = true;
    if (exact.get(e.exactKey) === e) exact.delete(e.exactKey);
    const keys = e.keys;
    if (keys !== null) {
      for (let b = 0; b < keys.length; b++) {
        const slot = keys[b]! & mask;
        if (heads[slot] === e) {
          heads[slot] = undefined;
          liveSlots--;
        }
      }
    }
    // newer entries may still point here; chain walks stop at a dead entry, which holds nothing any more
    e.features = null;
    e.prev = null;
    e.keys = null;
  }

  function evictOldest(): void {
    evict(queue[head]!);
    queue[head] = undefined as unknown as Entry;
    head++;
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  }

  function saltFor(model: string, f: PromptFeatures): number {
    let m = modelSalts.get(model);
    if (m === undefined) {
      m = hashString(model);
      if (modelSalts.size < 10_000) modelSalts.set(model, m);
    }
    return (Math.imul(m ^ f.headHash, 0x9e3779b1) ^ Math.imul(f.entityHash, 0x85ebca6b)) >>> 0;
  }

  function observe(ev: PromptObservation): MatchResult {
    const now = ev.timestamp;
    while (head < queue.length && now - queue[head]!.ts > ttlMs) evictOldest();

    const text = ev.prompt_text;
    const exactKey = ev.model + '\u0000' + (ev.prompt_hash ?? (text === null ? '\u0000' + ev.event_id : '\u0001' + text));
    const hit = exact.get(exactKey);
    if (hit !== undefined) return { kind: 'exact', matchedEventId: hit.id, similarity: 1 };

    let features: PromptFeatures | null = null;
    let keys: number[] | null = null;
    if (text !== null && text.length > 0) {
      features = promptFeatures(text, windowWords);
      templates.observe(ev.model, features);
      keys = hasher.bandKeys(features.shingles, saltFor(ev.model, features));
      const stamp = ++visitStamp;
      let best: Entry | null = null;
      let bestSim = 0;
      let checked = 0;
      const n = features.shingles.length;
      for (let b = 0; b < keys.length && checked < maxCandidates; b++) {
        const key = keys[b]!;
        let c: Entry | null | undefined = heads[key & mask];
        while (c !== undefined && c !== null && !c.dead && checked < maxCandidates) {
          checked++; // every step counts: chains may hold other models and (merged slots) unrelated keys
          if (c.visit !== stamp) {
            c.visit = stamp;
            const cf = c.features;
            if (c.model === ev.model && cf !== null) {
              // Jaccard >= t needs min(|A|, |B|) >= t * max(|A|, |B|): skip the rest cheaply
              const m = cf.shingles.length;
              if ((n < m ? n : m) >= threshold * (n < m ? m : n)) {
                const s = nearDuplicateSimilarity(features, cf, templates, ev.model);
                if (s > bestSim || (s === bestSim && best !== null && c.ts > best.ts)) {
                  bestSim = s;
                  best = c;
                }
              }
            }
          }
          c = c.prev === null ? null : c.prev[b];
        }
      }
      if (best !== null && bestSim >= threshold) return { kind: 'near', matchedEventId: best.id, similarity: bestSim };
    }

    const entry: Entry = { id: ev.event_id, ts: now, model: ev.model, exactKey, features, keys, prev: null, visit: 0, dead: false };
    queue.push(entry);
    exact.set(exactKey, entry);
    if (keys !== null) link(entry, keys);
    if (queue.length - head > maxEntries) evictOldest();
    maybeGrow();
    return { kind: 'miss' };
  }

  return { observe, size: () => queue.length - head, bucketCount: () => liveSlots };
}
