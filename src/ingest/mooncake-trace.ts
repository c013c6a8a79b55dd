/**
 * The Mooncake trace format (kvcache-ai/Mooncake's FAST'25 traces) → event inputs. Streaming, over JSON lines:
 * `{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, ...]}`.
 *
 * - `timestamp` is milliseconds since the start of the trace: the caller gives the start (an ISO time or epoch ms);
 * - `input_length` / `output_length` are the prompt and completion tokens;
 * - `hash_ids` are the prompt's 512-token blocks (the last one may be partial), equal ids meaning the same block after
 *   the same prefix: they become the event's prefix_block_hashes with prefix_block_size 512, so the prompt-caching
 *   analysis simulates the provider cache over them.
 * The trace names no model, so the caller names one (a NetraError otherwise, before any row). event_id =
 * `mooncake-` + the first 32 hex digits of sha256("<line>:<line content>"): re-importing the same file stores nothing
 * twice. Bad rows are errors naming the line and field; the mapping is in docs/EVENTS.md.
 */
import { NetraError } from '../errors.js';
import { sha256Hex } from '../workload/hash.js';
import { MAX_PREFIX_BLOCKS } from '../workload/prefix-blocks.js';
import { parseNdjson } from './ndjson.js';
import { type Chunk, type IngestItem, type ItemError, isPlainObject, preview } from './types.js';

/** Tokens per hash_ids block in the Mooncake traces. */
export const MOONCAKE_BLOCK_TOKENS = 512;

export interface MooncakeTraceOptions {
  /** the model the requests are attributed to (the trace has none); required */
  model: string | undefined;
  /** the trace's time zero: ISO 8601 or epoch ms; required */
  start: string | number | undefined;
  provider?: string;
  app?: string;
  environment?: string;
}

/** The start option as epoch ms, or a NetraError naming `start`. */
export function mooncakeStart(start: string | number | undefined): number {
  const t = typeof start === 'number' ? start : typeof start === 'string' && start.trim() !== '' ? Date.parse(start) : Number.NaN;
  if (start === undefined || start === '')
    throw new NetraError(
      'VALIDATION',
      'a Mooncake trace has relative timestamps: pass the time its first millisecond stands for (e.g. --start 2026-11-01T00:00:00Z)',
      { field: 'start' },
    );
  if (!Number.isFinite(t))
    throw new NetraError('VALIDATION', `start ${preview(start)} is not an ISO 8601 time or epoch milliseconds`, { field: 'start' });
  return t;
}

const count = (v: unknown, field: string, errors: ItemError[]): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    errors.push({ field, message: `must be a whole number >= 0, got ${preview(v)}` });
  return v as number;
};

/** One parsed Mooncake line → a raw event input, or the errors naming its fields. */
export function mooncakeRowToEventInput(
  row: Record<string, unknown>,
  line: number,
  content: string,
  start: number,
  opts: Omit<MooncakeTraceOptions, 'start'> & { model: string },
): { raw: Record<string, unknown> } | { errors: ItemError[] } {
  const errors: ItemError[] = [];
  const ts = row.timestamp;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0)
    errors.push({ field: 'timestamp', message: `must be milliseconds >= 0 since the trace start, got ${preview(ts)}` });
  const input = count(row.input_length, 'input_length', errors);
  const output = count(row.output_length, 'output_length', errors);
  const ids = row.hash_ids;
  if (!Array.isArray(ids)) errors.push({ field: 'hash_ids', message: `must be an array of block ids, got ${preview(ids)}` });
  else if (ids.length > MAX_PREFIX_BLOCKS)
    errors.push({ field: 'hash_ids', message: `at most ${MAX_PREFIX_BLOCKS} blocks, got ${ids.length}` });
  else if (!ids.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0))
    errors.push({ field: 'hash_ids', message: 'must be whole numbers >= 0' });
  if (errors.length > 0) return { errors };
  const raw: Record<string, unknown> = {
    event_id: `mooncake-${sha256Hex(`${line}:${content}`).slice(0, 32)}`,
    timestamp: start + (ts as number),
    model: opts.model,
    prompt_tokens: input,
    completion_tokens: output,
  };
  if ((ids as number[]).length > 0) {
    raw.prefix_block_hashes = ids;
    raw.prefix_block_size = MOONCAKE_BLOCK_TOKENS;
  }
  if (opts.provider) raw.provider = opts.provider;
  if (opts.app) raw.app = opts.app;
  if (opts.environment) raw.environment = opts.environment;
  return { raw };
}

export async function* parseMooncakeTrace(
  chunks: AsyncIterable<Chunk> | Iterable<Chunk>,
  opts: MooncakeTraceOptions,
): AsyncGenerator<IngestItem> {
  const model = opts.model?.trim();
  if (!model) {
    throw new NetraError(
      'VALIDATION',
      'a Mooncake trace names no model: pass the model the requests should be priced as (e.g. --model gpt-4o-mini)',
      { field: 'model' },
    );
  }
  const start = mooncakeStart(opts.start);
  for await (const item of parseNdjson(chunks)) {
    if (item.errors !== undefined) {
      yield item;
      continue;
    }
    const line = item.line!;
    if (!isPlainObject(item.raw)) {
      yield { line, errors: [{ field: '(row)', message: 'must be a JSON object' }] };
      continue;
    }
    const r = mooncakeRowToEventInput(item.raw, line, JSON.stringify(item.raw), start, { ...opts, model });
    yield 'raw' in r ? { line, raw: r.raw } : { line, errors: r.errors };
  }
}
