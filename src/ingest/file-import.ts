/**
 * Imports an event file through the ingest pipeline, streaming it from disk (memory stays bounded whatever the size)
 * and reporting bytes read for a progress bar. Formats: `jsonl` (NDJSON events), `openai-jsonl` (NDJSON of OpenAI
 * log envelopes), `csv` (with an optional column mapping) and `azure-trace` (the Azure LLM inference trace; needs
 * `model`). Row positions in errors are 1-based line numbers.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { NetraError } from '../errors.js';
import { parseAzureTrace } from './azure-trace.js';
import { type CsvHeaderInfo, parseCsv } from './csv.js';
import { parseNdjson, parseNdjsonBatches } from './ndjson.js';
import { openAiLogToEventInput } from './openai-log.js';
import type { IngestProgress, IngestResult, IngestSource, Ingestor } from './pipeline.js';
import type { Chunk, IngestItem } from './types.js';

export const IMPORT_FORMATS = ['jsonl', 'openai-jsonl', 'csv', 'azure-trace'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportOptions {
  format: ImportFormat;
  workspace: string;
  /** azure-trace: the model the requests are priced as (required there) */
  model?: string;
  /** azure-trace: optional provider, app and environment for every row */
  provider?: string;
  app?: string;
  environment?: string;
  /** csv: `{ <netra field>: <csv column> }` */
  mapping?: Readonly<Record<string, string>>;
  /** csv: told which columns map to which fields, and which are ignored */
  onHeader?: (info: CsvHeaderInfo) => void;
  batchSize?: number;
  /** stops the import between batches (the ingest pipeline's `signal`) */
  signal?: AbortSignal;
}

export interface ImportProgress extends IngestProgress {
  bytesRead: number;
  totalBytes: number;
}

export interface ImportResult extends IngestResult {
  format: ImportFormat;
  bytes: number;
}

export async function importFile(
  path: string,
  opts: ImportOptions,
  ingestor: Ingestor,
  onProgress?: (p: ImportProgress) => void,
): Promise<ImportResult> {
  let totalBytes: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new NetraError('VALIDATION', `not a file: ${path}`);
    totalBytes = s.size;
  } catch (err) {
    if (err instanceof NetraError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NetraError('NOT_FOUND', `file not found: ${path}`);
    throw err;
  }

  let bytesRead = 0;
  async function* counted(): AsyncGenerator<Chunk> {
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      yield chunk;
    }
  }

  const items = itemsFor(counted(), opts);
  const result = await ingestor.ingest(opts.workspace, items, {
    batchSize: opts.batchSize,
    signal: opts.signal,
    onProgress: onProgress ? (p) => onProgress({ ...p, bytesRead, totalBytes }) : undefined,
  });
  return { ...result, format: opts.format, bytes: bytesRead };
}

function itemsFor(chunks: AsyncIterable<Chunk>, opts: ImportOptions): IngestSource {
  switch (opts.format) {
    case 'jsonl':
      return parseNdjsonBatches(chunks);
    case 'openai-jsonl':
      return openAiLines(chunks);
    case 'csv':
      return parseCsv(chunks, { mapping: opts.mapping, onHeader: opts.onHeader });
    case 'azure-trace':
      return parseAzureTrace(chunks, { model: opts.model, provider: opts.provider, app: opts.app, environment: opts.environment });
    default:
      throw new NetraError('VALIDATION', `unknown format '${String(opts.format)}' (use ${IMPORT_FORMATS.join(', ')})`, { field: 'format' });
  }
}

async function* openAiLines(chunks: AsyncIterable<Chunk>): AsyncGenerator<IngestItem> {
  for await (const item of parseNdjson(chunks)) {
    if (item.errors !== undefined) {
      yield item;
      continue;
    }
    const r = openAiLogToEventInput(item.raw);
    yield r.ok ? { line: item.line!, raw: r.raw } : { line: item.line!, errors: [{ field: r.field, message: r.message }] };
  }
}
