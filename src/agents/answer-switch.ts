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
  /** models whose calls stay: they do something else than the target (embeddings when the target is a chat model) */
  kept: string[];
}

/** What a catalog says of a model: its operations ("chat", "embedding"); null when it does not know the model. */
export type ModesOf = (model: string) => readonly string[] | null;

/**
 * The routing rule "move the calls the plan's filters select to plan.switch_to". A provider selects its models; only
 * calls of a model that does what the target does move ("switch code-chat to gpt-4o-mini" leaves its embedding calls
 * where they are), so the rule lists the workspace's models when some of them cannot move.
 */
export function switchRule(plan: QuestionPlan, stats: Pick<WorkspaceStats, 'by_model'>, modesOf: ModesOf): SwitchRule {
  const to = plan.switch_to!;
  const match: { app?: string[]; model?: string[]; tags?: Record<string, string>; task?: string[] } = {};
  const unmatched: string[] = [];
  for (const f of plan.filters) {
    if (typeof f.column !== 'string') {
      if (f.column.tag === 'task') (match.task ??= []).push(f.value);
      else match.tags = { ...match.tags, [f.column.tag]: f.value };
    } else if (f.column === 'app') (match.app ??= []).push(f.value);
    else if (f.column === 'model') (match.model ??= []).push(f.value);
    else if (f.column === 'provider') {
      const models = stats.by_model.filter((m) => m.provider === f.value && m.model !== to).map((m) => m.model);
      // a provider the workspace never called selects nothing: a model no event has keeps the rule from matching
      (match.model ??= []).push(...(models.length > 0 ? models : [`${f.value}/(no calls)`]));
    } else unmatched.push(`${f.column} = ${f.value}`);
  }
  const target = new Set(modesOf(to) ?? []);
  const movable = (m: string) => target.size === 0 || (modesOf(m) ?? ['chat']).some((x) => target.has(x));
  const candidates = match.model ?? stats.by_model.map((m) => m.model);
  const kept = [...new Set(candidates.filter((m) => !movable(m)))];
  // none left to move (an embedding model's calls to a chat model): a model no event has keeps the rule from matching
  if (kept.length > 0) match.model = candidates.some(movable) ? candidates.filter(movable) : [`${to}/(no movable calls)`];
  const policy: PolicyInput = { name: `what if: ${subjectOf(plan)} to ${to}`, routing: [{ match, target_model: to }] };
  return { policy, unmatched, kept };
}

/** The answer: what the moved calls would have cost, the workspace's figures before and after, and what was assumed. */
export function switchAnswer(plan: QuestionPlan, rule: SwitchRule, r: ReplayResult | { refused: string }): Answer {
  const to = plan.switch_to!;
  if ('refused' in r)
    return { lead: `The replay cannot price a move to ${to}: ${r.refused}.`, table: null, notes: [], missing_field: null, value: null };
  const where = wherePhrase(plan, r);
  const named = subjectOf(plan);
  const subject = plan.filters.length === 0 ? 'every call' : named.endsWith(' calls') ? named : `${possessive(named)} calls`;
  const matched = r.breakdown.routing_rule_events[0] ?? 0;
  const moved = r.breakdown.routed_events;
  const notes = [
    ...rule.unmatched.map(
      (u) => `A routing rule cannot select calls by ${u}, so the replay moved the matching calls of every ${u.split(' = ')[0]}.`,
    ),
  ];
  if (rule.kept.length > 0) notes.push(`Calls to ${rule.kept.join(', ')} stay where they are: ${to} does not do what they do.`);
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
