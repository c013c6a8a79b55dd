/**
 * The question side of a turn: the names the workspace knows (apps, tasks, models, providers, environments, read with
 * the breakdown query), and the figures a planned question asks for (breakdowns over its window, filters and
 * granularity), composed into the answer's lead, table and notes (answer.ts). Intent-specific answers that need the
 * analysis (advice, batch, which model for a task, why an app is slow, what data is missing) are composed by
 * answer-intents.ts once the optimization agent has run.
 */
import type { BreakdownQuery, BreakdownResult } from '../optimize/ports/breakdown.js';
import { NetraError } from '../errors.js';
import type { ReplayResult } from '../optimize/replay.js';
import type { AnalysisService } from '../services/analysis-service.js';
import type { WorkspaceStats } from '../store/types.js';
import { composeAnswer, type Answer } from './answer.js';
import { switchRule, type ModesOf, type SwitchRule } from './answer-switch.js';
import type { KnownNames, QuestionPlan } from './question-plan.js';
import type { RunContext } from './run-context.js';

export type Breakdown = BreakdownResult & { from: number; to: number };

/** Apps, tasks and environments of the whole history (one cached names query), models and providers from the stats. */
export async function knownNames(
  ctx: RunContext,
  analysis: AnalysisService,
  workspace: string,
  stats: WorkspaceStats,
  catalogModels: readonly string[],
): Promise<KnownNames> {
  if (stats.events === 0) return { apps: [], models: [...catalogModels], tasks: [], providers: [], environments: [] };
  const names = await ctx.tool(
    'triage',
    'names',
    { workspace },
    () => analysis.names(workspace),
    (n) => ({ apps: n.apps.length, tasks: n.tasks.length, environments: n.environments.length }),
  );
  return {
    apps: names.apps,
    tasks: names.tasks,
    environments: names.environments,
    models: [...new Set([...stats.by_model.map((m) => m.model), ...catalogModels])],
    providers: [...new Set(stats.by_model.map((m) => m.provider))],
  };
}

/** The breakdown the plan asks for (its window, or the whole history). */
export function planQuery(plan: QuestionPlan): BreakdownQuery {
  // a comparison reads every group: a group ranked in one period's top N may be folded into "other" in the other's
  const comparing = plan.comparison !== null;
  return {
    dimension: plan.dimension,
    granularity: plan.granularity,
    filters: plan.filters,
    rank_by: plan.metric,
    top: comparing ? null : (plan.top ?? (plan.dimension !== null ? 10 : null)),
    ...(plan.time_zone !== 'UTC' ? { time_zone: plan.time_zone } : {}),
  };
}

/** Runs the plan's breakdown(s) and composes the answer; streams them as the data agent's tools. */
export async function figureAnswer(
  ctx: RunContext,
  analysis: AnalysisService,
  workspace: string,
  plan: QuestionPlan,
  stats: WorkspaceStats,
): Promise<Answer> {
  const window = plan.window ? { from: plan.window.from, to: plan.window.to } : {};
  const query = planQuery(plan);
  const summary = (r: Breakdown) => ({
    events: r.total.events,
    spend_usd: r.total.spend_usd,
    rows: r.rows.length,
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
  });
  const result = await ctx.tool(
    'data',
    'breakdown',
    { workspace, ...window, ...query },
    () => analysis.breakdown({ workspace, ...window, query }),
    summary,
  );
  let previous: Breakdown | undefined;
  if (plan.comparison?.kind === 'periods') {
    const p = plan.comparison.previous;
    previous = await ctx.tool(
      'data',
      'breakdown',
      { workspace, from: p.from, to: p.to, ...query },
      () => analysis.breakdown({ workspace, from: p.from, to: p.to, query }),
      summary,
    );
  }
  return composeAnswer({ plan, result, previous, data: { first_event: stats.first_event, last_event: stats.last_event } });
}

/** Events of a scope that carry a field (end_user, session_id, tags.task): the coverage a missing-data answer states. */
export async function fieldCoverage(
  ctx: RunContext,
  analysis: AnalysisService,
  workspace: string,
  window: { from?: number; to?: number },
): Promise<{ events: number; end_user: number; session_id: number; task: number }> {
  const q = (dimension: BreakdownQuery['dimension']): BreakdownQuery => ({
    dimension,
    granularity: null,
    filters: [],
    rank_by: 'calls',
    top: 1,
  });
  const [u, s, t] = await ctx.tool(
    'data',
    'coverage',
    { workspace, ...window },
    () =>
      Promise.all([
        analysis.breakdown({ workspace, ...window, query: q('end_user') }),
        analysis.breakdown({ workspace, ...window, query: q('session_id') }),
        analysis.breakdown({ workspace, ...window, query: q({ tag: 'task' }) }),
      ]),
    ([a, b, c]) => ({ events: a.total.events, end_user: a.keyed_events, session_id: b.keyed_events, task: c.keyed_events }),
  );
  return { events: u.total.events, end_user: u.keyed_events, session_id: s.keyed_events, task: t.keyed_events };
}

/** Per-model latency figures of the plan's subject (one app, one model, or the workspace), for "why is X slow". */
export function latencyBreakdown(ctx: RunContext, analysis: AnalysisService, workspace: string, plan: QuestionPlan): Promise<Breakdown> {
  const window = plan.window ? { from: plan.window.from, to: plan.window.to } : {};
  const query: BreakdownQuery = {
    dimension: plan.filters.some((f) => f.column === 'model') ? 'app' : 'model',
    granularity: null,
    filters: plan.filters,
    rank_by: 'calls',
    top: 8,
  };
  return ctx.tool(
    'data',
    'breakdown',
    { workspace, ...window, ...query },
    () => analysis.breakdown({ workspace, ...window, query }),
    (r) => ({ events: r.total.events, latency_p95_ms: r.total.latency_p95_ms, rows: r.rows.length }),
  );
}

/** Apps and models that run a task (tags.task), for "which model should handle X". */
export async function taskBreakdown(
  ctx: RunContext,
  analysis: AnalysisService,
  workspace: string,
  plan: QuestionPlan,
): Promise<{ apps: Breakdown; models: Breakdown }> {
  const window = plan.window ? { from: plan.window.from, to: plan.window.to } : {};
  const filters = [{ column: { tag: 'task' }, value: plan.task ?? '' }];
  const q = (dimension: 'app' | 'model'): BreakdownQuery => ({ dimension, granularity: null, filters, rank_by: 'spend', top: 10 });
  const [apps, models] = await ctx.tool(
    'data',
    'breakdown',
    { workspace, ...window, task: plan.task },
    () =>
      Promise.all([
        analysis.breakdown({ workspace, ...window, query: q('app') }),
        analysis.breakdown({ workspace, ...window, query: q('model') }),
      ]),
    ([a]) => ({ events: a.total.events, spend_usd: a.total.spend_usd, apps: a.rows.length }),
  );
  return { apps, models };
}

/** The replay of a switch question's one routing rule ("move code-chat to gpt-4o-mini") over its window. */
export async function switchReplay(
  ctx: RunContext,
  analysis: AnalysisService,
  workspace: string,
  plan: QuestionPlan,
  stats: WorkspaceStats,
  modesOf: ModesOf,
): Promise<{ rule: SwitchRule; result: ReplayResult | { refused: string } }> {
  const window = plan.window ? { from: plan.window.from, to: plan.window.to } : {};
  const rule = switchRule(plan, stats, modesOf);
  const result = await ctx.tool(
    'data',
    'simulate',
    { workspace, ...window, policy: rule.policy },
    () =>
      analysis.simulate({ workspace, ...window, policy: rule.policy }).catch((err: unknown) => {
        // a model the catalog cannot price (a stored id without rates): the answer says why instead of failing the turn
        if (err instanceof NetraError && err.code === 'NETRA_E_VALIDATION') return { refused: err.message };
        throw err;
      }),
    (r) =>
      'refused' in r
        ? { refused: r.refused }
        : { savings_usd: r.savings_usd, monthly_savings_usd: r.monthly_savings_usd, changed_events: r.changed_events },
  );
  return { rule, result };
}
