/**
 * Streaming NDJSON / JSONL: one JSON value per line. Yields `{ line, raw }` for each parsed line and
 * `{ line, errors }` for a malformed one (line numbers are 1-based and count blank lines, which are skipped).
 * Never throws on bad data; memory stays bounded by the chunk size and the longest line.
 *
 * `parseNdjsonBatches` yields the items of each chunk as one array (the ingest pipeline takes either form); it
 * saves an async hop per line, which is most of the cost besides JSON.parse.
 */
import { type TextLine, readLineBatches } from './text-lines.js';
import type { Chunk, IngestItem } from './types.js';
import { parseJsonSafe } from './safe-json.js';

export interface NdjsonOptions {
  /** lines longer than this are rejected without being buffered (default 8 Mi characters) */
  maxLineChars?: number;
}

export async function* parseNdjsonBatches(
  chunks: AsyncIterable<Chunk> | Iterable<Chunk>,
  opts: NdjsonOptions = {},
): AsyncGenerator<IngestItem[]> {
  for await (const lines of readLineBatches(chunks, opts)) {
    const items: IngestItem[] = [];
    for (const l of lines) {
      const item = parseLine(l);
      if (item !== null) items.push(item);
    }
    if (items.length > 0) yield items;
  }
}

export async function* parseNdjson(chunks: AsyncIterable<Chunk> | Iterable<Chunk>, opts: NdjsonOptions = {}): AsyncGenerator<IngestItem> {
  for await (const batch of parseNdjsonBatches(chunks, opts)) yield* batch;
}

function parseLine(l: TextLine): IngestItem | null {
  if (l.tooLong) return { line: l.line, errors: [{ field: '(json)', message: 'line too long: not parsed' }] };
  const text = l.text;
  if (isBlank(text)) return null;
  try {
    return { line: l.line, raw: parseJsonSafe(text) };
  } catch (err) {
    return { line: l.line, errors: [{ field: '(json)', message: `malformed JSON: ${(err as Error).message}` }] };
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
