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
  // levels as DOUBLE from their shortest decimal text: the same double as the level JS holds, as quantile_cont gets it
  const rank = levels.map((q, i) => `(n - 1)::DOUBLE * '${q}'::DOUBLE AS rn${i}`).join(', ');
  const fc = levels.map((_, i) => `floor(rn${i}) AS f${i}, ceil(rn${i}) AS c${i}`).join(', ');
  const pick = levels.map((_, i) => `min(x) FILTER (WHERE cum > f${i}) AS lo${i}, min(x) FILTER (WHERE cum > c${i}) AS hi${i}`).join(', ');
  const at = levels.map((_, i) => `rn${i}, f${i}, c${i}`).join(', ');
  const value = levels
    .map((_, i) => `CASE WHEN f${i} = c${i} THEN lo${i} ELSE lo${i} * (1 - (rn${i} - f${i})) + hi${i} * (rn${i} - f${i}) END`)
    .join(', ');
  const { vc, by, gk, out, join } = grouped(counts, keys);
  return `${vc}SELECT ${out}[${value}] AS ${name} FROM (
    SELECT ${gk}${at}, ${pick} FROM (
      SELECT *, ${fc} FROM (
        SELECT ${gk}x, cum, ${rank} FROM (
          SELECT ${gk}x, sum(c) OVER (${by}ORDER BY x ROWS UNBOUNDED PRECEDING) AS cum, sum(c) OVER (${by.trim()}) AS n FROM vc)))
    GROUP BY ${gk}${at}) q${join}`;
}

/**
 * The counts with an integer id per group: a window partitioned by strings compares them on every step of its
 * sort; the groups are few, so they are numbered once and the window partitions by the number.
 */
function grouped(counts: string, keys: readonly string[]): { vc: string; by: string; gk: string; out: string; join: string } {
  if (keys.length === 0) return { vc: `WITH vc AS (${counts}) `, by: '', gk: '', out: '', join: '' };
  const list = keys.join(', ');
  const same = keys.map((k) => `g.${k} IS NOT DISTINCT FROM c.${k}`).join(' AND ');
  return {
    vc: `WITH counted AS MATERIALIZED (${counts}),
    g AS (SELECT ${list}, row_number() OVER () AS gid FROM (SELECT DISTINCT ${list} FROM counted)),
    vc AS (SELECT g.gid, c.x, c.c FROM counted c JOIN g ON ${same})
    `,
    by: 'PARTITION BY gid ',
    gk: 'gid, ',
    out: keys.map((k) => `g.${k}, `).join(''),
    join: ' JOIN g USING (gid)',
  };
}

/**
 * SQL of a relation (keys..., `name`): DuckDB's quantile_disc of the values at `level` per group, from value counts
 * as above: the value at 0-based rank ceil(n·q) - 1 (0 when that is negative) of the sorted values.
 */
export function nearestRankFromCounts(counts: string, keys: readonly string[], level: number, name: string): string {
  if (!(level >= 0 && level <= 1)) throw new NetraError('INTERNAL', `quantile level ${level} out of range`);
  const by = keys.length ? `PARTITION BY ${keys.join(', ')} ` : '';
  const k = keys.map((c) => `${c}, `).join('');
  return `SELECT ${k}min(x) FILTER (WHERE cum > greatest(ceil(n::DOUBLE * '${level}'::DOUBLE) - 1, 0)) AS ${name} FROM (
    SELECT ${k}x, sum(c) OVER (${by}ORDER BY x ROWS UNBOUNDED PRECEDING) AS cum, sum(c) OVER (${by.trim()}) AS n FROM (${counts}))
  GROUP BY ${k}n`;
}
