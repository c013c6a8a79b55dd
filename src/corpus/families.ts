/**
 * Prompt families: an original prompt and its paraphrases, each text with the time of its latest successful call,
 * so exact and near duplicates are classified exactly at emission without any global index. A bounded ring per
 * app keeps recent families for re-use; families referenced by pending retries stay alive through the retry. Pure.
 */
import type { Rng } from './random.js';
import { jaccardKeys, NEAR_DUPLICATE_JACCARD, shingleKeys } from './similarity.js';
import { paraphrase } from './text.js';

/** Paraphrases planted are at least this close to their original (margin above the 0.5 definition). */
export const PLANTED_MIN_JACCARD = 0.6;
/** At most this many texts (original + paraphrases) per family. */
export const MAX_FAMILY_TEXTS = 6;

export interface TextEntry {
  /**
   * the text; null when it is not kept: a family original, rendered again from its seed when needed (keeps rings
   * small), or a chain call, whose text its call carries
   */
  text: string | null;
  /**
   * what the prompt hash is made from, with the app and the stream's salt (recipeHash in random.ts): the call that
   * made the text and a variant (0 an original, k its k-th paraphrase, 0xffffffff a chain call); made when read
   */
  hashId: number;
  hashVariant: number;
  /** prompt tokens of a call with this text (system prompt + user part, or the whole conversation in a chain) */
  promptTokens: number;
  /** timestamp of the latest status=ok call with this text; -Infinity when none */
  lastOk: number;
  /** other texts of the same family with word-3-shingle Jaccard >= 0.5 (null: none) */
  similar: TextEntry[] | null;
  /** word-3-shingle keys (computed when the family gets a paraphrase) */
  shingles: number[] | null;
}

/** A family is its original prompt (the entry itself) plus the paraphrases planted so far. */
export interface Family extends TextEntry {
  id: number;
  /** timestamp of the call that created the family */
  created: number;
  modelIndex: number;
  taskIndex: number;
  topicIndex: number;
  systemIndex: number;
  systemTokens: number;
  /** seed the original's clauses are rendered from */
  textSeed: number;
  paraphrases: TextEntry[] | null;
}

/**
 * A family record (its original only when made or reset); a class so that every family has one shape. Records are
 * reused (FamilyRing.reusable) instead of allocated per new prompt: a new prompt is most events, and each record
 * lived long enough to be copied out of the young generation, which made the garbage collector the largest cost.
 */
export class FamilyRecord implements Family {
  text = null;
  hashId = 0;
  hashVariant = 0;
  promptTokens = 0;
  lastOk = -Infinity;
  similar: TextEntry[] | null = null;
  shingles: number[] | null = null;
  paraphrases: TextEntry[] | null = null;
  id = 0;
  created = 0;
  modelIndex = 0;
  taskIndex = 0;
  topicIndex = 0;
  systemIndex = 0;
  systemTokens = 0;
  textSeed = 0;

  /** Makes this record the new family `id` (forgetting its paraphrases and times); returns it. */
  reset(
    id: number,
    created: number,
    promptTokens: number,
    modelIndex: number,
    taskIndex: number,
    topicIndex: number,
    systemIndex: number,
    systemTokens: number,
    textSeed: number,
  ): this {
    this.hashId = id;
    this.promptTokens = promptTokens;
    this.lastOk = -Infinity;
    this.similar = null;
    this.shingles = null;
    this.paraphrases = null;
    this.id = id;
    this.created = created;
    this.modelIndex = modelIndex;
    this.taskIndex = taskIndex;
    this.topicIndex = topicIndex;
    this.systemIndex = systemIndex;
    this.systemTokens = systemTokens;
    this.textSeed = textSeed;
    return this;
  }
}

export function newEntry(text: string | null, hashId: number, hashVariant: number, promptTokens: number): TextEntry {
  return { text, hashId, hashVariant, promptTokens, lastOk: -Infinity, similar: null, shingles: null };
}

export function textCount(f: Family): number {
  return 1 + (f.paraphrases ? f.paraphrases.length : 0);
}

/** Text k of a family: 0 is the original, 1.. the paraphrases. */
export function textAt(f: Family, k: number): TextEntry {
  return k === 0 ? f : f.paraphrases![k - 1]!;
}

/**
 * Fixed-capacity ring of the most recent families of one app, oldest to newest by creation time, and the records of
 * the families added since 2 × capacity additions, whose oldest is handed back for reuse. A family leaves the ring
 * after `capacity` newer ones, but a pending retry may still hold it: the retry of a retry comes at most 4.5 s of
 * stream time after the first call (backoff ≤ 1.5 s, then ≤ 3 s), timestamps are distinct milliseconds, so fewer
 * than 4,500 families are added meanwhile, and a record is reused only after 2 × capacity (8,192) newer ones.
 */
export class FamilyRing {
  private readonly items: (Family | undefined)[];
  private readonly records: (FamilyRecord | undefined)[];
  private head = 0;
  private filled = 0;
  private added = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<Family | undefined>(capacity);
    this.records = new Array<FamilyRecord | undefined>(capacity * 2);
  }

  /** The record to reset for the next family, or undefined while fewer than 2 × capacity were added. */
  reusable(): FamilyRecord | undefined {
    return this.records[this.added % this.records.length];
  }

  add(f: FamilyRecord): void {
    this.records[this.added % this.records.length] = f;
    this.added++;
    this.items[this.head] = f;
    this.head = (this.head + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  private at(age: number): Family {
    return this.items[(this.head - 1 - age + this.capacity * 2) % this.capacity]!;
  }

  /** A family created at or after `since`, biased towards the newest (age ∝ U²); undefined when there is none. */
  pickRecent(rng: Rng, since: number): Family | undefined {
    if (this.filled === 0 || this.at(0).created < since) return undefined;
    let lo = 0;
    let hi = this.filled - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.at(mid).created >= since) lo = mid;
      else hi = mid - 1;
    }
    const u = rng.next();
    return this.at(Math.floor(u * u * (lo + 1)));
  }
}

const LONG_STRENGTHS = [2, 2, 1, 0, 0] as const;
const SHORT_STRENGTHS = [0, 0, 0] as const;

function shinglesOf(e: TextEntry, text: string): number[] {
  return (e.shingles ??= shingleKeys(text));
}

/**
 * Adds a new paraphrase of the family's original (given as its clauses): distinct from every text of the family
 * and at least PLANTED_MIN_JACCARD close to the original. Links it to every family text with Jaccard >= 0.5.
 * Returns null when no acceptable paraphrase was found (the caller then makes a fresh prompt).
 */
export function addParaphrase(f: Family, clauses: readonly string[], original: string, rng: Rng): TextEntry | null {
  const origShingles = shinglesOf(f, original);
  // short texts (search queries) only take a leading/trailing filler and a case change; longer ones take word edits
  const strengths = original.length < 160 ? SHORT_STRENGTHS : LONG_STRENGTHS;
  for (const s of strengths) {
    const text = paraphrase(clauses, rng, s);
    if (text === original || f.paraphrases?.some((x) => x.text === text)) continue;
    const sh = shingleKeys(text);
    if (jaccardKeys(sh, origShingles) < PLANTED_MIN_JACCARD) continue;
    const userTokens = Math.max(1, Math.round((f.promptTokens - f.systemTokens) * (1 + 0.05 * rng.normal())));
    const n = textCount(f);
    const entry = newEntry(text, f.id, n, f.systemTokens + userTokens);
    entry.shingles = sh;
    for (let k = 0; k < n; k++) {
      const other = textAt(f, k);
      if (jaccardKeys(sh, shinglesOf(other, other.text ?? original)) >= NEAR_DUPLICATE_JACCARD) {
        (entry.similar ??= []).push(other);
        (other.similar ??= []).push(entry);
      }
    }
    (f.paraphrases ??= []).push(entry);
    return entry;
  }
  return null;
}
