/**
 * semantic_cache: near-duplicate prompts (rewordings of a prompt the same model answered within the TTL) that a
 * semantic cache would have answered. Pure: a streaming accumulator over PromptTextRows (timestamp order) that ends
 * in a KindResult; `analyzeSemanticCache` drives it from the cache port.
 *
 * Per event, in time order:
 * - exact: an earlier status=ok event of the same model and prompt_hash within the TTL (the exact_cache kind's hit;
 *   counted there, excluded here);
 * - near: otherwise, a similar prompt of the same model cached within the TTL. Prompts under LONG_PROMPT_WORDS
 *   words go through the near-duplicate index (near-duplicates.ts, precision-first gates, calibrated threshold);
 *   longer ones through long-prompt-matcher.ts (same features and threshold, single small edits allowed). Only
 *   successful calls fill the cache; failed short calls are not looked up (the index caches whatever it sees).
 * Savings = spend of the near hits. Beside the hit rate: the expected false-hit rate measured on the GPTCache
 * paraphrase pairs at the threshold (near-duplicate-calibration.ts).
 */
import type { AnalysisContext } from '../context.js';
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD, expectedFalseHitRate } from '../near-duplicate-calibration.js';
import { createNearDuplicateIndex } from '../near-duplicates.js';
import type { AnalysisScope } from '../ports/index.js';
import type { CacheQueries, PromptTextRow, PromptTextScan, TimeRange } from '../ports/cache.js';
import { confidenceFromCount, share, type KindResult, type Recommendation } from '../recommendation.js';
import { createLongPromptMatcher, LONG_PROMPT_WORDS, scanWords } from './long-prompt-matcher.js';
import { buildRecommendation, bySavings, fmt, pct, round } from './usage-shared.js';

export interface SemanticCacheOptions {
  /** similarity threshold of a near hit (default: DEFAULT_NEAR_DUPLICATE_THRESHOLD, the lowest with >= 99% precision) */
  threshold?: number;
}

export interface SemanticCacheAnalysis {
  /** Feeds the next rows (timestamp order, continuing the previous call). */
  observe(rows: readonly PromptTextRow[]): void;
  /**
   * Only rows inside these [from, to) slices (ascending) are counted; the others only fill the cache (the warm-up before
   * a sampled slice). Default: count all.
   */
  countOnly(slices: readonly TimeRange[]): void;
  /** Multiplies the counted figures by `factor` in finish() (sampling: total events / events in the sampled slices). */
  scaleBy(factor: number, note: string): void;
  /** The recommendations, once every row has been observed. */
  finish(scan: PromptTextScan): KindResult;
}

interface AppTally {
  textEvents: number;
  textSpend: number;
  exact: number;
  near: number;
  nearSpend: number;
  nearLong: number;
  similaritySum: number;
  failedUnchecked: number;
  samples: string[];
  pairs: string[];
  models: Map<string, number>;
}

export function createSemanticCacheAnalysis(ctx: AnalysisContext, opts: SemanticCacheOptions = {}): SemanticCacheAnalysis {
  const threshold = opts.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
  const ttlMs = ctx.params.cache_ttl_seconds * 1000;
  const index = createNearDuplicateIndex({ ttlMs, threshold });
  const long = createLongPromptMatcher({ threshold, ttlMs });
  // model -> prompt hash (or text, without a hash) -> time of the last successful call: nested, so no key is built per row
  const lastOk = new Map<string, Map<string, number>>();
  let lastSweep = -Infinity;
  const apps = new Map<string, AppTally>();
  let rowsSeen = 0;
  let countSlices: readonly TimeRange[] | null = null;
  let slice = 0;
  let scale = 1;
  let sampleNote: string | null = null;
  const newTally = (): AppTally => ({
    textEvents: 0,
    textSpend: 0,
    exact: 0,
    near: 0,
    nearSpend: 0,
    nearLong: 0,
    similaritySum: 0,
    failedUnchecked: 0,
    samples: [],
    pairs: [],
    models: new Map(),
  });

  // what warm-up rows count into, never read
  const warmUp = newTally();
  const tally = (app: string): AppTally => {
    let t = apps.get(app);
    if (!t) apps.set(app, (t = newTally()));
    return t;
  };

  function observeRow(r: PromptTextRow): void {
    rowsSeen++;
    const now = r.timestamp;
    if (now - lastSweep > ttlMs) {
      for (const byPrompt of lastOk.values()) for (const [k, ts] of byPrompt) if (now - ts > ttlMs) byPrompt.delete(k);
      lastSweep = now;
    }
    // warm-up rows (before a sampled slice) fill the caches but count nowhere
    let counted = true;
    if (countSlices !== null) {
      while (slice < countSlices.length && now >= countSlices[slice]!.to) slice++;
      counted = slice < countSlices.length && now >= countSlices[slice]!.from;
    }
    const t = counted ? tally(r.app) : warmUp;
    t.textEvents++;
    t.textSpend += r.cost_usd;
    const ok = r.status === 'ok';
    let byPrompt = lastOk.get(r.model);
    if (byPrompt === undefined) lastOk.set(r.model, (byPrompt = new Map()));
    const key = r.prompt_hash ?? '\u0001' + r.prompt_text;
    const prev = byPrompt.get(key);
    if (ok) byPrompt.set(key, now);
    const exact = prev !== undefined && now > prev && now - prev <= ttlMs;
    const words = scanWords(r.prompt_text);
    const isLong = words.words >= LONG_PROMPT_WORDS;
    let match: { id: string; sim: number } | null = null;
    if (isLong) {
      // a warm-up row's match would count nowhere, and the long matcher caches every ok call whether it matched or
      // not, so warm-up rows only fill it (the short-prompt index must look up: it caches misses only)
      const m = long.observe(r, r.prompt_text, ok, counted, words.identifierHash);
      if (m) match = { id: m.matchedEventId, sim: m.similarity };
    } else if (ok) {
      const m = index.observe(r);
      if (m.kind === 'near') match = { id: m.matchedEventId!, sim: m.similarity! };
    } else if (!exact) t.failedUnchecked++;
    if (exact) {
      t.exact++;
      return;
    }
    if (match === null) return;
    t.near++;
    t.nearSpend += r.cost_usd;
    t.similaritySum += match.sim;
    if (isLong) t.nearLong++;
    t.models.set(r.model, (t.models.get(r.model) ?? 0) + 1);
    if (t.samples.length < 3) {
      t.samples.push(r.event_id);
      t.pairs.push(`${r.event_id} ~ ${match.id} (${match.sim.toFixed(2)})`);
    }
  }

  function finish(scan: PromptTextScan): KindResult {
    if (scan.rows === 0 && rowsSeen === 0) {
      if (ctx.total_events === 0) return { recommendations: [] };
      return {
        recommendations: [],
        skipped: {
          kind: 'semantic_cache',
          reason: 'no prompt text: semantic-cache analysis skipped; send prompt_text (or messages) on events',
          needs: 'prompt_text (or messages) on events',
        },
      };
    }
    const fh = expectedFalseHitRate(threshold);
    const recs: Recommendation[] = [];
    if (scale !== 1) {
      for (const t of apps.values()) {
        t.textEvents = Math.round(t.textEvents * scale);
        t.textSpend *= scale;
        t.exact = Math.round(t.exact * scale);
        t.near = Math.round(t.near * scale);
        t.nearSpend *= scale;
        t.nearLong = Math.round(t.nearLong * scale);
        t.similaritySum *= scale;
        t.failedUnchecked = Math.round(t.failedUnchecked * scale);
      }
    }
    for (const [app, t] of apps) {
      if (t.near < ctx.params.min_events || !(t.nearSpend > 0)) continue;
      const models = [...t.models.keys()].sort();
      const highRisk = fh.false_hit_rate_upper_95 >= 0.05;
      recs.push(
        buildRecommendation(
          {
            kind: 'semantic_cache',
            key: app,
            title: `Add a semantic cache for ${app}: ${pct(share(t.near, t.textEvents))} of its prompts reword one answered within ${fmt(ctx.params.cache_ttl_seconds / 60)} min`,
            scope: {
              app,
              model: models.length === 1 ? models[0] : undefined,
              segment: `near-duplicate prompts (similarity >= ${threshold}) within ${ctx.params.cache_ttl_seconds} s, not exact repeats`,
            },
            events: t.near,
            spend_usd: t.nearSpend,
            window_savings_usd: t.nearSpend,
            latency_impact: {
              p50_ms_delta: null,
              p95_ms_delta: null,
              description: `${fmt(t.near)} calls would be answered from the cache in milliseconds; every other call pays a similarity lookup (a few ms with an embedding cache)`,
            },
            quality_risk: {
              level: highRisk ? 'high' : 'medium',
              reason: `a near hit returns the answer to a different wording: on real paraphrase pairs ${pct(fh.expected_false_hit_rate)} of near hits at this threshold were another question's answer (95% upper bound ${pct(fh.false_hit_rate_upper_95)}); ${pct(share(t.nearLong, t.near))} of these hits are long prompts, where single small edits count as rewordings`,
            },
            confidence: confidenceFromCount(t.near) * (1 - fh.false_hit_rate_upper_95) * (scale !== 1 ? 0.9 : 1),
            evidence: {
              figures: {
                ttl_seconds: ctx.params.cache_ttl_seconds,
                threshold,
                text_events: t.textEvents,
                near_hits: t.near,
                near_hit_rate: round(share(t.near, t.textEvents), 4),
                near_hit_spend_usd: round(t.nearSpend),
                expected_false_hit_rate: round(fh.expected_false_hit_rate, 4),
                false_hit_rate_upper_95: round(fh.false_hit_rate_upper_95, 4),
                expected_recall_on_paraphrases: round(fh.expected_recall, 4),
                near_hits_long_prompts: t.nearLong,
                mean_similarity: round(t.similaritySum / t.near, 3),
                exact_repeats_excluded: t.exact,
                failed_calls_not_checked: t.failedUnchecked,
                example_pairs: t.pairs.join('; '),
                sampling: sampleNote ?? 'none: every text event was analysed',
              },
              query: `${scan.query}\n-- then, in timestamp order: exact repeats (same model + prompt_hash within the TTL) are left to exact_cache; prompts of < ${LONG_PROMPT_WORDS} words are matched by the MinHash-LSH near-duplicate index (stemmed content words, precision gates), longer ones by content-word Jaccard with the identifier gate; threshold ${threshold}, same model, cached prompt at most ${ctx.params.cache_ttl_seconds} s old`,
              sample_event_ids: t.samples,
            },
            how_to_apply: [
              `Put a semantic cache in front of ${models.join(', ')} for ${app}, TTL ${ctx.params.cache_ttl_seconds} s, keyed per model; cache only successful responses.`,
              'LiteLLM proxy: cache_params: { type: redis-semantic, similarity_threshold: 0.95, ttl: ' +
                ctx.params.cache_ttl_seconds +
                ' } (embedding cosine; start high). Portkey: "cache": { "mode": "semantic", "max_age": ' +
                ctx.params.cache_ttl_seconds +
                ' }.',
              'Start in shadow mode: log what the cache would have served next to the real answer for a week, review a sample of near hits, then raise or lower the threshold before serving from it.',
              'Exclude prompts where one word changes the answer (identifiers, numbers, dates), as this analysis does, and anything personalised.',
            ],
          },
          ctx,
        ),
      );
    }
    recs.sort(bySavings);
    return { recommendations: recs };
  }

  return {
    observe(rows) {
      for (const r of rows) observeRow(r);
    },
    countOnly(slices) {
      countSlices = slices;
      slice = 0;
    },
    scaleBy(factor, note) {
      scale = factor;
      sampleNote = note;
    },
    finish,
  };
}

/** Above this many events in the window, the semantic pass samples time slices (its cost is per text event). */
export const SEMANTIC_SAMPLE_MAX_EVENTS = 50_000;
/** Sampled slices, spread evenly over the window. */
export const SEMANTIC_SAMPLE_SLICES = 6;

/**
 * Runs the semantic-cache pass over the port's prompt-text stream (the only text that crosses the port).
 * Windows with more than `maxEvents` events are sampled: SEMANTIC_SAMPLE_SLICES evenly spaced slices that together
 * hold about maxEvents events, each preceded by one TTL of warm-up that fills the cache without being counted; the
 * counted figures are scaled by (events in the window / events in the slices). The evidence says so. The slices are
 * counted in one query and streamed in one scan (a warm-up that would reach into the previous slice starts at its end:
 * each event is seen once, in time order).
 */
export async function analyzeSemanticCache(
  queries: Pick<CacheQueries, 'scanPromptTexts' | 'countEvents'>,
  scope: AnalysisScope,
  ctx: AnalysisContext,
  opts: SemanticCacheOptions & { maxEvents?: number } = {},
): Promise<KindResult> {
  const a = createSemanticCacheAnalysis(ctx, opts);
  const maxEvents = opts.maxEvents ?? SEMANTIC_SAMPLE_MAX_EVENTS;
  if (ctx.total_events <= maxEvents) {
    const scan = await queries.scanPromptTexts(scope, (rows) => a.observe(rows));
    return a.finish(scan);
  }
  const ttlMs = ctx.params.cache_ttl_seconds * 1000;
  const { slices, sliceLen } = semanticSampleSlices(scope, ctx.total_events, maxEvents, ttlMs);
  const counted = (await queries.countEvents(scope, slices)).reduce((x, y) => x + y, 0);
  a.countOnly(slices);
  const scan = await queries.scanPromptTexts(scope, (r) => a.observe(r), { ranges: warmedRanges(scope, slices, ttlMs) });
  if (counted > 0) {
    a.scaleBy(
      ctx.total_events / counted,
      `sampled: ${SEMANTIC_SAMPLE_SLICES} slices of ${Math.round(sliceLen / 60_000)} min holding ${counted} of ${ctx.total_events} events (each after ${ctx.params.cache_ttl_seconds} s of uncounted warm-up); counts and dollars scaled by ${(ctx.total_events / counted).toFixed(2)}`,
    );
  }
  return a.finish(scan);
}

/** The sampled slices: SEMANTIC_SAMPLE_SLICES evenly spaced [from, to) ranges holding about `maxEvents` events together. */
export function semanticSampleSlices(
  scope: TimeRange,
  totalEvents: number,
  maxEvents: number,
  ttlMs: number,
): { slices: TimeRange[]; sliceLen: number } {
  const span = scope.to - scope.from;
  const step = span / SEMANTIC_SAMPLE_SLICES;
  const sliceLen = Math.max(ttlMs, Math.floor((span * maxEvents) / totalEvents / SEMANTIC_SAMPLE_SLICES));
  const slices: TimeRange[] = [];
  for (let i = 0; i < SEMANTIC_SAMPLE_SLICES; i++) {
    const from = Math.floor(scope.from + i * step);
    const to = Math.min(scope.to, from + sliceLen);
    if (to > from) slices.push({ from, to });
  }
  return { slices, sliceLen };
}

/** Each slice with one TTL of warm-up before it, within the scope; overlapping ranges merged (ascending). */
export function warmedRanges(scope: TimeRange, slices: readonly TimeRange[], ttlMs: number): TimeRange[] {
  const out: TimeRange[] = [];
  for (const s of slices) {
    const from = Math.max(scope.from, s.from - ttlMs);
    const last = out[out.length - 1];
    if (last !== undefined && from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ from, to: s.to });
  }
  return out;
}
