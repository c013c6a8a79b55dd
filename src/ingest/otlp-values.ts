/**
 * OTLP attribute values and the message shapes the GenAI instrumentations put in them → plain values and Netra
 * messages. Pure helpers of the OTLP span mapper (ingest/otlp.ts).
 */
import { isPlainObject } from './types.js';

export type Attrs = Map<string, unknown>;

/**
 * How deep an attribute value (arrayValue / kvlistValue) or a message part may nest. Real GenAI spans nest a few levels;
 * the cap keeps decoding (recursive) far from the stack limit, so a hostile span is refused with a reason instead of
 * overflowing the stack and failing the whole request.
 */
export const MAX_OTLP_DEPTH = 64;

/** A value nested deeper than MAX_OTLP_DEPTH; the span holding it is rejected, the others are kept. */
export class OtlpDepthError extends Error {
  constructor(readonly field: string) {
    super(`nested deeper than ${MAX_OTLP_DEPTH} levels; the span is rejected`);
  }
}

/**
 * `v` when it nests at most MAX_OTLP_DEPTH levels of arrays/objects, measured without recursion; else OtlpDepthError.
 * Message parts are JSON text inside an attribute: JSON.parse takes any depth, the code that walks them would not.
 */
function shallow(v: unknown, field: string): unknown {
  if (v === null || typeof v !== 'object') return v;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (d > MAX_OTLP_DEPTH) throw new OtlpDepthError(field);
    for (const c of Array.isArray(x) ? x : Object.values(x as object)) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return v;
}
export interface Msg {
  role: string;
  content: string;
}

export function toNumber(v: unknown): unknown {
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return v;
}

export function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trimStart();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      return shallow(JSON.parse(t) as unknown, 'messages');
    } catch (err) {
      if (err instanceof OtlpDepthError) throw err;
      return v;
    }
  }
  return v;
}

/** Text of message parts / content: text parts joined by newlines; other parts (tool calls, images) as compact JSON. */
export function partsText(parts: unknown): string {
  if (typeof parts === 'string') return parts;
  if (!Array.isArray(parts)) return parts === undefined || parts === null ? '' : JSON.stringify(parts);
  const out: string[] = [];
  for (const p of parts) {
    if (
      isPlainObject(p) &&
      (p.type === 'text' || p.type === 'input_text' || p.type === 'output_text') &&
      typeof (p.content ?? p.text) === 'string'
    )
      out.push((p.content ?? p.text) as string);
    else if (typeof p === 'string') out.push(p);
    else out.push(JSON.stringify(p));
  }
  return out.join('\n');
}

/** `[{ role, parts | content }]` (OTel GenAI, Vercel AI SDK, OpenAI request bodies) → Netra messages; other shapes as is. */
export function toMessages(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((m) => (isPlainObject(m) ? { role: m.role, content: partsText(m.parts ?? m.content) } : m));
}

/** `<prefix>N<role>` / `<prefix>N<content>` attributes (N from 0, gaps end the list) → messages, or undefined when none. */
export function indexedMessages(attrs: Attrs, prefix: string, roleKey: string, contentKey: string): Msg[] | undefined {
  const out: Msg[] = [];
  for (let i = 0; i < 10_000; i++) {
    const role = attrs.get(`${prefix}${i}${roleKey}`);
    const content = attrs.get(`${prefix}${i}${contentKey}`);
    if (role === undefined && content === undefined) {
      // OpenInference may put content in `.message.contents.N.message_content.text` parts
      const parts = partsFromIndexed(attrs, `${prefix}${i}${roleKey.replace(/role$/, 'contents.')}`);
      if (parts === undefined) break;
      out.push({ role: 'user', content: parts });
      continue;
    }
    const text =
      content === undefined
        ? (partsFromIndexed(attrs, `${prefix}${i}${contentKey.replace(/content$/, 'contents.')}`) ?? '')
        : partsText(parseMaybeJson(content));
    out.push({ role: typeof role === 'string' && role !== '' ? role : 'user', content: text });
  }
  return out.length > 0 ? out : undefined;
}

function partsFromIndexed(attrs: Attrs, prefix: string): string | undefined {
  const texts: string[] = [];
  for (let j = 0; j < 1_000; j++) {
    const t = attrs.get(`${prefix}${j}.message_content.text`);
    if (t === undefined) break;
    texts.push(String(t));
  }
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** OpenInference `input.value`: an OpenAI request body `{ messages | input | prompt }` as JSON, or the prompt as text. */
export function requestBodyMessages(v: unknown): unknown {
  const body = parseMaybeJson(v);
  if (typeof body === 'string') return body === '' ? undefined : [{ role: 'user', content: body }];
  if (!isPlainObject(body)) return undefined;
  if (Array.isArray(body.messages)) return toMessages(body.messages);
  if (typeof body.input === 'string') return [{ role: 'user', content: body.input }];
  if (Array.isArray(body.input)) return toMessages(body.input);
  if (typeof body.prompt === 'string') return [{ role: 'user', content: body.prompt }];
  return undefined;
}

/** OpenInference `output.value`: an OpenAI response body (chat, completion, responses API) as JSON, or text. */
export function responseBodyText(v: unknown): unknown {
  const body = parseMaybeJson(v);
  if (typeof body === 'string') return body;
  if (!isPlainObject(body)) return undefined;
  if (Array.isArray(body.choices)) {
    const c: unknown = body.choices[0];
    if (isPlainObject(c)) {
      if (isPlainObject(c.message)) return partsText(c.message.content);
      if (typeof c.text === 'string') return c.text;
    }
  }
  if (typeof body.output_text === 'string') return body.output_text;
  return undefined;
}

/** Vercel AI SDK `ai.prompt`: `{ system?, prompt?, messages? }` as JSON → messages. */
export function vercelPromptMessages(v: unknown): unknown {
  const p = parseMaybeJson(v);
  if (!isPlainObject(p)) return undefined;
  const out: unknown[] = [];
  if (typeof p.system === 'string') out.push({ role: 'system', content: p.system });
  if (typeof p.prompt === 'string') out.push({ role: 'user', content: p.prompt });
  if (Array.isArray(p.messages)) out.push(...(toMessages(p.messages) as unknown[]));
  return out.length > 0 ? out : undefined;
}

/** Unix nanoseconds (string or number) → BigInt, or null when absent or not a non-negative integer. */
export function nanos(v: unknown): bigint | null {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.floor(v));
  return null;
}

/** OTLP KeyValue list → Map of decoded values. Tolerates junk entries (skipped); OtlpDepthError past MAX_OTLP_DEPTH. */
export function decodeAttributes(list: unknown, into: Attrs = new Map()): Attrs {
  if (!Array.isArray(list)) return into;
  for (const kv of list) {
    if (!isPlainObject(kv) || typeof kv.key !== 'string') continue;
    try {
      into.set(kv.key, decodeAnyValue(kv.value));
    } catch (err) {
      // name the outermost key: the one the sender can find in its span
      if (err instanceof OtlpDepthError) throw new OtlpDepthError(kv.key.slice(0, 100));
      throw err;
    }
  }
  return into;
}

/** OTLP AnyValue (JSON encoding) → plain JS value. intValue may be a string (64-bit ints are strings in OTLP/JSON). */
export function decodeAnyValue(v: unknown, depth = 0): unknown {
  if (depth > MAX_OTLP_DEPTH) throw new OtlpDepthError('(value)');
  if (!isPlainObject(v)) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return toNumber(v.intValue);
  if ('doubleValue' in v) return toNumber(v.doubleValue);
  if ('arrayValue' in v) {
    const values = isPlainObject(v.arrayValue) && Array.isArray(v.arrayValue.values) ? v.arrayValue.values : [];
    return values.map((x) => decodeAnyValue(x, depth + 1));
  }
  if ('kvlistValue' in v) {
    const values = isPlainObject(v.kvlistValue) && Array.isArray(v.kvlistValue.values) ? v.kvlistValue.values : [];
    // fromEntries defines own properties: a hostile `__proto__` key cannot reach a prototype
    const entries: [string, unknown][] = [];
    for (const kv of values)
      if (isPlainObject(kv) && typeof kv.key === 'string') entries.push([kv.key, decodeAnyValue(kv.value, depth + 1)]);
    return Object.fromEntries(entries);
  }
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}
