/**
 * Imports an event file through the ingest pipeline, streaming it from disk (memory stays bounded whatever the size)
 * and reporting bytes read for a progress bar. Formats: `jsonl` (NDJSON events), `openai-jsonl` (NDJSON of OpenAI
 * log envelopes), `csv` (with an optional column mapping), `azure-trace` (the Azure LLM inference trace; needs
 * `model`) and `mooncake` (Mooncake trace JSON lines with 512-token block hashes; needs `model` and `start`). Row positions in errors are 1-based line numbers.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { NetraError } from '../errors.js';
import { parseAzureTrace } from './azure-trace.js';
import { parseMooncakeTrace } from './mooncake-trace.js';
import { type CsvHeaderInfo, parseCsv } from './csv.js';
import { parseNdjson, parseNdjsonBatches } from './ndjson.js';
import { openAiLogToEventInput } from './openai-log.js';
import type { IngestProgress, IngestResult, IngestSource, Ingestor } from './pipeline.js';
import {
  isLangfuseGeneration,
  langfuseObservations,
  langfuseObservationToEventInput,
  litellmCsvItems,
  litellmRows,
  litellmRowToEventInput,
} from './tool-imports.js';
import { type Chunk, type IngestItem, isPlainObject } from './types.js';

export const IMPORT_FORMATS = ['jsonl', 'openai-jsonl', 'csv', 'azure-trace', 'mooncake', 'litellm', 'langfuse'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportOptions {
  format: ImportFormat;
  workspace: string;
  /** azure-trace, mooncake: the model the requests are priced as (required there) */
  model?: string;
  /** mooncake: the time the trace's relative timestamps count from (ISO 8601 or epoch ms; required there) */
  start?: string | number;
  /** azure-trace, mooncake: optional provider, app and environment for every row */
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

  const items =
    opts.format === 'litellm' || opts.format === 'langfuse'
      ? await toolItems(path, opts.format, totalBytes, counted)
      : itemsFor(counted(), opts);
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
    case 'mooncake':
      return parseMooncakeTrace(chunks, {
        model: opts.model,
        start: opts.start,
        provider: opts.provider,
        app: opts.app,
        environment: opts.environment,
      });
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

/** JSON documents of LiteLLM / Langfuse exports are read whole (bounded); JSON lines and CSV stream. */
const MAX_JSON_DOCUMENT_BYTES = 512 * 1024 * 1024;

async function toolItems(
  path: string,
  format: 'litellm' | 'langfuse',
  size: number,
  counted: () => AsyncGenerator<Chunk>,
): Promise<IngestSource> {
  const head = await readHead(path, 1);
  if (format === 'litellm' && head !== '[' && head !== '{') return litellmCsvItems(counted());
  const toItem = (x: unknown, pos: { index: number } | { line: number }): IngestItem | null => {
    if (!isPlainObject(x)) return { ...pos, errors: [{ field: '(row)', message: 'must be a JSON object' }] } as IngestItem;
    if (format === 'litellm') return { ...pos, raw: litellmRowToEventInput(x) } as IngestItem;
    return isLangfuseGeneration(x) ? ({ ...pos, raw: langfuseObservationToEventInput(x) } as IngestItem) : null;
  };
  if (size <= MAX_JSON_DOCUMENT_BYTES) {
    const text = await readFile(path, 'utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined; // JSON lines, below
    }
    if (doc !== undefined) {
      const list = format === 'litellm' ? litellmRows(doc) : langfuseObservations(doc);
      if (list === null) {
        throw new NetraError(
          'VALIDATION',
          format === 'litellm'
            ? 'not a LiteLLM spend-log export: expected a JSON array of LiteLLM_SpendLogs rows (or { "data": [...] })'
            : 'not a Langfuse export: expected observations API pages { "data": [...], "meta": {...} } (or an array of them)',
          { field: 'file' },
        );
      }
      return list.flatMap((x, index) => toItem(x, { index }) ?? []);
    }
  }
  return (async function* () {
    for await (const item of parseNdjson(counted())) {
      if (item.errors !== undefined) {
        yield item;
        continue;
      }
      const line = item.line!;
      const rows = format === 'langfuse' ? (langfuseObservations(item.raw) ?? [item.raw]) : [item.raw];
      for (const r of rows) {
        const it = toItem(r, { line });
        if (it) yield it;
      }
    }
  })();
}

async function readHead(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new NetraError('NOT_FOUND', `file not found: ${path}`) : err;
  });
  try {
    const buf = Buffer.alloc(Math.max(bytes, 65_536));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    return bytes === 1 ? text.slice(0, 1) : text;
  } finally {
    await fh.close();
  }
}

/**
 * Tells the format of a file from its first 64 KiB, or explains why it cannot: Netra events (JSON lines with
 * `timestamp` and `model`), OpenAI logs (`request` / `response`), LiteLLM spend logs (`request_id` + `call_type`, JSON
 * or CSV), Langfuse observations (`type` + `traceId`, or pages with `data` and `meta`), Mooncake traces (`hash_ids` +
 * `input_length`), the Azure trace CSV, Netra CSV.
 */
export async function detectFormat(path: string): Promise<ImportFormat> {
  const head = await readHead(path, 65_536);
  const cannot = (why: string) =>
    new NetraError('VALIDATION', `cannot tell the format of ${path}: ${why}; pass --format (${IMPORT_FORMATS.join(', ')})`, {
      field: 'format',
    });
  if (head === '') throw cannot('the file is empty');
  if (head.startsWith('{') || head.startsWith('[')) {
    const keys = new Set((head.slice(0, 65_536).match(/"([A-Za-z_][A-Za-z0-9_]*)"\s*:/g) ?? []).map((k) => k.slice(1, k.indexOf('"', 1))));
    if (keys.has('request_id') && keys.has('call_type')) return 'litellm';
    if ((keys.has('traceId') && keys.has('type') && keys.has('startTime')) || (keys.has('data') && keys.has('meta') && keys.has('traceId')))
      return 'langfuse';
    if (keys.has('hash_ids') && keys.has('input_length')) return 'mooncake';
    if (keys.has('response') && (keys.has('request') || keys.has('choices') || keys.has('usage'))) return 'openai-jsonl';
    if (keys.has('timestamp') && keys.has('model')) return 'jsonl';
    throw cannot(`JSON with keys ${[...keys].slice(0, 8).join(', ')} matches no known format`);
  }
  const header = head
    .split(/\r?\n/, 1)[0]!
    .split(',')
    .map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  if (header.includes('request_id') && header.includes('call_type')) return 'litellm';
  if (header.includes('contexttokens') && header.includes('generatedtokens')) return 'azure-trace';
  if (header.includes('timestamp') && header.includes('model')) return 'csv';
  throw cannot(`the first line (${header.slice(0, 6).join(', ')}) is neither JSON nor a CSV header Netra knows`);
}
