/**
 * OpenAI chat-completion logs → event inputs. Pure.
 *
 * Accepts one envelope or an array of them (also `{ "logs": [...] }`). The envelope:
 *   { "request":  { model, messages, max_tokens | max_completion_tokens, temperature, stream, user },
 *     "response": { id, created, model, choices: [{ message: { content }, finish_reason }],
 *                   usage: { prompt_tokens, completion_tokens, prompt_tokens_details: { cached_tokens } } }
 *                 or an error body { error: { type, code, message } },
 *     "metadata": { app, environment, latency_ms, ttft_ms, session_id, end_user, tags, timestamp, event_id,
 *                   provider, http_status, cost_usd, quality_score } }
 * A bare response object (no envelope: has `choices` or `usage` at the top) is accepted too.
 * event_id defaults to the response id (`chatcmpl-...`), so re-sending the same log stores nothing twice;
 * timestamp defaults to `created` (epoch seconds). Each item's `index` is its position in the array.
 */
import { type BodyParseResult, type IngestItem, isPlainObject } from './types.js';

/** metadata keys copied to the event as is */
const METADATA_FIELDS = [
  'app',
  'environment',
  'latency_ms',
  'ttft_ms',
  'session_id',
  'end_user',
  'tags',
  'provider',
  'http_status',
  'cost_usd',
  'quality_score',
  'trace_id',
  'span_id',
  'error_type',
  'status',
] as const;

export function parseOpenAiLogs(body: unknown): BodyParseResult {
  let list: unknown[];
  if (Array.isArray(body)) list = body;
  else if (isPlainObject(body) && Array.isArray(body.logs)) list = body.logs;
  else if (isPlainObject(body)) list = [body];
  else
    return {
      ok: false,
      message: 'body must be an OpenAI log envelope { request, response, metadata }, an array of them, or { "logs": [...] }',
    };

  const items: IngestItem[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = openAiLogToEventInput(list[i]);
    items[i] = r.ok ? { index: i, raw: r.raw } : { index: i, errors: [{ field: r.field, message: r.message }] };
  }
  return { ok: true, items };
}

export type OpenAiLogResult = { ok: true; raw: Record<string, unknown> } | { ok: false; field: string; message: string };

/** One envelope (or bare response) → a raw event input. Type errors in values are left to normalizeEvent. */
export function openAiLogToEventInput(entry: unknown): OpenAiLogResult {
  if (!isPlainObject(entry)) return { ok: false, field: '(event)', message: 'must be a JSON object (an OpenAI log envelope)' };
  const enveloped = 'response' in entry || 'request' in entry || 'metadata' in entry;
  const response = enveloped ? entry.response : entry;
  const request = enveloped ? entry.request : undefined;
  const metadata = enveloped ? entry.metadata : undefined;
  if (response !== undefined && !isPlainObject(response)) return { ok: false, field: 'response', message: 'must be a JSON object' };
  if (request !== undefined && !isPlainObject(request)) return { ok: false, field: 'request', message: 'must be a JSON object' };
  if (metadata !== undefined && !isPlainObject(metadata)) return { ok: false, field: 'metadata', message: 'must be a JSON object' };
  const res = response ?? {};
  const req = request ?? {};
  const meta = metadata ?? {};
  if (response === undefined && request === undefined)
    return { ok: false, field: 'response', message: 'required (the chat completion response object)' };

  const raw: Record<string, unknown> = {};
  set(raw, 'event_id', meta.event_id ?? res.id);
  if (meta.timestamp !== undefined) raw.timestamp = meta.timestamp;
  else if (typeof res.created === 'number') raw.timestamp = res.created * 1000;
  else if (res.created !== undefined) raw.timestamp = res.created;
  set(raw, 'model', res.model ?? req.model);
  raw.operation = res.object === 'text_completion' ? 'completion' : 'chat';

  const usage = res.usage;
  if (usage !== undefined) {
    if (!isPlainObject(usage)) return { ok: false, field: 'response.usage', message: 'must be a JSON object' };
    set(raw, 'prompt_tokens', usage.prompt_tokens);
    set(raw, 'completion_tokens', usage.completion_tokens);
    const details = usage.prompt_tokens_details;
    if (isPlainObject(details)) set(raw, 'cached_prompt_tokens', details.cached_tokens);
  }

  const choices = res.choices;
  if (choices !== undefined && !Array.isArray(choices)) return { ok: false, field: 'response.choices', message: 'must be an array' };
  const first: unknown = choices?.[0];
  if (isPlainObject(first)) {
    set(raw, 'finish_reason', first.finish_reason);
    const msg = first.message;
    if (isPlainObject(msg)) set(raw, 'response_text', contentText(msg.content));
    else set(raw, 'response_text', first.text);
  }

  const err = isPlainObject(res.error) ? res.error : isPlainObject(entry.error) ? entry.error : undefined;
  if (err) {
    raw.status = 'error';
    set(raw, 'error_type', err.type ?? err.code);
  }

  if (req.messages !== undefined) raw.messages = Array.isArray(req.messages) ? req.messages.map(toMessage) : req.messages;
  set(raw, 'max_tokens', req.max_completion_tokens ?? req.max_tokens);
  set(raw, 'temperature', req.temperature);
  set(raw, 'stream', req.stream);
  set(raw, 'end_user', req.user);

  for (const k of METADATA_FIELDS) set(raw, k, meta[k]);
  return { ok: true, raw };
}

function set(raw: Record<string, unknown>, key: string, v: unknown): void {
  if (v !== undefined && v !== null) raw[key] = v;
}

/** Message content may be a string, null (assistant tool calls) or an array of parts ({ type: 'text', text }). */
function contentText(content: unknown): unknown {
  if (content === null || content === undefined) return undefined;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (isPlainObject(p) && typeof p.text === 'string' ? p.text : typeof p === 'string' ? p : JSON.stringify(p)))
      .join('\n');
  }
  return content;
}

function toMessage(m: unknown): unknown {
  if (!isPlainObject(m)) return m;
  let content = contentText(m.content);
  if (content === undefined) content = m.tool_calls !== undefined ? JSON.stringify(m.tool_calls) : '';
  return { role: m.role, content };
}
