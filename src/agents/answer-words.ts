/**
 * The words and number formats of answers (pure): metric and dimension names, what to send for a missing field, how a
 * figure, a window, a time bucket and a subject are said. Shared by the figure answers and the analysis answers.
 */
import { formatByUnit, formatPercent, formatUsd } from '../llm/builtin-prose.js';
import type { BreakdownDimension, BreakdownMetric } from '../optimize/ports/breakdown.js';
import { UTC, zonedDateParts } from '../workload/zoned-time.js';
import type { QuestionPlan } from './question-plan.js';

export const METRIC_NAME: Record<BreakdownMetric, string> = {
  spend: 'spend',
  calls: 'calls',
  tokens: 'tokens',
  prompt_tokens: 'prompt tokens',
  completion_tokens: 'completion tokens',
  latency_p50: 'p50 latency',
  latency_p95: 'p95 latency',
  latency_p99: 'p99 latency',
  ttft_p50: 'p50 time to first token',
  ttft_p95: 'p95 time to first token',
  error_rate: 'error rate',
  cost_per_call: 'cost per call',
};
export const ADDITIVE = new Set<BreakdownMetric>(['spend', 'calls', 'tokens', 'prompt_tokens', 'completion_tokens']);

export const fieldOf = (d: BreakdownDimension): string => (typeof d === 'string' ? d : `tags.${d.tag}`);
export const dimensionName = (d: BreakdownDimension): string =>
  typeof d === 'string'
    ? {
        end_user: 'user',
        session_id: 'session',
        app: 'app',
        model: 'model',
        provider: 'provider',
        environment: 'environment',
        operation: 'operation',
        status: 'status',
      }[d]
    : d.tag;
export const plural = (d: BreakdownDimension): string => {
  const n = dimensionName(d);
  return n.endsWith('s') ? n : `${n}s`;
};
const WHAT_TO_SEND: Record<string, string> = {
  end_user: 'end_user (the id of the person or customer behind each call)',
  session_id: 'session_id (one id per conversation)',
  environment: 'environment (production, staging, ...)',
  latency_ms: "latency_ms (the call's duration) on each event",
  ttft_ms: 'ttft_ms (time to first token, for streamed calls) on each event',
};
export const sendText = (field: string): string => WHAT_TO_SEND[field] ?? `${field} on each event`;

export function formatMetric(m: BreakdownMetric, v: number | null): string {
  if (v === null) return 'n/a';
  switch (m) {
    case 'spend':
    case 'cost_per_call':
      return formatUsd(v);
    case 'calls':
      return formatByUnit(v, 'count');
    case 'tokens':
    case 'prompt_tokens':
    case 'completion_tokens':
      return formatByUnit(v, 'tokens');
    case 'error_rate':
      return formatPercent(v * 100);
    default:
      return formatByUnit(Math.round(v), 'ms');
  }
}

// dates and times are said in the plan's time zone (the workspace's; UTC by default)
const day = (t: number, tz = UTC) => new Date(t).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: tz });
export const minute = (t: number, tz = UTC) => {
  const p = zonedDateParts(t, tz);
  return `${day(t, tz)} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
};
const aligned = (t: number, tz = UTC) => {
  const p = zonedDateParts(t, tz);
  return p.hour === 0 && p.minute === 0 && p.second === 0 && t % 1000 === 0;
};

/** "from Dec 1 to Dec 3", "on Dec 2", "in the last 3 days (Dec 4 05:00 to Dec 7 05:00 UTC)", "last week (Nov 30 to Dec 6)" */
export function windowPhrase(w: { from: number; to: number }, text?: string, tz = UTC): string {
  const days = aligned(w.from, tz) && aligned(w.to, tz);
  const oneDay = days && w.to - w.from <= 25 * 3_600_000;
  const range = days
    ? oneDay
      ? day(w.from, tz)
      : `${day(w.from, tz)} to ${day(w.to - 1, tz)}`
    : `${minute(w.from, tz)} to ${minute(w.to, tz)} ${tz}`;
  if (!text || !/\b(last|past|this|yesterday|today|previous)\b/.test(text)) return oneDay ? `on ${range}` : `from ${range}`;
  const head = /^(last|past)\s/.test(text) && !/^last (week|month)$/.test(text) ? `in the ${text}` : text;
  return `${head} (${range})`;
}

/** The window an answer is about: the question's own, or "over the whole history (from … to …)". */
export function wherePhrase(plan: QuestionPlan, w: { from: number; to: number }): string {
  return plan.window
    ? windowPhrase(w, plan.window.text, plan.time_zone)
    : `over the whole history (${windowPhrase(w, undefined, plan.time_zone)})`;
}

export function bucketLabel(t: number, g: QuestionPlan['granularity'], tz = UTC): string {
  if (g === 'hour') return minute(t, tz);
  if (g === 'week') return `week of ${day(t, tz)}`;
  return day(t, tz);
}

/** "User u-17", "code-chat on gpt-4o", "The workspace" */
export function subjectOf(plan: QuestionPlan): string {
  if (plan.filters.length === 0) return 'The workspace';
  const parts = plan.filters.map((f) => {
    const c = typeof f.column === 'string' ? f.column : `tags.${f.column.tag}`;
    if (c === 'end_user') return `user ${f.value}`;
    if (c === 'app') return f.value;
    if (c === 'model' || c === 'provider') return `${f.value} calls`;
    return `${c} = ${f.value}`;
  });
  // names are written as the data spells them (an app called "exec-brief" is not "Exec-brief")
  const s = parts.join(', ');
  return s.startsWith('user ') ? `User ${s.slice(5)}` : s;
}

/** "code-chat's", "gpt-4o calls'" */
export const possessive = (subject: string): string => (subject.endsWith('s') ? `${subject}'` : `${subject}'s`);

/** The apps and models a plan's filters name (fresh arrays: callers may add to them). */
export function namedScope(plan: QuestionPlan): { apps: string[]; models: string[] } {
  const of = (column: string) => plan.filters.filter((f) => f.column === column).map((f) => f.value);
  return { apps: of('app'), models: of('model') };
}
