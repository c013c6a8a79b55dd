/**
 * OTLP traces (`ExportTraceServiceRequest`: resourceSpans → scopeSpans → spans, in the OTLP/JSON object shape; the
 * protobuf encoding is decoded into the same shape by ingest/otlp-proto.ts) → event inputs. Pure.
 *
 * One model-call span becomes one event: event_id = spanId, trace/span ids, timestamp from startTimeUnixNano, latency
 * from end − start, status `error` when the span status code is 2 (or `error.type` is set), and every other field from
 * the attributes of the instrumentation dialects listed in workload/otel-mapping.ts (span attributes, then attributes
 * of its content events, then resource attributes). Spans that are not model calls (workflow, tool, retriever, chain,
 * or no GenAI attribute at all) are counted by kind, not stored. Each item's `index` is the span's position among all
 * spans of the request (0-based, in document order).
 */
import {
  ATTRIBUTE_EVENTS,
  CHOICE_EVENT,
  classifySpan,
  EVENT_FIELDS,
  type EventFieldSpec,
  FIRST_TOKEN_EVENTS,
  MESSAGE_EVENTS,
  OTEL_OPERATION_ALIASES,
  OTEL_OPERATION_MAP,
  type OtelSource,
  type SkippedSpanKind,
  TAG_ATTRIBUTES,
  TOTAL_TOKEN_ATTRIBUTES,
} from '../workload/otel-mapping.js';
import { type BodyParseResult, type IngestItem, isPlainObject } from './types.js';
import {
  type Attrs,
  decodeAttributes,
  indexedMessages,
  OtlpDepthError,
  type Msg,
  nanos,
  parseMaybeJson,
  partsText,
  requestBodyMessages,
  responseBodyText,
  toMessages,
  toNumber,
  vercelPromptMessages,
} from './otlp-values.js';

export { decodeAnyValue, decodeAttributes, MAX_OTLP_DEPTH, OtlpDepthError } from './otlp-values.js';

export interface OtlpParseStats {
  /** spans seen in the request (those beyond the span limit included) */
  spans: number;
  /** spans that are not model calls, by kind */
  skipped_by_kind: Partial<Record<SkippedSpanKind, number>>;
  /** spans beyond the per-request limit: not read, rejected */
  over_limit: number;
}

export interface OtlpParseOptions {
  /** spans read at most; the ones beyond are counted in stats.over_limit */
  maxSpans?: number;
}

type AttributeSource = Extract<OtelSource, { kind: 'attribute' }>;

const SCALAR_FIELDS = EVENT_FIELDS.filter(
  (f) => f.field !== 'messages' && f.field !== 'tags' && f.otel.some((s) => s.kind === 'attribute'),
);
const MESSAGE_SOURCES = EVENT_FIELDS.find((f) => f.field === 'messages')!.otel;
const TAG_SOURCES = EVENT_FIELDS.find((f) => f.field === 'tags')!.otel;
const TAG_PREFIXES = TAG_SOURCES.flatMap((s) => (s.kind === 'prefix' ? [s.prefix] : []));
/** association properties that are already fields (user, session) are not repeated as tags */
const TAG_SKIP = new Set([
  'traceloop.association.properties.user_id',
  'traceloop.association.properties.session_id',
  'ai.telemetry.metadata.userId',
  'ai.telemetry.metadata.sessionId',
]);

/**
 * The mapping inverted once: attribute key → the scalar fields it may fill, with its rank in each field's lookup order.
 * A span's attributes are then read in one pass (a dozen map lookups) instead of probing every source of every field
 * (a few hundred), with the same result: per field, the source first in (span, events, resource) × lookup order whose
 * value converts wins.
 */
interface FieldSource {
  field: number;
  rank: number;
  source: AttributeSource;
}
const MESSAGE_KEYS = new Set(MESSAGE_SOURCES.flatMap((s) => (s.kind === 'attribute' ? [s.key] : [])));
const MESSAGE_PREFIXES = MESSAGE_SOURCES.flatMap((s) => (s.kind === 'indexed' ? [s.prefix] : []));
const TAG_KEYS = new Set([...Object.keys(TAG_ATTRIBUTES), 'metadata', 'tag.tags']);
const startsWithAny = (k: string, prefixes: readonly string[]): boolean => {
  for (const p of prefixes) if (k.startsWith(p)) return true;
  return false;
};

/** What one attribute key may feed: scalar fields, the messages, the tags. */
interface KeyUse {
  fields: FieldSource[];
  messages: boolean;
  tags: boolean;
}
const keyUse = (k: string): KeyUse => ({
  fields: [],
  messages: MESSAGE_KEYS.has(k) || startsWithAny(k, MESSAGE_PREFIXES),
  tags: TAG_KEYS.has(k) || startsWithAny(k, TAG_PREFIXES),
});
/** Every key a scalar field reads; keys not in it are checked against the message and tag sources when met. */
const KEY_USES = new Map<string, KeyUse>();
SCALAR_FIELDS.forEach((spec, field) =>
  spec.otel.forEach((source, rank) => {
    if (source.kind !== 'attribute') return;
    let use = KEY_USES.get(source.key);
    if (use === undefined) KEY_USES.set(source.key, (use = keyUse(source.key)));
    use.fields.push({ field, rank, source });
  }),
);
/** sources per field rank below this; a candidate's priority is (source map index) × RANKS + rank */
const RANKS = 1 + Math.max(...SCALAR_FIELDS.map((f) => f.otel.length));

interface Candidate {
  priority: number;
  source: AttributeSource;
  value: unknown;
}

/** `skipped` = spans that did not become events because they are not model calls; `stats` breaks it down by kind. */
export function parseOtlpTraces(body: unknown, opts: OtlpParseOptions = {}): BodyParseResult<{ skipped: number; stats: OtlpParseStats }> {
  // `{}` is a valid (empty) request: protobuf leaves an empty repeated field out
  if (!isPlainObject(body) || (!Array.isArray(body.resourceSpans) && Object.keys(body).length > 0)) {
    return { ok: false, message: 'body must be an OTLP ExportTraceServiceRequest: { "resourceSpans": [...] }' };
  }
  const maxSpans = opts.maxSpans ?? Number.POSITIVE_INFINITY;
  const stats: OtlpParseStats = { spans: 0, skipped_by_kind: {}, over_limit: 0 };
  let skipped = 0;
  const items: IngestItem[] = [];
  for (const rs of (body.resourceSpans as unknown[] | undefined) ?? []) {
    if (!isPlainObject(rs)) continue;
    let resource: Attrs;
    let resourceError: string | null = null;
    try {
      resource = decodeAttributes(isPlainObject(rs.resource) ? rs.resource.attributes : undefined);
    } catch (err) {
      if (!(err instanceof OtlpDepthError)) throw err;
      resource = new Map();
      resourceError = `${err.field}: ${err.message}`;
    }
    const scopes = Array.isArray(rs.scopeSpans)
      ? rs.scopeSpans
      : Array.isArray(rs.instrumentationLibrarySpans)
        ? rs.instrumentationLibrarySpans
        : [];
    for (const ss of scopes) {
      if (!isPlainObject(ss) || !Array.isArray(ss.spans)) continue;
      for (const span of ss.spans) {
        const index = stats.spans++;
        if (index >= maxSpans) {
          stats.over_limit++;
          continue;
        }
        if (!isPlainObject(span)) {
          items.push({ index, errors: [{ field: '(span)', message: 'span must be an object' }] });
          continue;
        }
        if (resourceError !== null) {
          items.push({ index, errors: [{ field: 'resource.attributes', message: resourceError }] });
          continue;
        }
        try {
          const attrs = decodeAttributes(span.attributes);
          const cls = classifySpan(attrs);
          if (!cls.call) {
            stats.skipped_by_kind[cls.kind] = (stats.skipped_by_kind[cls.kind] ?? 0) + 1;
            skipped++;
            continue;
          }
          items.push({ index, raw: spanToEventInput(span, attrs, resource) });
        } catch (err) {
          // a value nested past the cap (attributes, events or message parts): this span is refused, the others stay
          if (!(err instanceof OtlpDepthError)) throw err;
          items.push({ index, errors: [{ field: `attributes.${err.field}`, message: err.message }] });
        }
      }
    }
  }
  return { ok: true, items, skipped, stats };
}

/** Builds the raw event input for one span; validation is left to normalizeEvent so errors name the field. */
export function spanToEventInput(span: Record<string, unknown>, spanAttrs: Attrs, resource: Attrs): Record<string, unknown> {
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
  // to the microsecond: protobuf int64 times arrive as doubles (256 ns steps at today's epoch), and µs is what is stored
  if (start !== null && end !== null && end !== 0n && end >= start) raw.latency_ms = Math.round(Number(end - start) / 1e3) / 1e3;

  // content events (older GenAI conventions) read after the span's own attributes
  const events = Array.isArray(span.events) ? span.events.filter(isPlainObject) : [];
  const eventAttrs: Attrs = new Map();
  const eventMessages: Msg[] = [];
  let choiceText: string | undefined;
  let firstTokenNs: bigint | null = null;
  for (const ev of events) {
    const name = typeof ev.name === 'string' ? ev.name : '';
    if (ATTRIBUTE_EVENTS.has(name)) decodeAttributes(ev.attributes, eventAttrs);
    else if (MESSAGE_EVENTS[name] !== undefined || name === CHOICE_EVENT) {
      const a = decodeAttributes(ev.attributes);
      const msg = a.get('message');
      const content =
        a.get('content') ??
        (isPlainObject(msg) ? msg.content : undefined) ??
        (isPlainObject(parseMaybeJson(msg)) ? (parseMaybeJson(msg) as Record<string, unknown>).content : undefined);
      if (name === CHOICE_EVENT) choiceText ??= partsText(parseMaybeJson(content));
      else eventMessages.push({ role: MESSAGE_EVENTS[name]!, content: partsText(parseMaybeJson(content)) });
    } else if (FIRST_TOKEN_EVENTS.has(name) && firstTokenNs === null) firstTokenNs = nanos(ev.timeUnixNano);
  }
  const sources: Attrs[] = eventAttrs.size > 0 ? [spanAttrs, eventAttrs, resource] : [spanAttrs, resource];

  // one pass over the attributes: field candidates, and whether any message or tag source is there at all
  const candidates: (Candidate[] | undefined)[] = new Array(SCALAR_FIELDS.length);
  let anyMessages = false;
  let anyTags = false;
  for (let m = 0; m < sources.length; m++) {
    for (const [k, v] of sources[m]!) {
      const use = KEY_USES.get(k);
      if (use === undefined) {
        if (!anyMessages && (MESSAGE_KEYS.has(k) || startsWithAny(k, MESSAGE_PREFIXES))) anyMessages = true;
        if (!anyTags && (TAG_KEYS.has(k) || startsWithAny(k, TAG_PREFIXES))) anyTags = true;
        continue;
      }
      if (v !== undefined && v !== null)
        for (const f of use.fields) (candidates[f.field] ??= []).push({ priority: m * RANKS + f.rank, source: f.source, value: v });
      anyMessages ||= use.messages;
      anyTags ||= use.tags;
    }
  }
  for (let i = 0; i < SCALAR_FIELDS.length; i++) {
    const list = candidates[i];
    if (list === undefined) continue;
    if (list.length > 1) list.sort((a, b) => a.priority - b.priority);
    const spec = SCALAR_FIELDS[i]!;
    for (const c of list) {
      const out = convert(spec, c.source, c.value);
      if (out !== undefined) {
        raw[spec.field] = out;
        break;
      }
    }
  }
  if (raw.completion_tokens === undefined && typeof raw.prompt_tokens === 'number') {
    const total = firstNumber(sources, TOTAL_TOKEN_ATTRIBUTES);
    if (total !== undefined && total >= raw.prompt_tokens) raw.completion_tokens = total - raw.prompt_tokens;
  }
  if (raw.ttft_ms === undefined && firstTokenNs !== null && start !== null && firstTokenNs >= start)
    raw.ttft_ms = Math.round(Number(firstTokenNs - start) / 1e3) / 1e3;
  if (raw.stream === undefined && typeof spanAttrs.get('ai.operationId') === 'string')
    raw.stream = (spanAttrs.get('ai.operationId') as string).endsWith('.doStream');
  if (raw.response_text === undefined && choiceText !== undefined) raw.response_text = choiceText;

  const messages = (anyMessages ? findMessages(sources) : undefined) ?? (eventMessages.length > 0 ? eventMessages : undefined);
  if (messages !== undefined) raw.messages = messages;

  const tags = anyTags ? collectTags(sources) : undefined;
  if (tags !== undefined) raw.tags = tags;

  const code = isPlainObject(span.status) ? span.status.code : undefined;
  if (code === 2 || code === '2' || code === 'STATUS_CODE_ERROR' || raw.error_type != null) raw.status = 'error';
  return raw;
}

function firstNumber(sources: Attrs[], keys: readonly string[]): number | undefined {
  for (const map of sources)
    for (const k of keys) {
      const v = toNumber(map.get(k));
      if (typeof v === 'number') return v;
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
      const a = parseMaybeJson(v);
      return Array.isArray(a) ? a[0] : a;
    }
    case 'operation_name':
      return typeof v === 'string' ? (OTEL_OPERATION_MAP[v] ?? OTEL_OPERATION_ALIASES[v] ?? 'other') : v;
    case 'openinference_kind':
      return typeof v === 'string' ? OTEL_OPERATION_ALIASES[v.toUpperCase()] : undefined;
    case 'present_means_true':
      return v === undefined || v === null ? undefined : true;
    case 'provider_prefix':
      return typeof v === 'string' ? v.split('.')[0] : v;
    case 'json_key': {
      const o = parseMaybeJson(v);
      if (!isPlainObject(o) || s.jsonKey === undefined || !Object.hasOwn(o, s.jsonKey)) return undefined;
      return convert(spec, { ...s, transform: undefined }, o[s.jsonKey]);
    }
    case 'openai_response_body':
      return responseBodyText(v);
    case 'output_messages': {
      const out = parseMaybeJson(v);
      if (Array.isArray(out)) {
        const first: unknown = out[0];
        return isPlainObject(first)
          ? partsText(first.parts ?? first.content ?? (isPlainObject(first.message) ? first.message.content : undefined))
          : undefined;
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

/** The first message source present (lookup order of the mapping), span attributes before event and resource ones. */
function findMessages(sources: Attrs[]): unknown {
  for (const map of sources) {
    let system: string | undefined;
    for (const s of MESSAGE_SOURCES) {
      let found: unknown;
      if (s.kind === 'indexed') found = indexedMessages(map, s.prefix, s.role, s.content);
      else if (s.kind === 'attribute' && map.has(s.key)) {
        const v = map.get(s.key);
        switch (s.transform) {
          case 'system_instructions':
            system = partsText(parseMaybeJson(v));
            continue;
          case 'openai_request_body':
            found = requestBodyMessages(v);
            break;
          default: {
            const parsed = parseMaybeJson(v);
            found = s.key === 'ai.prompt' ? vercelPromptMessages(v) : Array.isArray(parsed) ? toMessages(parsed) : parsed;
          }
        }
      }
      if (found !== undefined) return withSystemInstructions(system, found);
    }
    if (system !== undefined) return [{ role: 'system', content: system }];
  }
  return undefined;
}

/**
 * System instructions become a leading system message, unless the input messages already begin with that same message
 * (OpenLIT records the system prompt in both attributes).
 */
function withSystemInstructions(system: string | undefined, found: unknown): unknown {
  if (system === undefined || !Array.isArray(found)) return found;
  const first: unknown = found[0];
  if (isPlainObject(first) && first.role === 'system' && first.content === system) return found;
  return [{ role: 'system', content: system }, ...found];
}

function collectTags(sources: Attrs[]): Record<string, unknown> | undefined {
  const tags = new Map<string, unknown>();
  for (const map of [...sources].reverse()) {
    for (const [k, v] of map) {
      if (v === undefined || v === null || typeof v === 'object' || TAG_SKIP.has(k)) continue;
      for (const p of TAG_PREFIXES) if (k.startsWith(p) && k.length > p.length) tags.set(k.slice(p.length), v);
      // own keys only: an attribute named `constructor` or `toString` is not a tag name
      if (Object.hasOwn(TAG_ATTRIBUTES, k)) tags.set(TAG_ATTRIBUTES[k]!, v);
    }
    const meta = parseMaybeJson(map.get('metadata'));
    if (isPlainObject(meta)) for (const [k, v] of Object.entries(meta)) if (v !== null && typeof v !== 'object') tags.set(k, v);
    const list = parseMaybeJson(map.get('tag.tags'));
    if (Array.isArray(list) && list.length > 0) tags.set('tags', list.map(String).join(','));
  }
  return tags.size > 0 ? Object.fromEntries(tags) : undefined;
}
