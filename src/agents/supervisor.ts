/**
 * The supervisor: a RunExecutor that triages a request, checks the workspace's data sufficiency and runs the chain
 * of specialised agents, streaming every step:
 *   agent_started → tool_* (stats, analysis) → agent_thinking (triage) → per agent: sub_agent_update, tool_*,
 *   partial_result → final_report → agent_completed.
 * Chains: sufficient → triage, data, optimization, actions, reporting; partial → data_helper, data, optimization,
 * actions, reporting; insufficient → data_helper, reporting. Admin pipelines: synthetic data generation and dataset
 * administration (list, delete, reprice). Approvals come from thread state: a confirmation ("yes", "confirm") executes
 * the action the thread's previous final_report asked approval for (approvals.ts), and only that.
 * Stale answers: each turn passes one StaleTurn (`allowStale`) to its analysis calls, so a turn over a workspace whose
 * current figures are not computed yet may be answered from the last completed precompute (analysis-service.ts): every
 * tool_completed result served from it carries `stale: { as_of, age_ms }`, and so does the final_report.
 * Stop: the signal is checked between steps and raced against every await; a stopped run emits nothing more and
 * resolves `{ status: 'cancelled' }`.
 */
import type { Logger } from '../logger.js';
import { ErrorCodes, NetraError } from '../errors.js';
import type { LlmClient } from '../llm/index.js';
import type { FullAnalysis } from '../optimize/analyze.js';
import { staleTurn, type AnalysisService } from '../services/analysis-service.js';
import type { WorkspaceStats } from '../store/types.js';
import type { PriceCatalog } from '../workload/price-catalog.js';
import { loadPriceCatalog } from '../workload/price-catalog-file.js';
import { RunCancelled, RunContext } from './run-context.js';
import {
  actionsAgent,
  dataAgent,
  dataHelperAgent,
  optimizationAgent,
  reportingAgent,
  staleOf,
  type AgentDeps,
  type RunState,
} from './specialists.js';
import { describeApproval, isConfirmation, isRefusal, pendingApproval, type PendingApproval } from './approvals.js';
import { datasetAdminAgent, deleteApproved, type DatasetAdmin } from './dataset-admin.js';
import { gatewayPolicyAgent, gatewayPolicyApproved, type GatewayPolicyAdmin } from './gateway-policy-agent.js';
import { syntheticDataAgent, type GenerateFn, type SyntheticWorkspaces } from './synthetic-data.js';
import { assessSufficiency, requestProblem, triage, type SufficiencyLevel } from './triage.js';
import { refineTriage, shouldRefine, type Refinement } from './triage-refine.js';
import { knownNames } from './question-agent.js';
import { planQuestion, windowOf as windowOfPlan } from './question-plan.js';
import type { RunExecutor, RunRequest, RunResult } from './types.js';

export interface SupervisorDeps {
  analysis: AnalysisService;
  llm: LlmClient;
  /** the app's generator (app.generate); without it the synthetic-data pipeline answers with an error */
  generate?: GenerateFn;
  /** the price catalog with overrides (app.catalog); default: the bundled catalog file */
  catalog?: () => PriceCatalog;
  /** dataset administration (src/services/dataset-admin.ts); without it the dataset pipeline answers with an error */
  datasets?: DatasetAdmin;
  /** where the details of unexpected errors go (clients get a message without them: it may quote SQL or stored text) */
  log?: Pick<Logger, 'error'>;
  /** workspaces for synthetic data (exists, apps, create owned by the asking user); without it generation goes to a new name unchecked */
  workspaces?: SyntheticWorkspaces;
  /** the workspace's gateway policy (savings, shadow / enforce activation); without it that pipeline answers with an error */
  gatewayPolicy?: GatewayPolicyAdmin;
  /** the clock relative windows ("last 3 days", "yesterday") count back from; default Date.now */
  now?: () => number;
  /** the workspace's time zone (IANA name) its calendar words and per-day buckets are in; default UTC */
  timeZone?: (workspace: string) => Promise<string>;
}

export type AgentName = 'triage' | 'data_helper' | 'data' | 'optimization' | 'actions' | 'reporting';

export const CHAINS: Record<SufficiencyLevel, readonly AgentName[]> = {
  sufficient: ['triage', 'data', 'optimization', 'actions', 'reporting'],
  partial: ['data_helper', 'data', 'optimization', 'actions', 'reporting'],
  insufficient: ['data_helper', 'reporting'],
};

/** A figure question (a breakdown, what data is missing) needs no policy, replay or gateway config. */
export const FIGURE_CHAINS: Record<SufficiencyLevel, readonly AgentName[]> = {
  sufficient: ['triage', 'data', 'reporting'],
  partial: ['data_helper', 'data', 'reporting'],
  insufficient: ['data_helper', 'reporting'],
};

/** The analysed window: the whole history, or the last N of a time range the request names ("last 7 days"). */
function windowOf(stats: WorkspaceStats, rangeMs: number | undefined): { from?: number; to?: number } {
  if (rangeMs === undefined || stats.first_event === null || stats.last_event === null) return {};
  const to = stats.last_event + 1;
  return { from: Math.max(stats.first_event, to - rangeMs), to };
}

export function createSupervisor(deps: SupervisorDeps): RunExecutor {
  let catalog: PriceCatalog | undefined;
  const agentDeps: AgentDeps = {
    analysis: deps.analysis,
    llm: deps.llm,
    catalog: deps.catalog ?? (() => (catalog ??= loadPriceCatalog())),
  };
  const knownModels = (): string[] => agentDeps.catalog().entries.flatMap((e) => [e.id, ...e.aliases]);

  return {
    async execute(req, emit, signal): Promise<RunResult> {
      const ctx = new RunContext(emit, signal);
      try {
        return await run(ctx, req);
      } catch (err) {
        if (err instanceof RunCancelled || signal.aborted) return { status: 'cancelled', content: '' };
        // our own messages are safe to show; store and internal errors wrap a driver's text (SQL, parameters, stored values)
        const known = err instanceof NetraError && err.code !== ErrorCodes.STORE.code && err.code !== ErrorCodes.INTERNAL.code;
        const code = err instanceof NetraError ? err.code : ErrorCodes.INTERNAL.code;
        if (!known) deps.log?.error({ run_id: req.run_id, err }, 'agent run failed');
        // an unexpected error's text may quote SQL, parameters or stored event text: clients get its code only
        const message = known ? (err as Error).message : `the run failed (${code}); the server log has the details under run ${req.run_id}`;
        try {
          await ctx.emit('agent_error', { code, message });
        } catch {
          /* stopped meanwhile */
        }
        if (signal.aborted) return { status: 'cancelled', content: '' };
        return { status: 'failed', content: message };
      }
    },
  };

  async function run(ctx: RunContext, req: RunRequest): Promise<RunResult> {
    // an answer to a pending approval ("no", "ok") may be shorter than a request: it is checked as an answer, not a request
    const pending = pendingApproval(req.previous_report, req.workspace);
    const confirming = isConfirmation(req.request);
    const refusing = pending !== null && isRefusal(req.request);
    const problem = confirming || refusing ? null : requestProblem(req.request);
    if (problem) {
      await ctx.emit('agent_error', { code: ErrorCodes.VALIDATION.code, message: problem, field: 'request' });
      return { status: 'failed', content: problem };
    }
    await ctx.emit('agent_started', { run_id: req.run_id, workspace: req.workspace, request: req.request });
    if (confirming) return confirm(ctx, req, pending);
    if (pending && refusing) {
      await ctx.emit('agent_thinking', { pipeline: 'approval', decision: 'declined', pending });
      return answer(ctx, `Cancelled: nothing was changed (the pending action was ${describeApproval(pending)}).`, {
        action: pending.action,
        cancelled: true,
      });
    }
    let t = triage(req.request, knownModels(), req.goal);

    if (t.admin === 'dataset_admin' && t.dataset_action) {
      await ctx.emit('agent_thinking', { triage: t, pipeline: 'dataset_admin', action: t.dataset_action });
      const content = await datasetAdminAgent(ctx, req, t.dataset_action, deps.datasets);
      await ctx.emit('agent_completed', { status: 'completed' });
      return { status: 'completed', content };
    }

    if (t.admin === 'gateway_policy' && t.gateway_action) {
      await ctx.emit('agent_thinking', { triage: t, pipeline: 'gateway_policy', action: t.gateway_action });
      const content = await gatewayPolicyAgent(ctx, req, t.gateway_action, deps.gatewayPolicy);
      await ctx.emit('agent_completed', { status: 'completed' });
      return { status: 'completed', content };
    }

    if (t.admin === 'synthetic_data') {
      await ctx.emit('agent_thinking', { triage: t, pipeline: 'synthetic_data' });
      const content = await syntheticDataAgent(ctx, req, deps.generate, undefined, deps.workspaces);
      await ctx.emit('agent_completed', { status: 'completed' });
      return { status: 'completed', content };
    }

    // deterministic first; a remote LLM may refine a low-confidence classification (never with the built-in model alone)
    let refinement: Refinement | null = null;
    if (shouldRefine(deps.llm, t, req.request, req.goal !== undefined))
      ({ triage: t, refinement } = await refineTriage(ctx, deps.llm, t, req.request));

    // one turn, one generation: the last completed precompute's (stale) or the current one's. A question naming a window
    // ("last 7 days") is always answered from current data: its window is placed from the stats, which must be current too.
    const namesWindow = windowOfPlan(req.request, (deps.now ?? Date.now)());
    const stale = t.entities.time_ranges.length > 0 || namesWindow !== null ? { ...staleTurn(), decided: true } : staleTurn();
    const all = await ctx.tool(
      'triage',
      'stats',
      { workspace: req.workspace },
      () => deps.analysis.stats({ workspace: req.workspace }, { allowStale: stale }),
      (r) => ({ events: r.events, spend_usd: r.spend_usd, latency_p50_ms: r.latency_p50_ms, models: r.by_model.length, ...staleOf(stale) }),
    );
    // the window and the kind of question are read before the workspace's names (the probe analysis comes first, so a
    // turn asking while the precompute computes it joins that computation); the names then complete the plan
    const tz = deps.timeZone ? await deps.timeZone(req.workspace) : 'UTC';
    const draft = planQuestion(req.request, { apps: [], tasks: [], models: knownModels() }, (deps.now ?? Date.now)(), tz);
    // a figure question is answered by its breakdown over its own window; the recommendations beside it come from the
    // whole history's analysis (the one the precompute keeps), so no new analysis runs for a window it names
    // a switch question is one replay of its own rule: a figure, not the analysis's advice
    const figures = draft.intent === 'figure' || draft.intent === 'missing_data' || draft.intent === 'switch';
    const window =
      draft.window && !figures
        ? { from: draft.window.from, to: draft.window.to }
        : figures
          ? {}
          : windowOf(all, t.entities.time_ranges[0]?.ms);
    let probe: FullAnalysis | undefined;
    // a window without events has nothing to analyse: the answer says so
    const inWindow = window.from === undefined ? all.events : (await deps.analysis.stats({ workspace: req.workspace, ...window })).events;
    // a figure is answered by its breakdown: the analysis only adds the recommendations on what the question names, so
    // the turn takes it when it is at hand and never waits for it (over 1M events it takes seconds, the figure far less);
    // a figure asked together with what to change ("which app costs most and what should I change?") needs them
    const figureOnly = (draft.intent === 'figure' && !draft.advice_asked) || draft.intent === 'switch';
    if (inWindow > 0) {
      const args = { workspace: req.workspace, ...window, goal: t.goal };
      const whole = window.from === undefined && window.to === undefined;
      const found = await ctx.tool(
        'triage',
        'analysis',
        args,
        () =>
          figureOnly ? deps.analysis.analysisIfReady(args, { allowStale: stale }) : deps.analysis.analyze(args, { allowStale: stale }),
        (r) =>
          r === null
            ? { computed: false, reason: 'not computed yet; a figure question does not wait for it' }
            : {
                events: r.summary.events,
                monthly_spend_usd: r.summary.monthly_spend_usd,
                skipped: r.skipped.map((k) => ({ kind: k.kind, needs: k.needs })),
                ...staleOf(stale, whole),
              },
      );
      probe = found ?? undefined;
    }
    const known = await knownNames(ctx, deps.analysis, req.workspace, all, []);
    const planned = planQuestion(req.request, { ...known, models: [...known.models, ...knownModels()] }, (deps.now ?? Date.now)(), tz);
    // the names may make an advice question a figure one ("reduce code-chat's spend"), never change its window
    const question =
      figures || planned.intent === 'figure' || planned.intent === 'missing_data'
        ? { ...planned, intent: figures ? planned.intent : draft.intent }
        : planned;
    // what a figure needs is in the stats (a missing prompt text matters to recommendations, not to a spend figure), so its
    // sufficiency does not depend on whether the analysis happened to be at hand
    const sufficiency = assessSufficiency(all, figureOnly ? [] : probe?.skipped);
    const chain = figures ? FIGURE_CHAINS[sufficiency.level] : CHAINS[sufficiency.level];
    await ctx.emit('agent_thinking', { triage: t, plan: question, sufficiency, chain, window, ...(refinement ? { refinement } : {}) });

    const state: RunState = { req, triage: t, sufficiency, window, stats: all, history: all, probe, stale, question };
    if (figures) state.analysis = probe;
    let content = '';
    for (const agent of chain) {
      ctx.check();
      switch (agent) {
        case 'triage':
          await ctx.emit('sub_agent_update', {
            agent: 'triage',
            status: 'completed',
            category: t.category,
            goal: t.goal,
            sufficiency: sufficiency.level,
          });
          break;
        case 'data_helper':
          await dataHelperAgent(ctx, state);
          break;
        case 'data':
          await dataAgent(ctx, agentDeps, state);
          break;
        case 'optimization':
          await optimizationAgent(ctx, agentDeps, state);
          break;
        case 'actions':
          await actionsAgent(ctx, agentDeps, state);
          break;
        case 'reporting': {
          const r = await reportingAgent(ctx, agentDeps, state);
          content = r.content;
          const p = state.projection;
          await ctx.emit('final_report', {
            content,
            provider: r.provider,
            model: r.model,
            category: t.category,
            goal: t.goal,
            sufficiency: sufficiency.level,
            figures: p ?? null,
            summary: state.analysis
              ? {
                  monthly_spend_usd: state.analysis.summary.monthly_spend_usd,
                  projected_savings_monthly_usd: state.analysis.summary.projected_savings?.monthly_usd ?? null,
                  projected_monthly_spend_usd: state.analysis.summary.projected_savings?.projected_monthly_spend_usd ?? null,
                  annual_spend_usd: state.analysis.summary.annual_spend_usd,
                }
              : null,
            missing_data: sufficiency.missing,
            plan: state.plan ?? null,
            report: r.payload,
            ...(r.payload.as_of
              ? { stale: { as_of: r.payload.as_of.time, age_ms: r.payload.as_of.age_ms, events_since: r.payload.as_of.events_since } }
              : {}),
          });
          break;
        }
      }
    }
    await ctx.emit('agent_completed', { status: 'completed', chain });
    return { status: 'completed', content };
  }

  /** A final answer without a pipeline: final_report, agent_completed. */
  async function answer(ctx: RunContext, content: string, extra: Record<string, unknown> = {}): Promise<RunResult> {
    await ctx.emit('final_report', { content, ...extra });
    await ctx.emit('agent_completed', { status: 'completed' });
    return { status: 'completed', content };
  }

  /** A confirmation: executes exactly the action the thread's previous report asked approval for, or says there is none. */
  async function confirm(ctx: RunContext, req: RunRequest, pending: PendingApproval | null): Promise<RunResult> {
    if (!pending) {
      await ctx.emit('agent_thinking', { pipeline: 'approval', decision: 'nothing_pending' });
      return answer(
        ctx,
        'There is nothing to confirm: the previous answer in this thread did not ask for approval. Say what you would like to do, e.g. "Generate 100k synthetic events for a coding assistant" or "delete the rag-assistant dataset".',
        { nothing_to_confirm: true },
      );
    }
    await ctx.emit('agent_thinking', {
      pipeline:
        pending.action === 'delete_dataset'
          ? 'dataset_admin'
          : pending.action === 'set_gateway_policy'
            ? 'gateway_policy'
            : 'synthetic_data',
      decision: 'confirmed',
      pending,
    });
    const content =
      pending.action === 'set_gateway_policy'
        ? await gatewayPolicyApproved(ctx, req, pending, deps.gatewayPolicy)
        : pending.action === 'delete_dataset'
          ? await deleteApproved(ctx, req, pending, deps.datasets)
          : await syntheticDataAgent(
              ctx,
              req,
              deps.generate,
              { preset: pending.preset, events: pending.events, days: pending.days, target: pending.target },
              deps.workspaces,
            );
    await ctx.emit('agent_completed', { status: 'completed' });
    return { status: 'completed', content };
  }
}
