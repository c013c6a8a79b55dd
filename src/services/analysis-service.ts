/**
 * The analysis service: resolves a workspace's window and totals, builds the analysis context from the catalog with
 * the workspace's overrides, and runs the optimisation engine (analysis, replay, policy) over the store's port.
 */
import { NetraError } from '../errors.js';
import { analyzeWorkspace, type FullAnalysis } from '../optimize/analyze.js';
import { analysisContext } from '../optimize/catalog-context.js';
import type { AnalysisParams } from '../optimize/context.js';
import { policyFromRecommendations } from '../optimize/policy-from-recommendations.js';
import type { PolicyInput } from '../optimize/policy.js';
import { GOALS, type Goal } from '../optimize/ranking.js';
import { replayPolicy, type ReplayResult } from '../optimize/replay.js';
import type { AnalyticsStore } from '../store/types.js';
import type { PriceCatalog } from '../workload/price-catalog.js';

export interface WindowRequest {
  workspace: string;
  /** epoch ms; default: the workspace's first event */
  from?: number;
  /** epoch ms, exclusive; default: just after the workspace's last event */
  to?: number;
}

export interface AnalysisService {
  analyze(req: WindowRequest & { goal?: string; params?: Partial<AnalysisParams> }): Promise<FullAnalysis>;
  simulate(req: WindowRequest & { policy: unknown }): Promise<ReplayResult>;
  /** The policy the analysis recommends (for replay and gateway exports). */
  recommendedPolicy(req: WindowRequest & { goal?: string }): Promise<PolicyInput>;
}

export function parseGoal(goal: string | undefined): Goal {
  const g = goal ?? 'balanced';
  if (!(GOALS as readonly string[]).includes(g)) {
    throw new NetraError('VALIDATION', `unknown goal '${g}'; choose one of ${GOALS.join(', ')}`, { field: 'goal' });
  }
  return g as Goal;
}

export function createAnalysisService(deps: { store: AnalyticsStore; catalog: () => PriceCatalog }): AnalysisService {
  const context = async (req: WindowRequest, params?: Partial<AnalysisParams>) => {
    if (req.from !== undefined && req.to !== undefined && req.from >= req.to) {
      throw new NetraError('VALIDATION', 'from must be before to', { field: 'from' });
    }
    let { from, to } = req;
    if (from === undefined || to === undefined) {
      const all = await deps.store.stats({ workspace: req.workspace });
      if (all.events === 0) throw new NetraError('NOT_FOUND', `workspace '${req.workspace}' has no events; send some (POST /api/v1/events) or generate a workload (netra generate)`, { field: 'workspace' });
      from ??= all.first_event!;
      to ??= all.last_event! + 1;
    }
    const totals = await deps.store.stats({ workspace: req.workspace, from, to });
    return analysisContext({ catalog: deps.catalog(), workspace: req.workspace, from, to, total_events: totals.events, total_spend_usd: totals.spend_usd, params });
  };

  const analyze: AnalysisService['analyze'] = async (req) => {
    const goal = parseGoal(req.goal);
    const ctx = await context(req, req.params);
    return analyzeWorkspace(deps.store.analysis, ctx, { goal, storeTimings: deps.store.queryTimings() });
  };

  return {
    analyze,
    async simulate(req) {
      const ctx = await context(req);
      return replayPolicy(deps.store.analysis, ctx, req.policy);
    },
    async recommendedPolicy(req) {
      const a = await analyze(req);
      return policyFromRecommendations(a.recommendations);
    },
  };
}
