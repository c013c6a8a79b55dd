// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * The supervisor's specialised agents: data_helper (what is missing and how to send it), data (store stats),
 * optimization (analysis, recommended policy, replay; growth and latency-target scenarios), actions (step-by-step plan
 * with a LiteLLM / Portkey config) and reporting (the LLM client writes the prose from a structured `report` payload, so
 * every figure in it is one the analysis returned). Each streams sub_agent_update / tool_* / partial_result events.
 * A turn reads each result once: the data agent reuses the triage's stats when the window is the whole history, the
 * optimization agent reuses the triage's probe analysis (same window and goal) and builds the recommended policy from
 * its recommendations (what AnalysisService.recommendedPolicy does with the same analysis); their tool events still
 * stream, with `reused_from: 'triage'` in the result.
 */
import type { LlmClient, LlmFallbackEvent } from '../llm/index.js';
import { formatByUnit, payloadMessage, type ReportPayload, type ReportRecommendation } from '../llm/index.js';
import type { FullAnalysis } from '../optimize/analyze.js';
import type { BreakdownMetric } from '../optimize/ports/breakdown.js';
import type { PolicyInput } from '../optimize/policy.js';
import { policyFromRecommendations } from '../optimize/policy-from-recommendations.js';
import { isFinding, listedRecommendations } from '../optimize/presentation.js';
import type { RankedRecommendation } from '../optimize/ranking.js';
import type { ReplayResult } from '../optimize/replay.js';
import { staleInfo, staleSummary, type AnalysisService, type StaleInfo, type StaleTurn } from '../services/analysis-service.js';
import { stableStringify } from '../cache/query-cache.js';
import type { WorkspaceStats } from '../store/types.js';
import type { PriceCatalog } from '../workload/price-catalog.js';
import type { RunContext } from './run-context.js';
import type { Sufficiency, Triage } from './triage.js';
import type { Answer } from './answer.js';
import {
  adviceAnswer,
  batchAnswer,
  kindAnswer,
  latencyCauseAnswer,
  missingDataAnswer,
  taskModelAnswer,
  type TierOf,
} from './answer-intents.js';
import { fieldCoverage, figureAnswer, latencyBreakdown, switchReplay, taskBreakdown, type Breakdown } from './question-agent.js';
import { switchAnswer } from './answer-switch.js';
import type { QuestionPlan } from './question-plan.js';
import { exportGatewayConfig } from './gateway-export.js';
import { namedScope, subjectOf } from './answer-words.js';
import type { RunRequest } from './types.js';

export interface AgentDeps {
  analysis: AnalysisService;
  llm: LlmClient;
  catalog: () => PriceCatalog;
}

export interface RunState {
  req: RunRequest;
  triage: Triage;
  sufficiency: Sufficiency;
  /** the analysed window (epoch ms); undefined = the workspace's whole history */
  window: { from?: number; to?: number };
  stats: WorkspaceStats;
  /** the whole history's stats (the window's coverage is stated against them) */
  history?: WorkspaceStats;
  /** the triage's probe analysis, of `window` ranked by `triage.goal` (absent when the workspace has no events) */
  probe?: FullAnalysis;
  analysis?: FullAnalysis;
  policy?: PolicyInput;
  replay?: ReplayResult | null;
  /** set by the optimization agent */
  projection?: Projection;
  plan?: ActionPlan;
  /** the turn's choice of figures: the last completed precompute's (stale) or current ones */
  stale?: StaleTurn;
  /** what the question asks (question-plan.ts) */
  question?: QuestionPlan;
  /** the answer to a figure question, composed by the data agent */
  answer?: Answer;
  /** figures the intent-specific answers read (set by the data agent) */
  coverage?: { events: number; end_user: number; session_id: number; task: number };
  latency?: Breakdown;
  task?: { apps: Breakdown; models: Breakdown };
  /** a switch question's routing rule and its replay */
  switched?: Awaited<ReturnType<typeof switchReplay>>;
}

/** `{ stale: { as_of, age_ms } }` for a tool result served from the turn's snapshot (only whole-history results are). */
export function staleOf(turn: StaleTurn | undefined, wholeHistory = true): { stale?: StaleInfo } {
  const info = wholeHistory ? staleInfo(turn) : null;
  return info ? { stale: info } : {};
}

export interface Projection {
  monthly_spend_usd: number;
  annual_spend_usd: number;
  /** the one projected-savings figure: the replay of all recommendations together (null: not replayed) */
  projected_savings_monthly_usd: number | null;
  projected_monthly_spend_usd: number | null;
  projected_annual_spend_usd: number | null;
  /** 1 unless a growth scenario was asked */
  growth_factor: number;
  latency?: {
    current_p95_ms: number | null;
    target_p95_ms: number | null;
    target_factor: number | null;
    best_p95_ms: number | null;
    recommendations: { title: string; p95_ms_delta: number | null; description: string }[];
  };
}

export interface ActionPlan {
  steps: string[];
  config: { format: 'litellm' | 'portkey'; content: string; notes: string[] } | null;
  validation: string[];
  rollback: string[];
  monitoring: string[];
}

const round2 = (v: number) => Math.round(v * 100) / 100;

async function update(ctx: RunContext, agent: string, status: 'started' | 'completed', extra: Record<string, unknown> = {}) {
  await ctx.emit('sub_agent_update', { agent, status, ...extra });
}

/** Tells exactly which data is missing, what it disables and how to send it. */
export async function dataHelperAgent(ctx: RunContext, s: RunState): Promise<void> {
  await update(ctx, 'data_helper', 'started');
  const message = s.sufficiency.missing.map((m) => `${m.impact}; ${m.how}.`).join(' ');
  await update(ctx, 'data_helper', 'completed', { level: s.sufficiency.level, missing: s.sufficiency.missing, message });
}

export async function dataAgent(ctx: RunContext, deps: AgentDeps, s: RunState): Promise<void> {
  await update(ctx, 'data', 'started');
  const scope = { workspace: s.req.workspace, from: s.window.from, to: s.window.to };
  // the whole history: the stats the triage read are these
  const reuse = s.window.from === undefined && s.window.to === undefined;
  const st = await ctx.tool(
    'data',
    'stats',
    scope,
    async () => (reuse ? s.stats : deps.analysis.stats(scope, { allowStale: s.stale })),
    (r) => ({
      events: r.events,
      spend_usd: r.spend_usd,
      models: r.by_model.length,
      ...(reuse ? { reused_from: 'triage' } : {}),
      ...staleOf(s.stale, reuse),
    }),
  );
  s.stats = st;
  const byModel = [...st.by_model]
    .sort((a, b) => b.spend_usd - a.spend_usd)
    .slice(0, 8)
    .map((m) => ({
      model: m.model,
      spend_usd: m.spend_usd,
      spend_share: st.spend_usd > 0 ? m.spend_usd / st.spend_usd : 0,
      events: m.events,
      latency_p95_ms: m.latency_p95_ms,
    }));
  const plan = s.question;
  if (plan?.intent === 'figure') s.answer = await figureAnswer(ctx, deps.analysis, s.req.workspace, plan, s.history ?? s.stats);
  else if (plan?.intent === 'missing_data')
    s.coverage = await fieldCoverage(
      ctx,
      deps.analysis,
      s.req.workspace,
      plan.window ? { from: plan.window.from, to: plan.window.to } : {},
    );
  else if (plan?.intent === 'latency_cause') s.latency = await latencyBreakdown(ctx, deps.analysis, s.req.workspace, plan);
  else if (plan?.intent === 'task_model') s.task = await taskBreakdown(ctx, deps.analysis, s.req.workspace, plan);
  else if (plan?.intent === 'switch')
    s.switched = await switchReplay(
      ctx,
      deps.analysis,
      s.req.workspace,
      plan,
      s.history ?? s.stats,
      (m) => deps.catalog().resolve(m)?.modes ?? null,
    );
  await ctx.emit('partial_result', {
    agent: 'data',
    events: st.events,
    spend_usd: st.spend_usd,
    errors: st.errors,
    latency_p50_ms: st.latency_p50_ms,
    latency_p95_ms: st.latency_p95_ms,
    spend_by_model: byModel,
    ...(s.answer ? { answer: s.answer } : {}),
  });
  await update(ctx, 'data', 'completed', { events: st.events, models: st.by_model.length });
}

const isLatencyRec = (r: RankedRecommendation) => r.kind === 'latency_slo' || (r.latency_impact.p95_ms_delta ?? 0) < 0;

export async function optimizationAgent(ctx: RunContext, deps: AgentDeps, s: RunState): Promise<void> {
  await update(ctx, 'optimization', 'started', { goal: s.triage.goal });
  const args = { workspace: s.req.workspace, from: s.window.from, to: s.window.to, goal: s.triage.goal };
  // the triage's probe is this analysis (same window, ranked by the same goal)
  const probe = s.probe;
  const whole = s.window.from === undefined && s.window.to === undefined;
  const a = await ctx.tool(
    'optimization',
    'analysis',
    args,
    async () => probe ?? deps.analysis.analyze(args, { allowStale: s.stale }),
    (r) => ({
      monthly_spend_usd: r.summary.monthly_spend_usd,
      projected_savings_monthly_usd: r.summary.projected_savings?.monthly_usd ?? null,
      recommendations: r.recommendations.length,
      skipped: r.skipped.map((k) => k.kind),
      ...(probe ? { reused_from: 'triage' } : {}),
      ...staleOf(s.stale, whole),
    }),
  );
  s.analysis = a;
  // = deps.analysis.recommendedPolicy(args), which builds it from this same analysis
  const policy = await ctx.tool(
    'optimization',
    'policy',
    args,
    async () => policyFromRecommendations(a.recommendations),
    (p) => ({ name: p.name ?? null, rules: Object.keys(p).filter((k) => k !== 'name'), ...staleOf(s.stale, whole) }),
  );
  s.policy = policy;
  // a snapshot holds the replays of the policies the precompute recommended; another policy is replayed on current data
  const replayedAhead = whole && s.stale?.snapshot?.replays[stableStringify(policy)] !== undefined;
  s.replay = await ctx.tool(
    'optimization',
    'simulate',
    { ...args, policy: 'recommended' },
    () =>
      deps.analysis
        .simulate({ workspace: s.req.workspace, from: s.window.from, to: s.window.to, policy }, { allowStale: s.stale })
        .catch(() => null),
    (r) => ({
      ...(r
        ? { savings_usd: r.savings_usd, monthly_savings_usd: r.monthly_savings_usd, changed_events: r.changed_events }
        : { skipped: 'the recommended policy has no rule the replay can apply' }),
      ...staleOf(s.stale, replayedAhead),
    }),
  );

  const g = s.triage.growth_factor ?? 1;
  const sum = a.summary;
  const saved = sum.projected_savings?.monthly_usd ?? null;
  const p: Projection = {
    monthly_spend_usd: round2(sum.monthly_spend_usd * g),
    annual_spend_usd: round2(sum.annual_spend_usd * g),
    projected_savings_monthly_usd: saved === null ? null : round2(saved * g),
    projected_monthly_spend_usd: saved === null ? null : round2((sum.monthly_spend_usd - saved) * g),
    projected_annual_spend_usd: saved === null ? null : round2((sum.monthly_spend_usd - saved) * 12 * g),
    growth_factor: g,
  };
  if (s.triage.goal === 'latency') {
    const mult = s.triage.entities.targets.find((t) => t.kind === 'multiplier');
    const pct = s.triage.entities.targets.find((t) => t.kind === 'percent');
    const cur = sum.latency_p95_ms;
    const factor = mult ? mult.value : pct ? 1 / Math.max(0.01, 1 - pct.value / 100) : null;
    // a finding's delta is what the target needs, not what a change gives: only what to act on counts
    const recs = listedRecommendations(a).filter(isLatencyRec);
    const deltas = recs.map((r) => r.latency_impact.p95_ms_delta).filter((d): d is number => d !== null);
    p.latency = {
      current_p95_ms: cur,
      target_factor: factor,
      target_p95_ms: cur !== null && factor ? Math.round(cur / factor) : null,
      best_p95_ms: cur !== null && deltas.length > 0 ? Math.max(0, Math.round(cur + Math.min(...deltas))) : cur,
      recommendations: recs
        .slice(0, 5)
        .map((r) => ({ title: r.title, p95_ms_delta: r.latency_impact.p95_ms_delta, description: r.latency_impact.description })),
    };
  }
  s.projection = p;
  const listed = listedRecommendations(a);
  const top = (s.triage.goal === 'latency' ? listed.filter(isLatencyRec) : listed).slice(0, 5);
  await ctx.emit('partial_result', {
    agent: 'optimization',
    goal: s.triage.goal,
    ...p,
    recommendations: top.map((r) => ({
      id: r.id,
      kind: r.kind,
      title: r.title,
      standalone_monthly_savings_usd: r.monthly_savings_usd * g,
      p95_ms_delta: r.latency_impact.p95_ms_delta,
      risk: r.quality_risk.level,
      confidence: r.confidence,
    })),
    skipped: a.skipped,
  });
  await update(ctx, 'optimization', 'completed', { recommendations: a.recommendations.length });
}

const modelsOf = (s: RunState) => s.stats.by_model.map((m) => m.model);

/** Step-by-step plan with the gateway config of the recommended policy, validation, rollback and monitoring. */
export async function actionsAgent(ctx: RunContext, deps: AgentDeps, s: RunState): Promise<void> {
  await update(ctx, 'actions', 'started');
  const format: 'litellm' | 'portkey' = /\bportkey\b/i.test(s.req.request) ? 'portkey' : 'litellm';
  const config = await ctx.tool(
    'actions',
    'gateway_export',
    { format, policy: 'recommended' },
    async () =>
      exportGatewayConfig(deps.catalog(), s.req.workspace, modelsOf(s), s.policy ?? {}, s.analysis?.recommendations ?? [], format),
    (r) => ({ format: r.format, bytes: r.content.length, notes: r.notes.length }),
  );
  const recs = (s.analysis?.recommendations ?? []).slice(0, 5);
  const steps = [
    `Deploy the ${format === 'litellm' ? 'LiteLLM proxy config.yaml' : 'Portkey config'} below in a staging gateway.`,
    ...recs.map((r, i) => `Apply recommendation ${i + 1}: ${r.title}${r.how_to_apply[0] ? ` (${r.how_to_apply[0]})` : ''}.`),
    'Route 10% of production traffic through the new config for 48 hours, then 50%, then 100%.',
  ];
  s.plan = {
    steps,
    config,
    validation: [
      `Replay the policy on last week's events (POST /api/v1/simulate) and confirm the projected savings of $${(s.analysis?.summary.projected_savings?.monthly_usd ?? 0).toFixed(2)} a month.`,
      'Compare error rate and p95 latency of the canary against the baseline; stop if either is worse by more than 10%.',
      'Spot-check 50 answers of each rerouted segment for quality.',
    ],
    rollback: ['Switch the gateway back to the previous config (keep it versioned beside the new one); no application change is needed.'],
    monitoring: [
      'Watch spend per model, error rate and p95 latency daily in Netra (GET /api/v1/analysis) for two weeks.',
      'Alert when monthly projected spend exceeds the projection by 15%.',
    ],
  };
  await ctx.emit('partial_result', { agent: 'actions', plan: s.plan });
  await update(ctx, 'actions', 'completed', { steps: steps.length });
}

const toReportRec = (r: RankedRecommendation, g = 1): ReportRecommendation => {
  const out: ReportRecommendation = { title: r.title, risk: r.quality_risk.level, confidence: r.confidence };
  if (r.monthly_savings_usd > 0) out.monthly_savings_usd = round2(r.monthly_savings_usd * g);
  const d = r.latency_impact.p95_ms_delta;
  if (d !== null && d < 0)
    out.evidence = `p95 ${formatByUnit(Math.abs(d), 'ms')} faster on the ${formatByUnit(r.affected_share, 'share')} of calls it touches`;
  return out;
};

/**
 * The changes that bear on a figure: a latency figure lists what makes calls faster, an error rate what cuts failed
 * and retried calls, every other figure (spend, calls, tokens) what saves money.
 */
function metricChange(m: BreakdownMetric): { test: (r: RankedRecommendation) => boolean; verb: string } {
  if (/^(latency|ttft)_/.test(m)) return { test: (r) => (r.latency_impact.p95_ms_delta ?? 0) < 0, verb: 'makes the calls faster on' };
  if (m === 'error_rate') return { test: (r) => r.kind === 'retry_waste', verb: 'cuts failed or retried calls on' };
  return { test: (r) => r.monthly_savings_usd > 0, verb: 'saves money on' };
}

/** The answer of a planned question and the recommendations that bear on it; null for a plain report. */
function answerOf(s: RunState, tierOf: TierOf): { answer: Answer; recs: RankedRecommendation[]; steps: boolean } | null {
  const q = s.question;
  const a = s.analysis;
  if (!q) return null;
  if (q.intent === 'figure' && s.answer) {
    const { apps, models } = namedScope(q);
    // "which app costs most and what should I change?": the recommendations are on the app the answer ranks first
    const leader = q.advice_asked && apps.length + models.length === 0 ? s.answer.leader : undefined;
    if (leader !== undefined && q.dimension === 'app') apps.push(leader);
    if (leader !== undefined && q.dimension === 'model') models.push(leader);
    const named = apps.length + models.length > 0;
    const bears = metricChange(q.metric);
    const recs =
      !named || !a
        ? []
        : a.recommendations.filter(
            (r) =>
              (apps.length === 0 || apps.includes(r.scope.app ?? '')) &&
              (models.length === 0 || models.includes(r.scope.model ?? '')) &&
              bears.test(r),
          );
    // the figure did not wait for the analysis (supervisor.ts): say that its recommendations are missing, not that none exist
    const answer =
      named && !a
        ? {
            ...s.answer,
            notes: [
              ...s.answer.notes,
              `No recommendations on ${[...apps, ...models].join(' and ')} yet: this workspace's analysis is not computed for its current events, and a figure does not wait for it. Ask again once it has run (after new events when the precompute is on, or now with GET /api/v1/analysis).`,
            ],
          }
        : q.advice_asked && named && recs.length === 0
          ? {
              ...s.answer,
              notes: [...s.answer.notes, `No change in this workspace's analysis ${bears.verb} ${[...apps, ...models].join(' and ')}.`],
            }
          : s.answer;
    return { answer, recs: recs.slice(0, 3), steps: false };
  }
  if (q.intent === 'switch' && s.switched) return { answer: switchAnswer(q, s.switched.rule, s.switched.result), recs: [], steps: false };
  if (q.intent === 'missing_data' && s.coverage)
    return { answer: missingDataAnswer(s.coverage, a, s.stats.latency_p50_ms), recs: [], steps: false };
  if (!a) return null;
  if (q.intent === 'latency_cause' && s.latency) {
    const subject = q.filters.length > 0 ? subjectOf(q) : 'The workspace';
    const r = latencyCauseAnswer(a, q, s.latency, subject);
    return { ...r, recs: r.recs.slice(0, 5), steps: false };
  }
  if (q.intent === 'task_model' && s.task) return { ...taskModelAnswer(a, q, s.task, tierOf), steps: true };
  if (q.intent === 'batch') return { ...batchAnswer(a), steps: true };
  if (q.intent === 'kind') {
    const r = kindAnswer(a, q);
    return { ...r, recs: r.recs.slice(0, 5), steps: true };
  }
  // what to act on only (no latency findings without a fix, no minor items); a cost or balanced question is about
  // money first: what saves comes before what saves nothing
  const listed = listedRecommendations(a);
  const saving = listed.filter((r) => r.monthly_savings_usd > 0);
  const ranked =
    s.triage.goal === 'latency'
      ? listed.filter(isLatencyRec)
      : s.triage.goal === 'cost'
        ? saving
        : [...saving, ...listed.filter((r) => !(r.monthly_savings_usd > 0))];
  // "what should we do about latency on ops-agent?": the changes on what it names, else the workspace's with a note
  const { apps, models } = namedScope(q);
  const named = [...apps, ...models].join(' and ');
  const onNamed = ranked.filter(
    (r) => (apps.length === 0 || apps.includes(r.scope.app ?? '')) && (models.length === 0 || models.includes(r.scope.model ?? '')),
  );
  const recs = named && onNamed.length > 0 ? onNamed : ranked;
  const answer = adviceAnswer(a, recs.slice(0, 5), {
    growth_factor: s.projection?.growth_factor ?? 1,
    latency: s.projection?.latency,
  });
  if (named)
    answer.lead +=
      onNamed.length > 0
        ? ` The changes listed are the ones on ${named} (the projected savings are the whole workspace's).`
        : ` No change in this analysis is specific to ${named}; the changes listed are the whole workspace's.`;
  const findings = s.triage.goal === 'latency' ? a.recommendations.filter(isFinding) : [];
  if (findings.length > 0)
    answer.notes.push(
      `Findings with no concrete fix yet (no faster model of the same kind and tier was observed): ${findings
        .slice(0, 5)
        .map((r) => r.title)
        .join('; ')}.`,
    );
  return {
    answer,
    recs: recs.slice(0, 5),
    steps: true,
  };
}

/** The structured report the LLM writes from; exported for tests. */
export function reportPayload(s: RunState, tierOf: TierOf = () => null, catalog?: PriceCatalog): ReportPayload {
  const answered = answerOf(s, tierOf);
  if (answered) {
    const facts: ReportPayload['facts'] = { goal: s.triage.goal, intent: s.question!.intent };
    const payload: ReportPayload = {
      kind: 'report',
      question: s.req.request,
      facts,
      answer: { lead: answered.answer.lead, table: answered.answer.table, notes: answered.answer.notes },
    };
    if (answered.recs.length > 0) payload.recommendations = answered.recs.map((r) => toReportRec(r, s.projection?.growth_factor ?? 1));
    if (answered.steps && s.plan?.config && answered.recs.length > 0) {
      payload.next_steps = [
        `deploy the ${s.plan.config.format === 'portkey' ? 'Portkey config' : 'LiteLLM config'} below in a staging gateway, send 10% of traffic through it for 48 hours, then all of it`,
      ];
      // an answer about some of the changes ("is prompt caching worth it for ops-agent?") shows their config; advice
      // shows the recommended policy's, the one its projected savings replay
      const listed =
        catalog && s.question?.intent !== 'advice'
          ? exportGatewayConfig(
              catalog,
              s.req.workspace,
              modelsOf(s),
              policyFromRecommendations(answered.recs),
              answered.recs,
              s.plan.config.format,
            )
          : s.plan.config;
      payload.answer!.config = { format: listed.format, content: listed.content };
    }
    return payload;
  }
  return plainReportPayload(s);
}

function plainReportPayload(s: RunState): ReportPayload {
  const a = s.analysis;
  const p = s.projection;
  const facts: ReportPayload['facts'] = {
    category: s.triage.category.replace(/_/g, ' '),
    goal: s.triage.goal,
    data_sufficiency: s.sufficiency.level,
  };
  const payload: ReportPayload = { kind: 'report', title: `Netra report for workspace ${s.req.workspace}`, question: s.req.request, facts };
  if (s.sufficiency.missing.length > 0) payload.missing_data = s.sufficiency.missing.map((m) => `${m.impact}: ${m.how}`);
  if (!a || !p) {
    payload.next_steps = s.sufficiency.missing.map((m) => m.how);
    return payload;
  }
  const sum = a.summary;
  Object.assign(facts, {
    analysed_events: sum.events,
    monthly_spend_usd: p.monthly_spend_usd,
    annual_spend_usd: p.annual_spend_usd,
    projected_savings_monthly_usd: p.projected_savings_monthly_usd,
    error_rate: sum.error_rate,
    latency_p50_ms: sum.latency_p50_ms,
    latency_p95_ms: sum.latency_p95_ms,
  });
  const byModel = [...s.stats.by_model].sort((x, y) => y.spend_usd - x.spend_usd).slice(0, 5);
  if (byModel.length > 0) facts.window_spend_by_model_usd = Object.fromEntries(byModel.map((m) => [m.model, round2(m.spend_usd)]));
  if (p.growth_factor !== 1) {
    facts.growth_scenario = `usage grows ${Math.round((p.growth_factor - 1) * 100)}%: the analysis' monthly figures are scaled by ${p.growth_factor}`;
    facts.current_monthly_spend_usd = sum.monthly_spend_usd;
  }
  if (p.projected_monthly_spend_usd !== null && p.projected_annual_spend_usd !== null)
    payload.comparisons = [
      { label: 'Monthly spend', current: p.monthly_spend_usd, projected: p.projected_monthly_spend_usd, unit: 'usd' },
      { label: 'Annual spend', current: p.annual_spend_usd, projected: p.projected_annual_spend_usd, unit: 'usd' },
    ];
  if (sum.warnings?.length) payload.missing_data = [...(payload.missing_data ?? []), ...sum.warnings];
  if (p.latency && p.latency.current_p95_ms !== null) {
    facts.latency_target = p.latency.target_factor ? `${p.latency.target_factor}x lower p95` : 'lower p95';
    if (p.latency.target_p95_ms !== null) {
      facts.target_p95_ms = p.latency.target_p95_ms;
      facts.required_p95_reduction_ms = p.latency.current_p95_ms - p.latency.target_p95_ms;
    }
    const cut = p.latency.best_p95_ms !== null ? p.latency.current_p95_ms - p.latency.best_p95_ms : 0;
    facts.largest_segment_p95_reduction_ms = cut;
    if (p.latency.target_p95_ms !== null)
      facts.target_reached_by_recommendations = cut >= p.latency.current_p95_ms - p.latency.target_p95_ms;
  }
  const listed = listedRecommendations(a);
  const recs = s.triage.goal === 'latency' ? listed.filter(isLatencyRec) : listed;
  payload.recommendations = recs.slice(0, 5).map((r): ReportRecommendation => {
    const out: ReportRecommendation = { title: r.title, risk: r.quality_risk.level, confidence: r.confidence };
    if (r.monthly_savings_usd > 0 || s.triage.goal !== 'latency') out.monthly_savings_usd = round2(r.monthly_savings_usd * p.growth_factor);
    const d = r.latency_impact.p95_ms_delta;
    if (d !== null && d !== 0)
      out.evidence = `p95 ${d < 0 ? '-' : '+'}${formatByUnit(Math.abs(d), 'ms')} on the traffic it touches (${formatByUnit(r.affected_share, 'share')} of calls)`;
    return out;
  });
  payload.risks = [
    ...new Set(
      recs
        .slice(0, 5)
        .filter((r) => r.quality_risk.level !== 'low')
        .map((r) => `${r.title}: ${r.quality_risk.reason}`),
    ),
  ];
  if (payload.risks.length === 0) payload.risks = ['the projection assumes future traffic looks like the analysed window'];
  if (s.plan) payload.next_steps = s.plan.steps;
  // the first step says "deploy the config below": the report shows it
  if (s.plan?.config) payload.config = { format: s.plan.config.format, content: s.plan.config.content };
  return payload;
}

/** The report of a turn answered from the last completed precompute says so: as of when, how old, what arrived since. */
async function withAsOf(payload: ReportPayload, s: RunState): Promise<ReportPayload> {
  if (!s.analysis) return payload;
  const whole = s.window.from === undefined && s.window.to === undefined;
  const st = whole ? await staleSummary(s.stale) : null;
  return st ? { ...payload, as_of: { time: st.as_of, age_ms: st.age_ms, events_since: st.events_since } } : payload;
}

export interface ReportOutcome {
  content: string;
  payload: ReportPayload;
  provider: string;
  model: string;
}

export async function reportingAgent(ctx: RunContext, deps: AgentDeps, s: RunState): Promise<ReportOutcome> {
  await update(ctx, 'reporting', 'started');
  const tierOf: TierOf = (m) => deps.catalog().resolve(m)?.quality_tier ?? null;
  const payload = await ctx.guard(withAsOf(reportPayload(s, tierOf, deps.catalog()), s));
  // one agent_fallback per hop of the LLM chain, with the provider's own failure, emitted in order as hops happen
  let fallbacks: Promise<void> = Promise.resolve();
  const onFallback = (e: LlmFallbackEvent): void => {
    fallbacks = fallbacks.then(() => ctx.emit('agent_fallback', { agent: 'reporting', ...e }));
    fallbacks.catch(() => undefined); // observed below; a stop meanwhile is reported by the guard
  };
  const r = await ctx.guard(
    deps.llm.complete({
      system:
        "You are Netra's reporting agent. Write an executive summary of the report payload: state every figure exactly as given, invent none.",
      messages: [payloadMessage(payload)],
      signal: ctx.signal,
      onFallback,
    }),
  );
  await ctx.guard(fallbacks);
  await update(ctx, 'reporting', 'completed', { provider: r.provider, model: r.model });
  return { content: r.text, payload, provider: r.provider, model: r.model };
}
