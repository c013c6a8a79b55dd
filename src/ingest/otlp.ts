/**
 * OTLP/HTTP JSON traces (`ExportTraceServiceRequest`: resourceSpans → scopeSpans → spans) → event inputs. Pure.
 *
 * One GenAI model-call span becomes one event: event_id = spanId, trace/span ids, timestamp from startTimeUnixNano,
 * latency from end − start, status `error` when the span status code is 2 (or `error.type` is set), and every other
 * field from the attributes listed in workload/otel-mapping.ts (span attributes first, then resource attributes).
 * Spans with no `gen_ai.*` attribute, and agent / workflow / tool spans (not model calls), are skipped and counted.
 * Each item's `index` is the span's position among all spans of the request (0-based, in document order).
 */
import { EVENT_FIELDS, type EventFieldSpec, OTEL_NON_MODEL_OPERATIONS, OTEL_OPERATION_MAP, type OtelSource } from '../workload/otel-mapping.js';
import { type BodyParseResult, type IngestItem, isPlainObject } from './types.js';

export interface OtlpParseStats {
  /** spans seen in the request */
  spans: number;
  /** spans without any gen_ai.* attribute */
  skipped_no_gen_ai: number;
  /** agent, workflow and tool spans (they wrap or accompany model calls; counting them would count a call twice) */
  skipped_not_model_call: number;
}

type Attrs = Map<string, unknown>;

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
type AttributeSource = Extract<OtelSource, { kind: 'attribute' }>;

/** Fields filled from attributes by the generic lookup (span-derived fields and messages are handled apart). */
const ATTRIBUTE_FIELDS = EVENT_FIELDS.filter((f) => f.field !== 'messages' && f.otel.some((s) => s.kind === 'attribute'));
const MESSAGES_SPEC = EVENT_FIELDS.find((f) => f.field === 'messages')!;
const TAG_PREFIX = (EVENT_FIELDS.find((f) => f.field === 'tags')!.otel[0] as { prefix: string }).prefix;

/** `skipped` = all spans that did not become events (no gen_ai attributes, or not a model call); `stats` breaks it down. */
export function parseOtlpTraces(body: unknown): BodyParseResult<{ skipped: number; stats: OtlpParseStats }> {
  if (!isPlainObject(body) || !Array.isArray(body.resourceSpans)) {
    return { ok: false, message: 'body must be an OTLP ExportTraceServiceRequest in JSON: { "resourceSpans": [...] }' };
  }
  const stats: OtlpParseStats = { spans: 0, skipped_no_gen_ai: 0, skipped_not_model_call: 0 };
  const items: IngestItem[] = [];
  for (const rs of body.resourceSpans) {
    if (!isPlainObject(rs)) continue;
    let resource: Attrs;
    let resourceError: string | null = null;
    try {
      resource = decodeAttributes(isPlainObject(rs.resource) ? rs.resource.attributes : undefined);
    } catch (err) {
      if (!(err instanceof OtlpDepthError)) throw err;
      resource = new Map();
      resourceError = `resource attribute ${err.message}`;
    }
    const scopes = Array.isArray(rs.scopeSpans) ? rs.scopeSpans : Array.isArray(rs.instrumentationLibrarySpans) ? rs.instrumentationLibrarySpans : [];
    for (const ss of scopes) {
      if (!isPlainObject(ss) || !Array.isArray(ss.spans)) continue;
      for (const span of ss.spans) {
        const index = stats.spans++;
        if (!isPlainObject(span)) {
          items.push({ index, errors: [{ field: '(span)', message: 'span must be a JSON object' }] });
          continue;
        }
        if (resourceError !== null) {
          items.push({ index, errors: [{ field: 'resource.attributes', message: resourceError }] });
          continue;
        }
        let attrs: Attrs;
        try {
          attrs = decodeAttributes(span.attributes);
        } catch (err) {
          if (!(err instanceof OtlpDepthError)) throw err;
          items.push({ index, errors: [{ field: `attributes.${err.field}`, message: err.message }] });
          continue;
        }
        if (!hasGenAi(attrs)) {
          stats.skipped_no_gen_ai++;
          continue;
        }
        const op = attrs.get('gen_ai.operation.name');
        if (typeof op === 'string' && OTEL_NON_MODEL_OPERATIONS.has(op)) {
          stats.skipped_not_model_call++;
          continue;
        }
        try {
          items.push({ index, raw: spanToEventInput(span, attrs, resource) });
        } catch (err) {
          if (!(err instanceof OtlpDepthError)) throw err;
          items.push({ index, errors: [{ field: err.field, message: err.message }] });
        }
      }
    }
  }
  return { ok: true, items, skipped: stats.skipped_no_gen_ai + stats.skipped_not_model_call, stats };
}

function hasGenAi(attrs: Attrs): boolean {
  for (const k of attrs.keys()) if (k.startsWith('gen_ai.')) return true;
  return false;
}

/** Builds the raw event input for one span; validation is left to normalizeEvent so errors name the field. */
export function spanToEventInput(span: Record<string, unknown>, attrs: Attrs, resource: Attrs): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  if (typeof span.spanId === 'string' && span.spanId !== '') {
    raw.event_id = span.spanId;
    raw.span_id = span.spanId;
  }
  if (typeof span.traceId === 'string' && span.traceId !== '') raw.trace_id = span.traceId;

  const start = nanos(span.startTimeUnixNano);
  const end = nanos(span.endTimeUnixNano);
  if (start !== null) raw.timestamp = Math.floor(Number(start / 1_000_000n));
  else if (span.startTimeUnixNano !== undefined) raw.timestamp = span.startTimeUnixNano;
  if (start !== null && end !== null && end !== 0n) raw.latency_ms = Number(end - start) / 1e6;

  for (const spec of ATTRIBUTE_FIELDS) {
    const found = lookup(spec, attrs, resource);
    if (found !== undefined) raw[spec.field] = found;
  }

  const system = lookupSource(MESSAGES_SPEC.otel[0] as AttributeSource, attrs, resource);
  const input = lookupSource(MESSAGES_SPEC.otel[1] as AttributeSource, attrs, resource);
  if (system !== undefined || input !== undefined) {
    const sys = system === undefined ? [] : [{ role: 'system', content: partsText(shallow(parseMaybeJson(system), 'messages')) }];
    const msgs = input === undefined ? [] : toMessages(shallow(parseMaybeJson(input), 'messages'));
    raw.messages = Array.isArray(msgs) ? [...sys, ...msgs] : msgs;
  }

  const tags: Record<string, unknown> = {};
  let hasTags = false;
  for (const source of [resource, attrs]) {
    for (const [k, v] of source) {
      if (k.startsWith(TAG_PREFIX) && k.length > TAG_PREFIX.length && v !== undefined) {
        tags[k.slice(TAG_PREFIX.length)] = v;
        hasTags = true;
      }
    }
  }
  if (hasTags) raw.tags = tags;

  const code = isPlainObject(span.status) ? span.status.code : undefined;
  if (code === 2 || code === '2' || code === 'STATUS_CODE_ERROR' || raw.error_type != null) raw.status = 'error';
  return raw;
}

function lookupSource(s: AttributeSource, attrs: Attrs, resource: Attrs): unknown {
  if (attrs.has(s.key)) return attrs.get(s.key);
  if (resource.has(s.key)) return resource.get(s.key);
  return undefined;
}

function lookup(spec: EventFieldSpec, attrs: Attrs, resource: Attrs): unknown {
  for (const map of [attrs, resource]) {
    for (const s of spec.otel) {
      if (s.kind !== 'attribute' || !map.has(s.key)) continue;
      const v = map.get(s.key);
      if (v === undefined || v === null) continue;
      return convert(spec, s, v);
    }
  }
  return undefined;
}

function convert(spec: EventFieldSpec, s: AttributeSource, v: unknown): unknown {
  switch (s.transform) {
    case 'seconds_to_ms': {
      const n = toNumber(v);
      return typeof n === 'number' ? Math.round(n * 1e6) / 1e3 : n;
    }
    case 'first_of_array': {
      const a = shallow(parseMaybeJson(v), spec.field);
      return Array.isArray(a) ? a[0] : a;
    }
    case 'operation_name':
      return typeof v === 'string' ? (OTEL_OPERATION_MAP[v] ?? 'other') : v;
    case 'output_messages': {
      const out = shallow(parseMaybeJson(v), spec.field);
      if (Array.isArray(out)) {
        const first: unknown = out[0];
        return isPlainObject(first) ? partsText(first.parts ?? first.content) : undefined;
      }
      return out;
    }
    default:
      break;
  }
  if (spec.type === 'integer' || spec.type === 'number') return toNumber(v);
  if (spec.type === 'string' && typeof v === 'number') return String(v);
  if (spec.type === 'boolean' && typeof v === 'string') return v === 'true' ? true : v === 'false' ? false : v;
  return v;
}

function toNumber(v: unknown): unknown {
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return v;
}

function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trimStart();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}

/** Text of OTel message parts: text parts joined by newlines; other parts (tool calls, blobs) as compact JSON. */
function partsText(parts: unknown): string {
  if (typeof parts === 'string') return parts;
  if (!Array.isArray(parts)) return parts === undefined || parts === null ? '' : JSON.stringify(parts);
  const out: string[] = [];
  for (const p of parts) {
    if (isPlainObject(p) && p.type === 'text' && typeof p.content === 'string') out.push(p.content);
    else if (typeof p === 'string') out.push(p);
    else out.push(JSON.stringify(p));
  }
  return out.join('\n');
}

/** OTel input messages `[{ role, parts: [...] }]` (or `{ role, content }`) → Netra `[{ role, content }]`. */
function toMessages(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((m) => (isPlainObject(m) ? { role: m.role, content: partsText(m.parts ?? m.content) } : m));
}

/** Unix nanoseconds (string or number) → BigInt, or null when absent or not a non-negative integer. */
function nanos(v: unknown): bigint | null {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.floor(v));
  return null;
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

/** OTLP KeyValue list → Map of decoded values. Tolerates junk entries (skipped); OtlpDepthError past MAX_OTLP_DEPTH. */
export function decodeAttributes(list: unknown, depth = 0): Attrs {
  const m: Attrs = new Map();
  if (!Array.isArray(list)) return m;
  for (const kv of list) {
    if (!isPlainObject(kv) || typeof kv.key !== 'string') continue;
    try {
      m.set(kv.key, decodeAnyValue(kv.value, depth));
    } catch (err) {
      // name the outermost key: the one the sender can find in its span
      if (err instanceof OtlpDepthError && depth === 0) throw new OtlpDepthError(kv.key.slice(0, 100));
      throw err;
    }
  }
  return m;
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
    return Object.fromEntries(decodeAttributes(values, depth + 1));
  }
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}
