/**
 * The analysis engine (engine.ts) over a DuckDB connection: `$name` parameters (arrays bound as DuckDB lists),
 * rows as objects, and streamed reads that fetch chunk by chunk.
 */
import { listValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects } from '../duckdb-rows.js';
import { duckdb } from './dialect.js';
import type { AnalysisEngine, Params, Row } from './engine.js';

function bind(params: Params): Record<string, DuckDBValue> {
  const out: Record<string, DuckDBValue> = {};
  for (const [k, v] of Object.entries(params)) out[k] = Array.isArray(v) ? listValue([...v] as DuckDBValue[]) : (v as DuckDBValue);
  return out;
}

const turn = () => new Promise<void>((res) => setImmediate(res));

export function duckDbEngine(conn: DuckDBConnection): AnalysisEngine {
  return {
    dialect: duckdb,
    table: 'events',
    // one chunk of the caller's JS work (near-duplicate matching) blocks the event loop for tens of ms, not seconds
    defaultChunkRows: 512,
    scope: (scope) => scopeSql(scope),
    query: async (sql, params) => readObjects(await conn.runAndReadAll(sql, bind(params))) as Row[],
    async stream(sql, params, onRows, opts = {}) {
      const result = await conn.stream(sql, bind(params));
      const names = result.columnNames();
      const slice = opts.pauseEvery;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) break;
        const cols = chunk.getColumns();
        const n = chunk.rowCount;
        for (let start = 0; start < n; start += slice ?? n) {
          const end = Math.min(n, start + (slice ?? n));
          const rows: Row[] = new Array(end - start);
          for (let i = start; i < end; i++) {
            const row: Row = {};
            for (let c = 0; c < names.length; c++) row[names[c]!] = cols[c]![i];
            rows[i - start] = row;
          }
          onRows(rows);
          if (slice !== undefined) await turn();
        }
      }
    },
  };
}
