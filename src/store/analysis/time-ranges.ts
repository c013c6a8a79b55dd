/**
 * Sub-ranges of a scope's window as SQL: the sampled slices of the semantic-cache passes (analysis and replay), bound
 * as epoch-µs parameters r<i>_from, r<i>_to so one statement reads them all.
 */
import type { TimeRange } from '../../optimize/ports/cache.js';
import type { Dialect } from './dialect.js';
import type { Params } from './engine.js';

/** ` AND (the event's time is in one of `n` bound ranges)`, or nothing for n = 0. */
export function inRanges(d: Dialect, n: number): string {
  if (n === 0) return '';
  return ` AND (${rangeConditions(d, n).join(' OR ')})`;
}

/** One condition per bound range r<i>_from <= epoch µs < r<i>_to. */
export function rangeConditions(d: Dialect, n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `(${d.epochUs} >= ${d.param(`r${i}_from`, 'Int64')} AND ${d.epochUs} < ${d.param(`r${i}_to`, 'Int64')})`,
  );
}

/** The ranges' bounds as epoch-µs parameters (names as rangeConditions gives them). */
export function rangeParams(d: Dialect, ranges: readonly TimeRange[]): Params {
  const p: Params = {};
  ranges.forEach((r, i) => {
    p[`r${i}_from`] = d.int64(Math.round(r.from * 1000));
    p[`r${i}_to`] = d.int64(Math.round(r.to * 1000));
  });
  return p;
}
