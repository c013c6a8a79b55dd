/**
 * The events that carry prompt_text, oldest first, streamed to the semantic-cache pass in chunks of `chunk_rows`
 * (engine default when not given). The caller's work per chunk is synchronous JS (near-duplicate matching): the
 * engine pauses between chunks where its reads share the event loop.
 */
import type { PromptTextRow, PromptTextScan, PromptTextScanOptions } from '../../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { num, sqlFor, strOrNull, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';
import { inRanges, rangeParams } from '../time-ranges.js';
import { chunkRowsOf, streamInChunks } from '../chunked-scan.js';

/** `ranges`: the number of [from, to) ranges bound as r<i>_from, r<i>_to (epoch µs); 0: the whole scope. */
export const PROMPT_TEXTS_SQL: EngineSql<{ ranges: number }> = {
  duckdb: (
    { where, t, d },
    { ranges },
  ) => `SELECT event_id, (${d.epochUs} / 1000)::DOUBLE AS ts_ms, app, model, prompt_hash, prompt_text, cost_usd, status = 'ok' AS ok
    FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL${inRanges(d, ranges)}
    ORDER BY "timestamp", event_id`,
  clickhouse: (
    { where, t, d },
    { ranges },
  ) => `SELECT event_id, ${d.epochUs} / 1000 AS ts_ms, app, model, prompt_hash, prompt_text, cost_usd, status = 'ok' AS ok
    FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL${inRanges(d, ranges)}
    ORDER BY "timestamp", event_id`,
};

const toRow = (r: Row): PromptTextRow => ({
  event_id: r.event_id as string,
  timestamp: num(r.ts_ms),
  app: r.app as string,
  model: r.model as string,
  prompt_hash: strOrNull(r.prompt_hash),
  prompt_text: r.prompt_text as string,
  cost_usd: num(r.cost_usd),
  // a flag, not the status text: one string fewer to decode per row (statuses are 'ok' and 'error' only)
  status: r.ok === true || r.ok === 1 ? 'ok' : 'error',
});

export async function scanPromptTexts(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  onRows: (rows: PromptTextRow[]) => void,
  opts: PromptTextScanOptions = {},
): Promise<PromptTextScan> {
  const chunkRows = chunkRowsOf(engine, opts);
  const ranges = opts.ranges ?? [];
  const { where, params } = engine.scope(scope);
  const query = sqlFor(engine, PROMPT_TEXTS_SQL, where, { ranges: ranges.length });
  const total = await streamInChunks(engine, query, { ...params, ...rangeParams(engine.dialect, ranges) }, toRow, onRows, chunkRows);
  return { rows: total, query };
}
