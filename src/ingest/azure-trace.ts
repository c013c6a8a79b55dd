/**
 * The Azure LLM inference trace (AzurePublicDataset, `TIMESTAMP,ContextTokens,GeneratedTokens`) → event inputs.
 * Streaming, over chunks.
 *
 * Timestamps look like `2023-11-16 18:17:03.9799600` (7 fractional digits, no zone: UTC) and are truncated to the
 * millisecond. The trace names no model, so the caller must name one (a NetraError otherwise, before any row).
 * event_id = `azure-` + the first 32 hex digits of sha256("<line>:<line content>"): re-importing the same file
 * yields the same ids, so nothing is stored twice. Header problems throw a NetraError; bad rows are errors naming
 * the line and field.
 */
import { NetraError } from '../errors.js';
import { sha256Hex } from '../workload/hash.js';
import { readCsvRecords } from './csv-records.js';
import { type Chunk, type IngestItem, type ItemError, preview } from './types.js';

export interface AzureTraceOptions {
  /** model the requests are attributed to (the trace has none); required */
  model: string | undefined;
  provider?: string;
  app?: string;
  environment?: string;
}

const COLUMNS = { timestamp: 'timestamp', prompt: 'contexttokens', completion: 'generatedtokens' } as const;
const AZURE_TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

export async function* parseAzureTrace(
  chunks: AsyncIterable<Chunk> | Iterable<Chunk>,
  opts: AzureTraceOptions,
): AsyncGenerator<IngestItem> {
  const model = opts.model?.trim();
  if (!model) {
    throw new NetraError(
      'VALIDATION',
      'the Azure trace names no model: pass the model the requests should be priced as (e.g. --model gpt-4o-mini)',
      { field: 'model' },
    );
  }
  let cols: { ts: number; prompt: number; completion: number; width: number } | null = null;
  for await (const rec of readCsvRecords(chunks)) {
    if (cols === null) {
      const names = rec.fields.map((f) => f.trim().toLowerCase());
      const ts = names.indexOf(COLUMNS.timestamp);
      const prompt = names.indexOf(COLUMNS.prompt);
      const completion = names.indexOf(COLUMNS.completion);
      if (ts < 0 || prompt < 0 || completion < 0) {
        throw new NetraError(
          'VALIDATION',
          `not an Azure LLM inference trace: expected the header TIMESTAMP,ContextTokens,GeneratedTokens, found ${preview(rec.fields.join(','), 120)}`,
        );
      }
      cols = { ts, prompt, completion, width: rec.fields.length };
      continue;
    }
    if (rec.error || rec.fields.length !== cols.width) {
      yield {
        line: rec.line,
        errors: [{ field: '(row)', message: rec.error ?? `expected ${cols.width} columns, found ${rec.fields.length}` }],
      };
      continue;
    }
    const errors: ItemError[] = [];
    const timestamp = parseAzureTimestamp(rec.fields[cols.ts]!);
    if (timestamp === null)
      errors.push({ field: 'timestamp', message: `not a timestamp like 2023-11-16 18:17:03.9799600: ${preview(rec.fields[cols.ts])}` });
    const prompt = tokenCell(rec.fields[cols.prompt]!, 'prompt_tokens', errors);
    const completion = tokenCell(rec.fields[cols.completion]!, 'completion_tokens', errors);
    if (errors.length > 0) {
      yield { line: rec.line, errors };
      continue;
    }
    const raw: Record<string, unknown> = {
      event_id: azureEventId(rec.line, rec.fields.join(',')),
      timestamp,
      model,
      prompt_tokens: prompt,
      completion_tokens: completion,
    };
    if (opts.provider) raw.provider = opts.provider;
    if (opts.app) raw.app = opts.app;
    if (opts.environment) raw.environment = opts.environment;
    yield { line: rec.line, raw };
  }
}

/** Deterministic id of a trace row: same file, same ids. */
export function azureEventId(line: number, content: string): string {
  return `azure-${sha256Hex(`${line}:${content}`).slice(0, 32)}`;
}

/** `2023-11-16 18:17:03.9799600` (UTC) → epoch ms, truncated; null when malformed. */
export function parseAzureTimestamp(s: string): number | null {
  const m = AZURE_TS.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  const t = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  return new Date(t).getUTCDate() === day ? t : null;
}

function tokenCell(cell: string, field: string, errors: ItemError[]): number {
  const t = cell.trim();
  const n = Number(t);
  if (t === '' || !Number.isInteger(n) || n < 0) errors.push({ field, message: `must be a whole number >= 0, got ${preview(cell)}` });
  return n;
}
