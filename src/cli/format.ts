/** Plain-text tables for the CLI. */
import type { FullAnalysis } from '../optimize/analyze.js';
import type { ReplayResult } from '../optimize/replay.js';
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
  const range = s.first_event === null ? 'no events' : `${new Date(s.first_event).toISOString()} .. ${new Date(s.last_event!).toISOString()}`;
  const head = [
    `workspace ${s.workspace}: ${n(s.events)} events (${n(s.errors)} errors), ${range}`,
    `tokens: ${n(s.prompt_tokens)} prompt (${n(s.cached_prompt_tokens)} cached), ${n(s.completion_tokens)} completion`,
    `spend: ${usd(s.spend_usd)}   latency p50 ${msf(s.latency_p50_ms)}, p95 ${msf(s.latency_p95_ms)}`,
    '',
  ];
  const rows = s.by_model.map((m) => [m.model, m.provider, n(m.events), n(m.prompt_tokens), n(m.completion_tokens), usd(m.spend_usd), msf(m.latency_p50_ms), msf(m.latency_p95_ms)]);
  return head.join('\n') + table(['model', 'provider', 'events', 'prompt tok', 'completion tok', 'spend', 'p50', 'p95'], rows);
}

const pctf = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatAnalysis(a: FullAnalysis): string {
  const s = a.summary;
  const lines = [
    `workspace ${s.workspace}, ${s.from} .. ${s.to}, goal ${s.goal}`,
    `${n(s.events)} events, ${usd(s.spend_usd)} in the window = ${usd(s.monthly_spend_usd)}/month (${usd(s.annual_spend_usd)}/year)`,
    `latency p50 ${msf(s.latency_p50_ms)}, p95 ${msf(s.latency_p95_ms)}, p99 ${msf(s.latency_p99_ms)}; error rate ${pctf(s.error_rate)}`,
    `recommended savings: ${usd(s.monthly_savings_usd)}/month (${pctf(s.savings_share)}), projected ${usd(s.projected_monthly_spend_usd)}/month`,
    '',
  ];
  const rows = a.recommendations.map((r) => [String(r.rank), r.kind, [r.scope.app, r.scope.model].filter(Boolean).join(' / ') || '-', `${usd(r.monthly_savings_usd)}/mo`, pctf(r.affected_share), r.quality_risk.level, r.confidence.toFixed(2)]);
  lines.push(table(['#', 'kind', 'scope', 'savings', 'events', 'risk', 'conf'], rows));
  for (const r of a.recommendations.slice(0, 5)) lines.push('', `${r.rank}. ${r.title}`, ...r.how_to_apply.map((h) => `   - ${h}`));
  if (a.skipped.length) lines.push('', 'not analysed:', ...a.skipped.map((k) => `  ${k.kind}: ${k.reason} (needs: ${k.needs})`));
  return lines.join('\n');
}

export function formatReplay(r: ReplayResult): string {
  const b = r.baseline;
  const p = r.projected;
  const lines = [
    `policy ${r.policy.name ?? '(unnamed)'} over ${r.workspace}, ${new Date(r.from).toISOString()} .. ${new Date(r.to).toISOString()}`,
    table(['', 'events', 'spend', 'p50', 'p95', 'cache hits'], [
      ['baseline', n(b.events), usd(b.spend_usd), msf(b.latency_p50_ms), msf(b.latency_p95_ms), pctf(b.cache_hit_rate)],
      ['projected', n(p.events), usd(p.spend_usd), msf(p.latency_p50_ms), msf(p.latency_p95_ms), pctf(p.cache_hit_rate)],
    ]),
    `savings ${usd(r.savings_usd)} (${pctf(r.savings_share)}), ${usd(r.monthly_savings_usd)}/month; ${pctf(r.changed_share)} of traffic changed`,
  ];
  if (r.assumptions.length) lines.push('assumptions:', ...r.assumptions.map((x) => `  - ${x}`));
  return lines.join('\n');
}
