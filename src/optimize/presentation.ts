/**
 * How a ranked list is shown to a reader (pure): at most TOP_LIMIT recommendations, then findings (latency targets
 * missed that save no money and have no concrete model change), then minor items grouped (each saving under
 * max($1/month, 0.1% of monthly spend) with no latency gain). The order within each part is the goal's ranking.
 */
import type { RankedRecommendation } from './ranking.js';

export const TOP_LIMIT = 10;
export const MINOR_FLOOR_USD = 1;
export const MINOR_SPEND_SHARE = 0.001;

export interface PresentedRecommendations {
  top: RankedRecommendation[];
  /** recommendations beyond the top list that are not minor */
  more: RankedRecommendation[];
  findings: RankedRecommendation[];
  minor: RankedRecommendation[];
  /** the threshold minor items are under, per month */
  minor_below_usd: number;
}

const isFinding = (r: RankedRecommendation) =>
  r.kind === 'latency_slo' && !(r.monthly_savings_usd > 0) && r.evidence.figures.faster_same_tier_model == null;

export function presentRecommendations(recs: readonly RankedRecommendation[], monthlySpendUsd: number): PresentedRecommendations {
  const below = Math.max(MINOR_FLOOR_USD, MINOR_SPEND_SHARE * monthlySpendUsd);
  const findings = recs.filter(isFinding);
  const rest = recs.filter((r) => !isFinding(r));
  const minor = rest.filter((r) => r.monthly_savings_usd < below && !((r.latency_impact.p95_ms_delta ?? 0) < 0));
  const major = rest.filter((r) => !minor.includes(r));
  return { top: major.slice(0, TOP_LIMIT), more: major.slice(TOP_LIMIT), findings, minor, minor_below_usd: below };
}
