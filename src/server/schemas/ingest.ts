/**
 * Schemas of the routes that read their bodies themselves: event ingestion (JSON and NDJSON streams), OpenAI logs,
 * the OTLP/HTTP receiver (protobuf or JSON) and the LLM gateway (bytes forwarded to the provider). They describe the
 * wire formats for the document; the routes' own parsers and limits decide (see ../openapi.ts).
 */
import { z } from 'zod';
import { EventInputSchema } from '../../workload/event.js';
import { WorkspaceName } from './common.js';

/** ?workspace= or the X-Netra-Workspace header (an API key's workspace by default). */
export const IngestQuery = z.object({ workspace: WorkspaceName.optional().describe('or the X-Netra-Workspace header') });

const FieldError = z.looseObject({
  index: z.number().optional().describe('0-based row of the request'),
  line: z.number().optional().describe('1-based line of an NDJSON body'),
  field: z.string(),
  message: z.string(),
});
export const IngestSummary = z
  .looseObject({
    accepted: z.number(),
    rejected: z.number(),
    duplicates: z.number().describe('events already stored (same workspace and event_id): not stored twice'),
    errors: z.array(FieldError).describe('per-row errors (capped; errors_total counts all)'),
    errors_total: z.number(),
  })
  .meta({ id: 'IngestSummary' });
/** 400 when no event of the request was valid: the counts and the error envelope together. */
export const IngestRejected = IngestSummary.extend({ error: z.looseObject({ code: z.string(), message: z.string() }) });

const EventsBody = z.union([z.array(EventInputSchema), z.object({ events: z.array(EventInputSchema) })]);
export const EventsIngestBody = {
  content: {
    'application/json': { schema: EventsBody.describe('an array of events or { events: [...] } (≤ NETRA_INGEST_MAX_EVENTS)') },
    'application/x-ndjson': {
      schema: z.string().describe('one event (JSON object) per line, any length: parsed and stored batch by batch'),
    },
  },
};

const OpenAiLog = z.looseObject({
  request: z.looseObject({}).optional().describe('{ model, messages, max_tokens, temperature, stream, user }'),
  response: z.looseObject({}).optional().describe('the chat completion (id, model, choices, usage) or an error body'),
  metadata: z.looseObject({}).optional().describe('app, environment, latency_ms, ttft_ms, session_id, end_user, tags, ...'),
});
export const OpenAiLogsBody = z.union([OpenAiLog, z.array(OpenAiLog), z.object({ logs: z.array(OpenAiLog) })]);

// ── OTLP/HTTP ──
const binary = (description: string) => z.string().meta({ format: 'binary', description });
export const OtlpBody = {
  content: {
    'application/x-protobuf': {
      schema: binary('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest (Content-Encoding gzip or deflate allowed)'),
    },
    'application/json': { schema: z.looseObject({ resourceSpans: z.array(z.looseObject({})) }).describe('OTLP/JSON') },
  },
};
export const OtlpJsonResponse = IngestSummary.extend({
  partialSuccess: z.looseObject({ rejectedSpans: z.number(), errorMessage: z.string() }).optional(),
  spans: z.number(),
  skipped_spans: z.number().describe('spans that are not model calls (workflow, tool, retriever, ...)'),
  skipped_by_kind: z.record(z.string(), z.number()),
});
export const OtlpOk = {
  description: 'ExportTraceServiceResponse in the request encoding (partial success is a 200 too)',
  content: {
    'application/x-protobuf': { schema: binary('ExportTraceServiceResponse') },
    'application/json': { schema: OtlpJsonResponse },
  },
};
/** OTLP errors: google.rpc.Status for protobuf requests, the error envelope for JSON. */
export const otlpError = (description: string) => ({
  description,
  content: {
    'application/x-protobuf': { schema: binary('google.rpc.Status') },
    'application/json': {
      schema: z.object({ error: z.looseObject({ code: z.string(), message: z.string(), field: z.string().optional() }) }),
    },
  },
});

// ── the LLM gateway ──
export const GatewayBody = z
  .looseObject({ model: z.string() })
  .describe("the provider's request body, forwarded byte for byte unless the workspace's gateway policy changes it");
export const GatewayQuery = z.object({}).describe("the provider's query string, forwarded as is");
export const GatewayResponse = z.looseObject({}).describe("the provider's answer");
export const GatewayStream = z.string().describe('server-sent events, as the provider streams them (`stream: true`)');
export const GatewayErrorBody = z
  .looseObject({ error: z.looseObject({ message: z.string(), type: z.string() }) })
  .describe("errors in the provider's own shape (OpenAI or Anthropic)");
