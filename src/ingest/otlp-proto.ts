/**
 * OTLP protobuf messages, loaded with protobufjs from the published opentelemetry-proto definitions vendored under
 * vendor/opentelemetry-proto (Apache-2.0). No hand-written wire parsing: protobufjs decodes and encodes.
 *
 * A decoded request is turned into the OTLP/JSON object shape (`resourceSpans` → `scopeSpans` → `spans`, attributes as
 * `{ key, value: { stringValue | intValue | ... } }`, 64-bit integers as decimal strings, ids as hex) so one span mapper
 * (ingest/otlp.ts) serves both encodings.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_ROOT = fileURLToPath(new URL('../../vendor/opentelemetry-proto/', import.meta.url));
const SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

/** Directory of the vendored .proto files (the gRPC server loads the service definition from it too). */
export const OTLP_PROTO_DIR = PROTO_ROOT;
export const OTLP_TRACE_SERVICE_PROTO = SERVICE_PROTO;

/**
 * AnyValue with its oneof case as a plain field. protobufjs keeps a oneof's case in a virtual property whose setter
 * deletes every other member of the oneof from the message, and its decoder sets it for each value read: half of the
 * decoding time of a typical GenAI span (a dozen attributes) went into those deletes. A class field shadows the virtual
 * property, so `value` simply holds the member read last, which is the oneof's value by protobuf's rule (the last one
 * on the wire wins); the walk below reads only that member.
 */
class AnyValueMessage extends protobuf.Message<Record<string, unknown>> {
  value: string | undefined = undefined;
}

let root: protobuf.Root | null = null;
function loadRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => PROTO_ROOT + target;
  r.loadSync(SERVICE_PROTO, { keepCase: false });
  r.lookupType('opentelemetry.proto.common.v1.AnyValue').ctor = AnyValueMessage;
  r.resolveAll();
  root = r;
  return r;
}

const types = () => {
  const r = loadRoot();
  return {
    request: r.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: r.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  };
};
let cached: ReturnType<typeof types> | null = null;
const T = () => (cached ??= types());

export type ProtoDecodeResult = { ok: true; body: Record<string, unknown> } | { ok: false; message: string };

/** Decodes an ExportTraceServiceRequest; a truncated or malformed body gives a message, never a throw. */
export function decodeTraceRequest(buf: Uint8Array): ProtoDecodeResult {
  let msg: protobuf.Message;
  try {
    msg = T().request.decode(buf);
  } catch (err) {
    return { ok: false, message: `malformed OTLP protobuf body (ExportTraceServiceRequest): ${(err as Error).message}` };
  }
  return { ok: true, body: requestToJsonShape(msg as unknown as Msg) };
}

/*
 * Decoded message → OTLP/JSON shape, walked by hand over the fields the span mapper (ingest/otlp.ts) reads:
 * resourceSpans[].resource.attributes, scopeSpans[].spans[] with traceId, spanId, start/end time, attributes,
 * events[] (name, timeUnixNano, attributes) and status.code. The values are what protobufjs's own
 * `toObject({ longs: Number, enums: Number, bytes: String, defaults: false })` gives (a field is there when the message
 * holds it as its own property; empty repeated fields are left out; 64-bit integers as numbers; bytes as base64), with
 * trace and span ids as hex as in OTLP/JSON. The generic toObject cost about a third of a span's server time, most of
 * it in per-field option checks this walk does not need (bench/otlp-stages.ts).
 */
type Msg = Record<string, unknown>;
interface LongLike {
  low: number;
  high: number;
}

const has = (m: Msg, k: string): boolean => m[k] != null && Object.hasOwn(m, k);
const num = (v: unknown, unsigned: boolean): number =>
  typeof v === 'number' ? v : new protobuf.util.LongBits((v as LongLike).low >>> 0, (v as LongLike).high >>> 0).toNumber(unsigned);
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const many = (m: Msg, k: string): Msg[] | null => {
  const v = m[k] as Msg[] | undefined;
  return v && v.length > 0 ? v : null;
};

/** A decoded ExportTraceServiceRequest message → the OTLP/JSON object shape the span mapper reads (see above). */
export function requestToJsonShape(msg: Msg): Record<string, unknown> {
  const out: Msg = {};
  const rss = many(msg, 'resourceSpans');
  if (rss) out.resourceSpans = rss.map(resourceSpansShape);
  return out;
}

function resourceSpansShape(rs: Msg): Msg {
  const out: Msg = {};
  if (has(rs, 'resource')) {
    const attrs = many(rs.resource as Msg, 'attributes');
    out.resource = attrs ? { attributes: attrs.map(keyValueShape) } : {};
  }
  const sss = many(rs, 'scopeSpans');
  if (sss) out.scopeSpans = sss.map(scopeSpansShape);
  return out;
}

function scopeSpansShape(ss: Msg): Msg {
  const spans = many(ss, 'spans');
  return spans ? { spans: spans.map(spanShape) } : {};
}

function spanShape(s: Msg): Msg {
  const out: Msg = {};
  if (has(s, 'traceId')) out.traceId = hex(s.traceId as Uint8Array);
  if (has(s, 'spanId')) out.spanId = hex(s.spanId as Uint8Array);
  if (has(s, 'startTimeUnixNano')) out.startTimeUnixNano = num(s.startTimeUnixNano, true);
  if (has(s, 'endTimeUnixNano')) out.endTimeUnixNano = num(s.endTimeUnixNano, true);
  const attrs = many(s, 'attributes');
  if (attrs) out.attributes = attrs.map(keyValueShape);
  const events = many(s, 'events');
  if (events) out.events = events.map(eventShape);
  if (has(s, 'status')) {
    const st = s.status as Msg;
    out.status = has(st, 'code') ? { code: st.code } : {};
  }
  return out;
}

function eventShape(e: Msg): Msg {
  const out: Msg = {};
  if (has(e, 'timeUnixNano')) out.timeUnixNano = num(e.timeUnixNano, true);
  if (has(e, 'name')) out.name = e.name;
  const attrs = many(e, 'attributes');
  if (attrs) out.attributes = attrs.map(keyValueShape);
  return out;
}

function keyValueShape(kv: Msg): Msg {
  const out: Msg = {};
  if (has(kv, 'key')) out.key = kv.key;
  if (has(kv, 'value')) out.value = anyValueShape(kv.value as Msg);
  return out;
}

/** `value` is the oneof's case: the member read last from the wire (see AnyValueMessage). */
function anyValueShape(v: Msg): Msg {
  const c = v.value as string | undefined;
  if (c === undefined || !has(v, c)) return {};
  const x = v[c];
  switch (c) {
    case 'intValue':
      return { intValue: num(x, false) };
    case 'bytesValue':
      return { bytesValue: protobuf.util.base64.encode(x as Uint8Array, 0, (x as Uint8Array).length) };
    case 'arrayValue': {
      const values = many(x as Msg, 'values');
      return { arrayValue: values ? { values: values.map(anyValueShape) } : {} };
    }
    case 'kvlistValue': {
      const values = many(x as Msg, 'values');
      return { kvlistValue: values ? { values: values.map(keyValueShape) } : {} };
    }
    case 'stringValue':
      return { stringValue: x };
    case 'boolValue':
      return { boolValue: x };
    case 'doubleValue':
      return { doubleValue: x };
    default:
      return { [c]: x };
  }
}

export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** ExportTraceServiceResponse as protobuf bytes; partial_success only when something was rejected or there is a message. */
export function encodeTraceResponse(partial: PartialSuccess | null): Uint8Array {
  const t = T().response;
  const payload =
    partial && (partial.rejectedSpans > 0 || partial.errorMessage !== '')
      ? { partialSuccess: { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage } }
      : {};
  return t.encode(t.create(payload)).finish();
}

/** Decodes a response (tests and benches read what the server answered). */
export function decodeTraceResponse(buf: Uint8Array): { partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string } } {
  const t = T().response;
  return t.toObject(t.decode(buf), { longs: Number, defaults: false }) as {
    partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
  };
}

/** Encodes a request given in the OTLP/JSON shape with ids as hex (tests and benches build bodies with it). */
export function encodeTraceRequest(jsonShape: Record<string, unknown>): Uint8Array {
  const t = T().request;
  const copy = structuredClone(jsonShape) as Record<string, unknown>;
  for (const rs of (copy.resourceSpans as Record<string, unknown>[] | undefined) ?? []) {
    for (const ss of (rs.scopeSpans as Record<string, unknown>[] | undefined) ?? []) {
      for (const s of (ss.spans as Record<string, unknown>[] | undefined) ?? []) {
        if (typeof s.traceId === 'string') s.traceId = Buffer.from(s.traceId, 'hex');
        if (typeof s.spanId === 'string') s.spanId = Buffer.from(s.spanId, 'hex');
        if (typeof s.parentSpanId === 'string') s.parentSpanId = Buffer.from(s.parentSpanId, 'hex');
      }
    }
  }
  return t.encode(t.fromObject(copy)).finish();
}

/**
 * google.rpc.Status, the body of an OTLP/HTTP protobuf error response. Same fields and numbers as googleapis'
 * google/rpc/status.proto (details, field 3, is never sent by Netra and so left out).
 */
const STATUS_PROTO = 'syntax = "proto3"; package google.rpc; message Status { int32 code = 1; string message = 2; }';
let statusType: protobuf.Type | null = null;
const Status = () => (statusType ??= protobuf.parse(STATUS_PROTO).root.lookupType('google.rpc.Status'));

/** gRPC status codes used in OTLP error bodies (and by the gRPC receiver). */
export const GRPC_CODE = {
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export function encodeStatus(code: number, message: string): Uint8Array {
  const t = Status();
  return t.encode(t.create({ code, message })).finish();
}

export function decodeStatus(buf: Uint8Array): { code?: number; message?: string } {
  const t = Status();
  return t.toObject(t.decode(buf)) as { code?: number; message?: string };
}
