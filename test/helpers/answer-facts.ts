/**
 * The answer test set's toolkit: asks the supervisor a question and returns the answer, and computes expected facts
 * straight from the stored events in plain JS (sums, counts, DuckDB's quantile_cont), independently of the SQL
 * that produced the answer.
 */
import type { RunEventDraft, RunExecutor } from '../../src/agents/types.js';
import type { WorkloadEvent } from '../../src/workload/event.js';

export const DAY = 86_400_000;

export async function ask(
  sup: RunExecutor,
  workspace: string,
  request: string,
  userId = 'u1',
): Promise<{ content: string; events: RunEventDraft[]; status: string }> {
  const events: RunEventDraft[] = [];
  const r = await sup.execute(
    { run_id: 'r', thread_id: 't', workspace, user_id: userId, request, history: [] },
    async (e) => {
      events.push(e);
    },
    new AbortController().signal,
  );
  return { content: r.content, events, status: r.status };
}

export const inWindow = (es: readonly WorkloadEvent[], from: number, to: number) =>
  es.filter((e) => e.timestamp >= from && e.timestamp < to);
export const spend = (es: readonly WorkloadEvent[]) => es.reduce((s, e) => s + (e.cost_usd ?? 0), 0);

/** DuckDB's quantile_cont: linear interpolation between the order statistics at (n - 1)·q. */
export function quantileCont(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rn = (s.length - 1) * q;
  const lo = Math.floor(rn);
  const hi = Math.ceil(rn);
  return s[lo]! + (s[hi]! - s[lo]!) * (rn - lo);
}

export function groupBy<K>(es: readonly WorkloadEvent[], key: (e: WorkloadEvent) => K): Map<K, WorkloadEvent[]> {
  const m = new Map<K, WorkloadEvent[]>();
  for (const e of es) {
    const k = key(e);
    const g = m.get(k);
    if (g) g.push(e);
    else m.set(k, [e]);
  }
  return m;
}

/** The group with the largest value (ties: the smaller key), as [key, value]. */
export function topBy<K extends string>(m: Map<K | null, WorkloadEvent[]>, value: (es: WorkloadEvent[]) => number | null): [K, number] {
  const rows = [...m]
    .filter((x): x is [K, WorkloadEvent[]] => x[0] !== null)
    .map(([k, es]) => [k, value(es)] as const)
    .filter((x): x is readonly [K, number] => x[1] !== null);
  rows.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return [rows[0]![0], rows[0]![1]];
}

export const p95 = (es: readonly WorkloadEvent[]) =>
  quantileCont(
    es.map((e) => e.latency_ms).filter((v): v is number => v !== null),
    0.95,
  );
export const startOfDay = (t: number) => Math.floor(t / DAY) * DAY;
export const dayLabel = (t: number) => new Date(t).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
