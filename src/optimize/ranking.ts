/**
 * Ranking recommendations by a goal with the original system's utility weights:
 * utility = w_quality · quality + w_cost · cost + w_latency · latency, applied to the change each recommendation makes.
 * Pure.
 *
 * Changes are normalised so the three terms are comparable:
 * - cost: relative change of monthly spend (−savings_share: a recommendation that saves 10% has cost −0.10);
 * - latency: relative change of the workspace's p95 latency (p95 delta / baseline p95), weighted by the affected share;
 * - quality: minus a penalty for the quality risk (low 0.02, medium 0.10, high 0.30), weighted by the affected share.
 * The score is the utility gain times the recommendation's confidence.
 */
import type { Recommendation, Risk } from './recommendation.js';

export const GOALS = ['cost', 'latency', 'quality', 'balanced'] as const;
export type Goal = (typeof GOALS)[number];

export interface GoalWeights {
  quality: number;
  cost: number;
  latency: number;
}

/** From the original utility: default (balanced) 0.5 / −0.25 / −0.25; cost goal 0.2 / −0.6 / −0.2; latency goal 0.2 / −0.2 / −0.6. */
export const GOAL_WEIGHTS: Record<Goal, GoalWeights> = {
  balanced: { quality: 0.5, cost: -0.25, latency: -0.25 },
  quality: { quality: 0.7, cost: -0.15, latency: -0.15 },
  cost: { quality: 0.2, cost: -0.6, latency: -0.2 },
  latency: { quality: 0.2, cost: -0.2, latency: -0.6 },
};

export const RISK_PENALTY: Record<Risk, number> = { low: 0.02, medium: 0.1, high: 0.3 };

export interface RankedRecommendation extends Recommendation {
  rank: number;
  score: number;
  utility: { quality: number; cost: number; latency: number };
}

export function rankRecommendations(recs: readonly Recommendation[], goal: Goal, baselineP95Ms: number | null): RankedRecommendation[] {
  const w = GOAL_WEIGHTS[goal];
  const scored = recs.map((r) => {
    const cost = -r.savings_share;
    const p95 = r.latency_impact.p95_ms_delta;
    const latency = p95 !== null && baselineP95Ms && baselineP95Ms > 0 ? (p95 / baselineP95Ms) * r.affected_share : 0;
    const quality = -RISK_PENALTY[r.quality_risk.level] * r.affected_share;
    const gain = w.quality * quality + w.cost * cost + w.latency * latency;
    const score = Number.isFinite(gain) ? gain * r.confidence : 0;
    return { ...r, score, utility: { quality, cost, latency }, rank: 0 };
  });
  // under the cost goal nothing that saves no money ranks above something that does, whatever its latency gain
  const tier = (r: Recommendation) => (goal === 'cost' && !(r.monthly_savings_usd > 0) ? 1 : 0);
  scored.sort(
    (a, b) => tier(a) - tier(b) || b.score - a.score || b.monthly_savings_usd - a.monthly_savings_usd || a.id.localeCompare(b.id),
  );
  scored.forEach((r, i) => {
    r.rank = i + 1;
  });
  return scored;
}
