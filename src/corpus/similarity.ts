/**
 * Word-shingle similarity: the near-duplicate measure the generator plants against and the manifest is defined by.
 * Words are maximal runs of ASCII letters and digits, lower-cased; a shingle is 3 consecutive words (a text of
 * fewer than 3 words is one shingle of all its words). Similarity is Jaccard over the shingle sets. Pure, no I/O.
 */

/** Lower-cased words of a text (runs of [a-z0-9]; everything else separates). */
export function words(text: string): string[] {
  const lower = text.toLowerCase();
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 32;
    const isWord = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (isWord && start < 0) start = i;
    else if (!isWord && start >= 0) {
      out.push(lower.slice(start, i));
      start = -1;
    }
  }
  return out;
}

/** Set of word 3-shingles ("a b c"). */
export function wordShingles(text: string, k = 3): Set<string> {
  const w = words(text);
  const out = new Set<string>();
  if (w.length < k) {
    if (w.length) out.add(w.join(' '));
    return out;
  }
  for (let i = 0; i + k <= w.length; i++) {
    let s = w[i]!;
    for (let j = 1; j < k; j++) s += ' ' + w[i + j]!;
    out.add(s);
  }
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let inter = 0;
  for (const s of small) if (large.has(s)) inter++;
  return inter / (a.size + b.size - inter);
}

/** The threshold at or above which two prompts count as near duplicates (see docs/GENERATOR.md). */
export const NEAR_DUPLICATE_JACCARD = 0.5;

/**
 * The same shingles as `wordShingles`, as unique 52-bit numeric keys (two 32-bit hash lanes per word), in no
 * particular order: the generator's fast path. For ASCII text the Jaccard of keys equals the Jaccard of shingle
 * strings except on a 52-bit hash collision (≈ 1e-13 per pair of shingles); tests check the two agree.
 * Duplicates are dropped and sets intersected through a scratch hash table rather than by sorting: a sort and an
 * off-heap typed array per call were most of the cost of a paraphrase check.
 */
export function shingleKeys(text: string): number[] {
  if (scratchA.length < text.length + 3) {
    scratchA = new Uint32Array(text.length * 2 + 8);
    scratchB = new Uint32Array(text.length * 2 + 8);
  }
  const a = scratchA;
  const b = scratchB;
  let n = 0;
  let h1 = 0;
  let h2 = 0;
  let inWord = false;
  for (let i = 0; i <= text.length; i++) {
    let c = i < text.length ? text.charCodeAt(i) : 32;
    if (c >= 65 && c <= 90) c += 32;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (!inWord) {
        h1 = 0x811c9dc5;
        h2 = 0x9747b28c;
        inWord = true;
      }
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
    } else if (inWord) {
      a[n] = h1;
      b[n] = h2;
      n++;
      inWord = false;
    }
  }
  const keys: number[] = [];
  if (n === 0) return keys;
  if (n < 3) {
    let x = 0x1234567;
    let y = 0x7654321 + n;
    for (let i = 0; i < n; i++) {
      x = mixLane(x, a[i]!);
      y = mixLane(y, b[i]!);
    }
    keys.push(((x >>> 0) >>> 12) * 4294967296 + (y >>> 0));
    return keys;
  }
  clearTable(n);
  for (let i = 0; i + 3 <= n; i++) {
    const x = mixLane(mixLane(mixLane(0x2545f491, a[i]!), a[i + 1]!), a[i + 2]!);
    const y = mixLane(mixLane(mixLane(0x4f1bbcdc, b[i]!), b[i + 1]!), b[i + 2]!);
    const key = ((x >>> 0) >>> 12) * 4294967296 + (y >>> 0);
    if (insert(key)) keys.push(key);
  }
  return keys;
}

let scratchA = new Uint32Array(1024);
let scratchB = new Uint32Array(1024);

/** Scratch open-addressing set of keys: a slot is in use when its stamp is the current one (no clearing per use). */
let slots = new Float64Array(256);
let stamps = new Uint32Array(256);
let stamp = 0;
let mask = 255;

/** Empties the scratch set, with room for n keys. */
function clearTable(n: number): void {
  if (slots.length < n * 2) {
    let size = slots.length;
    while (size < n * 2) size *= 2;
    slots = new Float64Array(size);
    stamps = new Uint32Array(size);
    stamp = 0;
  }
  mask = slots.length - 1;
  stamp = (stamp + 1) >>> 0;
  if (stamp === 0) {
    stamps.fill(0);
    stamp = 1;
  }
}

/** Adds a key to the scratch set; false when it was there. The low 32 bits of a key are one hash lane. */
function insert(key: number): boolean {
  let s = (key >>> 0) & mask;
  while (stamps[s] === stamp) {
    if (slots[s] === key) return false;
    s = (s + 1) & mask;
  }
  stamps[s] = stamp;
  slots[s] = key;
  return true;
}

function has(key: number): boolean {
  let s = (key >>> 0) & mask;
  while (stamps[s] === stamp) {
    if (slots[s] === key) return true;
    s = (s + 1) & mask;
  }
  return false;
}

function mixLane(x: number, y: number): number {
  return Math.imul((x ^ (x >>> 16)) + y, 0x85ebca6b) ^ Math.imul(y ^ (y >>> 13), 0xc2b2ae35);
}

/** Jaccard of two unique key arrays (from `shingleKeys`). */
export function jaccardKeys(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const small = a.length <= b.length ? a : b;
  const large = small === a ? b : a;
  clearTable(small.length);
  for (let i = 0; i < small.length; i++) insert(small[i]!);
  let inter = 0;
  for (let i = 0; i < large.length; i++) if (has(large[i]!)) inter++;
  return inter / (a.length + b.length - inter);
}
