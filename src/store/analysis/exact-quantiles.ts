/**
 * DuckDB's quantile_cont from value counts, bit for bit. quantile_cont keeps every value of a group in its state and
 * selects the ranks at the end; on a large group (the whole window: 10M latencies) that is seconds of one thread. Most
 * latencies repeat (whole milliseconds), so a group's distinct values and their counts are far fewer rows: a hash
 * aggregate, then a running count over the sorted distinct values finds the values at the ranks the levels need.
 *
 * quantile_cont over the n sorted values s of a group: RN = (n - 1)·q, f = floor(RN), c = ceil(RN),
 * s[f] when f = c, else s[f]·(1 - (RN - f)) + s[c]·(RN - f) — the same double operations here (checked against
 * quantile_cont in test/exact-quantiles.test.ts). The value at rank r is the smallest x whose running count exceeds r.
 * Worth it only where groups are large; for many small groups (hourly buckets) quantile_cont is cheaper.
 */
import { NetraError } from '../../errors.js';

/**
 * SQL of a relation (keys..., `name`) with one row per group that has a value: `name` is the DOUBLE[] of the levels.
 * `counts`: a relation with columns keys..., x (the value, never NULL) and c (how many rows hold it), one row per
 * (group, x). Keys may be NULL (a grouping set's rolled-up column); NULL keys form a group as in GROUP BY.
 */
export function quantilesFromCounts(counts: string, keys: readonly string[], levels: readonly number[], name: string): string {
  for (const q of levels) if (!(q >= 0 && q <= 1)) throw new NetraError('INTERNAL', `quantile level ${q} out of range`);
  const by = keys.length ? `PARTITION BY ${keys.join(', ')} ` : '';
  const k = keys.map((c) => `${c}, `).join('');
  // levels as DOUBLE from their shortest decimal text: the same double as the level JS holds, as quantile_cont gets it
  const rank = levels.map((q, i) => `(n - 1)::DOUBLE * '${q}'::DOUBLE AS rn${i}`).join(', ');
  const fc = levels.map((_, i) => `floor(rn${i}) AS f${i}, ceil(rn${i}) AS c${i}`).join(', ');
  const pick = levels.map((_, i) => `min(x) FILTER (WHERE cum > f${i}) AS lo${i}, min(x) FILTER (WHERE cum > c${i}) AS hi${i}`).join(', ');
  const at = levels.map((_, i) => `rn${i}, f${i}, c${i}`).join(', ');
  const value = levels
    .map((_, i) => `CASE WHEN f${i} = c${i} THEN lo${i} ELSE lo${i} * (1 - (rn${i} - f${i})) + hi${i} * (rn${i} - f${i}) END`)
    .join(', ');
  return `SELECT ${k}[${value}] AS ${name} FROM (
    SELECT ${k}${at}, ${pick} FROM (
      SELECT *, ${fc} FROM (
        SELECT ${k}x, cum, ${rank} FROM (
          SELECT ${k}x, sum(c) OVER (${by}ORDER BY x ROWS UNBOUNDED PRECEDING) AS cum, sum(c) OVER (${by.trim()}) AS n FROM (${counts}))))
    GROUP BY ${k}${at})`;
}
