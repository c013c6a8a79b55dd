/**
 * The answer to a data question, composed from the question's plan and the breakdown the store returned (pure):
 * the sentence holding the figure asked for comes first, then a table when there are several figures (per day, top
 * N, a comparison), then notes (the window's coverage, names the question used that the workspace does not know).
 * When the data cannot answer (nobody sends end_user, no latency), the answer says exactly that and what to send.
 */
import { formatByUnit, formatPercent, formatUsd } from '../llm/builtin-prose.js';
import {
  metricValue,
  OTHER_KEY,
  type BreakdownDimension,
  type BreakdownFigures,
  type BreakdownMetric,
  type BreakdownResult,
  type BreakdownRow,
} from '../optimize/ports/breakdown.js';
import { changeByGroup } from './answer-change.js';
import {
  METRIC_NAME,
  ADDITIVE,
  fieldOf,
  dimensionName,
  plural,
  sendText,
  formatMetric,
  minute,
  windowPhrase,
  bucketLabel,
  subjectOf,
  possessive,
  wherePhrase,
} from './answer-words.js';
import type { PlanWindow, QuestionPlan } from './question-plan.js';

export interface AnswerTable {
  columns: string[];
  rows: string[][];
}

export interface Answer {
  /** the sentence(s) with the figure asked for (or why the data cannot give it) */
  lead: string;
  table: AnswerTable | null;
  notes: string[];
  /** the data cannot answer: the field to send */
  missing_field: string | null;
  /** the figure the lead states, for tests and the UI (null when the data cannot answer) */
  value: number | null;
  /** the name a ranked breakdown's lead puts first ("exec-brief has the most spend"), when there is one */
  leader?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One sentence stating a metric's value for a subject over the window. */
function statement(subject: string, m: BreakdownMetric, f: BreakdownFigures, where: string): string {
  const v = metricValue(f, m);
  const calls = formatByUnit(f.events, 'count');
  switch (m) {
    case 'spend':
      return `${subject} spent ${formatUsd(f.spend_usd)} ${where}, over ${calls} calls.`;
    case 'calls':
      // a model's subject is already its calls ("gpt-4o calls")
      return subject.endsWith(' calls') ? `There were ${calls} ${subject} ${where}.` : `${subject} made ${calls} calls ${where}.`;
    case 'tokens':
      return `${subject} used ${formatByUnit(f.prompt_tokens + f.completion_tokens, 'tokens')} ${where}: ${formatByUnit(f.prompt_tokens, 'tokens')} of prompt and ${formatByUnit(f.completion_tokens, 'tokens')} of completion.`;
    case 'prompt_tokens':
    case 'completion_tokens':
      return `${subject} used ${formatMetric(m, v)} of ${m === 'prompt_tokens' ? 'prompt' : 'completion'} ${where}.`;
    case 'error_rate':
      return `${subject} had an error rate of ${formatMetric(m, v)} ${where}: ${formatByUnit(f.errors, 'count')} of ${calls} calls failed.`;
    case 'cost_per_call':
      return `${subject} paid ${formatMetric(m, v)} per call on average ${where} (${formatUsd(f.spend_usd)} over ${calls} calls).`;
    default:
      return `${possessive(subject)} ${METRIC_NAME[m]} was ${formatMetric(m, v)} ${where}, over ${formatByUnit(m.startsWith('ttft') ? f.events : f.latency_events, 'count')} calls.`;
  }
}

/** The figure can only be computed when the events carry it: latency and TTFT need their fields. */
function metricMissing(m: BreakdownMetric, f: BreakdownFigures): string | null {
  if (m.startsWith('latency') && f.latency_events === 0) return 'latency_ms';
  if (m.startsWith('ttft') && f.ttft_p50_ms === null) return 'ttft_ms';
  return null;
}

const cannot = (lead: string, field: string, notes: string[]): Answer => ({ lead, table: null, notes, missing_field: field, value: null });

export interface AnswerInput {
  plan: QuestionPlan;
  result: BreakdownResult & { from: number; to: number };
  /** the workspace's data span, to say what part of the window it covers */
  data: { first_event: number | null; last_event: number | null };
  /** for a "this week vs last week" question: the previous period's breakdown */
  previous?: BreakdownResult & { from: number; to: number };
}

export function composeAnswer({ plan, result, data, previous }: AnswerInput): Answer {
  const notes: string[] = [];
  const m = plan.metric;
  const where = wherePhrase(plan, result);
  if (
    plan.window &&
    data.first_event !== null &&
    data.last_event !== null &&
    (data.first_event > result.from || data.last_event < result.to - HOUR)
  ) {
    notes.push(
      `The workspace's events run from ${minute(data.first_event)} to ${minute(data.last_event)} UTC, so they cover only part of that window.`,
    );
  }
  for (const u of plan.unparsed) notes.push(`"${u}" matches no app, model, task or user in this workspace, so the answer leaves it out.`);
  const subject = subjectOf(plan);
  const t = result.total;

  if (t.events === 0) {
    const userFilter = plan.filters.find((f) => f.column === 'end_user');
    if (userFilter) notes.push(`Check the id: events carry end_user exactly as your application sends it.`);
    const lead =
      plan.filters.length > 0
        ? `No event ${where} matches ${plan.filters.map((f) => `${fieldOf(f.column)} = ${f.value}`).join(' and ')}, so ${subject.replace(/^User /, 'user ')} spent $0.00 there.`
        : `There are no events ${where}.`;
    return { lead, table: null, notes, missing_field: null, value: 0 };
  }
  const missing = metricMissing(m, t);
  if (missing)
    return cannot(
      `The data cannot answer this: none of the ${formatByUnit(t.events, 'count')} events ${where} carries ${missing}. Send ${sendText(missing)}.`,
      missing,
      notes,
    );
  if (plan.dimension !== null && result.keyed_events === 0) {
    const f = fieldOf(plan.dimension);
    return cannot(
      `The data cannot answer this: none of the ${formatByUnit(t.events, 'count')} events ${where} carries ${f}, so there is nothing to break down by ${dimensionName(plan.dimension)}. Send ${sendText(f)}.`,
      f,
      notes,
    );
  }

  if (plan.comparison?.kind === 'periods' && previous) {
    const a = metricValue(t, m);
    const b = metricValue(previous.total, m);
    const change = a !== null && b !== null && b !== 0 ? ` (${a >= b ? '+' : '-'}${formatPercent(Math.abs(a / b - 1) * 100)})` : '';
    // "why did spend go up?" when it went down: the answer says so first instead of explaining a rise that did not happen
    const claimed = plan.comparison.claimed;
    const moved = a !== null && b !== null ? Math.sign(a - b) : null;
    const contradicted = claimed !== null && moved !== null && moved !== claimed;
    const denial = contradicted ? `${possessive(subject)} ${METRIC_NAME[m]} did not go ${claimed > 0 ? 'up' : 'down'}: it ` : null;
    const lead = `${denial ?? `${possessive(subject)} ${METRIC_NAME[m]} `}was ${formatMetric(m, a)} ${where}, against ${formatMetric(m, b)} ${windowPhrase(previous, undefined, plan.time_zone)}${change}${contradicted && moved === 0 ? ', unchanged' : ''}.`;
    // "this week" on a Monday evening against all of last week: the totals are not like for like
    const [span, prevSpan] = [result.to - result.from, previous.to - previous.from];
    if (span < 0.95 * prevSpan)
      notes.push(
        `The first period covers ${(span / DAY).toFixed(1)} days and the second ${(prevSpan / DAY).toFixed(1)}, so their totals are not like for like.`,
      );
    if (plan.dimension !== null) {
      const periods: [string, string] = [
        windowPhrase(result, undefined, plan.time_zone),
        windowPhrase(previous, undefined, plan.time_zone),
      ];
      const c = changeByGroup(m, plan.dimension, result.rows, previous.rows, a !== null && b !== null ? a - b : null, periods);
      return { lead: lead + c.sentence, notes, missing_field: null, value: a, table: { columns: c.columns, rows: c.rows } };
    }
    return {
      lead,
      notes,
      missing_field: null,
      value: a,
      table: {
        columns: ['period', METRIC_NAME[m], 'calls'],
        rows: [
          [windowPhrase(result, undefined, plan.time_zone), formatMetric(m, a), formatByUnit(t.events, 'count')],
          [windowPhrase(previous, undefined, plan.time_zone), formatMetric(m, b), formatByUnit(previous.total.events, 'count')],
        ],
      },
    };
  }

  if (plan.dimension === null && plan.granularity === null) {
    return { lead: statement(subject, m, t, where), table: null, notes, missing_field: null, value: metricValue(t, m) };
  }

  const rows = result.rows;
  const dimension: BreakdownDimension = plan.dimension ?? 'app';
  const share = (v: number | null) =>
    ADDITIVE.has(m) && v !== null && (metricValue(t, m) ?? 0) > 0 ? formatPercent((v / metricValue(t, m)!) * 100) : '';
  const keyLabel = (k: string | null) => (k === null ? `(no ${fieldOf(dimension)})` : k === OTHER_KEY ? `other ${plural(dimension)}` : k);

  if (plan.comparison?.kind === 'values') {
    const [x, y] = plan.comparison.values;
    const rx = rows.filter((r) => r.key === x);
    const ry = rows.filter((r) => r.key === y);
    const vx = rx.length === 1 ? metricValue(rx[0]!, m) : null;
    const vy = ry.length === 1 ? metricValue(ry[0]!, m) : null;
    const ratio =
      vx !== null && vy !== null && vy > 0 && vx > 0
        ? ` ${vx >= vy ? x : y} is ${(Math.max(vx, vy) / Math.min(vx, vy)).toFixed(1)}x the other.`
        : '';
    return {
      lead: `${possessive(x)} ${METRIC_NAME[m]} was ${formatMetric(m, vx)} and ${possessive(y)} ${formatMetric(m, vy)} ${where}.${ratio}`,
      notes,
      missing_field: null,
      value: vx,
      table: {
        columns: [dimensionName(dimension), METRIC_NAME[m], 'calls'],
        rows: [...rx, ...ry].map((r) => [r.key ?? '', formatMetric(m, metricValue(r, m)), formatByUnit(r.events, 'count')]),
      },
    };
  }

  if (plan.granularity !== null && plan.dimension === null) {
    const best = [...rows].filter((r) => metricValue(r, m) !== null).sort((a, b) => metricValue(b, m)! - metricValue(a, m)!)[0];
    const per = `per ${plan.granularity}`;
    const total = ADDITIVE.has(m)
      ? `${possessive(subject)} ${METRIC_NAME[m]} ${per} ${where} adds up to ${formatMetric(m, metricValue(t, m))}`
      : `${possessive(subject)} ${METRIC_NAME[m]} ${where} was ${formatMetric(m, metricValue(t, m))} overall`;
    const lead = `${total}; the highest ${plan.granularity} was ${best ? `${bucketLabel(best.bucket_start!, plan.granularity, plan.time_zone)} at ${formatMetric(m, metricValue(best, m))}` : 'none'}.`;
    return {
      lead,
      notes,
      missing_field: null,
      value: metricValue(t, m),
      table: {
        columns: [plan.granularity, METRIC_NAME[m], 'calls'],
        rows: rows.map((r) => [
          bucketLabel(r.bucket_start!, plan.granularity, plan.time_zone),
          formatMetric(m, metricValue(r, m)),
          formatByUnit(r.events, 'count'),
        ]),
      },
    };
  }

  // by a dimension (optionally per bucket): ranked by the metric over the window
  const groups = plan.granularity === null ? rows : collapse(rows);
  const ranked = [...groups]
    .filter((r) => r.key !== null && r.key !== OTHER_KEY && metricValue(r, m) !== null)
    .sort((a, b) => metricValue(b, m)! - metricValue(a, m)! || String(a.key).localeCompare(String(b.key)));
  const lead0 = ranked[0];
  const dim = dimensionName(dimension);
  let lead: string;
  if (!lead0) lead = `No ${dim} has a ${METRIC_NAME[m]} ${where}.`;
  else if (plan.top !== null && ADDITIVE.has(m)) {
    const topSum = ranked.slice(0, plan.top).reduce((s, r) => s + metricValue(r, m)!, 0);
    lead = `The top ${Math.min(plan.top, ranked.length)} ${plural(dimension)} by ${METRIC_NAME[m]} ${where} account for ${formatMetric(m, topSum)} of ${formatMetric(m, metricValue(t, m))} (${share(topSum)}); ${lead0.key} leads with ${formatMetric(m, metricValue(lead0, m))}.`;
  } else if (ADDITIVE.has(m)) {
    lead = `${ranked.length === 1 ? 'Only' : 'By'} ${dim}, ${lead0.key} has the most ${METRIC_NAME[m]} ${where}: ${formatMetric(m, metricValue(lead0, m))} of ${formatMetric(m, metricValue(t, m))} (${share(metricValue(lead0, m))}).`;
  } else {
    lead = `By ${dim}, ${lead0.key} has the highest ${METRIC_NAME[m]} ${where}: ${formatMetric(m, metricValue(lead0, m))} (all ${plural(dimension)}: ${formatMetric(m, metricValue(t, m))}).`;
  }
  if (result.keyed_events < t.events)
    notes.push(
      `${formatByUnit(t.events - result.keyed_events, 'count')} of ${formatByUnit(t.events, 'count')} events carry no ${fieldOf(dimension)}; they are the "(no ${fieldOf(dimension)})" row.`,
    );
  const ordered = [...ranked, ...groups.filter((r) => r.key === OTHER_KEY), ...groups.filter((r) => r.key === null)];
  const table: AnswerTable =
    plan.granularity === null
      ? {
          columns: [dim, METRIC_NAME[m], ...(ADDITIVE.has(m) ? ['share'] : []), 'calls'],
          rows: ordered.map((r) => [
            keyLabel(r.key),
            formatMetric(m, metricValue(r, m)),
            ...(ADDITIVE.has(m) ? [share(metricValue(r, m))] : []),
            formatByUnit(r.events, 'count'),
          ]),
        }
      : {
          columns: [plan.granularity, dim, METRIC_NAME[m], 'calls'],
          rows: rows
            .slice(0, 200)
            .map((r) => [
              bucketLabel(r.bucket_start!, plan.granularity, plan.time_zone),
              keyLabel(r.key),
              formatMetric(m, metricValue(r, m)),
              formatByUnit(r.events, 'count'),
            ]),
        };
  const leader = typeof lead0?.key === 'string' ? { leader: lead0.key } : {};
  return { lead, table, notes, missing_field: null, value: lead0 ? metricValue(lead0, m) : null, ...leader };
}

/** Per-group totals of additive figures across buckets (latency percentiles cannot be merged: they are dropped). */
function collapse(rows: readonly BreakdownRow[]): BreakdownRow[] {
  const by = new Map<string | null, BreakdownRow>();
  for (const r of rows) {
    const g = by.get(r.key);
    if (!g) {
      by.set(r.key, {
        ...r,
        bucket_start: null,
        latency_p50_ms: null,
        latency_p95_ms: null,
        latency_p99_ms: null,
        ttft_p50_ms: null,
        ttft_p95_ms: null,
      });
      continue;
    }
    g.events += r.events;
    g.errors += r.errors;
    g.spend_usd += r.spend_usd;
    g.prompt_tokens += r.prompt_tokens;
    g.completion_tokens += r.completion_tokens;
    g.latency_events += r.latency_events;
  }
  return [...by.values()];
}

/** A markdown table. */
export function tableText(t: AnswerTable): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map(() => ' --- ').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export type { PlanWindow };
