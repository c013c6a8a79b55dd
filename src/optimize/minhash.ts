/**
 * MinHash signatures and LSH band keys over 32-bit shingle hashes. Pure and deterministic (seeded); no I/O.
 *
 * Permutation i maps a shingle hash x to fmix32(x ^ seed_i) (two Math.imul per shingle per permutation); the
 * signature keeps the minimum per permutation. With `bands` bands of `rows` rows, two sets of Jaccard s become LSH
 * candidates with probability 1 - (1 - s^rows)^bands: for 12 x 3 (the index's default) that is 99.86% at s = 0.75
 * and 99.98% at s = 0.8, while pairs at s = 0.3 collide only 28% of the time. 16 x 2 (this module's default) is looser
 * (99.9% at 0.6) but on short prompts with a shared vocabulary it puts hundreds of prompts in one bucket, measured.
 * Candidates are verified exactly (near-duplicates.ts).
 */
import { createSimdSignature } from './minhash-simd.js';
import { fmix32 } from './prompt-features.js';

export interface MinHasher {
  readonly bands: number;
  readonly rows: number;
  /** Band keys of a shingle set, salted (e.g. with the model). A plain array: typed-array allocation is slow in V8. */
  bandKeys(shingles: ArrayLike<number>, salt: number): number[];
  /** The full signature (bands * rows minima); exposed for tests and estimates. */
  signature(shingles: ArrayLike<number>, out?: Uint32Array): Uint32Array;
}

/** Seeds from a small deterministic generator (splitmix-style over 32 bits). */
function seedsFor(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    out[i] = fmix32(s);
  }
  return out;
}

/**
 * `simd` (default true): compute signatures with the WebAssembly SIMD kernel (minhash-simd.ts, same values, ~6x
 * faster) when the runtime has it; false: the plain JS loop below (the reference the tests compare against).
 */
export function createMinHasher(opts: { bands?: number; rows?: number; seed?: number; simd?: boolean } = {}): MinHasher {
  const bands = opts.bands ?? 16;
  const rows = opts.rows ?? 2;
  if (!Number.isInteger(bands) || bands < 1 || !Number.isInteger(rows) || rows < 1) {
    throw new RangeError(`bands and rows must be positive integers (got ${bands} x ${rows})`);
  }
  const k = bands * rows;
  const seeds = seedsFor(k, opts.seed ?? 0x5eed1234);
  const scratch = new Uint32Array(k);
  const kernel = opts.simd === false ? null : createSimdSignature(seeds);

  function signature(shingles: ArrayLike<number>, out = new Uint32Array(k)): Uint32Array {
    if (kernel !== null) {
      kernel(shingles, out);
      return out;
    }
    out.fill(0xffffffff);
    const n = shingles.length;
    for (let j = 0; j < n; j++) {
      const x = shingles[j]!;
      for (let i = 0; i < k; i++) {
        let h = x ^ seeds[i]!;
        h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
        h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
        h = (h ^ (h >>> 16)) >>> 0;
        if (h < out[i]!) out[i] = h;
      }
    }
    return out;
  }

  function bandKeys(shingles: ArrayLike<number>, salt: number): number[] {
    const sig = signature(shingles, scratch);
    const out = new Array<number>(bands);
    for (let b = 0; b < bands; b++) {
      let h = Math.imul(salt ^ (b + 1), 0x9e3779b1);
      for (let r = 0; r < rows; r++) h = Math.imul(h ^ sig[b * rows + r]!, 0x01000193);
      out[b] = fmix32(h);
    }
    return out;
  }

  return { bands, rows, bandKeys, signature };
}

/** Estimated Jaccard from two signatures of equal length: the share of equal minima. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length || a.length === 0) throw new RangeError('signatures must have the same non-zero length');
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}
