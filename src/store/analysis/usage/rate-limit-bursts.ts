/** 429s per app and minute: minutes with any, bursts (>= RATE_LIMIT_BURST_MIN_PER_MINUTE) and the busiest minute. */
import { RATE_LIMIT_BURST_MIN_PER_MINUTE, type RateLimitRow, type UsageResult } from '../../../optimize/ports/usage.js';
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import { num, selectRows, str, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

/** peak_minute is epoch ms; among minutes with the peak count DuckDB picks any, ClickHouse the earliest. */
export const RATE_LIMIT_SQL: EngineSql = {
  duckdb: ({ where, t }) => `WITH per_minute AS (
  SELECT app, date_trunc('minute', "timestamp") AS minute, count(*) AS n
  FROM ${t} WHERE ${where} AND http_status = 429
  GROUP BY ALL
)
SELECT app,
  sum(n)::DOUBLE AS n_429,
  count(*)::DOUBLE AS minutes_with_429,
  count(*) FILTER (WHERE n >= $burst_min)::DOUBLE AS burst_minutes,
  max(n)::DOUBLE AS peak_per_minute,
  epoch_ms(arg_max(minute, n))::DOUBLE AS peak_minute
FROM per_minute
GROUP BY app
ORDER BY n_429 DESC, app`,

  clickhouse: ({ where, t, d }) => `WITH per_minute AS (
  SELECT app, intDiv(${d.epochUs}, 60000000) AS minute, count() AS n
  FROM ${t} WHERE ${where} AND http_status = 429
  GROUP BY app, minute
)
SELECT app,
  toFloat64(sum(n)) AS n_429,
  toFloat64(count()) AS minutes_with_429,
  toFloat64(countIf(n >= {burst_min:UInt32})) AS burst_minutes,
  toFloat64(max(n)) AS peak_per_minute,
  toFloat64(argMax(minute, (n, -minute)) * 60000) AS peak_minute
FROM per_minute
GROUP BY app
ORDER BY n_429 DESC, app`,
};

const toRow = (r: Row): RateLimitRow => ({
  app: str(r.app),
  rate_limited: num(r.n_429),
  minutes_with_429: num(r.minutes_with_429),
  burst_minutes: num(r.burst_minutes),
  peak_per_minute: num(r.peak_per_minute),
  peak_minute: num(r.peak_minute),
});

export function rateLimitBursts(engine: AnalysisEngine, scope: AnalysisScope): Promise<UsageResult<RateLimitRow>> {
  return selectRows(engine, scope, RATE_LIMIT_SQL, undefined, { burst_min: RATE_LIMIT_BURST_MIN_PER_MINUTE }, toRow);
}
