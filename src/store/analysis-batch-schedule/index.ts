/**
 * The scheduled-traffic query (ports/batch-schedule.ts) in both engines' SQL, side by side, read back by one converter.
 * Hours and days are computed from epoch milliseconds in both engines (UTC whatever the server's time zone).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BatchScheduleQueries, ScheduledHourRow } from '../../optimize/ports/batch-schedule.js';
import { scopeSql as chScopeSql } from '../clickhouse-queries.js';
import type { ClickHouseExecutor } from '../clickhouse-executor.js';
import { scopeSql as duckScopeSql } from '../duckdb-queries.js';
import { readObjects } from '../duckdb-rows.js';

/** The ClickHouse store's read path: its executor and events table. */
type ChRunRead = <T>(kind: string, fn: (ex: ClickHouseExecutor, table: string) => Promise<T>) => Promise<T>;

/** The DuckDB store's read path: a connection of its read queue (pending appends committed first). */
type RunRead = <T>(kind: string, fn: (conn: DuckDBConnection) => Promise<T>) => Promise<T>;

export const SCHEDULED_TRAFFIC_DUCKDB = (where: string): string => `SELECT app, model,
  ((epoch_ms("timestamp") // 3600000) % 24)::DOUBLE AS hour_of_day,
  count(*)::DOUBLE AS n_events,
  coalesce(fsum(cost_usd), 0)::DOUBLE AS spend,
  coalesce(sum(latency_ms), 0)::DOUBLE AS latency_sum,
  count(latency_ms)::DOUBLE AS latency_n,
  count(DISTINCT epoch_ms("timestamp") // 86400000)::DOUBLE AS n_days,
  min(event_id) AS sample_id
FROM events
WHERE ${where} AND end_user IS NULL AND session_id IS NULL AND stream IS NOT TRUE
  AND NOT coalesce(regexp_matches(tags::VARCHAR, '"latency_class":'), false)
GROUP BY app, model, hour_of_day`;

export const SCHEDULED_TRAFFIC_CLICKHOUSE = (table: string, where: string): string => `SELECT app, model,
  toFloat64(intDiv(toUnixTimestamp64Milli("timestamp"), 3600000) % 24) AS hour_of_day,
  toFloat64(count()) AS n_events,
  sumKahan(cost_usd) AS spend,
  toFloat64(sum(ifNull(latency_ms, 0))) AS latency_sum,
  toFloat64(count(latency_ms)) AS latency_n,
  toFloat64(uniqExact(intDiv(toUnixTimestamp64Milli("timestamp"), 86400000))) AS n_days,
  min(event_id) AS sample_id
FROM ${table}
WHERE ${where} AND end_user IS NULL AND session_id IS NULL AND NOT ifNull(stream, false)
  AND NOT ifNull(position(tags, '"latency_class":') > 0, false)
GROUP BY app, model, hour_of_day`;

const num = (v: unknown): number => (typeof v === 'number' ? v : v == null ? 0 : Number(v));

/** The one converter (same aliases in both engines), in a fixed order: app, model, hour. */
export function scheduledRows(raw: Record<string, unknown>[]): ScheduledHourRow[] {
  return raw
    .map((r) => ({
      app: String(r.app),
      model: String(r.model),
      hour_of_day: num(r.hour_of_day),
      events: num(r.n_events),
      spend_usd: num(r.spend),
      latency_sum_ms: num(r.latency_sum),
      latency_events: num(r.latency_n),
      days: num(r.n_days),
      sample_event_id: String(r.sample_id ?? ''),
    }))
    .sort((a, b) =>
      a.app < b.app ? -1 : a.app > b.app ? 1 : a.model < b.model ? -1 : a.model > b.model ? 1 : a.hour_of_day - b.hour_of_day,
    );
}

export function duckDbBatchScheduleQueries(run: RunRead): BatchScheduleQueries {
  return {
    scheduledTraffic(scope) {
      return run('scheduled_traffic', async (conn) => {
        const { where, params } = duckScopeSql(scope);
        const sql = SCHEDULED_TRAFFIC_DUCKDB(where);
        return { rows: scheduledRows(readObjects(await conn.runAndReadAll(sql, params)) as Record<string, unknown>[]), sql };
      });
    },
  };
}

export function clickHouseBatchScheduleQueries(run: ChRunRead): BatchScheduleQueries {
  return {
    scheduledTraffic(scope) {
      return run('scheduled_traffic', async (ex, table) => {
        const { where, params } = chScopeSql(scope);
        const sql = SCHEDULED_TRAFFIC_CLICKHOUSE(table, where);
        return { rows: scheduledRows(await ex.query<Record<string, unknown>>(sql, params)), sql };
      });
    },
  };
}
