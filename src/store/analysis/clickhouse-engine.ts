/**
 * The analysis engine (engine.ts) over a ClickHouse executor (HTTP or chdb): `{name:Type}` parameters and
 * JSONEachRow rows. Streamed chunks are handed over as the executor delivers them (`pauseEvery` is for engines
 * whose reads share the event loop; ClickHouse's run elsewhere).
 */
import type { ClickHouseExecutor } from '../clickhouse-executor.js';
import { scopeSql } from '../clickhouse-queries.js';
import { clickhouse } from './dialect.js';
import type { AnalysisEngine } from './engine.js';

export function clickHouseEngine(ex: ClickHouseExecutor, table: string): AnalysisEngine {
  return {
    dialect: clickhouse,
    table,
    defaultChunkRows: 8192,
    scope: scopeSql,
    query: (sql, params) => ex.query(sql, params),
    stream: (sql, params, onRows) => ex.stream(sql, params, onRows),
  };
}
