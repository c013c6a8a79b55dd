/**
 * Near-duplicate matching for long prompts (>= LONG_PROMPT_WORDS words), the complement of the near-duplicate index
 * (src/optimize/near-duplicates.ts) in the semantic-cache pass. Pure, deterministic; no I/O.
 *
 * Why a second matcher: the index is calibrated for short questions, where a one-word change ("rows" vs "columns")
 * usually asks something else, so it rejects single small edits, and it compares long prompts on their last 64 words
 * behind an identical head. In a long request a one- or two-word edit (a synonym, a filler word) is a rewording, and
 * the generator plants exactly those (manifest `near_duplicate`: word-3-shingle Jaccard >= 0.5). Here two long
 * prompts match when they mention the same identifiers and their stemmed content-word sets (the index's features,
 * over the whole text, less a leading template both share: prompt-similarity.ts) have Jaccard >= threshold. Identifiers are words with a digit or `_`, compared lower-cased
 * (the index also treats camelCase and ALLCAPS words as identifiers, which a lower-cased rewording then breaks). Candidates come from MinHash LSH (12 x 3),
 * verified exactly; at most MAX_CANDIDATES per lookup, newest first.
 *
 * Cache semantics are the manifest's: a prompt matches any earlier cached prompt of the same model at most `ttlMs`
 * older, and every successful call is cached (hits too), as "an earlier status=ok event within the TTL" says.
 */
import { createMinHasher } from '../minhash.js';
import { hashString, promptFeatures, type PromptFeatures } from '../prompt-features.js';
import { createTemplateRegistry, varyingJaccard } from '../prompt-similarity.js';

/** Prompts with at least this many words go through this matcher; shorter ones through the index. */
export const LONG_PROMPT_WORDS = 40;
const MAX_CANDIDATES = 64;
const WHOLE_TEXT = Number.MAX_SAFE_INTEGER;

let idScratch = new Uint32Array(64);
const scanned = { words: 0, identifierHash: 0 };

/**
 * One pass over a text for what the pass decides on before the features: its words (runs of letters, digits, `_`,
 * non-ASCII letters) and the order-free hash of the lower-cased words that contain a digit or `_` (ids, versions,
 * snake_case names; 0: none). The returned object is reused by the next call.
 */
export function scanWords(text: string): { words: number; identifierHash: number } {
  const len = text.length;
  let words = 0;
  let n = 0;
  let i = 0;
  while (i < len) {
    let c = text.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 127)) {
      i++;
      continue;
    }
    // a word: find its end first, and hash it only when it is an identifier (most words are not)
    words++;
    const start = i;
    let isId = false;
    do {
      if ((c >= 48 && c <= 57) || c === 95) isId = true;
      if (++i === len) break;
      c = text.charCodeAt(i);
    } while ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 127);
    if (!isId) continue;
    let h = 0x811c9dc5;
    for (let k = start; k < i; k++) {
      let d = text.charCodeAt(k);
      if (d >= 65 && d <= 90) d |= 32;
      h = Math.imul(h ^ d, 0x01000193);
    }
    if (n === idScratch.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(idScratch);
      idScratch = grown;
    }
    idScratch[n++] = h >>> 0;
  }
  scanned.words = words;
  scanned.identifierHash = n === 0 ? 0 : orderFreeHash(idScratch, n);
  return scanned;
}

/** FNV over the distinct values of ids[0, n), sorted in place first (never 0). */
function orderFreeHash(ids: Uint32Array, n: number): number {
  // a few ids by insertion, more by the typed array's numeric sort (no comparator calls)
  if (n > 16) ids.subarray(0, n).sort();
  else
    for (let a = 1; a < n; a++) {
      const x = ids[a]!;
      let b = a - 1;
      while (b >= 0 && ids[b]! > x) {
        ids[b + 1] = ids[b]!;
        b--;
      }
      ids[b + 1] = x;
    }
  let acc = 0x811c9dc5;
  for (let k = 0; k < n; k++) if (k === 0 || ids[k] !== ids[k - 1]) acc = Math.imul(acc ^ ids[k]!, 0x01000193);
  return acc >>> 0 || 1;
}

/** Words as the prompt features count them (runs of letters, digits, `_`, non-ASCII letters). */
export function wordCount(text: string): number {
  return scanWords(text).words;
}

/** Order-free hash of the lower-cased words that contain a digit or `_` (ids, versions, snake_case names); 0: none. */
export function identifierHash(text: string): number {
  return scanWords(text).identifierHash;
}

export interface LongPromptMatch {
  matchedEventId: string;
  similarity: number;
}

export interface LongPromptMatcher {
  /**
   * Finds the most similar cached prompt of the same model strictly earlier and at most ttlMs older (null: none at
   * or above the threshold); then caches this prompt when `cache` is true (a successful call). With `lookup` false
   * it only caches (null): the cache's contents do not depend on lookups. `entity`: the text's identifierHash when the
   * caller has it (scanWords).
   */
  observe(
    ev: { event_id: string; timestamp: number; model: string },
    text: string,
    cache: boolean,
    lookup?: boolean,
    entity?: number,
  ): LongPromptMatch | null;
  /** Live bucket count (memory checks). */
  bucketCount(): number;
}

/** Band tables grow from 2^10 slots each up to 2^20 (12 bands x 4 MB at most). */
const TABLE_BITS_MAX = 20;
const NONE = -1;
const NO_NUMBERS: number[] = [];

/**
 * The cache is a ring of entries kept as typed arrays (struct of arrays), their features in a second ring (an arena
 * of uint32 words), both in time order so expiry is a moving start. Why: this matcher holds every successful prompt
 * of the last TTL; as objects (an entry, its feature arrays, its bucket lists) they outlived the young generation
 * and garbage collection was half of the pass, measured on 87k prompts (2.1 s of CPU with a 64 MB young generation,
 * 4 s without).
 *
 * Buckets are chains in one direct-mapped table per band: slot (band key & mask) -> newest entry (a sequence number),
 * `prev` -> the next older one in that slot. Entries whose key only shares the slot are stepped over uncounted, so the
 * candidates and their order (newest first, band by band, at most MAX_CANDIDATES distinct) are those of an exact
 * list per key. Chains are in time order: the walk stops at the first expired or evicted entry.
 */
export function createLongPromptMatcher(opts: { threshold: number; ttlMs: number }): LongPromptMatcher {
  const { threshold, ttlMs } = opts;
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  const hasher = createMinHasher({ bands: 12, rows: 3 });
  const B = hasher.bands;
  const templates = createTemplateRegistry();
  const modelIds = new Map<string, number>();
  const modelSalts: number[] = [];

  // entries: sequence numbers [first, next) live at ring slot seq & (cap - 1)
  let cap = 1 << 10;
  let ts = new Float64Array(cap);
  let modelOf = new Int32Array(cap);
  let entityOf = new Uint32Array(cap);
  let at = new Float64Array(cap); // arena position of the entry's features
  let nShingles = new Int32Array(cap);
  let nContent = new Int32Array(cap);
  let nBlocks = new Int32Array(cap);
  let visit = new Float64Array(cap);
  let keys = new Uint32Array(cap * B);
  let prev = new Int32Array(cap * B);
  let ids: string[] = new Array<string>(cap);
  let first = 0;
  let next = 0;
  // features: shingles, content, blocks, block content starts, at absolute positions [arenaFirst, arenaNext)
  let arena = new Uint32Array(1 << 16);
  let arenaFirst = 0;
  let arenaNext = 0;
  let bits = 10;
  let mask = (1 << bits) - 1;
  let heads = new Int32Array(B << bits).fill(NONE);
  let visitStamp = 0;

  function growEntries(): void {
    const oldCap = cap;
    const o = { ts, modelOf, entityOf, at, nShingles, nContent, nBlocks, visit, keys, prev, ids };
    cap *= 2;
    ts = new Float64Array(cap);
    modelOf = new Int32Array(cap);
    entityOf = new Uint32Array(cap);
    at = new Float64Array(cap);
    nShingles = new Int32Array(cap);
    nContent = new Int32Array(cap);
    nBlocks = new Int32Array(cap);
    visit = new Float64Array(cap);
    keys = new Uint32Array(cap * B);
    prev = new Int32Array(cap * B);
    ids = new Array<string>(cap);
    for (let seq = first; seq < next; seq++) {
      const i = seq & (oldCap - 1);
      const j = seq & (cap - 1);
      ts[j] = o.ts[i]!;
      modelOf[j] = o.modelOf[i]!;
      entityOf[j] = o.entityOf[i]!;
      at[j] = o.at[i]!;
      nShingles[j] = o.nShingles[i]!;
      nContent[j] = o.nContent[i]!;
      nBlocks[j] = o.nBlocks[i]!;
      visit[j] = o.visit[i]!;
      ids[j] = o.ids[i]!;
      keys.set(o.keys.subarray(i * B, i * B + B), j * B);
      prev.set(o.prev.subarray(i * B, i * B + B), j * B);
    }
  }

  /** Makes room for `words` more arena words, doubling and re-placing the live range when needed. */
  function reserve(words: number): void {
    if (arenaNext + words - arenaFirst <= arena.length) return;
    let size = arena.length * 2;
    while (arenaNext + words - arenaFirst > size) size *= 2;
    const old = arena;
    const om = old.length - 1;
    arena = new Uint32Array(size);
    const m = size - 1;
    for (let p = arenaFirst; p < arenaNext; p++) arena[p & m] = old[p & om]!;
  }

  function put(values: ArrayLike<number>): void {
    const m = arena.length - 1;
    for (let k = 0; k < values.length; k++) arena[(arenaNext + k) & m] = values[k]!;
    arenaNext += values.length;
  }

  function take(p: number, n: number): number[] {
    if (n === 0) return NO_NUMBERS;
    const m = arena.length - 1;
    const out = new Array<number>(n);
    for (let k = 0; k < n; k++) out[k] = arena[(p + k) & m]!;
    return out;
  }

  /** A cached entry's features as the pair comparison reads them (whole-text features: no head, tokens unused). */
  function featuresOf(i: number): PromptFeatures {
    const nS = nShingles[i]!;
    const nC = nContent[i]!;
    const nB = nBlocks[i]!;
    const p = at[i]!;
    return {
      shingles: take(p, nS),
      content: take(p + nS, nC),
      blocks: take(p + nS + nC, nB),
      blockContentStarts: take(p + nS + nC + nB, nB),
      tokens: NO_NUMBERS,
      blockTokenStarts: NO_NUMBERS,
      entityHash: entityOf[i]!,
      headHash: 0,
    };
  }

  function link(seq: number): void {
    const i = seq & (cap - 1);
    for (let b = 0; b < B; b++) {
      const slot = (b << bits) | (keys[i * B + b]! & mask);
      prev[i * B + b] = heads[slot]!;
      heads[slot] = seq;
    }
  }

  /** Doubles the band tables when live entries outnumber their slots and re-links the live entries, oldest first. */
  function maybeGrowTable(): void {
    if (bits >= TABLE_BITS_MAX || next - first <= 1 << bits) return;
    bits++;
    mask = (1 << bits) - 1;
    heads = new Int32Array(B << bits).fill(NONE);
    for (let seq = first; seq < next; seq++) link(seq);
  }

  function evictExpired(now: number): void {
    while (first < next && now - ts[first & (cap - 1)]! > ttlMs) first++;
    arenaFirst = first < next ? at[first & (cap - 1)]! : arenaNext;
  }

  function modelId(model: string): number {
    let id = modelIds.get(model);
    if (id === undefined) {
      id = modelSalts.length;
      modelSalts.push(hashString(model));
      modelIds.set(model, id);
    }
    return id;
  }

  function observe(
    ev: { event_id: string; timestamp: number; model: string },
    text: string,
    cache: boolean,
    lookup = true,
    entityHash?: number,
  ): LongPromptMatch | null {
    const now = ev.timestamp;
    evictExpired(now);
    const f = promptFeatures(text, WHOLE_TEXT);
    const entity = entityHash ?? identifierHash(text);
    templates.observe(ev.model, f);
    const model = modelId(ev.model);
    const bandKeys = hasher.bandKeys(f.shingles, Math.imul(modelSalts[model]! ^ entity, 0x9e3779b1) >>> 0);
    const n = f.shingles.length;
    const stamp = ++visitStamp;
    const m = cap - 1;
    let seen = 0;
    let best = NONE;
    let bestSim = 0;
    for (let b = 0; lookup && b < B && seen < MAX_CANDIDATES; b++) {
      const key = bandKeys[b]!;
      let c = heads[(b << bits) | (key & mask)]!;
      while (c >= first && seen < MAX_CANDIDATES) {
        const i = c & m;
        if (now - ts[i]! > ttlMs) break;
        c = prev[i * B + b]!;
        if (keys[i * B + b] !== key || ts[i]! >= now || visit[i] === stamp) continue;
        visit[i] = stamp;
        seen++;
        if (modelOf[i] !== model || entityOf[i] !== entity) continue;
        const cn = nShingles[i]!;
        if ((n < cn ? n : cn) < threshold * (n < cn ? cn : n)) continue;
        const s = varyingJaccard(f, featuresOf(i), templates, ev.model);
        if (s > bestSim || (s === bestSim && best !== NONE && ts[i]! > ts[best]!)) {
          bestSim = s;
          best = i;
        }
      }
    }
    const match = best !== NONE && bestSim >= threshold ? { matchedEventId: ids[best]!, similarity: bestSim } : null;
    if (cache && n > 0) {
      if (next - first === cap) growEntries();
      const i = next & (cap - 1);
      const nB = f.blocks.length;
      reserve(n + f.content.length + 2 * nB);
      ts[i] = now;
      modelOf[i] = model;
      entityOf[i] = entity;
      at[i] = arenaNext;
      nShingles[i] = n;
      nContent[i] = f.content.length;
      nBlocks[i] = nB;
      visit[i] = 0;
      ids[i] = ev.event_id;
      for (let b = 0; b < B; b++) keys[i * B + b] = bandKeys[b]!;
      put(f.shingles);
      put(f.content);
      put(f.blocks);
      put(f.blockContentStarts);
      link(next++);
      maybeGrowTable();
    }
    return match;
  }

  /** Table slots whose newest entry is still cached. */
  function bucketCount(): number {
    let live = 0;
    for (let k = 0; k < heads.length; k++) if (heads[k]! >= first) live++;
    return live;
  }

  return { observe, bucketCount };
}
