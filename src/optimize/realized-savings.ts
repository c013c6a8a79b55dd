/**
 * Realized vs predicted (pure): for the gateway policy of a workspace, per rule kind, the saving the what-if replay
 * predicted beside the saving measured on the calls the gateway recorded under that policy (ports/gateway.ts).
 *
 * - shadow: measured = the would-have savings the gateway priced on each call; predicted = the replay of the policy over
 *   the shadow calls' own span (the traffic is unchanged in shadow, so the replay sees the calls the gateway saw).
 * - enforce: measured = the actual savings against the recorded counterfactual (the call on the model the client asked
 *   for, uncached); predicted = the replay of the policy over the reference window before enforcement began (the
 *   enforced calls are already routed and cached, so replaying them would predict what is left, not what was saved):
 *   the same policy's shadow calls before it when the window has some, else a reference window; per replayed call times
 *   the enforced calls. The max_tokens cap's actual saving is not measurable (a capped call
 *   never produced the tokens it was stopped from producing): its measured saving is null; the capped calls are counted.
 * Batch rules are not applied in the request path: they keep their prediction, measured null. The semantic cache is
 * listed when the replay predicts hits or the gateway served (or would have served) some.
 */
import type { GatewaySavingsRow } from './ports/gateway.js';
import type { ReplayResult } from './replay.js';

export const SAVINGS_KINDS = ['routing', 'exact_cache', 'max_tokens_cap', 'semantic_cache', 'batch'] as const;
export type SavingsKind = (typeof SAVINGS_KINDS)[number];

export interface KindSavings {
  kind: SavingsKind;
  /** the replay's prediction for the mode's calls: events the kind changes and its saving (null: no replay) */
  predicted: { events: number; savings_usd: number } | null;
  /** measured on the recorded calls: events the kind applied to and its saving (null: not measurable / not applied) */
  measured: { events: number; savings_usd: number | null };
  /** caps: calls whose answer the cap cut off (shadow: would have) */
  truncated_events?: number;
  note?: string;
}

export interface PredictionBasis {
  /** the replayed window (epoch ms, [from, to)) */
  from: number;
  to: number;
  /** events the replay covered in it */
  events: number;
  /** predicted figures = replay figures × scale (shadow: 1; enforce: enforced calls / replayed calls) */
  scale: number;
}

export interface ModeSavings {
  mode: 'shadow' | 'enforce';
  events: number;
  ok_events: number;
  first_event: string;
  last_event: string;
  /** recorded cost of the calls */
  spend_usd: number;
  /** what the calls would have cost without the policy (enforce) / cost as recorded (shadow) */
  baseline_spend_usd: number;
  predicted_savings_usd: number | null;
  measured_savings_usd: number;
  basis: PredictionBasis | null;
  kinds: KindSavings[];
}

export interface RealizedSavings {
  workspace: string;
  from: string;
  to: string;
  /** the workspace's gateway policy now */
  mode: 'off' | 'shadow' | 'enforce';
  policy_version: string | null;
  activated_at: string | null;
  /** per mode, the calls of the current policy version in the window */
  by_mode: ModeSavings[];
  /** calls in the window recorded under other versions of the policy (not compared: the replay is of the current one) */
  other_versions: { mode: 'shadow' | 'enforce'; policy_version: string | null; events: number; measured_savings_usd: number }[];
  notes: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const measuredTotal = (r: GatewaySavingsRow) => r.routing_savings_usd + r.cache_savings_usd + r.semantic_savings_usd + r.cap_savings_usd;

/** One mode's comparison: its measured row beside the replay (null when there was nothing to replay). */
export function modeSavings(
  row: GatewaySavingsRow,
  replay: ReplayResult | null,
  basisWindow: { from: number; to: number } | null,
): ModeSavings {
  const replayed = replay?.baseline.events ?? 0;
  const scale = replay && replayed > 0 ? (row.mode === 'shadow' ? 1 : row.events / replayed) : 0;
  const b = replay?.breakdown;
  const p = (events: number, savings: number) => (b ? { events: events * scale, savings_usd: savings * scale } : null);
  const enforce = row.mode === 'enforce';
  const exactShare =
    b && b.exact_cache_hits + b.semantic_cache_hits > 0 ? b.exact_cache_hits / (b.exact_cache_hits + b.semantic_cache_hits) : 1;
  const kinds: KindSavings[] = [
    {
      kind: 'routing',
      predicted: b ? p(b.routed_events, b.routing_savings_usd) : null,
      measured: { events: row.routing_events, savings_usd: row.routing_savings_usd },
    },
    {
      kind: 'exact_cache',
      predicted: b ? p(b.exact_cache_hits, b.cache_savings_usd * exactShare) : null,
      measured: { events: row.cache_events, savings_usd: row.cache_savings_usd },
    },
    {
      kind: 'max_tokens_cap',
      predicted: b ? p(b.truncated_events, b.cap_savings_usd) : null,
      measured: { events: row.cap_events, savings_usd: enforce ? null : row.cap_savings_usd },
      truncated_events: row.cap_truncated,
      ...(enforce
        ? {
            note: 'not measurable in enforce: a capped call never produced the tokens the cap stopped; truncated_events counts the calls that stopped at the cap',
          }
        : {}),
    },
  ];
  if ((b && b.semantic_cache_hits > 0) || row.semantic_events > 0)
    kinds.push({
      kind: 'semantic_cache',
      predicted: b ? p(b.semantic_cache_hits, b.cache_savings_usd * (1 - exactShare)) : null,
      measured: { events: row.semantic_events, savings_usd: row.semantic_savings_usd },
    });
  if (b && b.batch_events > 0)
    kinds.push({
      kind: 'batch',
      predicted: p(b.batch_events, b.batch_savings_usd),
      measured: { events: 0, savings_usd: null },
      note: 'batch rules are not applied in the request path (a live caller is waiting)',
    });
  const measured = measuredTotal(row);
  return {
    mode: row.mode,
    events: row.events,
    ok_events: row.ok_events,
    first_event: iso(row.first_event),
    last_event: iso(row.last_event),
    spend_usd: row.spend_usd,
    baseline_spend_usd: enforce ? row.spend_usd + measured : row.spend_usd,
    predicted_savings_usd: b ? kinds.reduce((s, k) => s + (k.predicted?.savings_usd ?? 0), 0) : null,
    measured_savings_usd: measured,
    basis: replay && basisWindow ? { ...basisWindow, events: replayed, scale } : null,
    kinds,
  };
}

/**
 * The window the replay predicting a mode's calls runs over (see the file comment): shadow, its own span; enforce, the
 * span of the same policy's shadow calls before it when there are some (the traffic the policy was tried on), else the
 * reference window before enforcement began.
 */
export function predictionWindow(row: GatewaySavingsRow, referenceMs: number, shadow?: GatewaySavingsRow): { from: number; to: number } {
  if (row.mode === 'shadow') return { from: row.first_event, to: row.last_event + 1 };
  if (shadow && shadow.mode === 'shadow' && shadow.last_event < row.first_event)
    return { from: shadow.first_event, to: shadow.last_event + 1 };
  return { from: row.first_event - Math.max(referenceMs, row.last_event + 1 - row.first_event), to: row.first_event };
}

/** Rows of the current version vs the others. */
export function splitByVersion(
  rows: readonly GatewaySavingsRow[],
  version: string | null,
): { current: GatewaySavingsRow[]; others: RealizedSavings['other_versions'] } {
  const current = rows.filter((r) => version !== null && r.policy_version === version);
  const others = rows
    .filter((r) => !current.includes(r))
    .map((r) => ({ mode: r.mode, policy_version: r.policy_version, events: r.events, measured_savings_usd: measuredTotal(r) }));
  return { current, others };
}
