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

let root: protobuf.Root | null = null;
function loadRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => PROTO_ROOT + target;
  r.loadSync(SERVICE_PROTO, { keepCase: false });
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

/** protobufjs toObject options giving the OTLP/JSON shape: int64 as decimal strings, enums as numbers, no defaults. */
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: Number,
  enums: Number,
  bytes: String,
  defaults: false,
  arrays: false,
  objects: false,
  oneofs: false,
};

export type ProtoDecodeResult = { ok: true; body: Record<string, unknown> } | { ok: false; message: string };

/** Decodes an ExportTraceServiceRequest; a truncated or malformed body gives a message, never a throw. */
export function decodeTraceRequest(buf: Uint8Array): ProtoDecodeResult {
  let msg: protobuf.Message;
  try {
    msg = T().request.decode(buf);
  } catch (err) {
    return { ok: false, message: `malformed OTLP protobuf body (ExportTraceServiceRequest): ${(err as Error).message}` };
  }
  return { ok: true, body: requestToJsonShape(msg) };
}

/** A decoded request message (from protobufjs or grpc) → the OTLP/JSON object shape with hex ids. */
export function requestToJsonShape(msg: protobuf.Message | Record<string, unknown>): Record<string, unknown> {
  const obj = msg instanceof protobuf.Message ? T().request.toObject(msg, TO_OBJECT) : msg;
  hexIds(obj);
  return obj;
}

/** Bytes fields come out base64 from toObject; OTLP/JSON carries trace and span ids as hex. */
function hexIds(obj: Record<string, unknown>): void {
  const rss = obj.resourceSpans;
  if (!Array.isArray(rss)) return;
  for (const rs of rss as Record<string, unknown>[]) {
    const sss = rs.scopeSpans;
    if (!Array.isArray(sss)) continue;
    for (const ss of sss as Record<string, unknown>[]) {
      const spans = ss.spans;
      if (!Array.isArray(spans)) continue;
      for (const s of spans as Record<string, unknown>[]) {
        if (typeof s.traceId === 'string') s.traceId = b64hex(s.traceId);
        else if (s.traceId instanceof Uint8Array) s.traceId = Buffer.from(s.traceId).toString('hex');
        if (typeof s.spanId === 'string') s.spanId = b64hex(s.spanId);
        else if (s.spanId instanceof Uint8Array) s.spanId = Buffer.from(s.spanId).toString('hex');
      }
    }
  }
}

function b64hex(s: string): string {
  return Buffer.from(s, 'base64').toString('hex');
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
