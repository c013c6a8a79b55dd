/**
 * Shapes shared by every ingestion parser and the ingest pipeline.
 *
 * A parser turns its input (a JSON body, NDJSON/CSV chunks, OTLP spans, OpenAI logs) into `IngestItem`s: either a raw
 * event input (validated later, in one place, by the pipeline) or the errors that made the row unreadable. Each item
 * carries its position: `index` (0-based, for items of one request body) or `line` (1-based, for files and streams).
 */

/** A problem with one field of one row; `field` is '(event)' / '(json)' / '(row)' when it is about the whole row. */
export interface ItemError {
  field: string;
  message: string;
}

export type ItemPosition = { index: number; line?: undefined } | { line: number; index?: undefined };

/** A row a parser could read: `raw` is an event input for `normalizeEvent` (not yet validated). */
export type RawEventItem = ItemPosition & { raw: unknown; errors?: undefined };
/** A row a parser could not read (malformed JSON line, bad CSV value, wrong column count...). */
export type FailedItem = ItemPosition & { errors: readonly ItemError[]; raw?: undefined };

export type IngestItem = RawEventItem | FailedItem;

/** Result of a whole-body parser: the items, or one clear message when the top-level shape is wrong. */
export type BodyParseResult<Extra = object> = ({ ok: true; items: IngestItem[] } & Extra) | { ok: false; message: string };

/** A chunk of a byte or text stream, as fs.createReadStream or an HTTP request yields them. */
export type Chunk = Uint8Array | string;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Short, safe rendering of a bad value for an error message. */
export function preview(v: unknown, max = 60): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max)}...` : s;
}
