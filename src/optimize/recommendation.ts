/**
 * The recommendation: what every analysis kind produces, with dollars, evidence and risk. Pure types and helpers.
 * Kinds live in src/optimize/recommend/<kind>.ts; ranking by goal in src/optimize/ranking.ts.
 */

export const RECOMMENDATION_KINDS = [
  'model_routing',
  'exact_cache',
  'semantic_cache',
  'prompt_caching',
  'batch_api',
  'max_tokens',
  'retry_waste',
  'context_growth',
  'latency_slo',
] as const;
export type RecommendationKind = (typeof RECOMMENDATION_KINDS)[number];

export type Risk = 'low' | 'medium' | 'high';

export interface Evidence {
  /** the figures the recommendation rests on (named numbers: counts, shares, dollars, percentiles) */
  figures: Record<string, number | string | null>;
  /** the query (SQL or a description of the computation) that produced them */
  query: string;
  /** a few event ids that show the pattern */
  sample_event_ids: string[];
}

export interface Recommendation {
  /** stable for the same workspace, kind and scope: `${kind}:${scope key}` */
  id: string;
  kind: RecommendationKind;
  title: string;
  /** which app / model / segment it applies to */
  scope: { app?: string; model?: string; segment?: string; [k: string]: string | undefined };
  /** share of the analysed events it touches (0..1) */
  affected_share: number;
  /** share of the analysed spend it touches (0..1) */
  affected_spend_share: number;
  /** projected monthly savings (USD), from the observed window scaled to 30 days */
  monthly_savings_usd: number;
  /** monthly_savings_usd / monthly spend (0..1) */
  savings_share: number;
  /** expected change in latency: negative is faster. p50/p95 in ms where known, and a sentence. */
  latency_impact: { p50_ms_delta: number | null; p95_ms_delta: number | null; description: string };
  quality_risk: { level: Risk; reason: string };
  /** 0..1: how sure we are of the figures (sample size, definition fit) */
  confidence: number;
  evidence: Evidence;
  /** concrete steps */
  how_to_apply: string[];
  /** what the recommendation infers rather than reads from the events (e.g. "no end user, so nobody waits") */
  assumptions?: string[];
  /** ids of the recommendations this one replaces (merge.ts: the same change proposed twice) */
  merged_from?: string[];
}

/** A kind that could not run because the data lacks something: says exactly what would enable it. */
export interface SkippedKind {
  kind: RecommendationKind;
  reason: string;
  /** what to send to enable it, e.g. "prompt_text or prompt_hash on events" */
  needs: string;
}

export interface KindResult {
  recommendations: Recommendation[];
  skipped?: SkippedKind;
}

const DAY_MS = 86_400_000;

/** The shortest window figures are scaled from (a single event's window is 1 ms long). */
export const MIN_SCALED_WINDOW_MS = 60_000;

/**
 * Scales an amount observed over [from, to) to 30 days, from the window's real length (the analysis clips a requested
 * window to the events it holds). A window under a minute counts as a minute; a window under a day carries a warning and
 * lower confidence (windowConfidence).
 */
export function monthly(amount: number, windowMs: number): number {
  const w = Math.max(windowMs, MIN_SCALED_WINDOW_MS);
  return (amount * 30 * DAY_MS) / w;
}

/** How many times the window is multiplied to give a monthly figure. */
export const extrapolationFactor = (windowMs: number): number => (30 * DAY_MS) / Math.max(windowMs, MIN_SCALED_WINDOW_MS);

/**
 * Factor on every recommendation's confidence from the window length: 1 from one day up, sqrt(window / day) below
 * (0.5 for 6 h), at least 0.25: a few hours of traffic say little about a month (no daily cycle, no weekly one).
 */
export function windowConfidence(windowMs: number): number {
  return windowMs >= DAY_MS ? 1 : Math.max(0.25, Math.sqrt(Math.max(0, windowMs) / DAY_MS));
}

/** The warning a window under a day carries, or null. */
export function shortWindowWarning(windowMs: number): string | null {
  if (windowMs >= DAY_MS) return null;
  const hours = windowMs / 3_600_000;
  const length = hours >= 1 ? `${hours.toFixed(1)} hours` : `${Math.max(1, Math.round(windowMs / 60_000))} minutes`;
  return `The analysed window is only ${length} long: monthly figures multiply it ${Math.round(extrapolationFactor(windowMs)).toLocaleString('en-US')}-fold and are uncertain (no daily or weekly cycle is seen), so every confidence is lowered to ${windowConfidence(windowMs).toFixed(2)}x; send a full day or more for steadier figures.`;
}

/** Safe share: 0 when the denominator is 0 (never NaN). */
export function share(part: number, whole: number): number {
  return whole > 0 && Number.isFinite(part) ? part / whole : 0;
}

/** Confidence from the number of supporting events: ~0.5 at 30 events, ~0.9 at 1,000, capped at 0.97. */
export function confidenceFromCount(n: number): number {
  if (n <= 0) return 0;
  return Math.min(0.97, 1 - 1 / (1 + Math.log10(1 + n) * 1.3));
}
