/**
 * "What would moving code-chat to gpt-4o-mini save?" (pure): the routing rule a switch question asks about, built
 * from its plan, and the answer composed from the replay of that one rule over the question's window.
 */
import { formatByUnit, formatPercent, formatUsd } from '../llm/builtin-prose.js';
import type { PolicyInput } from '../optimize/policy.js';
import type { ReplayResult } from '../optimize/replay.js';
import type { WorkspaceStats } from '../store/types.js';
import type { Answer } from './answer.js';
import { possessive, subjectOf, wherePhrase } from './answer-words.js';
import type { QuestionPlan } from './question-plan.js';

export interface SwitchRule {
  policy: PolicyInput;
  /** filters of the question a routing rule cannot select on (environment, user): the rule moves those calls too */
  unmatched: string[];
}

/** The routing rule "move the calls the plan's filters select to plan.switch_to"; a provider selects its models. */
export function switchRule(plan: QuestionPlan, stats: Pick<WorkspaceStats, 'by_model'>): SwitchRule {
  const match: { app?: string[]; model?: string[]; tags?: Record<string, string>; task?: string[] } = {};
  const unmatched: string[] = [];
  for (const f of plan.filters) {
    if (typeof f.column !== 'string') {
      if (f.column.tag === 'task') (match.task ??= []).push(f.value);
      else match.tags = { ...match.tags, [f.column.tag]: f.value };
    } else if (f.column === 'app') (match.app ??= []).push(f.value);
    else if (f.column === 'model') (match.model ??= []).push(f.value);
    else if (f.column === 'provider') {
      const models = stats.by_model.filter((m) => m.provider === f.value && m.model !== plan.switch_to).map((m) => m.model);
      // a provider the workspace never called selects nothing: a model no event has keeps the rule from matching
      (match.model ??= []).push(...(models.length > 0 ? models : [`${f.value}/(no calls)`]));
    } else unmatched.push(`${f.column} = ${f.value}`);
  }
  return {
    policy: { name: `what if: ${subjectOf(plan)} to ${plan.switch_to}`, routing: [{ match, target_model: plan.switch_to! }] },
    unmatched,
  };
}

/** The answer: what the moved calls would have cost, the workspace's figures before and after, and what was assumed. */
export function switchAnswer(plan: QuestionPlan, rule: SwitchRule, r: ReplayResult | { refused: string }): Answer {
  const to = plan.switch_to!;
  if ('refused' in r)
    return { lead: `The replay cannot price a move to ${to}: ${r.refused}.`, table: null, notes: [], missing_field: null, value: null };
  const where = wherePhrase(plan, r);
  const subject =
    plan.filters.length === 0 ? 'every call' : `${possessive(subjectOf(plan))} calls`.replace(/^The workspace's/, "the workspace's");
  const matched = r.breakdown.routing_rule_events[0] ?? 0;
  const moved = r.breakdown.routed_events;
  const notes = [
    ...rule.unmatched.map(
      (u) => `A routing rule cannot select calls by ${u}, so the replay moved the matching calls of every ${u.split(' = ')[0]}.`,
    ),
  ];
  if (moved === 0) {
    const lead =
      matched > 0
        ? `Nothing would change: all ${formatByUnit(matched, 'count')} of ${subject} ${where} already use ${to}.`
        : `Nothing would change: there are no calls to move ${where} (${subject}).`;
    return { lead, table: null, notes: [...notes, ...r.assumptions], missing_field: null, value: 0 };
  }
  const saved = r.breakdown.routing_savings_usd;
  const effect =
    saved >= 0
      ? `saves ${formatUsd(saved)} ${where} (${formatPercent(r.savings_share * 100)} of the workspace's spend), about ${formatUsd(r.monthly_savings_usd)} a month`
      : `costs ${formatUsd(-saved)} more ${where}`;
  const lead = `Moving ${subject} to ${to} ${effect}: it moves ${formatByUnit(moved, 'count')} calls${matched > moved ? ` (${formatByUnit(matched - moved, 'count')} more already use ${to})` : ''}.`;
  const ms = (v: number | null) => (v === null ? 'n/a' : formatByUnit(v, 'ms'));
  notes.push(
    `The replay re-prices each moved call's recorded tokens at ${to}'s catalog prices; it cannot tell whether ${to} answers them as well. Put the rule in shadow on the gateway first (docs/GATEWAY.md) and compare its answers before enforcing it.`,
    ...r.assumptions,
  );
  return {
    lead,
    table: {
      columns: ['the workspace', 'as recorded', `with the move to ${to}`],
      rows: [
        ['spend', formatUsd(r.baseline.spend_usd), formatUsd(r.projected.spend_usd)],
        ['p50 latency', ms(r.baseline.latency_p50_ms), ms(r.projected.latency_p50_ms)],
        ['p95 latency', ms(r.baseline.latency_p95_ms), ms(r.projected.latency_p95_ms)],
      ],
    },
    notes,
    missing_field: null,
    value: saved,
  };
}
