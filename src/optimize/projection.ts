/**
 * The one projected-savings figure of an analysis (pure): the what-if replay of the combined policy of all its
 * recommendations (policy-from-recommendations.ts), so overlapping recommendations are counted once. Kinds the replay
 * cannot apply (prompt caching, retry waste, context growth) are listed beside it with their standalone savings,
 * never added to it. Each recommendation's own monthly_savings_usd stays its standalone figure.
 */
import { POLICY_KINDS } from './policy-from-recommendations.js';
import { RECOMMENDATION_KINDS, share, type Recommendation, type RecommendationKind } from './recommendation.js';
import type { ReplayResult } from './replay.js';

export interface ProjectedSavings {
  /** monthly savings of the combined policy, from its replay over the same window; null when it could not be replayed */
  monthly_usd: number | null;
  /** monthly_usd / monthly spend */
  share_of_spend: number | null;
  /** monthly spend minus monthly_usd */
  projected_monthly_spend_usd: number | null;
  /** how the figure was obtained, in one sentence */
  basis: string;
  /** recommendations whose change the replay applied */
  replayed_recommendations: number;
  /** advice the replay cannot apply: not in the figure; their standalone savings overlap the rest and each other */
  not_in_projection: { kind: RecommendationKind; recommendations: number; standalone_monthly_usd: number }[];
  /** why there is no figure (replay failed) */
  unavailable?: string;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** `replay`: the combined policy's replay; `null`: the policy has no rule (nothing to replay); `{ failed }`: an error. */
export function projectedSavings(
  recs: readonly Recommendation[],
  monthlySpendUsd: number,
  replay: ReplayResult | { failed: string } | null,
): ProjectedSavings {
  const replayed = recs.filter((r) => POLICY_KINDS.has(r.kind));
  const not_in_projection = RECOMMENDATION_KINDS.filter((k) => !POLICY_KINDS.has(k))
    .map((kind) => {
      const of = recs.filter((r) => r.kind === kind && r.monthly_savings_usd > 0);
      return { kind, recommendations: of.length, standalone_monthly_usd: r2(of.reduce((s, r) => s + r.monthly_savings_usd, 0)) };
    })
    .filter((x) => x.recommendations > 0);
  const base = { replayed_recommendations: replayed.length, not_in_projection };
  if (replay && 'failed' in replay)
    return {
      ...base,
      monthly_usd: null,
      share_of_spend: null,
      projected_monthly_spend_usd: null,
      basis: 'the combined policy could not be replayed',
      unavailable: replay.failed,
    };
  const monthly = replay ? Math.max(0, replay.monthly_savings_usd) : 0;
  return {
    ...base,
    monthly_usd: monthly,
    share_of_spend: share(monthly, monthlySpendUsd),
    projected_monthly_spend_usd: monthlySpendUsd - monthly,
    basis: replay
      ? `replay of the ${replayed.length} recommendations the replay can apply, together, over the analysed window (overlaps counted once), scaled to 30 days`
      : 'no recommendation changes routing, caching, batching or caps, so nothing is replayed',
  };
}
