/**
 * Prompt text features for near-duplicate detection. Pure, allocation-light (plain arrays, no per-prompt typed arrays), deterministic; no I/O.
 *
 * One pass over the text: lowercase, split on anything that is not a letter, digit or underscore (punctuation and
 * whitespace runs are separators; each CJK character is its own token), hash every token with a 32-bit FNV-1a + fmix
 * (Math.imul, no crypto). From that we keep:
 * - `shingles`: sorted unique hashes of the content words (stop words dropped, light suffix stemming) of the compared
 *   window. Measured on the GPTCache paraphrase pairs, stemmed content-word unigrams separate paraphrases from
 *   same-topic non-paraphrases better than word bigrams or character 3/4/5-grams (see bench/semantic-cache.ts).
 * - `tokens`: every word hash in order (for the template-slot check in near-duplicates.ts).
 * - `entityHash`: an order-free hash of identifier-like tokens (containing a digit or `_`, camelCase / ALLCAPS,
 *   dotted names, text in backticks or double quotes). Two prompts about different identifiers (`iter_files` vs
 *   `iter_archive`, v2.9 vs v2.10) must never match however similar the rest is.
 * - `headHash`: long prompts (more than `windowWords` words) are compared on their last line (the final message,
 *   when it fits the window; else the last `windowWords` words) and must have an identical normalised head (system
 *   prompt, context). Shared context plus a different question is then not a near-duplicate, which plain Jaccard over
 *   a 2,000-word prompt would say it is.
 */

export interface PromptFeatures {
  /** Sorted, unique 32-bit hashes of stemmed content words in the compared window. */
  shingles: number[];
  /** Hashes of all words of the compared window, in order. */
  tokens: number[];
  /** Stemmed content-word hashes of the compared window, in order (for the single-edit check). */
  content: number[];
  /** Order-free hash of identifier-like tokens in the compared window (0 when there are none). */
  entityHash: number;
  /** Hash of the normalised words before the compared window (0 when the whole prompt is compared). */
  headHash: number;
  /**
   * Blocks of the compared window (lines, and sentences within a line), when it has two or more: the hash of each
   * block's words, and where each starts in `tokens` and in `content`. Empty for a single block. The pair comparison
   * (prompt-template.ts) strips the blocks two prompts share at the start and end (a system prompt, a template).
   */
  blocks: number[];
  blockTokenStarts: number[];
  blockContentStarts: number[];
}

const NO_BLOCKS: number[] = [];

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Murmur3 finaliser: spreads the bits of a 32-bit value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of `s[start, end)` (char codes). */
function hashRange(s: string, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return fmix32(h);
}

/** 32-bit hash of a whole string (model names, exact-match keys). */
export function hashString(s: string): number {
  return hashRange(s, 0, s.length);
}

const STOP_WORDS = (
  'a an the is are was were be been being am to of in on for with by at from as and or but if then than that this these ' +
  'those it its into can could should would will shall may might must do does did done have has had having you your ' +
  'yours we our us i me my they them their he she his her him what which who whom how why when where there here so ' +
  'such also just about please some any each all both very s t ' +
  // conversational framing and filler: "Hi, quick question: what are the steps to ...? Thanks in advance!"
  'hi hello hey there thanks thank advance quick question tips tell explain way steps know kindly'
).split(' ');

/** Open-addressing set of stop-word hashes (a Set<number> of uint32 is slow: most are heap numbers in V8). */
const STOP_TABLE = new Uint32Array(1024);
for (const w of STOP_WORDS) {
  const h = hashString(w);
  let k = h & 1023;
  while (STOP_TABLE[k] !== 0 && STOP_TABLE[k] !== h) k = (k + 1) & 1023;
  STOP_TABLE[k] = h;
}
function isStop(h: number): boolean {
  let k = h & 1023;
  for (;;) {
    const v = STOP_TABLE[k]!;
    if (v === h) return true;
    if (v === 0) return false;
    k = (k + 1) & 1023;
  }
}

/**
 * Role labels of a flattened chat ("system: ...\nuser: ..." as events derive prompt_text from messages): a label at
 * the start of a line, followed by ':', is framing, not content. Counted as a word it adds one shared word to every
 * pair of user messages (measured: two GPTCache hard negatives crossed the threshold under a preamble because of it).
 */
const ROLE_LABELS = new Set(['system', 'user', 'assistant', 'tool', 'developer', 'function', 'human', 'ai'].map((w) => hashString(w)));

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90) || (c > 127 && c < 0x3000);
}
/**
 * ASCII word characters: bit 1 letter/digit/_, bit 2 digit or _, bit 4 upper case. The tokeniser's inner loop reads
 * one entry instead of testing five ranges (measured: ~6% of promptFeatures on the benchmark's prompts).
 */
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (isWordCode(c)) ASCII_CLASS[c] = 1 | ((c >= 48 && c <= 57) || c === 95 ? 2 : 0) | (c >= 65 && c <= 90 ? 4 : 0);
}
/** CJK and other scripts written without spaces: one token per character. */
function isSoloCode(c: number): boolean {
  return c >= 0x3000 && !(c >= 0xd800 && c <= 0xdfff);
}
/** Lowercase for ASCII and Latin-1 letters (other scripts are hashed as written). */
function lowerCode(c: number): number {
  return (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0xde && c !== 0xd7) ? c | 32 : c;
}

// Scratch buffers reused across calls (the module is single-threaded; results are copied out).
let wordHash = new Uint32Array(256);
let stemHash = new Uint32Array(256);
let flags = new Uint8Array(256); // bit 1: stop word, bit 2: entity
let scratch = new Uint32Array(256);
let scratch2 = new Uint32Array(256);
let blockStart = new Uint32Array(64); // word index where each block starts

function grow(): void {
  const n = wordHash.length * 2;
  const w = new Uint32Array(n);
  w.set(wordHash);
  wordHash = w;
  const s = new Uint32Array(n);
  s.set(stemHash);
  stemHash = s;
  const f = new Uint8Array(n);
  f.set(flags);
  flags = f;
  scratch = new Uint32Array(n);
  scratch2 = new Uint32Array(n);
}

/** Sorts a[from, to) ascending: insertion sort up to 16 values, the typed array's native sort above (measured faster from ~16). */
function sortSmall(a: Uint32Array, from: number, to: number): void {
  if (to - from > 16) {
    a.subarray(from, to).sort();
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= from && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}

/** Extracts the features of one prompt. `windowWords` bounds the compared tail (default 64 words). */
export function promptFeatures(text: string, windowWords = 64): PromptFeatures {
  const len = text.length;
  let count = 0;
  let inBackticks = false;
  let inQuotes = false;
  let lastBreak = 0; // word index after the last line break
  let nBlocks = 0;
  let blockBreak = true; // the next word starts a block (a line break or a sentence end came before it)
  let lineStart = true; // the next word is the first of its line (may be a role label)
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 96) {
      inBackticks = !inBackticks;
      i++;
      continue;
    }
    if (c === 34) {
      inQuotes = !inQuotes;
      i++;
      continue;
    }
    if (c === 10) {
      lastBreak = count;
      blockBreak = true;
      lineStart = true;
      i++;
      continue;
    }
    // a sentence ends at . ? ! followed by white space (not "v2.10", "e.g.x")
    if ((c === 46 || c === 63 || c === 33) && (i + 1 === len || text.charCodeAt(i + 1) <= 32)) {
      blockBreak = true;
      i++;
      continue;
    }
    const solo = isSoloCode(c);
    if (!solo && !isWordCode(c)) {
      i++;
      continue;
    }
    const start = i;
    let entity = inBackticks || inQuotes;
    let h = FNV_OFFSET;
    let s1 = h;
    let s2 = h;
    let s3 = h; // hash state before the last 1, 2, 3 characters
    let c1 = 0;
    let c2 = 0;
    let c3 = 0; // last 3 lowercased characters
    let next: number;
    if (solo) {
      h = Math.imul(h ^ c, FNV_PRIME);
      i++;
      next = i < len ? text.charCodeAt(i) : 32;
    } else {
      while (i < len) {
        const d = text.charCodeAt(i);
        let l: number;
        if (d < 128) {
          const k = ASCII_CLASS[d]!;
          if (k === 0) break;
          if ((k & 2) !== 0 || ((k & 4) !== 0 && i > start)) entity = true;
          l = (k & 4) !== 0 ? d | 32 : d;
        } else {
          if (!isWordCode(d)) break;
          l = lowerCode(d);
        }
        s3 = s2;
        s2 = s1;
        s1 = h;
        c3 = c2;
        c2 = c1;
        c1 = l;
        h = Math.imul(h ^ l, FNV_PRIME);
        i++;
      }
      // the character after the word, read once for the checks below (32 at the end of the text)
      next = i < len ? text.charCodeAt(i) : 32;
      if (i - start > 1) {
        // dotted names (torch.utils, fingerprint.Hasher): a '.' glued to word characters on both sides
        const before = start > 0 ? text.charCodeAt(start - 1) : 32;
        const after = i + 1 < len ? text.charCodeAt(i + 1) : 32;
        if ((before === 46 && start > 1 && isWordCode(text.charCodeAt(start - 2))) || (next === 46 && isWordCode(after))) entity = true;
      }
      if (next === 40 && i + 1 < len && text.charCodeAt(i + 1) === 41) entity = true; // name() call
    }
    const wh = fmix32(h);
    if (lineStart) {
      lineStart = false;
      if (next === 58 && ROLE_LABELS.has(wh)) continue; // "user:" at a line start
    }
    if (count === wordHash.length) grow();
    if (blockBreak) {
      if (nBlocks === blockStart.length) {
        const b = new Uint32Array(nBlocks * 2);
        b.set(blockStart);
        blockStart = b;
      }
      blockStart[nBlocks++] = count;
      blockBreak = false;
    }
    wordHash[count] = wh;
    const stop = isStop(wh);
    const n = i - start;
    let sh = wh;
    if (!stop && n > 3) {
      // light stemming: -ies -> y, -ing, -ed, -es, -s (not -ss)
      if (n > 4 && c3 === 105 && c2 === 101 && c1 === 115) sh = fmix32(Math.imul(s3 ^ 121, FNV_PRIME));
      else if (n > 5 && c3 === 105 && c2 === 110 && c1 === 103) sh = fmix32(s3);
      else if (n > 4 && c2 === 101 && c1 === 100) sh = fmix32(s2);
      else if (c2 === 101 && c1 === 115) sh = fmix32(s2);
      else if (c1 === 115 && c2 !== 115) sh = fmix32(s1);
    }
    stemHash[count] = sh;
    flags[count] = (stop ? 1 : 0) | (entity ? 2 : 0);
    count++;
  }

  // long prompt: compare the last line (the final message) when it fits the window, else the last `windowWords` words
  const from = count <= windowWords ? 0 : lastBreak > 0 && count - lastBreak <= windowWords ? lastBreak : count - windowWords;
  let headHash = 0;
  if (from > 0) {
    let h = FNV_OFFSET;
    for (let k = 0; k < from; k++) h = Math.imul(h ^ wordHash[k]!, FNV_PRIME);
    headHash = fmix32(h) || 1;
  }
  const nTokens = count - from;
  let nContent = 0;
  for (let k = from; k < count; k++) if ((flags[k]! & 1) === 0) nContent++;
  const useAll = nContent === 0;
  if (useAll) nContent = nTokens;

  // plain arrays: a new typed array per prompt costs more than the whole tokenisation in V8
  const tokens: number[] = new Array<number>(nTokens);
  for (let k = 0; k < nTokens; k++) tokens[k] = wordHash[from + k]!;
  const content: number[] = new Array<number>(nContent);
  let m = 0;
  let nEnts = 0;
  for (let k = from; k < count; k++) {
    const f = flags[k]!;
    if (useAll || (f & 1) === 0) content[m++] = stemHash[k]!;
    if ((f & 2) !== 0) scratch[nEnts++] = wordHash[k]!;
  }
  for (let k = 0; k < nContent; k++) scratch2[k] = content[k]!;
  sortSmall(scratch2, 0, nContent);
  let nShingles = 0;
  for (let k = 0; k < nContent; k++) if (k === 0 || scratch2[k] !== scratch2[k - 1]) nShingles++;
  // sized first: push() grows the array step by step, measured ~3x slower than filling one of the right length
  const shingles: number[] = new Array<number>(nShingles);
  let u = 0;
  for (let k = 0; k < nContent; k++) if (k === 0 || scratch2[k] !== scratch2[k - 1]) shingles[u++] = scratch2[k]!;

  let entityHash = 0;
  if (nEnts > 0) {
    sortSmall(scratch, 0, nEnts);
    let h = FNV_OFFSET;
    for (let k = 0; k < nEnts; k++) if (k === 0 || scratch[k] !== scratch[k - 1]) h = Math.imul(h ^ scratch[k]!, FNV_PRIME);
    entityHash = fmix32(h) || 1;
  }

  // blocks of the compared window (the first one may be cut by the window start)
  let firstBlock = 0;
  while (firstBlock + 1 < nBlocks && blockStart[firstBlock + 1]! <= from) firstBlock++;
  let blocks = NO_BLOCKS;
  let blockTokenStarts = NO_BLOCKS;
  let blockContentStarts = NO_BLOCKS;
  if (nBlocks - firstBlock >= 2) {
    const nb = nBlocks - firstBlock;
    blocks = new Array<number>(nb);
    blockTokenStarts = new Array<number>(nb);
    blockContentStarts = new Array<number>(nb);
    let ci = 0;
    let k = from;
    for (let b = 0; b < nb; b++) {
      const start = b === 0 ? from : blockStart[firstBlock + b]!;
      const end = b + 1 < nb ? blockStart[firstBlock + b + 1]! : count;
      for (; k < start; k++) if (useAll || (flags[k]! & 1) === 0) ci++;
      let h = FNV_OFFSET;
      for (let w = start; w < end; w++) h = Math.imul(h ^ wordHash[w]!, FNV_PRIME);
      blocks[b] = fmix32(h);
      blockTokenStarts[b] = start - from;
      blockContentStarts[b] = ci;
    }
  }
  return { tokens, content, shingles, entityHash, headHash, blocks, blockTokenStarts, blockContentStarts };
}

/** Exact Jaccard similarity of two sorted unique hash sets. Two empty sets are identical (1). */
export function jaccardSorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = a.length;
  const nb = b.length;
  if (na === 0 && nb === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < na && j < nb) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      inter++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return inter / (na + nb - inter);
}
