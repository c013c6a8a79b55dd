/**
 * The built-in model's writer: turns the structured payloads the agents pass into specific, numeric prose (pure,
 * deterministic: same payload, same text). Units come from key suffixes so the agents never format numbers themselves:
 *   *_usd → $1,234.56   *_pct / *_percent → 12.5% (already in percent)   *_ratio / *_share / *_rate → 0.125 as 12.5%
 *   *_ms → 1,234 ms   *_tokens → 12,345 tokens   *_count / *_events / *_requests → 12,345   other numbers → 1,234.57
 * The formatters are exported so tests (and the agents' tests) can state the exact text a figure becomes.
 */

export type FactValue = number | string | boolean | null | readonly (string | number)[] | { readonly [k: string]: number | string };

export interface ReportComparison {
  label: string;
  current: number;
  projected: number;
  /** unit suffix as for facts: 'usd', 'ms', 'tokens', 'pct', ... */
  unit?: string;
}

export interface ReportRecommendation {
  title: string;
  monthly_savings_usd?: number;
  latency_change_pct?: number;
  risk?: string;
  confidence?: number;
  evidence?: string;
}

/** What the agents pass to the built-in model (as the JSON text of the last user message, see payloadMessage()). */
export interface ReportPayload {
  kind: 'report';
  title?: string;
  question?: string;
  facts?: Record<string, FactValue>;
  comparisons?: ReportComparison[];
  recommendations?: ReportRecommendation[];
  risks?: string[];
  missing_data?: string[];
  next_steps?: string[];
  /** the gateway config the next steps refer to ("deploy the config below"), shown in full after them */
  config?: { format: string; content: string };
  /** the figures come from an earlier completed analysis (the chat's stale answers): its time (ISO), its age when the
   * report was written, and how many events arrived after it (null: unknown) */
  as_of?: { time: string; age_ms: number; events_since: number | null };
  /**
   * The answer to the question, written first: the sentence(s) with the figure asked for, a table when there are
   * several figures, and notes (coverage of the window, names not recognised, assumptions). With it, the report reads
   * as an answer: the recommendations follow (only those that bear on the question), facts are not restated.
   */
  answer?: {
    lead: string;
    table?: { columns: string[]; rows: string[][] } | null;
    notes?: string[];
    config?: { format: string; content: string };
  };
  /** for completeStructured: the JSON the built-in model answers with when JSON is requested */
  draft?: unknown;
}

const UNIT_SUFFIXES = ['usd', 'pct', 'percent', 'ratio', 'share', 'rate', 'ms', 'tokens', 'count', 'events', 'requests'] as const;

function group(n: number, decimals: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function formatUsd(v: number): string {
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  if (a > 0 && a < 0.01) return `${sign}$${Number(a.toPrecision(2))}`;
  return `${sign}$${group(a, 2)}`;
}

export function formatPercent(pctValue: number): string {
  return `${group(pctValue, Math.abs(pctValue) < 10 && pctValue !== Math.round(pctValue) ? 2 : 1)}%`;
}

export function formatNumber(v: number): string {
  return Number.isInteger(v) ? group(v, 0) : group(v, Math.abs(v) < 1 ? 4 : 2).replace(/\.?0+$/, '');
}

/** Formats one number by the unit of its key (see the file comment). */
export function formatByUnit(v: number, unit: string | undefined): string {
  switch (unit) {
    case 'usd':
      return formatUsd(v);
    case 'pct':
    case 'percent':
      return formatPercent(v);
    case 'ratio':
    case 'share':
    case 'rate':
      return formatPercent(v * 100);
    case 'ms':
      return `${group(v, v < 10 && !Number.isInteger(v) ? 1 : 0)} ms`;
    case 'tokens':
      return `${group(Math.round(v), 0)} tokens`;
    case 'count':
    case 'events':
    case 'requests':
      return group(Math.round(v), 0);
    default:
      return formatNumber(v);
  }
}

/** 'monthly_spend_usd' → { label: 'Monthly spend', unit: 'usd' }; 'error_rate' → { label: 'Error rate', unit: 'rate' } */
export function labelOf(key: string): { label: string; unit?: string } {
  const parts = key.split(/[_\s]+/).filter(Boolean);
  const last = parts[parts.length - 1]?.toLowerCase();
  const unit = last && (UNIT_SUFFIXES as readonly string[]).includes(last) && parts.length > 1 ? last : undefined;
  // nouns stay in the label: 'total_events' → 'Total events', 'error_rate' → 'Error rate'
  const keepNoun = unit === 'events' || unit === 'requests' || unit === 'tokens' || unit === 'rate' || unit === 'share' || unit === 'ratio';
  const words = unit && !keepNoun ? parts.slice(0, -1) : parts;
  const text = words.join(' ');
  return { label: text.charAt(0).toUpperCase() + text.slice(1), unit };
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function factSentence(key: string, value: FactValue): string | null {
  const { label, unit } = labelOf(key);
  if (value === null || value === undefined) return `${label} is not available in the data.`;
  if (typeof value === 'number')
    return Number.isFinite(value) ? `${label} is ${formatByUnit(value, unit)}.` : `${label} is not available in the data.`;
  if (typeof value === 'boolean') return `${label}: ${value ? 'yes' : 'no'}.`;
  if (typeof value === 'string') return `${label}: ${value}.`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${label}: none.`;
    return `${label}: ${list(value.map((x) => (typeof x === 'number' ? formatByUnit(x, unit) : String(x))))}.`;
  }
  const entries = Object.entries(value as Record<string, number | string>);
  if (entries.length === 0) return `${label}: none.`;
  return `${label}: ${list(entries.map(([k, x]) => `${k} ${typeof x === 'number' ? formatByUnit(x, unit) : x}`))}.`;
}

function comparisonSentence(c: ReportComparison): string {
  const cur = formatByUnit(c.current, c.unit);
  const proj = formatByUnit(c.projected, c.unit);
  const diff = c.projected - c.current;
  const change =
    c.current !== 0
      ? ` (${diff <= 0 ? '-' : '+'}${formatPercent(Math.abs(diff / c.current) * 100)}, ${diff <= 0 ? '-' : '+'}${formatByUnit(Math.abs(diff), c.unit)})`
      : '';
  return `${c.label} goes from ${cur} to ${proj}${change}.`;
}

function recommendationSentence(r: ReportRecommendation, i: number): string {
  const parts = [`${i + 1}. ${r.title}`];
  if (typeof r.monthly_savings_usd === 'number')
    parts.push(`saves ${formatUsd(r.monthly_savings_usd)} per month on its own (${formatUsd(r.monthly_savings_usd * 12)} per year)`);
  if (typeof r.latency_change_pct === 'number')
    parts.push(`changes latency by ${r.latency_change_pct > 0 ? '+' : ''}${formatPercent(r.latency_change_pct)}`);
  if (r.risk) parts.push(`risk ${r.risk}`);
  if (typeof r.confidence === 'number') parts.push(`confidence ${formatPercent(r.confidence * 100)}`);
  let s = parts.join('; ');
  if (r.evidence) s += `. Evidence: ${r.evidence}`;
  return `${s}.`;
}

/** 'Figures as of 09:31 UTC (42 s before this answer; 1,200 events have arrived since and are being analysed).' */
export function asOfSentence(a: NonNullable<ReportPayload['as_of']>): string {
  const t = new Date(a.time);
  const hhmm = Number.isNaN(t.getTime()) ? a.time : t.toISOString().slice(11, 16);
  const since =
    a.events_since === null
      ? 'newer events are being analysed'
      : a.events_since === 0
        ? 'no events have arrived since; the figures are being recomputed'
        : `${formatByUnit(a.events_since, 'events')} event${a.events_since === 1 ? ' has' : 's have'} arrived since and ${a.events_since === 1 ? 'is' : 'are'} being analysed`;
  return `Figures as of ${hhmm} UTC (${formatNumber(Math.round(a.age_ms / 1000))} s before this answer; ${since}).`;
}

function tableText(t: { columns: string[]; rows: string[][] }): string {
  const esc = (x: string) => x.replace(/\|/g, '\\|');
  return [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map(() => ' --- ').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** "Route X to Y: saves $12.00 a month on its own, low risk." */
function answerRecommendation(r: ReportRecommendation, i: number): string {
  const bits: string[] = [];
  if (typeof r.monthly_savings_usd === 'number' && r.monthly_savings_usd > 0)
    bits.push(`saves ${formatUsd(r.monthly_savings_usd)} a month on its own`);
  if (r.evidence) bits.push(r.evidence);
  if (r.risk) bits.push(`${r.risk} risk`);
  return `${i + 1}. ${r.title}${bits.length > 0 ? `: ${bits.join(', ')}` : ''}.`;
}

/** An answered report: the answer, its table, the recommendations that bear on it, notes, next steps. */
function renderAnswer(p: ReportPayload & { answer: NonNullable<ReportPayload['answer']> }): string {
  const out: string[] = [p.answer.lead];
  if (p.as_of) out.push(asOfSentence(p.as_of));
  if (p.answer.table && p.answer.table.rows.length > 0) out.push(tableText(p.answer.table));
  if (p.recommendations?.length)
    out.push(
      [
        p.recommendations.length === 1 ? 'What to change:' : 'What to change, most useful first:',
        ...p.recommendations.map(answerRecommendation),
      ].join('\n'),
    );
  const notes = [...(p.answer.notes ?? []), ...(p.risks ?? [])];
  if (notes.length > 0) out.push(notes.join(' '));
  if (p.next_steps?.length) out.push(`Next steps: ${p.next_steps.map((x, i) => `(${i + 1}) ${x}`).join(' ')}`);
  if (p.answer.config) out.push(configBlock(p.answer.config));
  return out.join('\n\n');
}

/** The config the steps refer to, as a fenced block. */
function configBlock(c: { format: string; content: string }): string {
  const portkey = c.format === 'portkey';
  return `The ${portkey ? 'Portkey config' : 'LiteLLM proxy config'} these steps refer to:\n\n\`\`\`${portkey ? 'json' : 'yaml'}\n${c.content.trimEnd()}\n\`\`\``;
}

/** The prose of a report payload: title, as of (an earlier analysis), facts, comparisons, recommendations, risks, missing data, next steps. */
export function renderReport(p: ReportPayload): string {
  if (p.answer) return renderAnswer({ ...p, answer: p.answer });
  const out: string[] = [];
  if (p.title) out.push(`${p.title}.`);
  if (p.question) out.push(`Question: ${p.question}`);
  if (p.as_of) out.push(asOfSentence(p.as_of));
  const facts = Object.entries(p.facts ?? {})
    .map(([k, v]) => factSentence(k, v))
    .filter((s): s is string => s !== null);
  if (facts.length > 0) out.push(facts.join(' '));
  if (p.comparisons?.length) out.push(p.comparisons.map(comparisonSentence).join(' '));
  if (p.recommendations?.length) {
    // each figure is standalone: they overlap, so no total is stated (the projected savings are a fact of their own)
    const head = `${p.recommendations.length} recommendation${p.recommendations.length === 1 ? '' : 's'}, each with what it saves on its own:`;
    out.push([head, ...p.recommendations.map(recommendationSentence)].join('\n'));
  }
  if (p.risks?.length) out.push(`Risks: ${p.risks.join('; ')}.`);
  if (p.missing_data?.length) out.push(`Missing data: ${p.missing_data.join('; ')}.`);
  if (p.next_steps?.length) out.push(`Next steps: ${p.next_steps.map((s, i) => `(${i + 1}) ${s}`).join(' ')}.`.replace(/\.\.$/, '.'));
  if (p.config) out.push(configBlock(p.config));
  if (out.length === 0) out.push('The report payload held no facts, comparisons or recommendations to state.');
  return out.join('\n\n');
}

const MODEL_NAME =
  /\b(gpt-[\w.-]+|o\d(?:-[\w]+)?|claude-[\w.-]+|gemini-[\w.-]+|llama[\w.-]*|mistral[\w.-]*|mixtral[\w.-]*|command-[\w.-]+|deepseek[\w.-]*|qwen[\w.-]*)/gi;
const FIGURE = /(?:\$\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:%|x\b|k\b|m\b|ms\b|s\b)?)/gi;

/** The deterministic answer to a free-form prompt: says what it is, and restates the figures and models it was given. */
export function renderFreeForm(prompt: string): string {
  const trimmed = prompt.trim().replace(/\s+/g, ' ');
  const words = trimmed === '' ? 0 : trimmed.split(' ').length;
  const models = [...new Set((trimmed.match(MODEL_NAME) ?? []).map((m) => m.toLowerCase()))];
  const figures = [...new Set((trimmed.match(FIGURE) ?? []).map((f) => f.replace(/\s+/g, '')))].filter((f) => /\d/.test(f));
  const quote = trimmed.length > 160 ? `${trimmed.slice(0, 157)}...` : trimmed;
  const lines = [
    "This answer comes from Netra's built-in deterministic model: no external LLM is configured or reachable, so it states only what it was given and invents nothing.",
    `Your message has ${words} word${words === 1 ? '' : 's'}: "${quote}".`,
  ];
  lines.push(figures.length > 0 ? `Figures in it: ${list(figures)}.` : 'It contains no figures.');
  if (models.length > 0) lines.push(`Models named: ${list(models)}.`);
  lines.push(
    "For numbers about your workload, ask through Netra's agents: they run the analyses over your stored events and pass the results to this model as a report.",
  );
  return lines.join(' ');
}
