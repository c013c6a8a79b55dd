/** Plain-text tables for the CLI. */
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
