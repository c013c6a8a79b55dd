/**
 * Reading DuckDB results back into domain shapes: rows selected with EVENT_SELECT_LIST become WorkloadEvents,
 * and aggregate values (BIGINT/HUGEINT come back as bigint) become plain JS numbers.
 */
import type { DuckDBResultReader, JS } from '@duckdb/node-api';
import { EVENT_COLUMNS, type WorkloadEvent } from '../workload/event.js';

/** A JS number from whatever DuckDB returned for a numeric column (number, bigint, null). */
export function toNumber(v: JS | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v == null) return 0;
  return Number(v);
}

export function toNumberOrNull(v: JS | undefined): number | null {
  return v == null ? null : toNumber(v);
}

function parseTags(v: JS | undefined): Record<string, string> {
  if (v == null) return {};
  if (typeof v === 'string') return JSON.parse(v) as Record<string, string>;
  return v as unknown as Record<string, string>;
}

/** Converts rows selected with EVENT_SELECT_LIST (EVENT_COLUMNS order) into WorkloadEvents. */
export function readEvents(reader: DuckDBResultReader): WorkloadEvent[] {
  const rows = reader.getRowsJS();
  const tagsIdx = EVENT_COLUMNS.indexOf('tags');
  const out: WorkloadEvent[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const e: Record<string, unknown> = {};
    for (let c = 0; c < EVENT_COLUMNS.length; c++) {
      const v = row[c];
      e[EVENT_COLUMNS[c]!] = c === tagsIdx ? parseTags(v) : typeof v === 'bigint' ? Number(v) : (v ?? null);
    }
    out[r] = e as unknown as WorkloadEvent;
  }
  return out;
}

/** Rows as objects keyed by column name (for small aggregate results). */
export function readObjects(reader: DuckDBResultReader): Record<string, JS>[] {
  return reader.getRowObjectsJS();
}
