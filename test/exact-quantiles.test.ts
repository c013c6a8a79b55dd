/**
 * quantilesFromCounts and nearestRankFromCounts (src/store/analysis/exact-quantiles.ts) must give DuckDB's
 * quantile_cont and quantile_disc bit for bit: the analyses' percentiles did not change when the whole-window and
 * max_tokens queries moved to them. Each case runs both over the same values in one DuckDB and compares the doubles
 * with Object.is.
 */
import { DOUBLE, DuckDBInstance, LIST, listValue, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestRankFromCounts, quantilesFromCounts } from '../src/store/analysis/exact-quantiles.js';

const LEVELS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => conn.closeSync());

/** Per group g (NULL allowed), quantile_cont and quantilesFromCounts over the non-NULL values of x. */
async function both(groups: (string | null)[], xs: (number | null)[]): Promise<{ g: string | null; want: number[]; got: number[] }[]> {
  const src = `SELECT unnest($g) AS g, unnest($x) AS x`;
  const counts = `SELECT g, x, count(*) AS c FROM (${src}) WHERE x IS NOT NULL GROUP BY g, x`;
  const sql = `SELECT w.g, w.q AS want, f.q AS got
    FROM (SELECT g, quantile_cont(x, [${LEVELS.join(', ')}]) AS q FROM (${src}) WHERE x IS NOT NULL GROUP BY g) w
    FULL JOIN (${quantilesFromCounts(counts, ['g'], LEVELS, 'q')}) f ON w.g IS NOT DISTINCT FROM f.g
    ORDER BY w.g NULLS FIRST`;
  const r = await conn.runAndReadAll(sql, { g: listValue(groups), x: listValue(xs) }, { g: LIST(VARCHAR), x: LIST(DOUBLE) });
  return r.getRowObjects().map((row) => ({
    g: row.g as string | null,
    want: ((row.want as { items: number[] } | null)?.items ?? []).map(Number),
    got: ((row.got as { items: number[] } | null)?.items ?? []).map(Number),
  }));
}

function expectSame(rows: { g: string | null; want: number[]; got: number[] }[], groups: number): void {
  expect(rows).toHaveLength(groups);
  for (const r of rows) {
    expect(r.got).toHaveLength(LEVELS.length);
    r.want.forEach((w, i) => expect(Object.is(r.got[i], w), `group ${r.g} level ${LEVELS[i]}: ${r.got[i]} vs ${w}`).toBe(true));
  }
}

describe('quantilesFromCounts', () => {
  it('equals quantile_cont at the edges: one value, two values (even count), ties, all equal, NULLs skipped', async () => {
    const g = [
      'one',
      'two',
      'two',
      'ties',
      'ties',
      'ties',
      'ties',
      'ties',
      'ties',
      'same',
      'same',
      'same',
      'nulls',
      'nulls',
      'nulls',
      'nulls',
    ];
    const x = [7, 1, 2, 5, 1, 5, 5, 9, 1, 3.25, 3.25, 3.25, null, 10, null, 4];
    expectSame(await both(g, x), 5);
  });

  it('equals quantile_cont on fractional, negative and widely spread values, with a NULL group key', async () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const g: (string | null)[] = [];
    const x: (number | null)[] = [];
    for (let i = 0; i < 4000; i++) {
      const k = i % 7;
      g.push(k === 6 ? null : `g${k}`);
      // g0: whole ms with many repeats; g1: fractions; g2: negatives and zero; g3: spread over 12 orders of magnitude
      x.push(
        k === 0
          ? Math.round(rand() * 50)
          : k === 1
            ? rand() * 1000
            : k === 2
              ? Math.round(rand() * 20) - 10
              : k === 3
                ? 10 ** (rand() * 12 - 6)
                : k === 4 && i % 3 === 0
                  ? null
                  : rand() * 3e4,
      );
    }
    expectSame(await both(g, x), 7);
  });

  it('gives no row for a group whose values are all NULL, as quantile_cont gives NULL', async () => {
    const rows = await both(['a', 'a', 'b'], [null, null, 1]);
    expect(rows.map((r) => r.g)).toEqual(['b']);
    expect(rows[0]!.got).toEqual(LEVELS.map(() => 1));
  });
});

describe('nearestRankFromCounts', () => {
  it('equals quantile_disc per group at every level: one value, even counts, ties, zeros', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const g: string[] = ['one', 'two', 'two'];
    const x: number[] = [5, 3, 9];
    for (let i = 0; i < 3000; i++) {
      g.push(`g${i % 5}`);
      x.push(i % 5 === 0 ? 0 : Math.round(rand() * (i % 5) * 40));
    }
    const src = 'SELECT unnest($g) AS g, unnest($x) AS x';
    for (const q of LEVELS) {
      const counts = `SELECT g, x, count(*) AS c FROM (${src}) GROUP BY g, x`;
      const r = await conn.runAndReadAll(
        `SELECT w.g, w.v AS want, f.v AS got FROM (SELECT g, quantile_disc(x, ${q}) AS v FROM (${src}) GROUP BY g) w
         FULL JOIN (${nearestRankFromCounts(counts, ['g'], q, 'v')}) f USING (g) ORDER BY g`,
        { g: listValue(g), x: listValue(x) },
        { g: LIST(VARCHAR), x: LIST(DOUBLE) },
      );
      const rows = r.getRowObjects();
      expect(rows).toHaveLength(7);
      for (const row of rows) expect(Object.is(Number(row.got), Number(row.want)), `${String(row.g)} at ${q}`).toBe(true);
    }
  });
});
