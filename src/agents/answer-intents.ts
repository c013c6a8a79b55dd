/**
 * Answers that need the analysis (pure): advice (what to change, with the one projected-savings figure: the replay of
 * the combined policy), batch candidates, which model should handle a task, why an app or model is slow, and what data
 * is missing. Each starts with the sentence that answers, then a table when it has several figures, and picks only
 * the recommendations that bear on the question.
 */
import { formatByUnit, formatPercent, formatUsd } from '../llm/builtin-prose.js';
import type { FullAnalysis } from '../optimize/analyze.js';
import { metricValue, OTHER_KEY } from '../optimize/ports/breakdown.js';
import { isFinding } from '../optimize/presentation.js';
import type { RankedRecommendation } from '../optimize/ranking.js';
import type { RecommendationKind } from '../optimize/recommendation.js';
import type { Answer } from './answer.js';
import { formatMetric, namedScope, possessive, windowPhrase } from './answer-words.js';
import type { Breakdown } from './question-agent.js';
import type { QuestionPlan } from './question-plan.js';

const DAY = 86_400_000;
const plain = (lead: string, notes: string[] = []): Answer => ({ lead, table: null, notes, missing_field: null, value: null });

/** Tier of a model in the catalog, for "tier 2" labels; null when unknown. */
export type TierOf = (model: string) => number | null;

/** The analysis' warnings (a window under a day) and the assumptions behind the recommendations shown. */
function windowNotes(a: FullAnalysis, recs: readonly RankedRecommendation[] = []): string[] {
  const assumptions = [...new Set(recs.flatMap((r) => r.assumptions ?? []))].map((x) => `Assumption: ${x}`);
  return [...(a.summary.warnings ?? []), ...assumptions];
}

/** "3.0 days", or "57 minutes" / "5.5 hours" for a window under a day */
function spanText(a: FullAnalysis): string {
  const ms = Date.parse(a.summary.to) - Date.parse(a.summary.from);
  if (ms >= DAY) return `${(ms / DAY).toFixed(1)} days`;
  return ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} hours` : `${Math.max(1, Math.round(ms / 60_000))} minutes`;
}

/** What the question set as a scenario: usage growth, a latency target. */
export interface AdviceScenario {
  growth_factor: number;
  latency?: { current_p95_ms: number | null; target_p95_ms: number | null; target_factor: number | null; best_p95_ms: number | null };
}

/** "A 3x cut takes p95 from 14,123 ms to 4,708 ms; the changes below reach at best 9,500 ms on their own traffic." */
function latencyTargetSentence(l: NonNullable<AdviceScenario['latency']>): string {
  if (l.current_p95_ms === null) return ' The events carry no latency, so no latency target can be checked: send latency_ms on each event.';
  const cur = formatByUnit(Math.round(l.current_p95_ms), 'ms');
  const best = l.best_p95_ms ?? l.current_p95_ms;
  const cut = l.current_p95_ms - best;
  if (l.target_p95_ms === null)
    return ` The workspace's p95 latency is ${cur}; the largest single change below cuts up to ${formatByUnit(Math.round(cut), 'ms')} from it on the traffic it touches.`;
  const reach = best <= l.target_p95_ms;
  return ` The workspace's p95 latency is ${cur}; a ${l.target_factor ?? ''}x cut means ${formatByUnit(l.target_p95_ms, 'ms')}, ${formatByUnit(Math.round(l.current_p95_ms - l.target_p95_ms), 'ms')} less. ${reach ? 'The largest change below gets there on the traffic it touches' : `The largest change below cuts at most ${formatByUnit(Math.round(cut), 'ms')}, so these changes alone do not reach the target`}.`;
}

/** The advice lead: what was analysed, what it costs a month, and the replay's projected savings of everything together. */
export function adviceAnswer(
  a: FullAnalysis,
  recs: readonly RankedRecommendation[],
  scenario: AdviceScenario = { growth_factor: 1 },
): Answer {
  const s = a.summary;
  const g = scenario.growth_factor;
  let intro = `Netra analysed ${formatByUnit(s.events, 'count')} events over ${spanText(a)}, which comes to ${formatUsd(s.monthly_spend_usd)} a month at this rate.`;
  if (g !== 1)
    intro += ` If usage grows ${formatPercent((g - 1) * 100)}, that becomes ${formatUsd(s.monthly_spend_usd * g)} a month (${formatUsd(s.monthly_spend_usd * g * 12)} a year), and every saving below grows with it.`;
  if (scenario.latency) intro += latencyTargetSentence(scenario.latency);
  const saving = recs.filter((r) => r.monthly_savings_usd > 0);
  const projected = s.projected_savings?.monthly_usd ?? null;
  let projection: string;
  if (projected !== null && projected > 0) {
    projection = ` Projected savings: applied together, Netra's recommendations would save ${formatUsd(projected * g)} a month (${formatPercent((s.projected_savings?.share_of_spend ?? 0) * 100)}), replayed on these events with overlaps counted once; each item's own figure is what it saves standalone.`;
    const outside = s.projected_savings?.not_in_projection ?? [];
    if (outside.length > 0)
      projection += ` Not in that figure (the replay cannot apply them): ${outside.map((k) => `${k.kind.replace(/_/g, ' ')} (${k.recommendations} item${k.recommendations === 1 ? '' : 's'})`).join(', ')}.`;
  } else if (saving.length > 0) {
    projection =
      " The replay could not combine these changes, so each item's figure below is what it saves on its own; they overlap and must not be added up.";
  } else {
    projection = ' Nothing in these events would save money without a quality risk.';
  }
  return { ...plain(intro + projection, windowNotes(a, recs)), value: projected };
}

export function batchAnswer(a: FullAnalysis): { answer: Answer; recs: RankedRecommendation[] } {
  const recs = a.recommendations.filter((r) => r.kind === 'batch_api');
  if (recs.length === 0)
    return {
      answer: plain(
        'None of this traffic looks deferrable to a batch API: every call either has an end user or a session, is tagged interactive, or does not recur on a schedule or in bulk. Tag offline jobs with tags.latency_class = "offline" to let Netra price them.',
        windowNotes(a),
      ),
      recs,
    };
  const total = recs.reduce((t, r) => t + r.monthly_savings_usd, 0);
  const apps = [...new Set(recs.map((r) => r.scope.app).filter(Boolean))];
  return {
    answer: {
      lead: `${apps.length === 1 ? `${apps[0]} could move` : `${apps.length} apps could move`} to a batch API: ${apps.join(', ')}, saving ${formatUsd(total)} a month between them (their calls do not overlap).`,
      table: {
        columns: ['app', 'model', 'why', 'saves per month', 'risk'],
        rows: recs.map((r) => [
          r.scope.app ?? '',
          r.scope.model ?? 'several',
          r.scope.segment ?? '',
          formatUsd(r.monthly_savings_usd),
          r.quality_risk.level,
        ]),
      },
      notes: windowNotes(a, recs),
      missing_field: null,
      value: total,
    },
    recs,
  };
}

const KIND_LABEL: Record<RecommendationKind, string> = {
  model_routing: 'routing to cheaper models',
  exact_cache: 'a response cache for exact repeats',
  semantic_cache: 'a response cache for repeated and reworded prompts',
  prompt_caching: 'provider prompt caching',
  batch_api: 'batch APIs',
  max_tokens: 'max_tokens caps',
  retry_waste: 'cutting retry waste',
  context_growth: 'windowing conversation history',
  latency_slo: 'faster models for latency targets',
};

const CACHES: readonly RecommendationKind[] = ['exact_cache', 'semantic_cache', 'prompt_caching'];

/** "provider prompt caching", "routing to cheaper models or max_tokens caps", "caching" for every cache */
function kindsLabel(kinds: readonly RecommendationKind[]): string {
  if (CACHES.every((k) => kinds.includes(k)) && kinds.length === CACHES.length)
    return 'caching (response caches and provider prompt caching)';
  // an exact repeat is also a semantic-cache hit: the two name one response cache
  const both = kinds.includes('exact_cache') && kinds.includes('semantic_cache');
  const labels = kinds
    .filter((k) => !(both && k === 'exact_cache'))
    .map((k) => (both && k === 'semantic_cache' ? 'a response cache (exact and reworded repeats)' : KIND_LABEL[k]));
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} or ${labels.at(-1)}`;
}

/** "How much would prompt caching save?": the named kinds' recommendations on what the question names, and what they
 * save together: items on different apps and models add up, items on the same ones overlap (a response-cache hit
 * sends no prompt to cache), so each app and model counts its largest item only. */
export function kindAnswer(a: FullAnalysis, plan: QuestionPlan): { answer: Answer; recs: RankedRecommendation[] } {
  const { apps, models } = namedScope(plan);
  const on = [...apps, ...models].join(' and ');
  const label = kindsLabel(plan.kinds);
  const Label = label.charAt(0).toUpperCase() + label.slice(1);
  const recs = a.recommendations
    .filter(
      (r) =>
        plan.kinds.includes(r.kind) &&
        (apps.length === 0 || apps.includes(r.scope.app ?? '')) &&
        (models.length === 0 || models.includes(r.scope.model ?? '')),
    )
    .sort((x, y) => y.monthly_savings_usd - x.monthly_savings_usd);
  const saving = recs.filter((r) => r.monthly_savings_usd > 0);
  if (saving.length === 0) {
    const skipped = a.skipped.filter((k) => plan.kinds.includes(k.kind));
    const why =
      skipped.length > 0
        ? ` Netra could not look for all of it: ${skipped.map((k) => `${k.kind.replace(/_/g, ' ')} needs ${k.needs}`).join('; ')}.`
        : '';
    const found =
      recs.length > 0
        ? ` ${formatByUnit(recs.length, 'count')} item${recs.length === 1 ? '' : 's'} below would change how calls are made without saving money.`
        : '';
    const lead = `Nothing in these events would save money with ${label}${on ? ` on ${on}` : ''}.${found}${why}`;
    return { answer: { ...plain(lead, windowNotes(a)), value: 0 }, recs };
  }
  const largest = new Map<string, number>();
  for (const r of saving) {
    const scope = `${r.scope.app ?? '*'}|${r.scope.model ?? '*'}`;
    largest.set(scope, Math.max(largest.get(scope) ?? 0, r.monthly_savings_usd));
  }
  const total = [...largest.values()].reduce((t, v) => t + v, 0);
  const overlapping = largest.size < saving.length;
  const where = [...new Set(saving.map((r) => r.scope.app ?? r.scope.model).filter(Boolean))];
  const named = where.length <= 4 ? where.join(', ') : `${where.slice(0, 3).join(', ')} and ${where.length - 3} more`;
  const sum = `${formatUsd(total)} a month${saving.length === 1 ? '' : overlapping ? ' (items on the same app and model overlap, so only the largest of them counts)' : ' between them (each item is on different calls)'}`;
  const top = saving[0]!;
  const figures = top.evidence.figures;
  const cacheable =
    top.kind === 'prompt_caching' && typeof figures.cacheable_input_token_share === 'number'
      ? ` ${saving.length === 1 ? '' : 'The largest, '}${top.scope.app ?? top.scope.model}${saving.length === 1 ? '' : ','} re-sends ${formatPercent(figures.cacheable_input_token_share * 100)} of its prompt tokens within the provider's ${formatByUnit(Number(figures.cache_window_seconds), 'count')}-second cache window.`
      : '';
  return {
    answer: {
      lead: `${Label} would save ${sum}, on ${named}.${cacheable}`,
      table: {
        columns: ['change', 'app', 'model', 'saves per month', 'risk'],
        rows: saving.map((r) => [
          r.kind.replace(/_/g, ' '),
          r.scope.app ?? 'all',
          r.scope.model ?? 'several',
          formatUsd(r.monthly_savings_usd),
          r.quality_risk.level,
        ]),
      },
      notes: windowNotes(a, saving),
      missing_field: null,
      value: total,
    },
    recs: saving,
  };
}

export function taskModelAnswer(
  a: FullAnalysis,
  plan: QuestionPlan,
  tb: { apps: Breakdown; models: Breakdown },
  tierOf: TierOf,
): { answer: Answer; recs: RankedRecommendation[] } {
  const task = plan.task ?? 'that task';
  const label = task.replace(/_/g, ' ');
  if (tb.apps.total.events === 0) {
    return {
      answer: {
        ...plain(
          `The data cannot answer this: no event is tagged tags.task = "${task}", so Netra cannot tell which calls do ${label}. Send tags.task on each event (e.g. "${task}").`,
        ),
        missing_field: 'tags.task',
      },
      recs: [],
    };
  }
  const apps = tb.apps.rows.filter((r) => r.key !== null && r.key !== OTHER_KEY).sort((x, y) => y.spend_usd - x.spend_usd);
  const models = tb.models.rows.filter((r) => r.key !== null && r.key !== OTHER_KEY).sort((x, y) => y.spend_usd - x.spend_usd);
  const recs = a.recommendations.filter((r) => r.kind === 'model_routing' && (r.scope.task ?? '').split(',').includes(task));
  const tier = (m: string) => {
    const t = tierOf(m);
    return t === null ? m : `${m} (tier ${t})`;
  };
  const runs = `${label.charAt(0).toUpperCase() + label.slice(1)} runs in ${apps.map((r) => r.key).join(', ')}: ${formatByUnit(tb.apps.total.events, 'count')} calls, ${formatUsd(tb.apps.total.spend_usd)} ${windowPhrase(tb.apps)}, on ${models.map((m) => tier(m.key!)).join(', ')}.`;
  let advice: string;
  if (recs.length > 0) {
    const best = [...recs].sort((x, y) => y.monthly_savings_usd - x.monthly_savings_usd)[0]!;
    advice = ` Move it to ${tier(best.scope.target_model ?? 'the cheaper model')}: for ${best.scope.app} that saves ${formatUsd(best.monthly_savings_usd)} a month on its own${recs.length > 1 ? `, and ${recs.length - 1} more route${recs.length > 2 ? 's' : ''} below for the other apps` : ''}.`;
  } else {
    advice = ` Netra finds no cheaper chat model of an equal or higher catalog tier whose quality holds for it, so keep ${models[0] ? tier(models[0].key!) : 'the current model'}.`;
  }
  return {
    answer: {
      lead: runs + advice,
      notes: windowNotes(a, recs),
      missing_field: null,
      value: tb.apps.total.spend_usd,
      table: {
        columns: ['app', 'model now', 'suggested model', 'saves per month'],
        rows: recs.map((r) => [
          r.scope.app ?? '',
          tier(r.scope.model ?? ''),
          tier(r.scope.target_model ?? ''),
          formatUsd(r.monthly_savings_usd),
        ]),
      },
    },
    recs,
  };
}

/** Why a subject is slow: its p95 against the workspace's, where the time goes (TTFT vs generation, errors), per model. */
export function latencyCauseAnswer(
  a: FullAnalysis,
  plan: QuestionPlan,
  b: Breakdown,
  subject: string,
): { answer: Answer; recs: RankedRecommendation[] } {
  const t = b.total;
  if (t.events === 0) return { answer: plain(`There are no events for ${subject} ${windowPhrase(b)}.`), recs: [] };
  if (t.latency_events === 0)
    return {
      answer: {
        ...plain(
          `The data cannot answer this: none of the ${formatByUnit(t.events, 'count')} events of ${subject} carries latency_ms. Send latency_ms (and ttft_ms for streamed calls) on each event.`,
        ),
        missing_field: 'latency_ms',
      },
      recs: [],
    };
  const p95 = t.latency_p95_ms!;
  const overall = a.summary.latency_p95_ms;
  const parts = [
    `${possessive(subject)} p95 latency is ${formatByUnit(Math.round(p95), 'ms')}${overall !== null ? ` against ${formatByUnit(Math.round(overall), 'ms')} for the whole workspace` : ''}.`,
  ];
  const outTokens = t.events > 0 ? t.completion_tokens / t.events : 0;
  if (t.ttft_p95_ms !== null && t.ttft_p95_ms >= 0.4 * p95)
    parts.push(
      `Waiting for the first token takes most of it (${formatByUnit(Math.round(t.ttft_p95_ms), 'ms')} at p95): long prompts, a distant region or queueing at the provider.`,
    );
  else
    parts.push(
      `Most of it is generation: calls write ${formatByUnit(Math.round(outTokens), 'tokens')} on average${t.ttft_p95_ms !== null ? `, while the first token arrives within ${formatByUnit(Math.round(t.ttft_p95_ms), 'ms')} at p95` : ''}.`,
    );
  const slowest = b.rows
    .filter((r) => r.key !== null && r.key !== OTHER_KEY && r.latency_p95_ms !== null)
    .sort((x, y) => y.latency_p95_ms! - x.latency_p95_ms!)[0];
  if (slowest && b.rows.length > 1)
    parts.push(
      `${slowest.key} is the slowest ${b.rows.some((r) => r.key === a.summary.workspace) ? '' : 'part'} at ${formatByUnit(Math.round(slowest.latency_p95_ms!), 'ms')} p95 over ${formatByUnit(slowest.events, 'count')} calls.`.replace(
        ' part at',
        ' at',
      ),
    );
  const errRate = t.errors / t.events;
  if (errRate >= 0.02) parts.push(`${formatPercent(errRate * 100)} of its calls fail, and retries add to the wait.`);
  const { apps, models } = namedScope(plan);
  const bearing = a.recommendations.filter(
    (r) =>
      (r.latency_impact.p95_ms_delta ?? 0) < 0 &&
      (apps.length === 0 || apps.includes(r.scope.app ?? '')) &&
      (models.length === 0 || models.includes(r.scope.model ?? '')),
  );
  // a missed target with no concrete change is a finding: said as a note, never listed as a change to make
  const recs = bearing.filter((r) => !isFinding(r));
  const findings = bearing
    .filter(isFinding)
    .slice(0, 2)
    .map((r) => `Finding: ${r.title}${r.how_to_apply[0] ? `. ${r.how_to_apply[0]}` : ''}`);
  return {
    answer: {
      lead: parts.join(' '),
      notes: [...windowNotes(a, recs), ...findings],
      missing_field: null,
      value: p95,
      table: {
        columns: [
          b.rows.some((r) => apps.includes(r.key ?? '')) ? 'app' : 'model',
          'calls',
          'p95 latency',
          'p95 time to first token',
          'output tokens per call',
          'error rate',
        ],
        rows: b.rows.map((r) => [
          r.key ?? '(none)',
          formatByUnit(r.events, 'count'),
          formatMetric('latency_p95', r.latency_p95_ms),
          formatMetric('ttft_p95', r.ttft_p95_ms),
          formatByUnit(Math.round(r.events > 0 ? r.completion_tokens / r.events : 0), 'count'),
          formatMetric('error_rate', metricValue(r, 'error_rate')),
        ]),
      },
    },
    recs,
  };
}

export function missingDataAnswer(
  cov: { events: number; end_user: number; session_id: number; task: number },
  a: FullAnalysis | undefined,
  latencyP50: number | null,
): Answer {
  const gaps: string[] = [];
  const rows: string[][] = [];
  const line = (field: string, n: number, what: string) => {
    rows.push([field, `${formatByUnit(n, 'count')} of ${formatByUnit(cov.events, 'count')}`, n < cov.events ? what : 'ok']);
    if (n < cov.events) gaps.push(`${field} is on ${n === 0 ? 'no' : formatPercent((n / cov.events) * 100)} of the events (${what})`);
  };
  line('end_user', cov.end_user, 'per-user spend, and telling interactive from offline traffic');
  line('session_id', cov.session_id, 'conversation length and context growth');
  line('tags.task', cov.task, 'which model fits each task');
  if (latencyP50 === null) {
    rows.push(['latency_ms', 'none', 'latency percentiles and latency advice']);
    gaps.push('latency_ms is on none of the events (latency percentiles and latency advice)');
  }
  for (const k of a?.skipped ?? []) gaps.push(`${k.needs} (${k.kind.replace(/_/g, ' ')} is skipped: ${k.reason})`);
  const lead =
    gaps.length === 0
      ? `Nothing the analyses need is missing: all ${formatByUnit(cov.events, 'count')} events carry end_user, session_id, tags.task and latency.`
      : `${gaps.length === 1 ? 'One thing is' : `${gaps.length} things are`} missing: ${gaps.join('; ')}.`;
  return {
    lead,
    table: { columns: ['field', 'events carrying it', 'what it enables'], rows },
    notes: [],
    missing_field: gaps.length > 0 ? 'see table' : null,
    value: gaps.length,
  };
}
