/**
 * Imports from tools teams already run. Pure mapping (rows in, event inputs out) plus the file readers.
 *
 * - LiteLLM proxy spend logs: rows of its `LiteLLM_SpendLogs` table, as a JSON array (or `{ "data": [...] }`, or JSON
 *   lines) or a CSV export with the table's column names.
 * - Langfuse generations: pages of its public observations API (`GET /api/public/observations`: `{ data, meta }`), one
 *   page, an array of pages, a bare array of observations, or JSON lines; only observations of type GENERATION are
 *   events (spans and events are skipped: they are not model calls).
 * Field mappings: docs/EVENTS.md ("Imports from LiteLLM and Langfuse").
 */
import { readCsvRecords } from './csv-records.js';
import { type Chunk, type IngestItem, isPlainObject } from './types.js';

const toNum = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const json = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return v;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return v;
  }
};
/** 'YYYY-MM-DD HH:MM:SS(.fff)' (Postgres export, no zone = UTC) or ISO → epoch ms */
const time = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string' || v === '') return undefined;
  const iso = /^\d{4}-\d{2}-\d{2} \d/.test(v) ? v.replace(' ', 'T') : v;
  const t = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(iso) ? iso : `${iso}Z`);
  return Number.isFinite(t) ? t : undefined;
};
const set = (o: Record<string, unknown>, k: string, v: unknown) => {
  if (v !== undefined && v !== null) o[k] = v;
};

const LITELLM_OPERATIONS: Readonly<Record<string, string>> = {
  completion: 'chat',
  acompletion: 'chat',
  text_completion: 'completion',
  atext_completion: 'completion',
  embedding: 'embedding',
  aembedding: 'embedding',
  image_generation: 'image',
  aimage_generation: 'image',
  transcription: 'audio',
  atranscription: 'audio',
  speech: 'audio',
  aspeech: 'audio',
  rerank: 'rerank',
  arerank: 'rerank',
  moderation: 'moderation',
  amoderation: 'moderation',
  responses: 'chat',
  aresponses: 'chat',
};

/** One LiteLLM_SpendLogs row → a raw event input. */
export function litellmRowToEventInput(row: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const meta = json(row.metadata);
  const m = isPlainObject(meta) ? meta : {};
  set(raw, 'event_id', str(row.request_id));
  const start = time(row.startTime);
  const end = time(row.endTime);
  const first = time(row.completionStartTime);
  raw.timestamp = start ?? row.startTime;
  if (start !== undefined && end !== undefined && end >= start) raw.latency_ms = end - start;
  if (start !== undefined && first !== undefined && first >= start && (end === undefined || first <= end)) raw.ttft_ms = first - start;
  set(raw, 'model', str(row.model) ?? str(row.model_group));
  set(raw, 'provider', str(row.custom_llm_provider));
  set(raw, 'operation', LITELLM_OPERATIONS[String(row.call_type ?? '')] ?? (row.call_type ? 'other' : undefined));
  set(raw, 'prompt_tokens', toNum(row.prompt_tokens));
  set(raw, 'completion_tokens', toNum(row.completion_tokens));
  const usage = isPlainObject(m.additional_usage_values) ? m.additional_usage_values : isPlainObject(m.usage_object) ? m.usage_object : {};
  const cached = isPlainObject(usage.prompt_tokens_details)
    ? toNum(usage.prompt_tokens_details.cached_tokens)
    : toNum(usage.cache_read_input_tokens);
  if (cached !== undefined && cached > 0) raw.cached_prompt_tokens = cached;
  const spend = toNum(row.spend);
  if (spend !== undefined && spend > 0) raw.cost_usd = spend;
  set(raw, 'end_user', str(row.end_user) ?? str(row.user));
  set(raw, 'session_id', str(row.session_id));
  const failed = str(row.status) === 'failure' || str(m.status) === 'failure';
  if (failed) {
    raw.status = 'error';
    const info = isPlainObject(m.error_information) ? m.error_information : {};
    set(raw, 'error_type', str(info.error_class) ?? 'failure');
    const code = toNum(info.error_code);
    if (code !== undefined && code >= 100 && code <= 599) raw.http_status = code;
  }
  const tags: Record<string, string> = {};
  const rt = json(row.request_tags);
  if (Array.isArray(rt)) for (const t of rt) if (typeof t === 'string' && t !== '') tags[t] = 'true';
  for (const [k, tag] of [
    ['user_api_key_alias', 'api_key_alias'],
    ['user_api_key_team_alias', 'team'],
    ['user_api_key_team_id', 'team_id'],
  ] as const) {
    const v = str(m[k]) ?? (k === 'user_api_key_team_id' ? str(row.team_id) : undefined);
    if (v) tags[tag] = v;
  }
  if (row.cache_hit === true || row.cache_hit === 'True' || row.cache_hit === 'true') tags.litellm_cache_hit = 'true';
  if (Object.keys(tags).length > 0) raw.tags = tags;
  return raw;
}

/** One Langfuse observation of type GENERATION → a raw event input. */
export function langfuseObservationToEventInput(o: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  set(raw, 'event_id', str(o.id));
  set(raw, 'trace_id', str(o.traceId));
  const start = time(o.startTime);
  const end = time(o.endTime);
  const first = time(o.completionStartTime);
  raw.timestamp = start ?? o.startTime;
  if (start !== undefined && end !== undefined && end >= start) raw.latency_ms = end - start;
  else if (toNum(o.latency) !== undefined) raw.latency_ms = toNum(o.latency)! * 1000;
  if (start !== undefined && first !== undefined && first >= start && (end === undefined || first <= end)) raw.ttft_ms = first - start;
  set(raw, 'model', str(o.model));
  const ud = isPlainObject(o.usageDetails) ? o.usageDetails : {};
  const u = isPlainObject(o.usage) ? o.usage : {};
  set(raw, 'prompt_tokens', toNum(ud.input) ?? toNum(u.input) ?? toNum(o.promptTokens));
  set(raw, 'completion_tokens', toNum(ud.output) ?? toNum(u.output) ?? toNum(o.completionTokens));
  const cached = toNum(ud.cache_read_input_tokens) ?? toNum(ud.input_cached_tokens) ?? toNum(ud.input_cache_read);
  if (cached !== undefined && cached > 0) raw.cached_prompt_tokens = cached;
  const cd = isPlainObject(o.costDetails) ? o.costDetails : {};
  const cost = toNum(cd.total) ?? toNum(o.calculatedTotalCost) ?? toNum(u.totalCost);
  if (cost !== undefined && cost > 0) raw.cost_usd = cost;
  const mp = isPlainObject(o.modelParameters) ? o.modelParameters : {};
  set(raw, 'temperature', toNum(mp.temperature));
  set(raw, 'max_tokens', toNum(mp.max_tokens) ?? toNum(mp.max_completion_tokens) ?? toNum(mp.maxTokens));
  if (mp.stream !== undefined) raw.stream = mp.stream === true || mp.stream === 'true';
  set(raw, 'environment', str(o.environment));
  set(raw, 'end_user', str(o.userId));
  set(raw, 'session_id', str(o.sessionId));
  if (o.level === 'ERROR') {
    raw.status = 'error';
    raw.error_type = str(o.statusMessage)?.slice(0, 200) ?? 'error';
  }
  const input = json(o.input);
  if (typeof input === 'string') raw.prompt_text = input;
  else if (Array.isArray(input))
    raw.messages = input.filter(isPlainObject).map((x) => ({
      role: String(x.role ?? 'user'),
      content: typeof x.content === 'string' ? x.content : JSON.stringify(x.content ?? ''),
    }));
  else if (isPlainObject(input) && Array.isArray(input.messages))
    raw.messages = input.messages.filter(isPlainObject).map((x) => ({
      role: String(x.role ?? 'user'),
      content: typeof x.content === 'string' ? x.content : JSON.stringify(x.content ?? ''),
    }));
  const output = json(o.output);
  if (typeof output === 'string') raw.response_text = output;
  else if (isPlainObject(output) && typeof output.content === 'string') raw.response_text = output.content;
  const tags: Record<string, string> = {};
  if (str(o.name)) tags.name = o.name as string;
  const meta = json(o.metadata);
  if (isPlainObject(meta))
    for (const [k, v] of Object.entries(meta))
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') tags[k] = String(v);
  if (Object.keys(tags).length > 0) raw.tags = tags;
  return raw;
}

/** Rows of a parsed LiteLLM JSON document: an array of rows or `{ data | rows | logs: [...] }`. */
export function litellmRows(doc: unknown): unknown[] | null {
  if (Array.isArray(doc)) return doc;
  if (isPlainObject(doc)) for (const k of ['data', 'rows', 'logs']) if (Array.isArray(doc[k])) return doc[k] as unknown[];
  return null;
}

/** Observations of a parsed Langfuse JSON document: a page `{ data, meta }`, an array of pages, or of observations. */
export function langfuseObservations(doc: unknown): unknown[] | null {
  if (isPlainObject(doc) && Array.isArray(doc.data)) return doc.data;
  if (Array.isArray(doc)) return doc.flatMap((x) => (isPlainObject(x) && Array.isArray(x.data) ? x.data : [x]));
  return null;
}

export const isLangfuseGeneration = (o: unknown): boolean => isPlainObject(o) && o.type === 'GENERATION';

/** A LiteLLM CSV export → row objects keyed by its header (JSON columns parsed by the mapper). */
export async function* litellmCsvItems(chunks: AsyncIterable<Chunk>): AsyncGenerator<IngestItem> {
  let header: string[] | null = null;
  for await (const rec of readCsvRecords(chunks)) {
    if (header === null) {
      header = rec.fields.map((f) => f.trim());
      continue;
    }
    if (rec.error) {
      yield { line: rec.line, errors: [{ field: '(row)', message: rec.error }] };
      continue;
    }
    if (rec.fields.length !== header.length) {
      yield { line: rec.line, errors: [{ field: '(row)', message: `${rec.fields.length} columns, the header has ${header.length}` }] };
      continue;
    }
    const row: Record<string, unknown> = {};
    header.forEach((h, i) => {
      row[h] = rec.fields[i];
    });
    yield { line: rec.line, raw: litellmRowToEventInput(row) };
  }
}
