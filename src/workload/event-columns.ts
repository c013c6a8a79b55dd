/**
 * Events in columns: a batch of WorkloadEvents as typed arrays and encoded string columns, the form a producer that
 * makes many events (the generator) fills without one object per event, and a store can append column by column.
 * `eventAt` / `toEvents` give the per-event object view for callers that need WorkloadEvents. Pure, no I/O.
 *
 * Encodings: numbers are typed arrays, NaN meaning null where the field is nullable; strings are one of
 * - dict: a code per row into a dictionary (NULL_CODE: null). The dictionary may be shared across batches and may
 *   grow between them (codes only ever point at existing entries), so a producer keeps one per field;
 * - keyed: a fixed prefix followed by a non-negative integer key (NaN: null), written in lower-case base 36 or in
 *   7-character upper-case Crockford base 32 (ids such as `evt_x_00001AB`);
 * - values: the strings themselves;
 * - lazy: each row's string made when it is read (`at`), for text that costs more to build than to describe and
 *   that many consumers never read (generated prompt text). Reading a row twice builds it twice.
 */
import type { CostSource, Operation, Status, TokenSource, WorkloadEvent } from './event.js';

/** Code of a null in a dict column. */
export const NULL_CODE = 0xffffffff;

export interface DictColumn<T = string> {
  kind: 'dict';
  dict: readonly T[];
  codes: Uint32Array;
}
export type KeyRadix = 'base36' | 'crockford7';
export interface KeyedColumn {
  kind: 'keyed';
  prefix: string;
  radix: KeyRadix;
  keys: Float64Array;
}
export interface ValuesColumn {
  kind: 'values';
  values: (string | null)[];
}
export interface LazyColumn {
  kind: 'lazy';
  /** the string of row i (null for a null); the same on every call */
  at(i: number): string | null;
}
export type StringColumn = DictColumn | KeyedColumn | ValuesColumn | LazyColumn;

/** One batch of events; every array holds at least `length` rows (row i of each belongs to event i). */
export interface EventColumns {
  length: number;
  event_id: StringColumn;
  timestamp: Float64Array;
  workspace: StringColumn;
  app: StringColumn;
  environment: StringColumn;
  end_user: StringColumn;
  session_id: StringColumn;
  trace_id: StringColumn;
  span_id: StringColumn;
  provider: StringColumn;
  model: StringColumn;
  operation: StringColumn;
  prompt_tokens: Uint32Array;
  completion_tokens: Uint32Array;
  cached_prompt_tokens: Uint32Array;
  latency_ms: Float64Array;
  ttft_ms: Float64Array;
  status: StringColumn;
  error_type: StringColumn;
  http_status: Float64Array;
  finish_reason: StringColumn;
  max_tokens: Float64Array;
  temperature: Float64Array;
  /** 0 false, 1 true, 2 null */
  stream: Uint8Array;
  cost_usd: Float64Array;
  cost_source: StringColumn;
  token_source: StringColumn;
  prompt_hash: StringColumn;
  prefix_hash: StringColumn;
  prefix_tokens: Float64Array;
  /** null or a block-hash chain per row */
  prefix_block_hashes: (number[] | null)[] | null;
  prefix_block_size: Float64Array;
  prompt_text: StringColumn;
  response_text: StringColumn;
  quality_score: Float64Array;
  /** tag objects by code (shared, read-only) */
  tags: DictColumn<Readonly<Record<string, string>>>;
}

/** Names of the string columns, in EVENT_COLUMNS order. */
export const STRING_COLUMNS = [
  'event_id',
  'workspace',
  'app',
  'environment',
  'end_user',
  'session_id',
  'trace_id',
  'span_id',
  'provider',
  'model',
  'operation',
  'status',
  'error_type',
  'finish_reason',
  'cost_source',
  'token_source',
  'prompt_hash',
  'prefix_hash',
  'prompt_text',
  'response_text',
] as const satisfies readonly (keyof EventColumns)[];

const C32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const C32_CODES = Array.from(C32, (c) => c.charCodeAt(0));

/** 7 Crockford base-32 characters (upper case) of an integer in 0..32^7-1. */
export function crockford7(x: number, codes: readonly number[] = C32_CODES): string {
  const hi = Math.floor(x / 1073741824) & 31; // bits 30..34
  const lo = x % 1073741824;
  return String.fromCharCode(
    codes[hi]!,
    codes[(lo >>> 25) & 31]!,
    codes[(lo >>> 20) & 31]!,
    codes[(lo >>> 15) & 31]!,
    codes[(lo >>> 10) & 31]!,
    codes[(lo >>> 5) & 31]!,
    codes[lo & 31]!,
  );
}

/** The string of row i of a string column (null for a null). */
export function stringAt(col: StringColumn, i: number): string | null {
  switch (col.kind) {
    case 'dict': {
      const c = col.codes[i]!;
      return c === NULL_CODE ? null : col.dict[c]!;
    }
    case 'keyed': {
      const k = col.keys[i]!;
      if (Number.isNaN(k)) return null;
      return col.prefix + (col.radix === 'base36' ? k.toString(36) : crockford7(k));
    }
    case 'lazy':
      return col.at(i);
    default:
      return col.values[i] ?? null;
  }
}

const num = (a: Float64Array, i: number): number | null => {
  const v = a[i]!;
  return Number.isNaN(v) ? null : v;
};

const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

function tagsAt(c: EventColumns, i: number): Record<string, string> {
  const code = c.tags.codes[i]!;
  return (code === NULL_CODE ? NO_TAGS : c.tags.dict[code]!) as Record<string, string>;
}

/** Event i of a batch as a WorkloadEvent (fields in EVENT_COLUMNS order). */
export function eventAt(c: EventColumns, i: number): WorkloadEvent {
  const s = c.stream[i]!;
  return {
    event_id: stringAt(c.event_id, i)!,
    timestamp: c.timestamp[i]!,
    workspace: stringAt(c.workspace, i)!,
    app: stringAt(c.app, i)!,
    environment: stringAt(c.environment, i)!,
    end_user: stringAt(c.end_user, i),
    session_id: stringAt(c.session_id, i),
    trace_id: stringAt(c.trace_id, i),
    span_id: stringAt(c.span_id, i),
    provider: stringAt(c.provider, i)!,
    model: stringAt(c.model, i)!,
    operation: stringAt(c.operation, i) as Operation,
    prompt_tokens: c.prompt_tokens[i]!,
    completion_tokens: c.completion_tokens[i]!,
    cached_prompt_tokens: c.cached_prompt_tokens[i]!,
    latency_ms: num(c.latency_ms, i),
    ttft_ms: num(c.ttft_ms, i),
    status: stringAt(c.status, i) as Status,
    error_type: stringAt(c.error_type, i),
    http_status: num(c.http_status, i),
    finish_reason: stringAt(c.finish_reason, i),
    max_tokens: num(c.max_tokens, i),
    temperature: num(c.temperature, i),
    stream: s === 2 ? null : s === 1,
    cost_usd: c.cost_usd[i]!,
    cost_source: stringAt(c.cost_source, i) as CostSource,
    token_source: stringAt(c.token_source, i) as TokenSource,
    prompt_hash: stringAt(c.prompt_hash, i),
    prefix_hash: stringAt(c.prefix_hash, i),
    prefix_tokens: num(c.prefix_tokens, i),
    prefix_block_hashes: c.prefix_block_hashes ? (c.prefix_block_hashes[i] ?? null) : null,
    prefix_block_size: num(c.prefix_block_size, i),
    prompt_text: stringAt(c.prompt_text, i),
    response_text: stringAt(c.response_text, i),
    quality_score: num(c.quality_score, i),
    tags: tagsAt(c, i),
  };
}

/** Every event of a batch as WorkloadEvents. */
export function toEvents(c: EventColumns): WorkloadEvent[] {
  const out = new Array<WorkloadEvent>(c.length);
  for (let i = 0; i < c.length; i++) out[i] = eventAt(c, i);
  return out;
}

/** The distinct workspaces of a batch. */
export function workspacesOf(c: EventColumns): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < c.length; i++) out.add(stringAt(c.workspace, i)!);
  return out;
}

const values = (events: readonly WorkloadEvent[], f: (e: WorkloadEvent) => string | null): ValuesColumn => ({
  kind: 'values',
  values: events.map(f),
});
const numbers = (events: readonly WorkloadEvent[], f: (e: WorkloadEvent) => number | null | undefined): Float64Array =>
  Float64Array.from(events, (e) => f(e) ?? Number.NaN);

/** A batch of the given events, every string as a values column (for producers that already hold objects, and tests). */
export function fromEvents(events: readonly WorkloadEvent[]): EventColumns {
  return {
    length: events.length,
    event_id: values(events, (e) => e.event_id),
    timestamp: numbers(events, (e) => e.timestamp),
    workspace: values(events, (e) => e.workspace),
    app: values(events, (e) => e.app),
    environment: values(events, (e) => e.environment),
    end_user: values(events, (e) => e.end_user),
    session_id: values(events, (e) => e.session_id),
    trace_id: values(events, (e) => e.trace_id),
    span_id: values(events, (e) => e.span_id),
    provider: values(events, (e) => e.provider),
    model: values(events, (e) => e.model),
    operation: values(events, (e) => e.operation),
    prompt_tokens: Uint32Array.from(events, (e) => e.prompt_tokens),
    completion_tokens: Uint32Array.from(events, (e) => e.completion_tokens),
    cached_prompt_tokens: Uint32Array.from(events, (e) => e.cached_prompt_tokens),
    latency_ms: numbers(events, (e) => e.latency_ms),
    ttft_ms: numbers(events, (e) => e.ttft_ms),
    status: values(events, (e) => e.status),
    error_type: values(events, (e) => e.error_type),
    http_status: numbers(events, (e) => e.http_status),
    finish_reason: values(events, (e) => e.finish_reason),
    max_tokens: numbers(events, (e) => e.max_tokens),
    temperature: numbers(events, (e) => e.temperature),
    stream: Uint8Array.from(events, (e) => (e.stream == null ? 2 : e.stream ? 1 : 0)),
    cost_usd: numbers(events, (e) => e.cost_usd),
    cost_source: values(events, (e) => e.cost_source),
    token_source: values(events, (e) => e.token_source),
    prompt_hash: values(events, (e) => e.prompt_hash),
    prefix_hash: values(events, (e) => e.prefix_hash),
    prefix_tokens: numbers(events, (e) => e.prefix_tokens),
    prefix_block_hashes: events.map((e) => e.prefix_block_hashes ?? null),
    prefix_block_size: numbers(events, (e) => e.prefix_block_size),
    prompt_text: values(events, (e) => e.prompt_text),
    response_text: values(events, (e) => e.response_text),
    quality_score: numbers(events, (e) => e.quality_score),
    tags: { kind: 'dict', dict: events.map((e) => e.tags), codes: Uint32Array.from(events, (_, i) => i) },
  };
}
