/** Events per time range (the sampled slices of the semantic-cache pass), all ranges in one scan. */
import type { TimeRange } from '../../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { num, sqlFor, type AnalysisEngine, type EngineSql } from '../engine.js';
import { inRanges, rangeConditions, rangeParams } from '../time-ranges.js';

/** Only rows in some range are read (the ranges again as a filter: DuckDB's zone maps skip the blocks outside them). */
export const EVENT_COUNTS_SQL: EngineSql<{ ranges: number }> = {
  duckdb: ({ where, t, d }, { ranges }) =>
    `SELECT [${rangeConditions(d, ranges)
      .map((c) => `count(*) FILTER (WHERE ${c})::DOUBLE`)
      .join(', ')}] AS n FROM ${t} WHERE ${where}${inRanges(d, ranges)}`,
  clickhouse: ({ where, t, d }, { ranges }) =>
    `SELECT [${rangeConditions(d, ranges)
      .map((c) => `toFloat64(countIf(${c}))`)
      .join(', ')}] AS n FROM ${t} WHERE ${where}${inRanges(d, ranges)}`,
};

export async function countEvents(engine: AnalysisEngine, scope: AnalysisScope, ranges: readonly TimeRange[]): Promise<number[]> {
  if (ranges.length === 0) return [];
  const { where, params } = engine.scope(scope);
  const rows = await engine.query(sqlFor(engine, EVENT_COUNTS_SQL, where, { ranges: ranges.length }), {
    ...params,
    ...rangeParams(engine.dialect, ranges),
  });
  const n = rows[0]?.n;
  return ranges.map((_, i) => (Array.isArray(n) ? num(n[i]) : 0));
}
