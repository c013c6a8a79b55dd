/**
 * Deterministic randomness and cheap hashing for the workload generator. Pure, no I/O.
 *
 * `Rng` is sfc32 (Small Fast Counting, 128-bit state, period ≥ 2^32 guaranteed and ~2^127 in practice), seeded
 * through splitmix32 so that nearby seeds give unrelated streams. Everything the generator draws comes from here:
 * the same seed gives the same sequence on every platform (only 32-bit integer ops and IEEE doubles).
 */

/** splitmix32 step: a good 32-bit mixer, used for seeding and for hashing integers. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = NaN;

  constructor(seed: number, stream = 0) {
    const s = mix32((seed | 0) ^ Math.imul(stream + 1, 0x27d4eb2d));
    this.a = mix32(s);
    this.b = mix32(s ^ 0x6a09e667);
    this.c = mix32(s ^ 0xbb67ae85);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Restarts the generator from a 32-bit seed (cheap; for re-deriving the same text from a stored seed). */
  reseed(seed: number): this {
    this.a = seed | 0;
    this.b = mix32(seed);
    this.c = mix32(this.b ^ 0x6a09e667);
    this.d = 1;
    this.spare = NaN;
    for (let i = 0; i < 6; i++) this.uint32();
    return this;
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in (0, 1]: safe for log(). */
  nextOpen(): number {
    return (this.uint32() + 1) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextOpen()));
    const th = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Log-normal with the given median and log-space sigma. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Index from a cumulative-weights array whose last entry is the total. */
  pickCumulative(cum: ArrayLike<number>): number {
    const x = this.next() * cum[cum.length - 1]!;
    let i = 0;
    while (i < cum.length - 1 && cum[i]! <= x) i++;
    return i;
  }
}

/** Cumulative weights for `Rng.pickCumulative`. */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    s += weights[i]!;
    out[i] = s;
  }
  return out;
}

/** 64-bit hash of a short string as two 32-bit FNV-1a-style lanes (used for stable ids, not for prompt text). */
export function hashString64(text: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return [mix32(h1 ^ (h2 >>> 7)), mix32(h2 ^ h1)];
}

const HEX_CODES = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** 16 hex characters from two 32-bit lanes (one flat string allocation). */
export function hex64(hi: number, lo: number): string {
  const h = HEX_CODES;
  return String.fromCharCode(
    h[hi >>> 28]!,
    h[(hi >>> 24) & 15]!,
    h[(hi >>> 20) & 15]!,
    h[(hi >>> 16) & 15]!,
    h[(hi >>> 12) & 15]!,
    h[(hi >>> 8) & 15]!,
    h[(hi >>> 4) & 15]!,
    h[hi & 15]!,
    h[lo >>> 28]!,
    h[(lo >>> 24) & 15]!,
    h[(lo >>> 20) & 15]!,
    h[(lo >>> 16) & 15]!,
    h[(lo >>> 12) & 15]!,
    h[(lo >>> 8) & 15]!,
    h[(lo >>> 4) & 15]!,
    h[lo & 15]!,
  );
}

const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const C32 = Array.from(B32, (c) => c.charCodeAt(0));
const L32 = Array.from(B32.toLowerCase(), (c) => c.charCodeAt(0));

/** Fixed-width base-32 (Crockford alphabet; upper case unless `lower`, which only width 7 supports) of a non-negative integer < 32^width. */
export function base32(x: number, width: number, lower = false): string {
  if (width === 7) {
    const hi = Math.floor(x / 1073741824) & 31; // bits 30..34
    const lo = x % 1073741824;
    const c = lower ? L32 : C32;
    return String.fromCharCode(
      c[hi]!,
      c[(lo >>> 25) & 31]!,
      c[(lo >>> 20) & 31]!,
      c[(lo >>> 15) & 31]!,
      c[(lo >>> 10) & 31]!,
      c[(lo >>> 5) & 31]!,
      c[lo & 31]!,
    );
  }
  let s = '';
  for (let k = width - 1; k >= 0; k--) s += B32[Math.floor(x / 32 ** k) % 32]!;
  return s;
}

/**
 * Hash of a prompt identity given as a few integers (a "recipe"): 16 hex characters. The generator builds
 * prompt_text deterministically from the same integers, so equal recipes ⇔ equal texts (checked in tests).
 */
export function recipeHash(a: number, b: number, c: number, d: number): string {
  let h1 = mix32(a ^ 0x5bf03635);
  h1 = mix32(h1 ^ b);
  h1 = mix32(h1 ^ c);
  h1 = mix32(h1 ^ d);
  let h2 = mix32(d ^ 0x1b873593);
  h2 = mix32(h2 ^ c);
  h2 = mix32(h2 ^ a);
  h2 = mix32(h2 ^ b);
  return hex64(h1, h2);
}
