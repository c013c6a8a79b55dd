/**
 * DuckDB: sample event ids picked by row id, named at the end. An aggregate like arg_min(event_id, ts, 3) reads the
 * event_id of every row it sees (unique strings: nothing for the column's compression to share) and copies strings
 * through its heap; with the row id as the payload it is an integer heap, and the ids are looked up once for the few
 * rows picked (one semi-join scan of event_id). Measured on the batch-candidates query (per-minute groups): 10M
 * events 1.53–1.93 s CPU before, 1.27–1.42 s after; 1M 146–248 ms before, 133–180 after (docs/BENCHMARKS.md).
 *
 * Row ids are stable within one statement, so the lookup names exactly the rows the aggregate picked.
 */

/**
 * `grouped`: a query (no ORDER BY) whose column `rows` is a list of row ids (e.g. arg_min(rowid, ts, 3)). Returns it
 * with `rows` replaced by `ids`, the event ids of those rows in the list's order (NULL where the list is NULL or
 * empty), ordered by `orderBy`.
 */
export function sampleIdsByRow(grouped: string, t: string, rows: string, ids: string, orderBy: string): string {
  return `WITH g AS MATERIALIZED (SELECT *, row_number() OVER () AS g_id FROM (${grouped})),
  picked AS MATERIALIZED (SELECT g_id, unnest(${rows}) AS rid, generate_subscripts(${rows}, 1) AS pos FROM g),
  named AS (
    SELECT g_id, list(e.event_id ORDER BY pos) AS ${ids}
    FROM picked JOIN (SELECT rowid AS rid, event_id FROM ${t} WHERE rowid IN (SELECT rid FROM picked)) e USING (rid)
    GROUP BY g_id
  )
SELECT g.* EXCLUDE (${rows}, g_id), named.${ids} FROM g LEFT JOIN named USING (g_id)
ORDER BY ${orderBy}`;
}
