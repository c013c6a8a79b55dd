/**
 * The analysis engine (engine.ts) over a DuckDB connection: `$name` parameters (arrays bound as DuckDB lists),
 * rows as objects, and streamed reads that fetch chunk by chunk.
 */
import { DOUBLE, LIST, listValue, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { scopeSql } from '../duckdb-queries.js';
import { readObjects } from '../duckdb-rows.js';
import { duckdb } from './dialect.js';
import type { AnalysisEngine, Params, Row } from './engine.js';

type Bound = { values: Record<string, DuckDBValue>; types: Record<string, DuckDBType | undefined> };

/**
 * Parameters as DuckDB values. Lists get an explicit type: inferred from their first element, [0, 0.5] would bind as
 * INTEGER[] and fail ("number is not an integer") and [null, 3] as a list of NULLs, dropping every value.
 */
function bind(params: Params): Bound {
  const b: Bound = { values: {}, types: {} };
  for (const [k, v] of Object.entries(params)) {
    if (!Array.isArray(v)) {
      b.values[k] = v as DuckDBValue;
      continue;
    }
    b.values[k] = listValue([...v] as DuckDBValue[]);
    if (v.some((x) => typeof x === 'number')) b.types[k] = LIST(DOUBLE);
    else if (v.some((x) => typeof x === 'string')) b.types[k] = LIST(VARCHAR);
    // an empty list has no element to type it by (DuckDB refuses a list of ANY): the analyses' possibly empty lists are
    // model ids matched by a rule that names no model seen in the window
    else if (v.length === 0) b.types[k] = LIST(VARCHAR);
  }
  return b;
}

const turn = () => new Promise<void>((res) => setImmediate(res));

export function duckDbEngine(conn: DuckDBConnection): AnalysisEngine {
  return {
    dialect: duckdb,
    table: 'events',
    // one chunk of the caller's JS work (near-duplicate matching) blocks the event loop for tens of ms, not seconds
    defaultChunkRows: 512,
    scope: (scope) => scopeSql(scope),
    async query(sql, params) {
      const { values, types } = bind(params);
      return readObjects(await conn.runAndReadAll(sql, values, types)) as Row[];
    },
    async stream(sql, params, onRows, opts = {}) {
      const { values, types } = bind(params);
      const result = await conn.stream(sql, values, types);
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
