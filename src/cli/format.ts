/** Plain-text tables for the CLI. */
import type { FullAnalysis } from '../optimize/analyze.js';
import type { ReplayResult } from '../optimize/replay.js';
import { presentRecommendations } from '../optimize/presentation.js';
import type { WorkspaceStats } from '../store/types.js';

const n = (x: number) => x.toLocaleString('en-US');
const usd = (x: number) => `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const msf = (x: number | null) => (x === null ? '-' : `${Math.round(x)} ms`);

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatStats(s: WorkspaceStats): string {
  const range =
    s.first_event === null ? 'no events' : `${new Date(s.first_event).toISOString()} .. ${new Date(s.last_event!).toISOString()}`;
  const head = [
    `workspace ${s.workspace}: ${n(s.events)} events (${n(s.errors)} errors), ${range}`,
    `tokens: ${n(s.prompt_tokens)} prompt (${n(s.cached_prompt_tokens)} cached), ${n(s.completion_tokens)} completion`,
    `spend: ${usd(s.spend_usd)}   latency p50 ${msf(s.latency_p50_ms)}, p95 ${msf(s.latency_p95_ms)}`,
    '',
  ];
  const rows = s.by_model.map((m) => [
    m.model,
    m.provider,
    n(m.events),
    n(m.prompt_tokens),
    n(m.completion_tokens),
    usd(m.spend_usd),
    msf(m.latency_p50_ms),
    msf(m.latency_p95_ms),
  ]);
  return head.join('\n') + table(['model', 'provider', 'events', 'prompt tok', 'completion tok', 'spend', 'p50', 'p95'], rows);
}

const pctf = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The analysis as text: one projected-savings figure (the replay of the combined policy, when given), the top ten
 * recommendations with their standalone savings, findings, and minor items grouped (optimize/presentation.ts).
 */
export function formatAnalysis(a: FullAnalysis): string {
  const s = a.summary;
  const ps = s.projected_savings;
  const p = presentRecommendations(a.recommendations, s.monthly_spend_usd);
  const lines = [
    `workspace ${s.workspace}, ${s.from} .. ${s.to}, goal ${s.goal}`,
    `${n(s.events)} events, ${usd(s.spend_usd)} in the window = ${usd(s.monthly_spend_usd)}/month (${usd(s.annual_spend_usd)}/year)`,
    `window latency p50 ${msf(s.latency_p50_ms)}, p95 ${msf(s.latency_p95_ms)}, p99 ${msf(s.latency_p99_ms)}; error rate ${pctf(s.error_rate)}`,
    ps && ps.monthly_usd !== null
      ? `projected savings: ${usd(ps.monthly_usd)}/month (${pctf(ps.share_of_spend ?? 0)}), from a replay of all recommendations together (overlaps counted once); the savings below are standalone`
      : `projected savings: not replayed${ps?.unavailable ? ` (${ps.unavailable})` : ''}; the savings below are standalone and overlap, do not add them up`,
    ...(ps?.not_in_projection.length
      ? [
          `  not in the projection (advice the replay cannot apply): ${ps.not_in_projection.map((k) => `${k.kind} x${k.recommendations}`).join(', ')}`,
        ]
      : []),
    ...(s.warnings ?? []).map((w) => `warning: ${w}`),
    // the assumptions behind the top list (--json lists every one in summary.assumptions)
    ...[...new Set(p.top.flatMap((r) => r.assumptions ?? []))].map((x) => `assumption: ${x}`),
    '',
  ];
  const row = (r: (typeof a.recommendations)[number], i: number) => [
    String(i + 1),
    r.kind,
    [r.scope.app, r.scope.model].filter(Boolean).join(' / ') || '-',
    `${usd(r.monthly_savings_usd)}/mo`,
    pctf(r.affected_share),
    r.quality_risk.level,
    r.confidence.toFixed(2),
  ];
  lines.push(table(['#', 'kind', 'scope', 'standalone savings', 'events', 'risk', 'conf'], p.top.map(row)));
  for (const [i, r] of p.top.slice(0, 5).entries()) lines.push('', `${i + 1}. ${r.title}`, ...r.how_to_apply.map((h) => `   - ${h}`));
  if (p.more.length)
    lines.push(
      '',
      `${p.more.length} more recommendation${p.more.length === 1 ? '' : 's'} (--json lists them): ${usd(p.more.reduce((t, r) => t + r.monthly_savings_usd, 0))}/month standalone`,
    );
  if (p.findings.length) lines.push('', 'findings (no saving, no concrete model change):', ...p.findings.map((r) => `  - ${r.title}`));
  if (p.minor.length)
    lines.push(
      '',
      `minor: ${p.minor.length} item${p.minor.length === 1 ? '' : 's'} each under ${usd(p.minor_below_usd)}/month (${usd(p.minor.reduce((t, r) => t + r.monthly_savings_usd, 0))}/month standalone together)`,
    );
  if (a.skipped.length) lines.push('', 'not analysed:', ...a.skipped.map((k) => `  ${k.kind}: ${k.reason} (needs: ${k.needs})`));
  return lines.join('\n');
}

export function formatReplay(r: ReplayResult): string {
  const b = r.baseline;
  const p = r.projected;
  const lines = [
    `policy ${r.policy.name ?? '(unnamed)'} over ${r.workspace}, ${new Date(r.from).toISOString()} .. ${new Date(r.to).toISOString()}`,
    table(
      ['', 'events', 'spend', 'p50', 'p95', 'cache hits'],
      [
        ['baseline', n(b.events), usd(b.spend_usd), msf(b.latency_p50_ms), msf(b.latency_p95_ms), pctf(b.cache_hit_rate)],
        ['projected', n(p.events), usd(p.spend_usd), msf(p.latency_p50_ms), msf(p.latency_p95_ms), pctf(p.cache_hit_rate)],
      ],
    ),
    `savings ${usd(r.savings_usd)} (${pctf(r.savings_share)}), ${usd(r.monthly_savings_usd)}/month; ${pctf(r.changed_share)} of traffic changed`,
  ];
  if (r.assumptions.length) lines.push('assumptions:', ...r.assumptions.map((x) => `  - ${x}`));
  return lines.join('\n');
}
