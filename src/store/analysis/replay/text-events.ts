/** The text-bearing events in timestamp order (ties by event_id), with the model that serves each after routing. */
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import type { TimeRange } from '../../../optimize/ports/cache.js';
import type { ReplayPlan, ReplayTextRow } from '../../../optimize/ports/replay.js';
import { num, sqlFor, strOrNull, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';
import { inRanges, rangeParams } from '../time-ranges.js';
import { routedModelSql } from './match.js';

/** `ranges`: how many sub-ranges of the window to read (time-ranges.ts; 0: the whole window). */
export const REPLAY_TEXT_SQL: EngineSql<{ rule: string; model: string; ranges: number }> = {
  duckdb: ({ where, t, d }, routed) => `SELECT event_id, ts_ms, ${routed.model} AS pmodel, prompt_hash, prompt_text FROM (
       SELECT event_id, ${d.epochUs}::DOUBLE / 1000 AS ts_ms, "timestamp" AS t, model, prompt_hash, prompt_text, ${routed.rule} AS rule
       FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL${inRanges(d, routed.ranges)})
     ORDER BY t, event_id`,
  clickhouse: (
    { where, t, d },
    routed,
  ) => `SELECT event_id, ts_us / 1000 AS ts_ms, ${routed.model} AS pmodel, prompt_hash, prompt_text FROM (
       SELECT event_id, ${d.epochUs} AS ts_us, model, prompt_hash, prompt_text, ${routed.rule} AS rule
       FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL${inRanges(d, routed.ranges)})
     ORDER BY ts_us, event_id`,
};

const toRow = (r: Row): ReplayTextRow => ({
  event_id: r.event_id as string,
  timestamp: num(r.ts_ms),
  model: r.pmodel as string,
  prompt_hash: strOrNull(r.prompt_hash),
  prompt_text: r.prompt_text as string,
});

export async function replayTextEvents(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  routing: ReplayPlan['routing'],
  onBatch: (rows: ReplayTextRow[]) => void,
  ranges: readonly TimeRange[] = [],
): Promise<number> {
  const { where, params } = engine.scope(scope);
  const routed = routedModelSql(engine.dialect, routing, params);
  Object.assign(params, rangeParams(engine.dialect, ranges));
  let n = 0;
  await engine.stream(sqlFor(engine, REPLAY_TEXT_SQL, where, { ...routed, ranges: ranges.length }), params, (chunk) => {
    const rows = chunk.map(toRow);
    n += rows.length;
    onBatch(rows);
  });
  return n;
}
