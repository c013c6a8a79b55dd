/**
 * Near duplicates are measured on the part of the prompt that varies (src/optimize/prompt-similarity.ts): distinct
 * questions under one long system preamble are not rewordings, paraphrases under it still are.
 *
 * - Pairwise: the real GPTCache paraphrase pairs (positives) and distinct questions (negatives: each origin's nearest
 *   non-matching text of another pair, a cross-pair shuffle, and 20 hand-written FAQ questions, all pairs) are put
 *   under a shared 60-word support preamble, as a separate system message and inline on one line. Precision and
 *   recall at the default threshold are printed and asserted for both detectors the semantic-cache pass uses (the
 *   short-prompt similarity and the long-prompt score), beside what whole-text Jaccard would say.
 * - Through the analysis: a DuckDB workspace where one app asks 20 distinct FAQ questions under one preamble and
 *   another app rewords its questions under another preamble; analyzeWorkspace recommends a semantic cache for the
 *   second app only.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeWorkspace, type FullAnalysis } from '../src/optimize/analyze.js';
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD, scoreParaphrasePairs, type ParaphrasePair } from '../src/optimize/near-duplicate-calibration.js';
import { jaccardSorted, promptFeatures } from '../src/optimize/prompt-features.js';
import {
  createTemplateRegistry,
  nearDuplicateSimilarity,
  TEMPLATE_MIN_CONTINUATIONS,
  varyingJaccard,
  varyingParts,
  type TemplateRegistry,
} from '../src/optimize/prompt-similarity.js';
import { identifierHash } from '../src/optimize/recommend/long-prompt-matcher.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import { normalizeEvent, type WorkloadEvent } from '../src/workload/event.js';
import { priceCatalog, usageContext } from './helpers/usage-analysis-context.js';

const PAIRS = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/data/gptcache-paraphrase-pairs.json', import.meta.url)), 'utf8'),
) as ParaphrasePair[];
const WHOLE = Number.MAX_SAFE_INTEGER;
const T = DEFAULT_NEAR_DUPLICATE_THRESHOLD;

const PREAMBLE =
  'You are the customer support assistant for Acme Outdoor Gear. Answer in a friendly and concise tone. Always cite the relevant ' +
  'policy section, never promise refunds outside the written policy, and escalate to a human agent when the customer is angry or ' +
  'mentions legal action. Our store ships to the United States, Canada and the European Union, and every order is tracked.';

const FAQ = [
  'How long does a refund take to reach my card?',
  'Do you ship to Mexico or South America?',
  'Can I change the size of my order after it ships?',
  'What is the warranty on your tents and sleeping bags?',
  'Where can I find the tracking number for my parcel?',
  'Is there a discount for students or military members?',
  'How do I return a jacket that does not fit?',
  'Which payment methods do you accept at checkout?',
  'Can I pick up my order at a store near me?',
  'What should I do if my package arrived damaged?',
  'Do you offer gift cards and do they expire?',
  'How can I cancel an order I placed this morning?',
  'Are your down jackets ethically sourced?',
  'How do I clean a waterproof hiking boot?',
  'What is the difference between the two backpack models?',
  'Can I buy replacement poles for my tent?',
  'Why was I charged twice for one order?',
  'How do I update the shipping address on my account?',
  'Do you price match other outdoor retailers?',
  'When will the winter collection be back in stock?',
];

const asSystemMessage = (q: string) => `system: ${PREAMBLE}\nuser: ${q}`;
const inline = (q: string) => `${PREAMBLE} Question: ${q}`;

/** A registry that has seen these prompts, as the streaming pass would have before comparing them. */
function learned(texts: Iterable<string>): TemplateRegistry {
  const r = createTemplateRegistry();
  for (const t of texts) r.observe('gpt-4o', promptFeatures(t, WHOLE));
  return r;
}
type Score = (a: string, b: string) => number;
/** The short-prompt detector's similarity and the long-prompt matcher's score, both over the whole text. */
const shortScore =
  (r: TemplateRegistry): Score =>
  (a, b) =>
    nearDuplicateSimilarity(promptFeatures(a, WHOLE), promptFeatures(b, WHOLE), r, 'gpt-4o');
const longScore =
  (r: TemplateRegistry): Score =>
  (a, b) =>
    identifierHash(a) === identifierHash(b) ? varyingJaccard(promptFeatures(a, WHOLE), promptFeatures(b, WHOLE), r, 'gpt-4o') : 0;
/** What the detectors said before the template was stripped: content-word Jaccard over everything. */
const wholeTextJaccard = (a: string, b: string) => jaccardSorted(promptFeatures(a, WHOLE).shingles, promptFeatures(b, WHOLE).shingles);

interface Measured {
  precision: number;
  recall: number;
  truePositives: number;
  falsePositives: number;
}

function measure(score: Score, pos: [string, string][], neg: [string, string][]): Measured {
  const tp = pos.filter(([a, b]) => score(a, b) >= T).length;
  const fp = neg.filter(([a, b]) => score(a, b) >= T).length;
  return { precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp / pos.length, truePositives: tp, falsePositives: fp };
}

describe('near duplicates under a shared preamble', () => {
  const scored = scoreParaphrasePairs(PAIRS);
  const texts = PAIRS.flatMap((p) => [p.origin, p.similar]);
  const bare = {
    pos: PAIRS.map((p) => [p.origin, p.similar] as [string, string]),
    neg: [
      ...PAIRS.map((p, i) => [p.origin, texts[scored.hardNegativeOf[i]!] ?? ''] as [string, string]).filter(([, b]) => b !== ''),
      ...PAIRS.map((p, i) => [p.origin, PAIRS[(i + 1) % PAIRS.length]!.similar] as [string, string]),
      ...FAQ.flatMap((a, i) => FAQ.slice(i + 1).map((b) => [a, b] as [string, string])),
    ],
  };
  const wrap = (f: (q: string) => string) => ({
    pos: bare.pos.map(([a, b]) => [f(a), f(b)] as [string, string]),
    neg: bare.neg.map(([a, b]) => [f(a), f(b)] as [string, string]),
  });

  it('a leading run is a template once distinct continuations have followed it, per model', () => {
    const r = createTemplateRegistry();
    const f = FAQ.map((q) => promptFeatures(asSystemMessage(q), WHOLE));
    for (let i = 0; i < TEMPLATE_MIN_CONTINUATIONS - 1; i++) r.observe('gpt-4o', f[i]!);
    expect(varyingParts(f[0]!, f[1]!, r, 'gpt-4o')).toBeNull(); // two questions so far: not yet a template
    r.observe('gpt-4o', f[TEMPLATE_MIN_CONTINUATIONS - 1]!);
    const v = varyingParts(f[0]!, f[1]!, r, 'gpt-4o');
    expect(v).not.toBeNull();
    // what is compared is the user line only
    expect(v![0].shingles.length).toBeLessThan(f[0]!.shingles.length / 3);
    expect(varyingParts(f[0]!, f[1]!, r, 'other-model')).toBeNull(); // learned per model
    // a long request whose last sentence comes in three variants: its first two sentences become a template, and
    const base = 'Please review the attached deployment plan for the billing service. It moves the database to a new region next week.';
    const edits = ['Tell me what could go wrong.', 'Tell me what might go wrong.', 'Say what could go wrong.'];
    const e = createTemplateRegistry();
    const ef = edits.map((x) => promptFeatures(`${base} ${x}`, WHOLE));
    for (const x of ef) e.observe('gpt-4o', x);
    // the variants are compared on their last sentence; without a registry the whole is compared
    expect(varyingParts(ef[0]!, ef[1]!, e, 'gpt-4o')).not.toBeNull();
    expect(varyingParts(ef[0]!, ef[1]!, undefined, 'gpt-4o')).toBeNull();
  });

  it('distinct FAQ questions under one preamble are not rewordings; whole-text Jaccard said they were', () => {
    for (const wrapQ of [asSystemMessage, inline]) {
      const pairs = FAQ.flatMap((a, i) => FAQ.slice(i + 1).map((b) => [wrapQ(a), wrapQ(b)] as const));
      expect(pairs).toHaveLength(190);
      // the trap is real: over the whole text every pair looks like a rewording
      expect(pairs.filter(([a, b]) => wholeTextJaccard(a, b) >= T).length).toBeGreaterThan(150);
      const r = learned(FAQ.map(wrapQ));
      expect(pairs.filter(([a, b]) => shortScore(r)(a, b) >= T)).toEqual([]);
      expect(pairs.filter(([a, b]) => longScore(r)(a, b) >= T)).toEqual([]);
    }
  });

  it('precision and recall on paraphrase pairs (positives) and distinct questions (negatives) under the preamble', () => {
    const rows: Record<string, Measured & { pairs: string }> = {};
    const bareShort = measure(shortScore(learned(bare.pos.flat())), bare.pos, bare.neg);
    rows['no preamble, short-prompt similarity'] = { ...bareShort, pairs: `${bare.pos.length}+ / ${bare.neg.length}-` };
    for (const [name, f] of [
      ['system message', asSystemMessage],
      ['inline preamble', inline],
    ] as const) {
      const w = wrap(f);
      const r = learned([...w.pos.flat(), ...w.neg.flat()]);
      const short = measure(shortScore(r), w.pos, w.neg);
      const long = measure(longScore(r), w.pos, w.neg);
      const whole = measure(wholeTextJaccard, w.pos, w.neg);
      const n = `${w.pos.length}+ / ${w.neg.length}-`;
      rows[`${name}, short-prompt similarity`] = { ...short, pairs: n };
      rows[`${name}, long-prompt score`] = { ...long, pairs: n };
      rows[`${name}, whole-text Jaccard (before)`] = { ...whole, pairs: n };

      // Precision: the default threshold was calibrated as the lowest with >= 99% precision on the bare pairs; the
      // preamble must not lower it. The long score has no slot/single-edit gates (long prompts allow small edits), so
      // it is held to the calibration's 0.70-row precision (98.8%) less a margin: 97%.
      expect(short.precision).toBeGreaterThanOrEqual(0.99);
      expect(long.precision).toBeGreaterThanOrEqual(0.97);
      // Recall: the preamble neither hides the paraphrases nor adds matches: the same pairs as without it (the bare
      // recall is about 10% on these heavy rewrites, near-duplicate-calibration.ts), within one pair.
      expect(Math.abs(short.truePositives - bareShort.truePositives)).toBeLessThanOrEqual(1);
      expect(short.recall).toBeGreaterThanOrEqual(0.09);
      expect(long.recall).toBeGreaterThanOrEqual(short.recall);
      // Before: the preamble dominated, most negatives matched (precision near the 1:2 mix's floor of 1/3).
      expect(whole.precision).toBeLessThan(0.6);
      expect(whole.falsePositives).toBeGreaterThan(w.neg.length / 2);
    }
    const table = Object.entries(rows).map(([k, r]) => ({
      detector: k,
      pairs: r.pairs,
      precision: r.precision.toFixed(4),
      recall: r.recall.toFixed(4),
      tp: r.truePositives,
      fp: r.falsePositives,
    }));
    console.info(`near duplicates under a shared preamble, threshold ${T}`);
    console.table(table);
  });
});

// ---------- through the analysis ----------

const DAY = Date.UTC(2026, 10, 10, 9);
const M = 60_000;
const HELP_PREAMBLE =
  'You are the help desk assistant of Northwind Software. Reply in plain English in at most five sentences, link the relevant help ' +
  'centre article when there is one, never ask the user for their password, and hand over to a human when the user reports a ' +
  'security incident or data loss.';
/** Rewordings of the same question (the templated kind the generator plants: frame, filler, clause order). */
const REWORDED = [
  [
    'How do I delete the billing email address on the desktop client?',
    'Hi, on the desktop client, how can I delete the billing email address? Thanks!',
    'On the desktop client, how do I delete the billing email address?',
  ],
  [
    'How can I export every invoice from last year as one PDF file?',
    'Quick question: how do I export every invoice from last year as one PDF file?',
    'How do I export all invoices from last year as one PDF file, please?',
  ],
  [
    'Where do I turn off desktop notifications for shared calendar events?',
    'Hello, where can I turn off desktop notifications for shared calendar events?',
    'For shared calendar events, where do I turn off desktop notifications?',
  ],
  [
    'How do I move my team workspace to a different billing plan?',
    'Hey, how can I move my team workspace to a different billing plan?',
    'How could I move my team workspace onto a different billing plan?',
  ],
];

const FRAMES = [(q: string) => q, (q: string) => `Hello there, ${q}`, (q: string) => `${q} Thanks in advance!`];

let seq = 0;
function ev(app: string, system: string, user: string, at: number): WorkloadEvent {
  const r = normalizeEvent(
    {
      timestamp: new Date(at).toISOString(),
      app,
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
      prompt_tokens: 180,
      completion_tokens: 220,
      latency_ms: 2400,
      status: 'ok',
    },
    { workspace: 'template', pricer: priceCatalog(), newId: () => `t${++seq}` },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.event;
}

describe('semantic cache through the analysis: FAQ under one preamble vs real rewordings', () => {
  let store: DuckDbStore;
  let analysis: FullAnalysis;
  const events: WorkloadEvent[] = [];
  beforeAll(async () => {
    // faq-bot: 20 distinct questions in 3 rounds 2 hours apart (longer than the 1 h cache TTL); in each round every
    // question is asked twice, 30 minutes apart (the second time an exact repeat). Measured on the whole text, each
    // round's questions 2..20 would be near hits of the first: 57 "rewordings", above min_events.
    for (let round = 0; round < 3; round++)
      for (const again of [0, 30]) FAQ.forEach((q, i) => events.push(ev('faq-bot', PREAMBLE, q, DAY + round * 120 * M + (again + i) * M)));
    // help-desk: 4 questions, each in 3 wordings x 3 framings (36 texts), asked once each within an hour: every text
    // after a question's first is a rewording of it (32 near hits)
    REWORDED.forEach((words, i) =>
      words.forEach((w, j) =>
        FRAMES.forEach((frame, k) => events.push(ev('help-desk', HELP_PREAMBLE, frame(w), DAY + ((i * 3 + j) * 3 + k) * 90_000))),
      ),
    );
    events.sort((a, b) => a.timestamp - b.timestamp);
    store = createDuckDbStore({ path: ':memory:', flushIntervalMs: 0 });
    await store.init();
    await store.append(events);
    const from = DAY - M;
    const to = DAY + 6 * 60 * M;
    const s = await store.stats({ workspace: 'template' });
    const ctx = usageContext({ workspace: 'template', from, to, total_events: s.events, total_spend_usd: s.spend_usd });
    analysis = await analyzeWorkspace(store.analysis, ctx, { goal: 'cost' });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  it('recommends a semantic cache for the app whose prompts are rewordings, none for the FAQ app', () => {
    const semantic = analysis.recommendations.filter((r) => r.kind === 'semantic_cache');
    expect(semantic.map((r) => r.scope.app)).toEqual(['help-desk']);
    const help = semantic[0]!;
    // 36 calls, the first of each of the 4 questions a miss: at most 32 near hits; the analysis needs min_events (20)
    expect(Number(help.evidence.figures.near_hits)).toBeGreaterThanOrEqual(20);
    expect(Number(help.evidence.figures.near_hits)).toBeLessThanOrEqual(32);
    expect(Number(help.evidence.figures.text_events)).toBe(36);
    // the FAQ app's prompts were looked at: they are exact repeats, not near hits
    const exact = analysis.recommendations.filter((r) => r.kind === 'exact_cache').map((r) => r.scope.app);
    expect(exact).toContain('faq-bot');
  });
});
