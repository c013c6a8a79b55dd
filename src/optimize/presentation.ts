/**
 * How a ranked list is shown to a reader (pure): at most TOP_LIMIT recommendations, then findings (latency targets
 * missed that save no money and have no concrete model change), then minor items grouped (each saving under
 * max($1/month, 0.1% of monthly spend) with no latency gain). The order within each part is the goal's ranking.
 * `presentAnalysis` gives the analysis the shape the API and the CLI's --json print.
 */
import type { FullAnalysis } from './analyze.js';
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

export const isFinding = (r: RankedRecommendation): boolean =>
  r.kind === 'latency_slo' && !(r.monthly_savings_usd > 0) && r.evidence.figures.faster_same_tier_model == null;

export function presentRecommendations(recs: readonly RankedRecommendation[], monthlySpendUsd: number): PresentedRecommendations {
  const below = Math.max(MINOR_FLOOR_USD, MINOR_SPEND_SHARE * monthlySpendUsd);
  const findings = recs.filter(isFinding);
  const rest = recs.filter((r) => !isFinding(r));
  const minor = rest.filter((r) => r.monthly_savings_usd < below && !((r.latency_impact.p95_ms_delta ?? 0) < 0));
  const major = rest.filter((r) => !minor.includes(r));
  return { top: major.slice(0, TOP_LIMIT), more: major.slice(TOP_LIMIT), findings, minor, minor_below_usd: below };
}

/** What GET /api/v1/analysis and `netra analyze --json` return: the analysis with its recommendations presented. */
/** The recommendations a reader is told to act on, in the goal's order: the top list and the rest, never findings or minor items. */
export function listedRecommendations(a: Pick<FullAnalysis, 'recommendations' | 'summary'>): RankedRecommendation[] {
  const p = presentRecommendations(a.recommendations, a.summary.monthly_spend_usd);
  return [...p.top, ...p.more];
}

export interface AnalysisReport {
  summary: FullAnalysis['summary'];
  performance: FullAnalysis['performance'];
  /** the top list: at most TOP_LIMIT, ranked for the goal (monthly_savings_usd of each is its standalone figure) */
  recommendations: RankedRecommendation[];
  /** beyond the top list, not minor */
  more_recommendations: RankedRecommendation[];
  /** latency targets missed with no saving and no concrete model change: facts to know, not changes to make */
  findings: RankedRecommendation[];
  /** items each saving under `below_usd` a month (and no latency gain), grouped: their count, their standalone total, the items */
  minor: { count: number; below_usd: number; standalone_monthly_savings_usd: number; recommendations: RankedRecommendation[] };
  skipped: FullAnalysis['skipped'];
}

/** Ranks renumbered within a part (1, 2, ... in the goal's order): a reader's "#1" is the first item of the list shown. */
const renumbered = (recs: readonly RankedRecommendation[], from = 1) => recs.map((r, i) => ({ ...r, rank: from + i }));

export function presentAnalysis(a: FullAnalysis): AnalysisReport {
  const shown = presentRecommendations(a.recommendations, a.summary.monthly_spend_usd);
  const p = {
    ...shown,
    top: renumbered(shown.top),
    more: renumbered(shown.more, shown.top.length + 1),
    findings: renumbered(shown.findings),
    minor: renumbered(shown.minor),
  };
  const standalone = p.minor.reduce((s, r) => s + r.monthly_savings_usd, 0);
  return {
    summary: a.summary,
    performance: a.performance,
    recommendations: p.top,
    more_recommendations: p.more,
    findings: p.findings,
    minor: {
      count: p.minor.length,
      below_usd: p.minor_below_usd,
      standalone_monthly_savings_usd: Math.round(standalone * 1e6) / 1e6,
      recommendations: p.minor,
    },
    skipped: a.skipped,
  };
}
