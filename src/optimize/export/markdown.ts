/**
 * Export of recommendations (recommendation.ts) as a readable Markdown report and as a JSON document. Pure.
 * The report: a summary table (rank, title, monthly savings, share of spend, risk, confidence), then one section per
 * recommendation with its scope, dollars and shares, latency impact, quality risk and reason, evidence figures, the
 * query, sample event ids, and the steps to apply it; skipped kinds close the report with what would enable them.
 */
import type { FullAnalysis } from '../analyze.js';
import type { Recommendation, SkippedKind } from '../recommendation.js';

export interface ReportMeta {
  workspace: string;
  /** analysed window, epoch ms */
  from: number;
  to: number;
  total_spend_usd?: number;
  total_events?: number;
  goal?: string;
  /** when the report was made (ISO); omitted from the output when not given, so reports stay reproducible */
  generated_at?: string;
  /** summary bullets printed under the window line */
  highlights?: string[];
}

const usd = (v: number) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Table cells and inline text: no line breaks, pipes escaped. */
const cell = (s: string) => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
const ms = (v: number | null) => (v === null ? 'n/a' : `${v > 0 ? '+' : ''}${Math.round(v)} ms`);

function figure(v: number | string | null): string {
  if (v === null) return 'n/a';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : Number(v.toPrecision(6)).toString();
  return v;
}

function section(r: Recommendation, rank: number): string {
  const scope =
    Object.entries(r.scope)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} \`${cell(v!)}\``)
      .join(', ') || 'whole workspace';
  const lines = [
    `## ${rank}. ${cell(r.title)}`,
    '',
    `- **Kind:** \`${r.kind}\` · **Scope:** ${scope} · **id:** \`${r.id}\``,
    `- **Savings:** ${usd(r.monthly_savings_usd)} per month standalone (${pct(r.savings_share)} of spend)`,
    `- **Affects:** ${pct(r.affected_share)} of calls, ${pct(r.affected_spend_share)} of spend`,
    `- **Latency:** p50 ${ms(r.latency_impact.p50_ms_delta)}, p95 ${ms(r.latency_impact.p95_ms_delta)}: ${cell(r.latency_impact.description)}`,
    `- **Quality risk:** ${r.quality_risk.level}: ${cell(r.quality_risk.reason)}`,
    `- **Confidence:** ${pct(r.confidence)}`,
    '',
    '### Evidence',
    '',
    '| Figure | Value |',
    '| --- | --- |',
    ...Object.entries(r.evidence.figures).map(([k, v]) => `| ${cell(k)} | ${cell(figure(v))} |`),
    '',
  ];
  if (r.evidence.sample_event_ids.length)
    lines.push(`Sample events: ${r.evidence.sample_event_ids.map((id) => `\`${cell(id)}\``).join(', ')}`, '');
  if (r.evidence.query.trim()) {
    const fence = r.evidence.query.includes('```') ? '~~~~' : '```';
    lines.push('<details><summary>Query</summary>', '', `${fence}sql`, r.evidence.query.trim(), fence, '', '</details>', '');
  }
  lines.push('### How to apply', '', ...r.how_to_apply.map((s, i) => `${i + 1}. ${cell(s)}`), '');
  return lines.join('\n');
}

/** A Markdown report of ranked recommendations (in the given order). */
export function recommendationsToMarkdown(recs: readonly Recommendation[], meta: ReportMeta, skipped: readonly SkippedKind[] = []): string {
  const head = [
    `# Netra recommendations: ${cell(meta.workspace)}`,
    '',
    `Window ${day(meta.from)} to ${day(meta.to)} (UTC)` +
      (meta.total_events !== undefined ? `, ${meta.total_events.toLocaleString('en-US')} calls` : '') +
      (meta.total_spend_usd !== undefined ? `, ${usd(meta.total_spend_usd)} spent` : '') +
      (meta.goal ? `; ranked for goal \`${meta.goal}\`` : '') +
      '.',
    ...(meta.generated_at ? ['', `Generated ${meta.generated_at}.`] : []),
    '',
    ...(meta.highlights?.length ? [...meta.highlights.map((h) => `- ${cell(h)}`), ''] : []),
  ];
  if (recs.length === 0) {
    head.push('No recommendation: nothing in this window has evidence of a saving.', '');
  } else {
    head.push(
      `${recs.length} recommendation${recs.length === 1 ? '' : 's'}. Each saving is standalone (what that change saves on its own); they overlap, so they are not added up.`,
      '',
      '| # | Recommendation | Standalone monthly savings | Share of spend | Quality risk | Confidence |',
      '| --- | --- | ---: | ---: | --- | ---: |',
      ...recs.map(
        (r, i) =>
          `| ${i + 1} | ${cell(r.title)} | ${usd(r.monthly_savings_usd)} | ${pct(r.savings_share)} | ${r.quality_risk.level} | ${pct(r.confidence)} |`,
      ),
      '',
    );
  }
  const body = recs.map((r, i) => section(r, i + 1));
  const tail = skipped.length
    ? ['## Not analysed', '', ...skipped.map((s) => `- \`${s.kind}\`: ${cell(s.reason)} Needs: ${cell(s.needs)}.`), '']
    : [];
  return [...head, ...body, ...tail].join('\n');
}

/** The same recommendations as a JSON document (2-space indented, stable key order as produced). */
export function recommendationsToJson(recs: readonly Recommendation[], meta: ReportMeta, skipped: readonly SkippedKind[] = []): string {
  return JSON.stringify({ ...meta, recommendations: recs, skipped }, null, 2) + '\n';
}

/** The Markdown report of a full analysis (`netra analyze --md`): summary highlights, then the ranked recommendations. */
export function analysisMarkdown(a: FullAnalysis): string {
  const s = a.summary;
  const lat = (v: number | null) => (v === null ? 'n/a' : `${Math.round(v)} ms`);
  return recommendationsToMarkdown(
    a.recommendations,
    {
      workspace: s.workspace,
      from: Date.parse(s.from),
      to: Date.parse(s.to),
      total_events: s.events,
      total_spend_usd: s.spend_usd,
      goal: s.goal,
      highlights: [
        projectionLine(s),
        ...(s.warnings ?? []),
        `Latency p50 ${lat(s.latency_p50_ms)}, p95 ${lat(s.latency_p95_ms)}, p99 ${lat(s.latency_p99_ms)}; error rate ${pct(s.error_rate)}.`,
        ...(s.note ? [s.note] : []),
      ],
    },
    a.skipped,
  );
}

/** The one projected-savings sentence: the replay of every recommendation together, or why there is none. */
function projectionLine(s: FullAnalysis['summary']): string {
  const p = s.projected_savings;
  if (!p || p.monthly_usd === null)
    return `Monthly spend ${usd(s.monthly_spend_usd)}; projected savings: not replayed${p?.unavailable ? ` (${p.unavailable})` : ''}.`;
  return `Monthly spend ${usd(s.monthly_spend_usd)}; projected savings ${usd(p.monthly_usd)} a month (${pct(p.share_of_spend ?? 0)}), from a replay of the recommendations together (overlaps counted once), so ${usd(p.projected_monthly_spend_usd ?? 0)} a month.`;
}
