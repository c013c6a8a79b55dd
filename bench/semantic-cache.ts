/**
 * Benchmark: near-duplicate prompt detection for the semantic_cache recommendation.
 * Prints (1) quality on the real GPTCache paraphrase pairs (precision/recall curve, recall at >= 99% precision, false
 * hits on random and hard negatives, with and without the duplicate audit), (2) quality on templated paraphrases,
 * (3) a comparison of shingling schemes, (4) throughput of `observe` against an exact-match Map baseline run on the
 * same events in the same process.
 * Run: node --import tsx bench/semantic-cache.ts [--smoke]   (or BENCH_SMOKE=1)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNearDuplicateIndex, type PromptObservation } from '../src/optimize/near-duplicates.js';
import {
  DEFAULT_NEAR_DUPLICATE_THRESHOLD,
  expectedFalseHitRate,
  mulberry32,
  recallAtPrecision,
  scoreParaphrasePairs,
  thresholdRow,
  type ParaphrasePair,
  type ScoredSets,
} from '../src/optimize/near-duplicate-calibration.js';
import { templatedParaphrases } from '../src/optimize/templated-paraphrases.js';
import { promptFeatures } from '../src/optimize/prompt-features.js';
import { nearDuplicateSimilarity } from '../src/optimize/prompt-similarity.js';

const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const dataPath = fileURLToPath(new URL('../test/fixtures/data/gptcache-paraphrase-pairs.json', import.meta.url));
const pairs = JSON.parse(readFileSync(process.env.GPTCACHE_PAIRS ?? dataPath, 'utf8')) as ParaphrasePair[];
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function printCurve(label: string, s: ScoredSets): void {
  console.log(`\n${label}`);
  console.log('threshold  precision  recall  false-hit  random-neg-hit  hard-neg-hit  overlap-neg-hit');
  for (const t of [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9]) {
    const r = thresholdRow(s, t);
    console.log(
      `${t.toFixed(2).padStart(9)}  ${pct(r.precision).padStart(9)}  ${pct(r.recall).padStart(6)}  ${pct(r.falseHitRate).padStart(9)}  ${pct(r.randomNegativeHitRate).padStart(14)}  ${pct(r.hardNegativeHitRate).padStart(12)}  ${pct(r.overlapNegativeHitRate).padStart(15)}`,
    );
  }
  for (const p of [0.99, 0.95]) {
    const r = recallAtPrecision(s, p);
    console.log(
      r === null
        ? `recall at >= ${pct(p)} precision: none`
        : `recall at >= ${pct(p)} precision: ${pct(r.recall)} (threshold ${r.threshold.toFixed(3)}, precision ${pct(r.precision)}, hard-negative hits ${pct(r.hardNegativeHitRate)})`,
    );
  }
}

// ---- 1. real pairs
const t0 = performance.now();
const audited = scoreParaphrasePairs(pairs);
const calibMs = performance.now() - t0;
console.log(
  `GPTCache paraphrase pairs: ${pairs.length} positives, ${pairs.length} random + ${pairs.length} hard negatives (calibration ${calibMs.toFixed(0)} ms)`,
);
printCurve('With the duplicate-fact audit (GPTCACHE_DUPLICATE_FACTS):', audited);
printCurve(
  'Strict lower bound, no audit (unlabelled duplicates in the file count as false hits):',
  scoreParaphrasePairs(pairs, { duplicateFacts: [] }),
);
const fh = expectedFalseHitRate(DEFAULT_NEAR_DUPLICATE_THRESHOLD);
console.log(
  `\nDEFAULT_NEAR_DUPLICATE_THRESHOLD = ${DEFAULT_NEAR_DUPLICATE_THRESHOLD}: expected false-hit rate ${pct(fh.expected_false_hit_rate)} (95% upper ${pct(fh.false_hit_rate_upper_95)}), recall ${pct(fh.expected_recall)}`,
);

// ---- 2. templated paraphrases
const tp = templatedParaphrases(smoke ? 300 : 2000);
const score = (ps: ParaphrasePair[]) => ps.map((p) => nearDuplicateSimilarity(promptFeatures(p.origin), promptFeatures(p.similar)));
const tpPos = score(tp.positives);
const tpNeg = score(tp.negatives);
console.log(
  `\nTemplated paraphrases (${tp.positives.length} pairs; frame change, synonym verb in half, filler, moved clause) vs one-slot-changed negatives:`,
);
for (const t of [0.6, 0.7, DEFAULT_NEAR_DUPLICATE_THRESHOLD, 0.8]) {
  console.log(
    `  threshold ${t.toFixed(2)}: recall ${pct(tpPos.filter((x) => x >= t).length / tpPos.length)}, negatives hit ${tpNeg.filter((x) => x >= t).length} of ${tpNeg.length}`,
  );
}

// ---- 3. shingling schemes (exact Jaccard, no gates): recall when 1% / 5% of hard (nearest-neighbour) negatives hit
if (!smoke) {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_]+/gu, ' ')
      .trim();
  const schemes: Record<string, (s: string) => Set<string>> = {
    'content-word unigrams (stemmed, ours)': (s) => new Set(Array.from(promptFeatures(s).shingles, String)),
    'word bigrams': (s) => {
      const w = norm(s).split(' ');
      return new Set(w.slice(1).map((x, i) => `${w[i]} ${x}`));
    },
    'char 4-grams': (s) => {
      const x = ` ${norm(s)} `;
      return new Set(Array.from({ length: Math.max(0, x.length - 3) }, (_, i) => x.slice(i, i + 4)));
    },
    'char 5-grams': (s) => {
      const x = ` ${norm(s)} `;
      return new Set(Array.from({ length: Math.max(0, x.length - 4) }, (_, i) => x.slice(i, i + 5)));
    },
  };
  const jac = (a: Set<string>, b: Set<string>) => {
    let i = 0;
    for (const x of a) if (b.has(x)) i++;
    return i / (a.size + b.size - i || 1);
  };
  console.log('\nShingling schemes (exact Jaccard, no gates, no audit; hard negative = nearest text of another pair):');
  for (const [name, f] of Object.entries(schemes)) {
    const sets = pairs.flatMap((p) => [f(p.origin), f(p.similar)]);
    const pos = pairs.map((_, i) => jac(sets[2 * i]!, sets[2 * i + 1]!));
    // skip pairs that share an identical normalised text with pair i (the file repeats some items)
    const keys = pairs.flatMap((p) => [norm(p.origin), norm(p.similar)]);
    const same = (i: number, j: number) =>
      keys[2 * i] === keys[2 * j] ||
      keys[2 * i] === keys[2 * j + 1] ||
      keys[2 * i + 1] === keys[2 * j] ||
      keys[2 * i + 1] === keys[2 * j + 1];
    const hard = pairs
      .map((_, i) => {
        let m = 0;
        for (let j = 0; j < sets.length; j++) if (j >> 1 !== i && !same(i, j >> 1)) m = Math.max(m, jac(sets[2 * i]!, sets[j]!));
        return m;
      })
      .sort((a, b) => b - a);
    const at = (q: number) => {
      const t = hard[Math.floor(q * hard.length)]!;
      return `${pct(pos.filter((x) => x > t).length / pos.length)} (t>${t.toFixed(2)})`;
    };
    console.log(`  ${name.padEnd(38)} recall @1% hard hits ${at(0.01)}, @5% ${at(0.05)}`);
  }
}

// ---- 4. throughput
const N = smoke ? 5_000 : 200_000;
const rnd = mulberry32(99);
const vocab = Array.from({ length: 5000 }, (_, i) => `w${((i * 2654435761) >>> 0).toString(36).slice(0, 3 + (i % 6))}`.replace(/\d/g, 'x'));
const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4'];
const events: PromptObservation[] = [];
for (let i = 0; i < N; i++) {
  const r = rnd();
  let text: string;
  if (r < 0.3) {
    const p = pairs[Math.floor(rnd() * pairs.length)]!;
    text = rnd() < 0.5 ? p.origin : p.similar;
  } else {
    const n = 8 + Math.floor(rnd() * 40);
    text = Array.from({ length: n }, () => vocab[Math.floor(rnd() * vocab.length)]!).join(' ') + '?';
  }
  events.push({ event_id: `e${i}`, timestamp: 1_700_000_000_000 + i * 10, model: models[i % 3]!, prompt_hash: null, prompt_text: text });
}
const ttlMs = 3_600_000;

function runExact(): { ms: number; hits: number } {
  const t = performance.now();
  const seen = new Map<string, { id: string; ts: number }>();
  let hits = 0;
  for (const e of events) {
    const key = `${e.model}\u0000${e.prompt_text}`;
    const prev = seen.get(key);
    if (prev !== undefined && e.timestamp - prev.ts <= ttlMs) hits++;
    else seen.set(key, { id: e.event_id, ts: e.timestamp });
  }
  return { ms: performance.now() - t, hits };
}
function runNear(ttl = ttlMs): { ms: number; exact: number; near: number; size: number } {
  const t = performance.now();
  const idx = createNearDuplicateIndex({ ttlMs: ttl });
  let exact = 0;
  let near = 0;
  for (const e of events) {
    const r = idx.observe(e);
    if (r.kind === 'exact') exact++;
    else if (r.kind === 'near') near++;
  }
  return { ms: performance.now() - t, exact, near, size: idx.size() };
}
runExact();
runNear(); // warm-up
const base = runExact();
const ours = runNear();
const oursShortTtl = runNear(300_000);
const rate = (ms: number) => Math.round(N / (ms / 1000));
console.log(`\nThroughput on ${N.toLocaleString('en-US')} prompts (30% GPTCache texts, 70% random 8-48 word text; 3 models; TTL 1 h):`);
console.log(`  exact-match Map baseline: ${rate(base.ms).toLocaleString('en-US')} prompts/s (${base.ms.toFixed(0)} ms, ${base.hits} hits)`);
console.log(
  `  near-duplicate index:     ${rate(ours.ms).toLocaleString('en-US')} prompts/s (${ours.ms.toFixed(0)} ms, ${ours.exact} exact + ${ours.near} near hits, ${ours.size} entries cached)`,
);
console.log(
  `  near-duplicate, TTL 5 min: ${rate(oursShortTtl.ms).toLocaleString('en-US')} prompts/s (${oursShortTtl.ms.toFixed(0)} ms, ${oursShortTtl.size} entries cached at the end)`,
);
console.log(
  `  ratio near / exact time:  ${(ours.ms / base.ms).toFixed(1)}x (TTL 1 h), ${(oursShortTtl.ms / base.ms).toFixed(1)}x (TTL 5 min) slower than the exact-hash baseline`,
);

// LSH candidate recall: every positive pair scoring >= threshold must be found through the index
const idx = createNearDuplicateIndex({ ttlMs: 60_000 });
let expected = 0;
let found = 0;
pairs.forEach((p, i) => {
  const s = nearDuplicateSimilarity(promptFeatures(p.origin), promptFeatures(p.similar));
  idx.observe({ event_id: `o${i}`, timestamp: 1_000 + i * 1000, model: `m${i}`, prompt_hash: null, prompt_text: p.origin });
  const r = idx.observe({ event_id: `s${i}`, timestamp: 1_001 + i * 1000, model: `m${i}`, prompt_hash: null, prompt_text: p.similar });
  if (s >= DEFAULT_NEAR_DUPLICATE_THRESHOLD && p.origin !== p.similar) {
    expected++;
    if (r.kind === 'near' && r.matchedEventId === `o${i}`) found++;
  }
});
console.log(`  LSH candidate recall at the default threshold: ${found} of ${expected} pairs found through the index`);
