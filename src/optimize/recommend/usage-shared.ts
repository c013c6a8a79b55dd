/**
 * Small helpers shared by the usage-based recommendation kinds (model routing, batch API, max_tokens, retry waste,
 * context growth, latency SLO): window scaling, rounding for display, and the assembly of a Recommendation so every
 * kind fills every field the same way. Pure.
 */
import type { AnalysisContext } from '../context.js';
import {
  monthly,
  share,
  windowConfidence,
  type Evidence,
  type Recommendation,
  type RecommendationKind,
  type Risk,
} from '../recommendation.js';

/** Length of the analysed window in ms. */
export function windowMs(ctx: AnalysisContext): number {
  return Math.max(0, ctx.to - ctx.from);
}

/** Rounds a figure for evidence (dollars to 1e-6, shares to 1e-4 by default) without ever producing NaN. */
export function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return 0;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Thousands separators for titles and sentences. */
export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : 'n/a';
}

export function pct(x: number, digits = 1): string {
  return `${fmt(x * 100, digits)}%`;
}

export function usd(x: number): string {
  return `$${fmt(x, Math.abs(x) < 10 ? 2 : 0)}`;
}

export interface RecommendationDraft {
  kind: RecommendationKind;
  /** scope key part of the id, e.g. `support-bot/gpt-4o/faq` */
  key: string;
  title: string;
  scope: Recommendation['scope'];
  events: number;
  spend_usd: number;
  /** savings over the analysed window (scaled to 30 days here) */
  window_savings_usd: number;
  latency_impact: Recommendation['latency_impact'];
  quality_risk: { level: Risk; reason: string };
  confidence: number;
  evidence: Evidence;
  how_to_apply: string[];
  /** facts inferred rather than read from the events, said as assumptions */
  assumptions?: string[];
}

/** Builds the Recommendation: shares against the context's totals, savings projected to 30 days, never NaN. */
export function buildRecommendation(d: RecommendationDraft, ctx: AnalysisContext): Recommendation {
  const w = windowMs(ctx);
  const savings = Math.max(0, Number.isFinite(d.window_savings_usd) ? d.window_savings_usd : 0);
  return {
    id: `${d.kind}:${d.key}`,
    kind: d.kind,
    title: d.title,
    scope: d.scope,
    affected_share: round(share(d.events, ctx.total_events), 6),
    affected_spend_share: round(share(d.spend_usd, ctx.total_spend_usd), 6),
    monthly_savings_usd: round(monthly(savings, w), 6),
    savings_share: round(share(savings, ctx.total_spend_usd), 6),
    latency_impact: d.latency_impact,
    quality_risk: d.quality_risk,
    // a window under a day lowers every confidence (recommendation.ts: windowConfidence)
    confidence: round(Math.min(1, Math.max(0, d.confidence)) * windowConfidence(w), 3),
    evidence: d.evidence,
    how_to_apply: d.how_to_apply,
    ...(d.assumptions?.length ? { assumptions: d.assumptions } : {}),
  };
}

/** Highest savings first, then most affected spend, then id (deterministic). */
export function bySavings(a: Recommendation, b: Recommendation): number {
  return b.monthly_savings_usd - a.monthly_savings_usd || b.affected_spend_share - a.affected_spend_share || a.id.localeCompare(b.id);
}
