/**
 * What moved between two periods (pure): "Why did spend go up yesterday?" compares the window with the period before
 * it, group by group (apps, or one app's models), and says which groups made the change.
 */
import { formatPercent } from '../llm/builtin-prose.js';
import { metricValue, OTHER_KEY, type BreakdownDimension, type BreakdownMetric, type BreakdownRow } from '../optimize/ports/breakdown.js';
import { ADDITIVE, dimensionName, fieldOf, formatMetric, METRIC_NAME, plural } from './answer-words.js';

export interface Mover {
  key: string | null;
  now: number | null;
  before: number | null;
  /** now − before, a missing side counting as 0 for an additive metric; null when a side has no value */
  delta: number | null;
}

/** Each group's value in both periods, the largest change first (in the direction of the total's change). */
export function movers(
  current: readonly BreakdownRow[],
  previous: readonly BreakdownRow[],
  m: BreakdownMetric,
  direction: number,
): Mover[] {
  const zero = ADDITIVE.has(m) ? 0 : null;
  const byKey = new Map<string | null, Mover>();
  for (const r of current) byKey.set(r.key, { key: r.key, now: metricValue(r, m), before: zero, delta: null });
  for (const r of previous) {
    const row = byKey.get(r.key) ?? { key: r.key, now: zero, before: zero, delta: null };
    row.before = metricValue(r, m);
    byKey.set(r.key, row);
  }
  const out = [...byKey.values()].map((r) => ({ ...r, delta: r.now !== null && r.before !== null ? r.now - r.before : null }));
  const sign = direction < 0 ? -1 : 1;
  // groups present in one period only (no value to compare) go last
  const rank = (r: Mover) => (r.delta === null ? -Infinity : r.delta * sign);
  return out.sort((x, y) => rank(y) - rank(x) || String(x.key).localeCompare(String(y.key)));
}

/** the table lists the groups that moved most; the sentence and the totals cover all of them */
const MAX_ROWS = 15;

const signed = (m: BreakdownMetric, d: number) => `${d >= 0 ? '+' : '-'}${formatMetric(m, Math.abs(d))}`;

/** The sentence naming the groups that made the change, and the table of every group in both periods. */
export function changeByGroup(
  m: BreakdownMetric,
  dimension: BreakdownDimension,
  current: readonly BreakdownRow[],
  previous: readonly BreakdownRow[],
  totalDelta: number | null,
  periods: [string, string],
): { sentence: string; columns: string[]; rows: string[][] } {
  const label = (k: string | null) => (k === null ? `(no ${fieldOf(dimension)})` : k === OTHER_KEY ? `other ${plural(dimension)}` : k);
  const ranked = movers(current, previous, m, totalDelta ?? 1);
  const named = ranked.filter((r) => r.key !== OTHER_KEY && r.delta !== null && r.delta !== 0);
  const leading = named.filter((r) => totalDelta === null || Math.sign(r.delta!) === Math.sign(totalDelta)).slice(0, 2);
  const part = (r: Mover) =>
    `${label(r.key)} (${signed(m, r.delta!)}, ${formatMetric(m, r.before)} → ${formatMetric(m, r.now)}${
      // a share above 100% (groups that offset each other) says nothing useful
      ADDITIVE.has(m) && totalDelta && Math.abs(r.delta!) <= Math.abs(totalDelta)
        ? `: ${formatPercent(Math.abs((r.delta! / totalDelta) * 100))} of the change`
        : ''
    })`;
  const sentence =
    leading.length === 0
      ? ` No ${dimensionName(dimension)} moved it on its own.`
      : ` By ${dimensionName(dimension)}, the largest ${ADDITIVE.has(m) ? 'contributions' : 'changes'}: ${leading.map(part).join(' and ')}.`;
  return {
    sentence,
    columns: [dimensionName(dimension), `${METRIC_NAME[m]}, ${periods[0]}`, `${METRIC_NAME[m]}, ${periods[1]}`, 'change'],
    rows: ranked
      .slice(0, MAX_ROWS)
      .map((r) => [label(r.key), formatMetric(m, r.now), formatMetric(m, r.before), r.delta === null ? '' : signed(m, r.delta)]),
  };
}
