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

/** Words as the prompt features count them (runs of letters, digits, `_`, non-ASCII letters). Cheap: no allocation. */
export function wordCount(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const w = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 127;
    if (w && !inWord) n++;
    inWord = w;
  }
  return n;
}

/** Order-free hash of the lower-cased words that contain a digit or `_` (ids, versions, snake_case names); 0: none. */
export function identifierHash(text: string): number {
  const ids: number[] = [];
  let h = 0x811c9dc5;
  let isId = false;
  let inWord = false;
  for (let i = 0; i <= text.length; i++) {
    let c = i < text.length ? text.charCodeAt(i) : 32;
    const w = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 127;
    if (w) {
      if (!inWord) {
        h = 0x811c9dc5;
        isId = false;
        inWord = true;
      }
      if ((c >= 48 && c <= 57) || c === 95) isId = true;
      if (c >= 65 && c <= 90) c |= 32;
      h = Math.imul(h ^ c, 0x01000193);
    } else if (inWord) {
      inWord = false;
      if (isId) ids.push(h >>> 0);
    }
  }
  if (ids.length === 0) return 0;
  ids.sort((a, b) => a - b);
  let acc = 0x811c9dc5;
  for (let k = 0; k < ids.length; k++) if (k === 0 || ids[k] !== ids[k - 1]) acc = Math.imul(acc ^ ids[k]!, 0x01000193);
  return acc >>> 0 || 1;
}

interface Entry {
  id: string;
  ts: number;
  model: string;
  entity: number;
  features: PromptFeatures;
}

export interface LongPromptMatch {
  matchedEventId: string;
  similarity: number;
}

export interface LongPromptMatcher {
  /**
   * Finds the most similar cached prompt of the same model strictly earlier and at most ttlMs older (null: none at
   * or above the threshold); then caches this prompt when `cache` is true (a successful call). With `lookup` false
   * it only caches (null): the cache's contents do not depend on lookups.
   */
  observe(
    ev: { event_id: string; timestamp: number; model: string },
    text: string,
    cache: boolean,
    lookup?: boolean,
  ): LongPromptMatch | null;
  /** Live bucket count (memory checks). */
  bucketCount(): number;
}

export function createLongPromptMatcher(opts: { threshold: number; ttlMs: number }): LongPromptMatcher {
  const { threshold, ttlMs } = opts;
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  const hasher = createMinHasher({ bands: 12, rows: 3 });
  const buckets = new Map<number, Entry[]>();
  const salts = new Map<string, number>();
  const templates = createTemplateRegistry();
  let lastSweep = -Infinity;

  /** Drops expired entries (lists are in time order, oldest first). Runs once per TTL of stream time. */
  function sweep(now: number): void {
    for (const [k, list] of buckets) {
      let i = 0;
      while (i < list.length && now - list[i]!.ts > ttlMs) i++;
      if (i === list.length) buckets.delete(k);
      else if (i > 0) list.splice(0, i);
    }
  }

  function observe(
    ev: { event_id: string; timestamp: number; model: string },
    text: string,
    cache: boolean,
    lookup = true,
  ): LongPromptMatch | null {
    const now = ev.timestamp;
    if (now - lastSweep > ttlMs) {
      sweep(now);
      lastSweep = now;
    }
    const f = promptFeatures(text, WHOLE_TEXT);
    const entity = identifierHash(text);
    templates.observe(ev.model, f);
    let salt = salts.get(ev.model);
    if (salt === undefined) {
      salt = hashString(ev.model);
      if (salts.size < 10_000) salts.set(ev.model, salt);
    }
    const keys = hasher.bandKeys(f.shingles, Math.imul(salt ^ entity, 0x9e3779b1) >>> 0);
    const n = f.shingles.length;
    const seen = new Set<Entry>();
    let best: Entry | null = null;
    let bestSim = 0;
    for (let b = 0; lookup && b < keys.length && seen.size < MAX_CANDIDATES; b++) {
      const list = buckets.get(keys[b]!);
      if (list === undefined) continue;
      for (let i = list.length - 1; i >= 0 && seen.size < MAX_CANDIDATES; i--) {
        const c = list[i]!;
        if (now - c.ts > ttlMs) break;
        if (c.ts >= now || seen.has(c)) continue;
        seen.add(c);
        if (c.model !== ev.model || c.entity !== entity) continue;
        const m = c.features.shingles.length;
        if ((n < m ? n : m) < threshold * (n < m ? m : n)) continue;
        const s = varyingJaccard(f, c.features, templates, ev.model);
        if (s > bestSim || (s === bestSim && best !== null && c.ts > best.ts)) {
          bestSim = s;
          best = c;
        }
      }
    }
    if (cache && n > 0) {
      const entry: Entry = { id: ev.event_id, ts: now, model: ev.model, entity, features: f };
      for (const k of keys) {
        const list = buckets.get(k);
        if (list === undefined) buckets.set(k, [entry]);
        else list.push(entry);
      }
    }
    return best !== null && bestSim >= threshold ? { matchedEventId: best.id, similarity: bestSim } : null;
  }

  return { observe, bucketCount: () => buckets.size };
}
