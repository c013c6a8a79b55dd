/**
 * Near-duplicate prompt detection (src/optimize/near-duplicates.ts and friends): streaming semantics (exact / near /
 * miss, TTL, model scoping, bounded memory, determinism), precision gates, and quality on the real GPTCache pairs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createNearDuplicateIndex, type MatchResult, type PromptObservation } from '../src/optimize/near-duplicates.js';
import {
  DEFAULT_NEAR_DUPLICATE_THRESHOLD,
  NEAR_DUPLICATE_CALIBRATION,
  expectedFalseHitRate,
  recallAtPrecision,
  scoreParaphrasePairs,
  thresholdRow,
  type ParaphrasePair,
} from '../src/optimize/near-duplicate-calibration.js';
import { promptFeatures } from '../src/optimize/prompt-features.js';
import { nearDuplicateSimilarity } from '../src/optimize/prompt-similarity.js';
import { createMinHasher, estimateJaccard } from '../src/optimize/minhash.js';
import { templatedParaphrases } from '../src/optimize/templated-paraphrases.js';

const PAIRS = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/data/gptcache-paraphrase-pairs.json', import.meta.url)), 'utf8'),
) as ParaphrasePair[];
const T0 = Date.UTC(2026, 0, 1);
const sim = (a: string, b: string) => nearDuplicateSimilarity(promptFeatures(a), promptFeatures(b));

let seq = 0;
function ev(text: string | null, at: number, model = 'gpt-4o', hash: string | null = null): PromptObservation {
  return { event_id: `e${seq++}`, timestamp: T0 + at, model, prompt_hash: hash, prompt_text: text };
}

// pair 57 of the GPTCache file: a real paraphrase scoring 0.80
const ORIGIN =
  'You can install the Azure Blob Storage implementation by running the command "conda install -c conda-forge adlfs" or "pip install adlfs".';
const PARAPHRASE =
  'You can get the Azure Blob Storage implementation up and running by executing the command "conda install -c conda-forge adlfs" or "pip install adlfs".';

describe('near-duplicate index: streaming semantics', () => {
  it('identical text with the same prompt_hash is an exact hit on the first event', () => {
    const idx = createNearDuplicateIndex({ ttlMs: 60_000 });
    const first = ev(ORIGIN, 0, 'gpt-4o', 'h1');
    expect(idx.observe(first).kind).toBe('miss');
    expect(idx.observe(ev(ORIGIN, 1000, 'gpt-4o', 'h1'))).toEqual({ kind: 'exact', matchedEventId: first.event_id, similarity: 1 });
    // without a hash, identical text is still exact
    const idx2 = createNearDuplicateIndex({ ttlMs: 60_000 });
    const a = ev(ORIGIN, 0);
    idx2.observe(a);
    expect(idx2.observe(ev(ORIGIN, 5)).matchedEventId).toBe(a.event_id);
  });

  it('a known paraphrase pair from the GPTCache file scores above the threshold and is a near hit', () => {
    expect(PAIRS[57]).toEqual({ origin: ORIGIN, similar: PARAPHRASE });
    const s = sim(ORIGIN, PARAPHRASE);
    expect(s).toBeGreaterThanOrEqual(DEFAULT_NEAR_DUPLICATE_THRESHOLD);
    const idx = createNearDuplicateIndex({ ttlMs: 60_000 });
    const first = ev(ORIGIN, 0);
    idx.observe(first);
    expect(idx.observe(ev(PARAPHRASE, 10_000))).toEqual({ kind: 'near', matchedEventId: first.event_id, similarity: s });
  });

  it('an unrelated prompt is a miss', () => {
    const idx = createNearDuplicateIndex({ ttlMs: 60_000 });
    idx.observe(ev(ORIGIN, 0));
    expect(idx.observe(ev('What is the capital of Australia and when did it become the capital?', 1)).kind).toBe('miss');
    expect(sim(ORIGIN, PAIRS[3]!.origin)).toBeLessThan(0.2);
  });

  it('a paraphrase older than the TTL is a miss; at exactly the TTL it still hits', () => {
    const idx = createNearDuplicateIndex({ ttlMs: 60_000 });
    idx.observe(ev(ORIGIN, 0));
    expect(idx.observe(ev(PARAPHRASE, 60_000)).kind).toBe('near');
    expect(idx.observe(ev(PARAPHRASE, 60_001)).kind).toBe('miss');
    expect(idx.observe(ev(ORIGIN, 60_002, 'gpt-4o', null)).kind).toBe('near'); // the paraphrase was cached on its miss
    const idx2 = createNearDuplicateIndex({ ttlMs: 1000 });
    idx2.observe(ev(ORIGIN, 0, 'gpt-4o', 'h'));
    expect(idx2.observe(ev(ORIGIN, 1001, 'gpt-4o', 'h')).kind).toBe('miss'); // exact entries expire too
  });

  it('the same prompt for a different model is a miss (exact and near)', () => {
    const idx = createNearDuplicateIndex({ ttlMs: 60_000 });
    idx.observe(ev(ORIGIN, 0, 'gpt-4o', 'h1'));
    expect(idx.observe(ev(ORIGIN, 1, 'claude-sonnet-4', 'h1')).kind).toBe('miss');
    expect(idx.observe(ev(PARAPHRASE, 2, 'gpt-4o-mini')).kind).toBe('miss');
    expect(idx.observe(ev(PARAPHRASE, 3, 'gpt-4o')).kind).toBe('near');
  });

  it('events without prompt_text only match exactly by prompt_hash', () => {
    const idx = createNearDuplicateIndex({ ttlMs: 60_000 });
    const a = ev(null, 0, 'gpt-4o', 'abc');
    expect(idx.observe(a).kind).toBe('miss');
    expect(idx.observe(ev(null, 1, 'gpt-4o', 'abc')).matchedEventId).toBe(a.event_id);
    expect(idx.observe(ev(null, 2, 'gpt-4o', null)).kind).toBe('miss');
    expect(idx.observe(ev(null, 3, 'gpt-4o', null)).kind).toBe('miss');
  });

  it('is deterministic: the same stream gives the same results', () => {
    const stream = PAIRS.slice(0, 300).flatMap((p, i) => [
      { text: p.origin, at: i * 1000, model: `m${i % 3}` },
      { text: p.similar, at: i * 1000 + 500, model: `m${i % 3}` },
    ]);
    const run = (): MatchResult[] => {
      const idx = createNearDuplicateIndex({ ttlMs: 20_000 });
      return stream.map((s, k) =>
        idx.observe({ event_id: `x${k}`, timestamp: T0 + s.at, model: s.model, prompt_hash: null, prompt_text: s.text }),
      );
    };
    const a = run();
    expect(run()).toEqual(a);
    expect(a.filter((r) => r.kind === 'near').length).toBeGreaterThan(10);
  });

  it('memory stays bounded over a long stream with a short TTL, and by maxEntries', () => {
    const idx = createNearDuplicateIndex({ ttlMs: 1000 });
    let maxSize = 0;
    let maxSlots = 0;
    for (let i = 0; i < 30_000; i++) {
      const p = PAIRS[i % PAIRS.length]!;
      idx.observe(ev(`${i % 2 === 0 ? p.origin : p.similar} (ticket ${i})`, i * 10));
      maxSize = Math.max(maxSize, idx.size());
      maxSlots = Math.max(maxSlots, idx.bucketCount());
    }
    expect(maxSize).toBeLessThanOrEqual(101); // 1 s TTL at one event per 10 ms
    expect(maxSlots).toBeLessThanOrEqual(101 * 12);
    const capped = createNearDuplicateIndex({ ttlMs: 1e9, maxEntries: 500 });
    for (let i = 0; i < 5000; i++) capped.observe(ev(`prompt number ${i} about topic ${i * 7919}`, i));
    expect(capped.size()).toBe(500);
  });

  it('rejects invalid options', () => {
    expect(() => createNearDuplicateIndex({ ttlMs: -1 })).toThrow(RangeError);
    expect(() => createNearDuplicateIndex({ ttlMs: 1, threshold: 0 })).toThrow(RangeError);
    expect(() => createNearDuplicateIndex({ ttlMs: 1, threshold: 1.5 })).toThrow(RangeError);
  });
});

describe('precision gates', () => {
  it('different identifiers, numbers or a swapped template slot never match', () => {
    expect(sim('The `iter_files` function iterates over file paths.', 'The `iter_archive` function iterates over file paths.')).toBe(0);
    expect(
      sim(
        'No, the documentation page STREA does not exist in version 2.10.0.',
        'No, the documentation page STREA does not exist in version 2.9.0.',
      ),
    ).toBe(0);
    expect(sim('It returns the number of rows in the table.', 'It returns the number of columns in the table.')).toBe(0);
    expect(
      sim('Yes, you can share your audio dataset with your team on the Hub.', 'Yes, you can share your dataset with your team on the Hub.'),
    ).toBe(0);
    expect(sim('How do I reset my password in the mobile app?', 'How do I reset my username in the mobile app?')).toBe(0);
  });

  it('case, punctuation, filler words and clause order do not matter', () => {
    expect(
      sim(
        'How do I delete the billing email address on the desktop client?',
        'Hi, on the desktop client, how can I delete the billing email address? Thanks!',
      ),
    ).toBe(1);
  });

  it('long prompts: shared context with a different question is not a near-duplicate', () => {
    const context = Array.from({ length: 300 }, (_, i) => `policy clause ${i % 17} covers refunds shipping and returns`).join('. ');
    const a = `${context}\nQuestion: how long does a refund take for an order paid by card?`;
    const b = `${context}\nQuestion: which countries do you ship to and what does express shipping cost?`;
    const c = `${context}\nQuestion: how long does a refund take for orders paid by card?`;
    expect(sim(a, b)).toBeLessThan(DEFAULT_NEAR_DUPLICATE_THRESHOLD);
    expect(sim(a, c)).toBeGreaterThanOrEqual(DEFAULT_NEAR_DUPLICATE_THRESHOLD);
    expect(sim(`Other system prompt. ${a}`, c)).toBe(0); // different head
  });

  it('MinHash estimates track the exact Jaccard', () => {
    const h = createMinHasher({ bands: 32, rows: 4 });
    const fa = promptFeatures(PAIRS[47]!.origin);
    const fb = promptFeatures(PAIRS[47]!.similar);
    const exact = sim(PAIRS[47]!.origin, PAIRS[47]!.similar);
    expect(Math.abs(estimateJaccard(h.signature(fa.shingles), h.signature(fb.shingles)) - exact)).toBeLessThan(0.15);
  });
});

describe('quality on real and templated paraphrases', () => {
  const scored = scoreParaphrasePairs(PAIRS);

  it('recall at >= 99% precision on the GPTCache pairs stays above the floor (measured 10.2% at 0.75)', () => {
    const row = recallAtPrecision(scored, 0.99);
    expect(row).not.toBeNull();
    expect(row!.recall).toBeGreaterThanOrEqual(0.09);
    expect(row!.threshold).toBeLessThanOrEqual(DEFAULT_NEAR_DUPLICATE_THRESHOLD);
    const atDefault = thresholdRow(scored, DEFAULT_NEAR_DUPLICATE_THRESHOLD);
    expect(atDefault.precision).toBeGreaterThanOrEqual(0.99);
    expect(atDefault.randomNegativeHitRate).toBe(0);
    expect(thresholdRow(scored, 0.6).recall).toBeGreaterThanOrEqual(0.28); // measured 31.4%
  });

  it('the calibration table in the source matches a fresh measurement', () => {
    for (const row of NEAR_DUPLICATE_CALIBRATION) {
      const now = thresholdRow(scored, row.threshold);
      expect({ t: row.threshold, hits: now.nearHits, falseHits: now.falseHits }).toEqual({
        t: row.threshold,
        hits: row.nearHits,
        falseHits: row.falseHits,
      });
      expect(now.recall).toBeCloseTo(row.recall, 3);
    }
  });

  it('expectedFalseHitRate reports the measured rate and a Wilson upper bound', () => {
    const d = expectedFalseHitRate(DEFAULT_NEAR_DUPLICATE_THRESHOLD);
    expect(d.calibrated_threshold).toBe(0.75);
    expect(d.expected_false_hit_rate).toBe(0);
    expect(d.false_hit_rate_upper_95).toBeCloseTo(0.0363, 3);
    const low = expectedFalseHitRate(0.62); // falls back to the 0.60 row
    expect(low.calibrated_threshold).toBe(0.6);
    expect(low.expected_false_hit_rate).toBeCloseTo(16 / 330, 6);
    expect(low.false_hit_rate_upper_95).toBeGreaterThan(low.expected_false_hit_rate);
  });

  it('templated paraphrases: most are found and no one-slot-changed question matches', () => {
    const t = templatedParaphrases(500);
    const pos = t.positives.filter((p) => sim(p.origin, p.similar) >= DEFAULT_NEAR_DUPLICATE_THRESHOLD).length;
    const neg = t.negatives.filter((p) => sim(p.origin, p.similar) >= DEFAULT_NEAR_DUPLICATE_THRESHOLD).length;
    expect(pos / t.positives.length).toBeGreaterThanOrEqual(0.5); // measured 61% on 2,000
    expect(neg).toBe(0);
  });

  it('the LSH index finds every positive pair the exact similarity accepts', () => {
    const idx = createNearDuplicateIndex({ ttlMs: 10_000 });
    let expected = 0;
    let found = 0;
    PAIRS.forEach((p, i) => {
      const s = sim(p.origin, p.similar);
      idx.observe({ event_id: `o${i}`, timestamp: T0 + i * 100_000, model: 'm', prompt_hash: null, prompt_text: p.origin });
      const r = idx.observe({ event_id: `s${i}`, timestamp: T0 + i * 100_000 + 1, model: 'm', prompt_hash: null, prompt_text: p.similar });
      if (s >= DEFAULT_NEAR_DUPLICATE_THRESHOLD && p.origin !== p.similar) {
        expected++;
        if (r.kind === 'near' && r.matchedEventId === `o${i}`) found++;
      }
    });
    expect(expected).toBeGreaterThan(90);
    expect(found).toBe(expected);
  });
});
