/**
 * The events that carry a prompt block chain, oldest first, streamed to the prompt-cache simulation
 * (optimize/prompt-cache-simulation.ts) in chunks, and every event's prompt tokens per (app, model) (the denominator
 * of the cacheable share). The simulation is a trie walk per event in JS: keyed by whole prefixes, with a TTL
 * refreshed on use, it is not a window function.
 */
import type { PrefixBlockRow, PrefixBlockScan, PromptTokenTotal } from '../../../optimize/ports/cache.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { num, sqlFor, str, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';
import { chunkRowsOf, streamInChunks } from '../chunked-scan.js';

export const PREFIX_BLOCKS_SQL: EngineSql = {
  duckdb: ({ where, t, d }) => `SELECT event_id, (${d.epochUs} / 1000)::DOUBLE AS ts_ms, app, model, status,
      prompt_tokens::DOUBLE AS prompt_tokens, cached_prompt_tokens::DOUBLE AS cached_prompt_tokens, cost_usd,
      prefix_block_size::DOUBLE AS block_size, prefix_block_hashes AS hashes
    FROM ${t} WHERE ${where} AND prefix_block_hashes IS NOT NULL AND prefix_block_size IS NOT NULL
    ORDER BY "timestamp", event_id`,
  clickhouse: ({ where, t, d }) => `SELECT event_id, ${d.epochUs} / 1000 AS ts_ms, app, model, status,
      toFloat64(prompt_tokens) AS prompt_tokens, toFloat64(cached_prompt_tokens) AS cached_prompt_tokens, cost_usd,
      toFloat64(prefix_block_size) AS block_size, prefix_block_hashes AS hashes
    FROM ${t} WHERE ${where} AND notEmpty(prefix_block_hashes) AND prefix_block_size IS NOT NULL
    ORDER BY "timestamp", event_id`,
};

export const PROMPT_TOKEN_TOTALS_SQL: EngineSql = {
  duckdb: ({ where, t }) => `SELECT app, model, count(*)::DOUBLE AS n, coalesce(sum(prompt_tokens), 0)::DOUBLE AS prompt_tokens
    FROM ${t} WHERE ${where} GROUP BY app, model ORDER BY app, model`,
  clickhouse: ({ where, t }) => `SELECT app, model, toFloat64(count()) AS n, toFloat64(sum(prompt_tokens)) AS prompt_tokens
    FROM ${t} WHERE ${where} GROUP BY app, model ORDER BY app, model`,
};

const toRow = (r: Row): PrefixBlockRow => ({
  event_id: r.event_id as string,
  timestamp: num(r.ts_ms),
  app: r.app as string,
  model: r.model as string,
  status: r.status as 'ok' | 'error',
  prompt_tokens: num(r.prompt_tokens),
  cached_prompt_tokens: num(r.cached_prompt_tokens),
  cost_usd: num(r.cost_usd),
  block_size: num(r.block_size),
  hashes: listNumbers(r.hashes),
});

/** A list column: a JS array (ClickHouse JSON) or DuckDB's list value (streamed chunks hold DuckDB values). */
function listNumbers(v: unknown): number[] {
  if (Array.isArray(v)) return v as number[];
  const items = (v as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? (items as number[]) : [];
}

export async function scanPrefixBlocks(
  engine: AnalysisEngine,
  scope: AnalysisScope,
  onRows: (rows: PrefixBlockRow[]) => void,
  opts: { chunk_rows?: number; totals?: boolean } = {},
): Promise<PrefixBlockScan> {
  const chunkRows = chunkRowsOf(engine, opts, Math.max(engine.defaultChunkRows, 4096));
  const { where, params } = engine.scope(scope);
  const totals: PromptTokenTotal[] =
    opts.totals === false
      ? []
      : (await engine.query(sqlFor(engine, PROMPT_TOKEN_TOTALS_SQL, where, undefined), params)).map((r) => ({
          app: str(r.app),
          model: str(r.model),
          events: num(r.n),
          prompt_tokens: num(r.prompt_tokens),
        }));
  const query = sqlFor(engine, PREFIX_BLOCKS_SQL, where, undefined);
  const total = await streamInChunks(engine, query, params, toRow, onRows, chunkRows);
  return { rows: total, totals, query };
}
