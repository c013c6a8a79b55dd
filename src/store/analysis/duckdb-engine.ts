/**
 * The analysis engine (engine.ts) over a DuckDB connection: `$name` parameters (arrays bound as DuckDB lists),
 * rows as objects, and streamed reads that fetch chunk by chunk.
 */
import {
  DOUBLE,
  DuckDBListVector,
  LIST,
  listValue,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
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

/**
 * A chunk's columns as values per row. List columns become plain JS arrays read from the list's flat child vector:
 * the library's per-row list values slice a vector per row (measured on 200,000 rows of 2-26 doubles: 0.72-1.1 s
 * with getColumns, 0.19-0.22 s from the child vector), and block chains (prefix-blocks.ts) are streamed this way.
 */
function chunkColumns(chunk: DuckDBDataChunk): unknown[][] {
  const out: unknown[][] = [];
  for (let c = 0; c < chunk.columnCount; c++) {
    const v = chunk.getColumnVector(c);
    if (!(v instanceof DuckDBListVector)) {
      out.push(chunk.getColumnValues(c));
      continue;
    }
    const child = v.childVector;
    const col: unknown[] = new Array(chunk.rowCount);
    for (let i = 0; i < chunk.rowCount; i++) {
      const len = v.getEntryLength(i);
      const off = v.getEntryOffset(i);
      if (len === 0 && v.getItem(i) === null) {
        col[i] = null;
        continue;
      }
      const items = new Array(len);
      for (let j = 0; j < len; j++) items[j] = child.getItem(off + j);
      col[i] = items;
    }
    out.push(col);
  }
  return out;
}

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
        const cols = chunkColumns(chunk);
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
