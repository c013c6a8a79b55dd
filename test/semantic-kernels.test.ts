/**
 * The hot loops of the semantic-cache pass, rewritten for speed, against what they must stay equal to:
 * - the MinHash signature's WebAssembly SIMD kernel (minhash-simd.ts) against the plain JS loop, bit for bit;
 * - scanWords (long-prompt-matcher.ts) against the straightforward one-pass scan it replaced;
 * - promptFeatures (prompt-features.ts) against a digest of its output recorded before the rewrite, over generated
 *   texts with the cases its tokeniser special-cases (CRLF, CJK, surrogates, role labels, quotes and backticks,
 *   dotted names, calls, sentence ends, suffixes it stems).
 */
import { describe, expect, it } from 'vitest';
import { createMinHasher } from '../src/optimize/minhash.js';
import { promptFeatures } from '../src/optimize/prompt-features.js';
import { scanWords } from '../src/optimize/recommend/long-prompt-matcher.js';

/** Deterministic generator (LCG), so the texts and the recorded digest never drift. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

const PIECES = [
  'user',
  'User',
  'system',
  'assistant',
  'ai',
  'tool',
  ':',
  ': ',
  '\n',
  '\r\n',
  ' ',
  '  ',
  '.',
  '. ',
  '? ',
  '!',
  '"',
  '`',
  '(',
  ')',
  '()',
  'iter_files',
  'v2.10',
  'torch.utils',
  'fooBar',
  'ALLCAPS',
  'running',
  'flies',
  'wanted',
  'boxes',
  'cats',
  'class',
  'the',
  'a',
  'é',
  'École',
  'naïve',
  '日本語',
  '中',
  '\u00d7',
  '\u00de',
  '\ud83d\ude00',
  '\ud83d',
  'x',
  '42',
  '_',
  'hello',
  'thanks',
  'studies',
  'sing',
  ',',
  ';',
  '\t',
  '—',
  'Ω',
  'ß',
  'order 2K7Z4KW',
  'eu_west',
];

function texts(seed: number, count: number, maxPieces: number): string[] {
  const r = rng(seed);
  const out: string[] = [''];
  for (let i = 1; i < count; i++) {
    const n = 1 + r(i % 10 === 0 ? maxPieces * 4 : maxPieces);
    let s = '';
    for (let j = 0; j < n; j++) s += PIECES[r(PIECES.length)]! + (r(3) === 0 ? ' ' : '');
    out.push(s);
  }
  return out;
}

describe('MinHash signature: SIMD kernel equals the JS loop', () => {
  const r = rng(7);
  const sets: number[][] = [[], [0], [0xffffffff], [1, 2, 3]];
  for (let i = 0; i < 300; i++) sets.push(Array.from({ length: 1 + r(120) }, () => (r(1 << 16) * 65_536 + r(1 << 16)) >>> 0));
  sets.push(Array.from({ length: 70_000 }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0)); // grows the kernel's memory

  for (const [bands, rows, seed] of [
    [12, 3, undefined],
    [16, 2, undefined],
    [5, 3, 7],
    [7, 1, 99],
    [1, 1, 3],
  ] as const) {
    it(`${bands} x ${rows}${seed === undefined ? '' : `, seed ${seed}`}`, () => {
      const simd = createMinHasher({ bands, rows, seed });
      const js = createMinHasher({ bands, rows, seed, simd: false });
      for (const s of sets) {
        expect(Array.from(simd.signature(s))).toEqual(Array.from(js.signature(s)));
        expect(simd.bandKeys(s, 0x1234abcd)).toEqual(js.bandKeys(s, 0x1234abcd));
      }
    });
  }

  it('the empty set keeps every minimum at 0xffffffff (as the JS loop starts)', () => {
    expect(Array.from(createMinHasher({ bands: 2, rows: 3 }).signature([]))).toEqual(new Array(6).fill(0xffffffff));
  });
});

/** The scan scanWords replaced (one pass, every word hashed): the definition it must keep. */
function scanWordsReference(text: string): { words: number; identifierHash: number } {
  let words = 0;
  const ids: number[] = [];
  let h = 0x811c9dc5;
  let isId = false;
  let inWord = false;
  for (let i = 0; i <= text.length; i++) {
    let c = i < text.length ? text.charCodeAt(i) : 32;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c > 127) {
      if (!inWord) {
        words++;
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
  if (ids.length === 0) return { words, identifierHash: 0 };
  ids.sort((a, b) => a - b);
  let acc = 0x811c9dc5;
  for (let k = 0; k < ids.length; k++) if (k === 0 || ids[k] !== ids[k - 1]) acc = Math.imul(acc ^ ids[k]!, 0x01000193);
  return { words, identifierHash: acc >>> 0 || 1 };
}

describe('scanWords', () => {
  it('counts words and hashes identifiers as the one-pass scan did', () => {
    for (const t of [...texts(11, 5_000, 60), 'a1', '_', 'x_', 'Z9 z9', '日本語2', '\ud83d1']) {
      expect({ ...scanWords(t) }, JSON.stringify(t)).toEqual(scanWordsReference(t));
    }
  });
});

/** FNV-1a over every feature of every text, in order (lengths included, so a moved boundary changes it). */
function featuresDigest(all: string[], windowWords: number): number {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h = Math.imul(h ^ (x >>> 0), 0x01000193);
  };
  for (const t of all) {
    const f = promptFeatures(t, windowWords);
    for (const a of [f.tokens, f.content, f.shingles, f.blocks, f.blockTokenStarts, f.blockContentStarts]) {
      mix(a.length);
      for (const x of a) mix(x);
    }
    mix(f.entityHash);
    mix(f.headHash);
  }
  return h >>> 0;
}

// recorded with the implementation before the tokeniser's fast paths (ASCII class table, sized arrays, native sort)
const RECORDED_64 = 3431057670;
const RECORDED_5 = 4171147507;
const RECORDED_WHOLE = 41377116;

describe('promptFeatures output is unchanged', () => {
  const all = texts(12_345, 4_000, 90);
  it.each([
    [64, RECORDED_64],
    [5, RECORDED_5],
    [Number.MAX_SAFE_INTEGER, RECORDED_WHOLE],
  ])('window %i', (w, expected) => {
    expect(featuresDigest(all, w)).toBe(expected);
  });
});
