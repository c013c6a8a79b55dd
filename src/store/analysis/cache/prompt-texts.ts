/**
 * The events that carry prompt_text, oldest first, streamed to the semantic-cache pass in chunks of `chunk_rows`
 * (engine default when not given). The caller's work per chunk is synchronous JS (near-duplicate matching): the
 * engine pauses between chunks where its reads share the event loop.
 */
import type { PromptTextRow, PromptTextScan } from '../../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { num, sqlFor, strOrNull, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';
import { chunkRowsOf, streamInChunks } from '../chunked-scan.js';

export const PROMPT_TEXTS_SQL: EngineSql = {
  duckdb: ({
    where,
    t,
    d,
  }) => `SELECT event_id, (${d.epochUs} / 1000)::DOUBLE AS ts_ms, app, model, prompt_hash, prompt_text, cost_usd, status
    FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL
    ORDER BY "timestamp", event_id`,
  clickhouse: ({ where, t, d }) => `SELECT event_id, ${d.epochUs} / 1000 AS ts_ms, app, model, prompt_hash, prompt_text, cost_usd, status
    FROM ${t} WHERE ${where} AND prompt_text IS NOT NULL
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
  status: r.status as 'ok' | 'error',
});

export async function scanPromptTexts(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  onRows: (rows: PromptTextRow[]) => void,
  opts: { chunk_rows?: number } = {},
): Promise<PromptTextScan> {
  const chunkRows = chunkRowsOf(engine, opts);
  const { where, params } = engine.scope(scope);
  const query = sqlFor(engine, PROMPT_TEXTS_SQL, where, undefined);
  const total = await streamInChunks(engine, query, params, toRow, onRows, chunkRows);
  return { rows: total, query };
}
