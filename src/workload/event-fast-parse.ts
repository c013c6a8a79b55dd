/**
 * Fast path for EventInputSchema: a hand-written check of the common, valid event. Pure, no I/O.
 *
 * zod costs ~8 µs for a typical 18-field event (each .min/.max/.int check ≈ 0.1 µs), which alone would cap ingestion
 * below the 100k events/s target. This function accepts an input only when every field is valid under the same rules
 * as EventInputSchema, and then returns the same parsed value zod would. For anything else it returns null and
 * normalizeEvent falls back to zod, which stays the single source of error messages. So the fast path may be
 * stricter than zod (harmless: zod decides), never looser; test/ingest-fast-parse.test.ts checks that differentially.
 * Keep the limits below in step with event.ts.
 */
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, OPERATIONS, STATUSES } from './event-values.js';

const MAX_ID = 256;
const MAX_NAME = 200;
const MAX_TEXT = 1_000_000;
const MAX_TOKENS = 100_000_000;
const MAX_MS = 86_400_000;

type Raw = Record<string, unknown>;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const str = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;
const optStr = (v: unknown, min: number, max: number): boolean => v === undefined || str(v, min, max);
const nulStr = (v: unknown, min: number, max: number): boolean => v == null || str(v, min, max);
const tok = (v: unknown): boolean => isNum(v) && Number.isInteger(v) && v >= 0 && v <= MAX_TOKENS;
const nulNum = (v: unknown, min: number, max: number): boolean => v == null || (isNum(v) && v >= min && v <= max);

/**
 * Parsed EventInput (the output of EventInputSchema) when `raw` is valid and on the fast path, else null.
 * The result has the same fields and values as zod's output (absent optional fields are undefined).
 */
export function parseEventInputFast(raw: Raw) {
  const ts = raw.timestamp;
  let timestamp: number;
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) return null;
    timestamp = ts;
  } else if (typeof ts === 'string') {
    timestamp = Date.parse(ts);
    if (!Number.isFinite(timestamp)) return null;
  } else return null;
  if (timestamp < MIN_TIMESTAMP_MS || timestamp >= MAX_TIMESTAMP_MS) return null;

  if (!str(raw.model, 1, MAX_NAME)) return null;
  if (
    !optStr(raw.event_id, 1, MAX_ID) ||
    !optStr(raw.workspace, 1, MAX_NAME) ||
    !optStr(raw.app, 1, MAX_NAME) ||
    !optStr(raw.environment, 1, MAX_NAME)
  )
    return null;
  if (
    !nulStr(raw.end_user, 1, MAX_ID) ||
    !nulStr(raw.session_id, 1, MAX_ID) ||
    !nulStr(raw.trace_id, 1, MAX_ID) ||
    !nulStr(raw.span_id, 1, MAX_ID)
  )
    return null;
  if (!nulStr(raw.provider, 1, MAX_NAME) || !nulStr(raw.error_type, 0, MAX_NAME) || !nulStr(raw.finish_reason, 0, 64)) return null;
  if (
    !nulStr(raw.prompt_hash, 1, 128) ||
    !nulStr(raw.prefix_hash, 1, 128) ||
    !nulStr(raw.prompt_text, 0, MAX_TEXT) ||
    !nulStr(raw.response_text, 0, MAX_TEXT)
  )
    return null;

  // block chains are rare and long: zod checks them (an explicit null is no chain)
  if (raw.prefix_block_hashes != null || raw.prefix_block_size != null) return null;

  const operation = raw.operation;
  if (operation !== undefined && !(typeof operation === 'string' && (OPERATIONS as readonly string[]).includes(operation))) return null;
  const status = raw.status === undefined ? 'ok' : raw.status;
  if (!(typeof status === 'string' && (STATUSES as readonly string[]).includes(status))) return null;

  const prompt = raw.prompt_tokens === undefined ? 0 : raw.prompt_tokens;
  const completion = raw.completion_tokens === undefined ? 0 : raw.completion_tokens;
  const cached = raw.cached_prompt_tokens === undefined ? 0 : raw.cached_prompt_tokens;
  if (!tok(prompt) || !tok(completion) || !tok(cached) || (cached as number) > (prompt as number)) return null;
  if (raw.prefix_tokens != null && !tok(raw.prefix_tokens)) return null;

  const latency = raw.latency_ms;
  const ttft = raw.ttft_ms;
  if (!nulNum(latency, 0, MAX_MS) || !nulNum(ttft, 0, MAX_MS)) return null;
  if (ttft != null && latency != null && (ttft as number) > (latency as number)) return null;
  const http = raw.http_status;
  if (http != null && !(isNum(http) && Number.isInteger(http) && http >= 100 && http <= 599)) return null;
  const maxTokens = raw.max_tokens;
  if (maxTokens != null && !(isNum(maxTokens) && Number.isInteger(maxTokens) && maxTokens > 0 && maxTokens <= 10_000_000)) return null;
  if (!nulNum(raw.temperature, 0, 5) || !nulNum(raw.cost_usd, 0, 1_000_000) || !nulNum(raw.quality_score, 0, 1)) return null;
  if (raw.stream != null && typeof raw.stream !== 'boolean') return null;

  let messages: { role: string; content: string }[] | undefined;
  if (raw.messages !== undefined) {
    const m = raw.messages;
    if (!Array.isArray(m) || m.length > 10_000) return null;
    messages = new Array(m.length);
    for (let i = 0; i < m.length; i++) {
      const x: unknown = m[i];
      if (x === null || typeof x !== 'object' || Array.isArray(x)) return null;
      const { role, content } = x as Raw;
      if (!str(role, 1, 32) || !str(content, 0, MAX_TEXT)) return null;
      messages[i] = { role: role as string, content: content as string };
    }
  }

  let tags: Record<string, string> | undefined;
  if (raw.tags !== undefined) {
    const t = raw.tags;
    if (t === null || typeof t !== 'object' || Array.isArray(t) || Object.getPrototypeOf(t) !== Object.prototype) return null;
    tags = {};
    for (const k in t) {
      if (!Object.hasOwn(t, k) || k.length > MAX_NAME || k === '__proto__') return null;
      const v = (t as Raw)[k];
      if (typeof v === 'string') {
        if (v.length > 2_000) return null;
        tags[k] = v;
      } else if (isNum(v) || typeof v === 'boolean') tags[k] = String(v);
      else return null;
    }
  }

  return {
    event_id: raw.event_id as string | undefined,
    timestamp,
    workspace: raw.workspace as string | undefined,
    app: raw.app as string | undefined,
    environment: raw.environment as string | undefined,
    end_user: raw.end_user as string | null | undefined,
    session_id: raw.session_id as string | null | undefined,
    trace_id: raw.trace_id as string | null | undefined,
    span_id: raw.span_id as string | null | undefined,
    provider: raw.provider as string | null | undefined,
    model: raw.model as string,
    operation: operation as (typeof OPERATIONS)[number] | undefined,
    prompt_tokens: prompt as number,
    completion_tokens: completion as number,
    cached_prompt_tokens: cached as number,
    latency_ms: latency as number | null | undefined,
    ttft_ms: ttft as number | null | undefined,
    status: status as (typeof STATUSES)[number],
    error_type: raw.error_type as string | null | undefined,
    http_status: http as number | null | undefined,
    finish_reason: raw.finish_reason as string | null | undefined,
    max_tokens: maxTokens as number | null | undefined,
    temperature: raw.temperature as number | null | undefined,
    stream: raw.stream as boolean | null | undefined,
    cost_usd: raw.cost_usd as number | null | undefined,
    prompt_hash: raw.prompt_hash as string | null | undefined,
    prefix_hash: raw.prefix_hash as string | null | undefined,
    prefix_tokens: raw.prefix_tokens as number | null | undefined,
    ...(raw.prefix_block_hashes === null ? { prefix_block_hashes: null } : {}),
    ...(raw.prefix_block_size === null ? { prefix_block_size: null } : {}),
    prompt_text: raw.prompt_text as string | null | undefined,
    response_text: raw.response_text as string | null | undefined,
    messages,
    quality_score: raw.quality_score as number | null | undefined,
    tags,
  };
}
