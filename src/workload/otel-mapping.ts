// Longer than ~400 lines: data: the OpenTelemetry attribute dialects, one table the parser and docs/EVENTS.md both read.
/**
 * Every workload event field, what it means, and where it comes from in OpenTelemetry. Pure data plus a Markdown renderer.
 *
 * One table serves two readers: the OTLP parser (src/ingest/otlp.ts) looks attributes up in the order given here, and
 * docs/EVENTS.md embeds `renderEventSchemaMarkdown()` / `renderOtelMappingMarkdown()` verbatim (a test keeps them equal).
 * Attribute names follow the OpenTelemetry GenAI semantic conventions (status: Development) as published in
 * open-telemetry/semantic-conventions-genai (client inference span). Where no convention exists, Netra reads a
 * `netra.*` attribute. Deprecated names (e.g. `gen_ai.system`) and widely used legacy names are accepted after the
 * current one. Attributes are looked up on the span first, then on its resource.
 */

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'enum' | 'messages' | 'tags' | 'list';

/**
 * - genai: an attribute of the OTel GenAI conventions; otel: a general OTel convention (error, http, user, session,
 *   service, deployment); deprecated: a former OTel name still accepted; legacy: a name used by popular
 *   instrumentations but not by OTel; netra: no convention exists, Netra's own attribute.
 */
export type SourceStatus = 'genai' | 'otel' | 'deprecated' | 'legacy' | 'netra' | 'openllmetry' | 'openinference' | 'openlit' | 'vercel_ai';

/** How an attribute value becomes the field value. Default: taken as is (numbers from intValue/doubleValue). */
export type OtelTransform =
  | 'seconds_to_ms'
  | 'first_of_array'
  | 'operation_name'
  | 'input_messages'
  | 'system_instructions'
  | 'output_messages'
  /** OpenInference `openinference.span.kind`: LLM → chat, EMBEDDING → embedding */
  | 'openinference_kind'
  /** Vercel AI SDK `ai.model.provider` (`openai.chat`) → the provider (`openai`) */
  | 'provider_prefix'
  /** an OpenAI request or response body as JSON (OpenInference `input.value` / `output.value`), or plain text */
  | 'openai_request_body'
  | 'openai_response_body'
  /** a JSON object attribute (OpenInference `llm.invocation_parameters`): the value under `jsonKey` */
  | 'json_key'
  /** `gen_ai.prompt` (JSON list of messages, older GenAI span events) */
  | 'message_list'
  /** any value means true (the AI SDK records a time to first chunk only on streamed calls) */
  | 'present_means_true';

export type OtelSource =
  /** a field of the OTLP span itself */
  | { kind: 'span'; path: string; note?: string }
  /** an attribute (span first, then resource) */
  | { kind: 'attribute'; key: string; status: SourceStatus; transform?: OtelTransform; jsonKey?: string }
  /** flattened message lists: `<prefix>N<role>` / `<prefix>N<content>` for N = 0, 1, ... (OpenLLMetry, OpenInference) */
  | { kind: 'indexed'; prefix: string; role: string; content: string; status: SourceStatus }
  /** every attribute under this prefix; the rest of the key is the tag name */
  | { kind: 'prefix'; prefix: string; status: SourceStatus }
  /** not taken from the telemetry at all */
  | { kind: 'none'; note: string };

export interface EventFieldSpec {
  field: string;
  type: FieldType;
  /** 'required', 'optional' or 'default: ...' */
  presence: string;
  meaning: string;
  otel: readonly OtelSource[];
  /** notes on the OTel mapping */
  otelNote?: string;
}

const attr = (key: string, status: SourceStatus, transform?: OtelTransform): OtelSource =>
  transform ? { kind: 'attribute', key, status, transform } : { kind: 'attribute', key, status };
const param = (key: string, jsonKey: string): OtelSource => ({
  kind: 'attribute',
  key,
  status: 'openinference',
  transform: 'json_key',
  jsonKey,
});

/** gen_ai.operation.name well-known values → Netra operation. Anything else → 'other'. */
export const OTEL_OPERATION_MAP: Readonly<Record<string, string>> = {
  chat: 'chat',
  generate_content: 'chat',
  text_completion: 'completion',
  embeddings: 'embedding',
};

/** OpenLLMetry `llm.request.type` / OpenInference kinds as operations (gen_ai.operation.name values are in OTEL_OPERATION_MAP). */
export const OTEL_OPERATION_ALIASES: Readonly<Record<string, string>> = {
  completion: 'completion',
  embedding: 'embedding',
  rerank: 'rerank',
  LLM: 'chat',
  EMBEDDING: 'embedding',
};

/**
 * Spans that are not model calls are counted by kind (in the OTLP response and the `netra_otlp_spans_skipped_total`
 * metric), never stored: agent and workflow spans wrap the model-call spans below them and may repeat their usage,
 * which would count a call twice. Bounded label set: anything unrecognised is `other`.
 */
export const SKIPPED_SPAN_KINDS = [
  'not_genai',
  'agent',
  'workflow',
  'task',
  'tool',
  'chain',
  'retriever',
  'reranker',
  'guardrail',
  'evaluator',
  'prompt',
  'other',
] as const;
export type SkippedSpanKind = (typeof SKIPPED_SPAN_KINDS)[number];

/** `gen_ai.operation.name` values of spans that are not model calls (OTel GenAI agent spans). */
export const OTEL_NON_MODEL_OPERATIONS: Readonly<Record<string, SkippedSpanKind>> = {
  invoke_agent: 'agent',
  create_agent: 'agent',
  invoke_workflow: 'workflow',
  execute_tool: 'tool',
};
/** OpenInference `openinference.span.kind` values of model calls; every other kind (CHAIN, TOOL, RETRIEVER, ...) is skipped. */
export const OPENINFERENCE_MODEL_KINDS: ReadonlySet<string> = new Set(['LLM', 'EMBEDDING']);
/** OpenLLMetry `traceloop.span.kind` values (set by its workflow/task/agent/tool decorators): never model calls. */
export const TRACELOOP_SPAN_KINDS: Readonly<Record<string, SkippedSpanKind>> = {
  workflow: 'workflow',
  task: 'task',
  agent: 'agent',
  tool: 'tool',
};
/**
 * Vercel AI SDK `ai.operationId` values of the provider call itself. The outer `ai.generateText` / `ai.streamText` spans
 * carry the same model and usage summed over steps, so they are skipped (as workflow) and the inner calls stored.
 */
export const VERCEL_MODEL_CALL_OPERATIONS: ReadonlySet<string> = new Set([
  'ai.generateText.doGenerate',
  'ai.streamText.doStream',
  'ai.generateObject.doGenerate',
  'ai.streamObject.doStream',
  'ai.embed.doEmbed',
  'ai.embedMany.doEmbed',
]);
/** An attribute with one of these prefixes marks a span as GenAI (any instrumentation above). */
export const GENAI_ATTRIBUTE_PREFIXES: readonly string[] = ['gen_ai.', 'llm.', 'ai.model.', 'openinference.', 'traceloop.'];
/** Total-token attributes: used to derive output tokens when only input and total are reported. */
export const TOTAL_TOKEN_ATTRIBUTES: readonly string[] = [
  'gen_ai.usage.total_tokens',
  'llm.usage.total_tokens',
  'llm.token_count.total',
  'ai.usage.totalTokens',
];
/** Span events (by name) whose time is the first token of a streamed answer. */
export const FIRST_TOKEN_EVENTS: ReadonlySet<string> = new Set([
  'First Token Stream Event',
  'gen_ai.content.completion.chunk',
  'llm.content.completion.chunk',
]);
/** Span events whose attributes are read as if they were on the span (after the span's own). */
export const ATTRIBUTE_EVENTS: ReadonlySet<string> = new Set([
  'gen_ai.client.inference.operation.details',
  'gen_ai.content.prompt',
  'gen_ai.content.completion',
]);
/** Per-message span events of the older GenAI conventions: role from the name, text from `content` (or `message.content`). */
export const MESSAGE_EVENTS: Readonly<Record<string, string>> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};
export const CHOICE_EVENT = 'gen_ai.choice';
/** Single attributes that become tags: attribute → tag name. */
export const TAG_ATTRIBUTES: Readonly<Record<string, string>> = {
  'traceloop.workflow.name': 'workflow',
  'traceloop.entity.name': 'entity',
  'ai.telemetry.functionId': 'function_id',
};

export type SpanClass = { call: true } | { call: false; kind: SkippedSpanKind };

/** Decides whether a span is a model call (becomes an event) or which other kind it is. */
export function classifySpan(attrs: ReadonlyMap<string, unknown>): SpanClass {
  const oi = attrs.get('openinference.span.kind');
  if (typeof oi === 'string') {
    if (OPENINFERENCE_MODEL_KINDS.has(oi.toUpperCase())) return { call: true };
    return { call: false, kind: skippedKind(oi.toLowerCase()) };
  }
  const tl = attrs.get('traceloop.span.kind');
  if (typeof tl === 'string') return { call: false, kind: TRACELOOP_SPAN_KINDS[tl] ?? 'other' };
  const vop = attrs.get('ai.operationId');
  if (typeof vop === 'string' && vop.startsWith('ai.')) {
    if (VERCEL_MODEL_CALL_OPERATIONS.has(vop)) return { call: true };
    return { call: false, kind: vop === 'ai.toolCall' ? 'tool' : 'workflow' };
  }
  const op = attrs.get('gen_ai.operation.name');
  if (typeof op === 'string' && OTEL_NON_MODEL_OPERATIONS[op] !== undefined) return { call: false, kind: OTEL_NON_MODEL_OPERATIONS[op] };
  for (const k of attrs.keys()) for (const p of GENAI_ATTRIBUTE_PREFIXES) if (k.startsWith(p)) return { call: true };
  return { call: false, kind: 'not_genai' };
}

function skippedKind(v: string): SkippedSpanKind {
  return (SKIPPED_SPAN_KINDS as readonly string[]).includes(v) ? (v as SkippedSpanKind) : 'other';
}

export const EVENT_FIELDS: readonly EventFieldSpec[] = [
  {
    field: 'event_id',
    type: 'string',
    presence: 'default: random UUID',
    meaning: 'Unique id of the call within the workspace; re-sending an id stores nothing twice.',
    otel: [{ kind: 'span', path: 'spanId', note: 'hex' }],
  },
  {
    field: 'timestamp',
    type: 'timestamp',
    presence: 'required',
    meaning: 'When the call started: ISO 8601 (a zone-less value is read as UTC in files) or epoch milliseconds; 2000-01-01 to 2100-01-01.',
    otel: [{ kind: 'span', path: 'startTimeUnixNano' }],
  },
  {
    field: 'workspace',
    type: 'string',
    presence: 'from the API key / CLI',
    meaning: "Tenant. Always the caller's workspace; a value in the event is ignored.",
    otel: [{ kind: 'none', note: 'the workspace of the authenticated caller' }],
  },
  {
    field: 'app',
    type: 'string',
    presence: 'default: `default`',
    meaning: 'Application or service that made the call.',
    otel: [attr('netra.app', 'netra'), attr('service.name', 'otel')],
    otelNote: '`service.name` is a resource attribute',
  },
  {
    field: 'environment',
    type: 'string',
    presence: 'default: `production`',
    meaning: 'Deployment environment.',
    otel: [attr('netra.environment', 'netra'), attr('deployment.environment.name', 'otel'), attr('deployment.environment', 'deprecated')],
  },
  {
    field: 'end_user',
    type: 'string',
    presence: 'optional',
    meaning: 'The end user on whose behalf the call was made.',
    otel: [
      attr('user.id', 'otel'),
      attr('enduser.id', 'otel'),
      attr('enduser.pseudo.id', 'otel'),
      attr('traceloop.association.properties.user_id', 'openllmetry'),
      attr('ai.telemetry.metadata.userId', 'vercel_ai'),
      attr('ai.telemetry.metadata.user_id', 'vercel_ai'),
      attr('ai.settings.context.userId', 'vercel_ai'),
    ],
    otelNote: "`user.id` is also OpenInference's",
  },
  {
    field: 'session_id',
    type: 'string',
    presence: 'optional',
    meaning: 'Conversation / session the call belongs to.',
    otel: [
      attr('gen_ai.conversation.id', 'genai'),
      attr('session.id', 'otel'),
      attr('traceloop.association.properties.session_id', 'openllmetry'),
      attr('ai.telemetry.metadata.sessionId', 'vercel_ai'),
      attr('ai.telemetry.metadata.session_id', 'vercel_ai'),
      attr('ai.settings.context.sessionId', 'vercel_ai'),
    ],
    otelNote: "`session.id` is also OpenInference's",
  },
  {
    field: 'trace_id',
    type: 'string',
    presence: 'optional',
    meaning: 'Distributed trace id.',
    otel: [{ kind: 'span', path: 'traceId', note: 'hex' }],
  },
  {
    field: 'span_id',
    type: 'string',
    presence: 'optional',
    meaning: 'Span id of the call.',
    otel: [{ kind: 'span', path: 'spanId', note: 'hex' }],
  },
  {
    field: 'provider',
    type: 'string',
    presence: 'default: from the price catalog',
    meaning: 'Model provider (openai, anthropic, ...).',
    otel: [
      attr('gen_ai.provider.name', 'genai'),
      // before gen_ai.system: the AI SDK's legacy spans put its provider id (`openai.chat`) in both
      attr('ai.model.provider', 'vercel_ai', 'provider_prefix'),
      attr('gen_ai.system', 'deprecated'),
      attr('llm.provider', 'openinference'),
      attr('llm.system', 'openinference'),
    ],
    otelNote: 'kept as sent (e.g. `aws.bedrock`, `gcp.vertex_ai`), except the AI SDK provider id `openai.chat` → `openai`',
  },
  {
    field: 'model',
    type: 'string',
    presence: 'required',
    meaning: 'Model name; priced from the catalog unless `cost_usd` is given (an unknown model without `cost_usd` is rejected).',
    otel: [
      attr('gen_ai.response.model', 'genai'),
      attr('gen_ai.request.model', 'genai'),
      attr('llm.model_name', 'openinference'),
      attr('ai.response.model', 'vercel_ai'),
      attr('ai.model.id', 'vercel_ai'),
    ],
    otelNote:
      'the model that answered, else the one requested; kept as sent (dated ids, `openai/…` prefixes, Azure deployment names) and resolved against the price catalog when priced',
  },
  {
    field: 'operation',
    type: 'enum',
    presence: 'default: `chat`',
    meaning: 'chat, completion, embedding, image, audio, rerank, moderation, tool, other.',
    otel: [
      attr('gen_ai.operation.name', 'genai', 'operation_name'),
      attr('llm.request.type', 'openllmetry', 'operation_name'),
      attr('gen_ai.request.type', 'openllmetry', 'operation_name'),
      attr('openinference.span.kind', 'openinference', 'openinference_kind'),
    ],
    otelNote:
      'chat, generate_content → chat; text_completion → completion; embeddings → embedding; others → other. Agent, workflow and tool-execution spans are skipped (not model calls)',
  },
  {
    field: 'prompt_tokens',
    type: 'integer',
    presence: 'default: 0',
    meaning: 'Input tokens, cached ones included.',
    otel: [
      attr('gen_ai.usage.input_tokens', 'genai'),
      attr('gen_ai.usage.prompt_tokens', 'deprecated'),
      attr('llm.token_count.prompt', 'openinference'),
      attr('ai.usage.inputTokens', 'vercel_ai'),
      attr('ai.usage.promptTokens', 'vercel_ai'),
    ],
    otelNote: 'when no instrumentation reports usage (streamed calls), counted from the text: see token_source',
  },
  {
    field: 'completion_tokens',
    type: 'integer',
    presence: 'default: 0',
    meaning: 'Output tokens (reasoning tokens included).',
    otel: [
      attr('gen_ai.usage.output_tokens', 'genai'),
      attr('gen_ai.usage.completion_tokens', 'deprecated'),
      attr('llm.token_count.completion', 'openinference'),
      attr('ai.usage.outputTokens', 'vercel_ai'),
      attr('ai.usage.completionTokens', 'vercel_ai'),
    ],
    otelNote:
      'when only a total is reported (`gen_ai.usage.total_tokens`, `llm.usage.total_tokens`, `llm.token_count.total`), output = total − input',
  },
  {
    field: 'cached_prompt_tokens',
    type: 'integer',
    presence: 'default: 0',
    meaning: "Input tokens read from the provider's prompt cache; at most prompt_tokens.",
    otel: [
      attr('gen_ai.usage.cache_read.input_tokens', 'genai'),
      attr('gen_ai.usage.cache_read_input_tokens', 'openllmetry'),
      attr('gen_ai.usage.input_tokens.cached', 'legacy'),
      attr('llm.token_count.prompt_details.cache_read', 'openinference'),
      attr('ai.usage.cachedInputTokens', 'vercel_ai'),
    ],
    otelNote:
      'the conventions count them inside input tokens too. Cache writes (`gen_ai.usage.cache_creation.input_tokens`, `llm.token_count.prompt_details.cache_write`) have no Netra field yet',
  },
  {
    field: 'latency_ms',
    type: 'number',
    presence: 'optional',
    meaning: 'Wall time of the call in milliseconds (at most one day).',
    otel: [{ kind: 'span', path: 'endTimeUnixNano - startTimeUnixNano' }],
  },
  {
    field: 'ttft_ms',
    type: 'number',
    presence: 'optional',
    meaning: 'Time to first token of a streamed answer, ms; at most latency_ms.',
    otel: [
      attr('gen_ai.response.time_to_first_chunk', 'genai', 'seconds_to_ms'),
      attr('gen_ai.server.time_to_first_token', 'openlit', 'seconds_to_ms'),
      attr('gen_ai.client.operation.time_to_first_chunk', 'vercel_ai', 'seconds_to_ms'),
      attr('ai.response.msToFirstChunk', 'vercel_ai'),
      attr('ai.stream.msToFirstChunk', 'vercel_ai'),
      { kind: 'span', path: 'events[name = First Token Stream Event | gen_ai.content.completion.chunk].timeUnixNano - startTimeUnixNano' },
    ],
    otelNote:
      'seconds in OTel, OpenLIT and the AI SDK 7 GenAI spans (× 1000), ms in the legacy AI SDK attributes; else the first-token span event (OpenInference records one on streamed calls)',
  },
  {
    field: 'status',
    type: 'enum',
    presence: 'default: `ok`',
    meaning: '`ok` or `error`.',
    otel: [{ kind: 'span', path: 'status.code', note: '2 (ERROR) → error' }],
    otelNote: 'also `error` when `error.type` is set',
  },
  {
    field: 'error_type',
    type: 'string',
    presence: 'optional',
    meaning: 'Class of error (rate_limit, timeout, 500, ...).',
    otel: [attr('error.type', 'otel')],
  },
  {
    field: 'http_status',
    type: 'integer',
    presence: 'optional',
    meaning: 'HTTP status of the provider response (100-599).',
    otel: [attr('http.response.status_code', 'otel')],
  },
  {
    field: 'finish_reason',
    type: 'string',
    presence: 'optional',
    meaning: 'Why generation stopped (stop, length, tool_calls, ...).',
    otel: [
      attr('gen_ai.response.finish_reasons', 'genai', 'first_of_array'),
      attr('gen_ai.completion.0.finish_reason', 'openllmetry'),
      attr('ai.response.finishReason', 'vercel_ai'),
    ],
    otelNote: 'first entry of the array (the first choice)',
  },
  {
    field: 'max_tokens',
    type: 'integer',
    presence: 'optional',
    meaning: 'Output token limit requested.',
    otel: [
      attr('gen_ai.request.max_tokens', 'genai'),
      param('llm.invocation_parameters', 'max_tokens'),
      param('llm.invocation_parameters', 'max_completion_tokens'),
      attr('ai.settings.maxOutputTokens', 'vercel_ai'),
      attr('ai.settings.maxTokens', 'vercel_ai'),
    ],
    otelNote: "`llm.invocation_parameters` is a JSON object of the request's parameters",
  },
  {
    field: 'temperature',
    type: 'number',
    presence: 'optional',
    meaning: 'Sampling temperature requested (0-5).',
    otel: [
      attr('gen_ai.request.temperature', 'genai'),
      param('llm.invocation_parameters', 'temperature'),
      attr('ai.settings.temperature', 'vercel_ai'),
    ],
  },
  {
    field: 'stream',
    type: 'boolean',
    presence: 'optional',
    meaning: 'Whether the answer was streamed.',
    otel: [
      attr('gen_ai.request.stream', 'genai'),
      attr('llm.is_streaming', 'openllmetry'),
      param('llm.invocation_parameters', 'stream'),
      attr('gen_ai.client.operation.time_to_first_chunk', 'vercel_ai', 'present_means_true'),
      { kind: 'span', path: 'ai.operationId ends with .doStream (Vercel AI SDK)' },
    ],
  },
  {
    field: 'cost_usd',
    type: 'number',
    presence: 'default: from the price catalog',
    meaning: 'Cost in USD. When given it is kept as is (cost_source `given`) and never repriced.',
    otel: [attr('netra.cost_usd', 'netra'), attr('gen_ai.usage.cost', 'openlit'), attr('llm.cost.total', 'openinference')],
    otelNote: 'a given cost is kept and never repriced',
  },
  {
    field: 'prompt_hash',
    type: 'string',
    presence: 'default: sha256 of prompt_text',
    meaning: 'Hash of the full prompt, for exact-duplicate detection without storing text.',
    otel: [attr('netra.prompt_hash', 'netra')],
  },
  {
    field: 'prefix_hash',
    type: 'string',
    presence: 'default: from messages',
    meaning: 'Hash of the cacheable prefix (leading system messages).',
    otel: [attr('netra.prefix_hash', 'netra')],
  },
  {
    field: 'prefix_tokens',
    type: 'integer',
    presence: 'default: from messages',
    meaning: 'Size of that prefix in tokens (estimated at 4 characters per token when derived).',
    otel: [attr('netra.prefix_tokens', 'netra')],
  },
  {
    field: 'prefix_block_hashes',
    type: 'list',
    presence: 'default: from prompt_text (1,024 tokens or more)',
    meaning:
      'The prompt as a chain of block hashes, what a provider prompt cache keys on: integers (< 2^53) or strings (hashed), at most 4,096. Derived from the text: tokenized, 128-token blocks, each hash chained over the previous ones.',
    otel: [attr('netra.prefix_block_hashes', 'netra')],
  },
  {
    field: 'prefix_block_size',
    type: 'integer',
    presence: 'with prefix_block_hashes',
    meaning: 'Tokens per block of prefix_block_hashes (the last block may be partial); 128 when derived from text.',
    otel: [attr('netra.prefix_block_size', 'netra')],
  },
  {
    field: 'prompt_text',
    type: 'string',
    presence: 'default: from messages',
    meaning: 'Prompt text (optional; needed for near-duplicate analysis).',
    otel: [attr('netra.prompt_text', 'netra')],
    otelNote: 'normally derived from `gen_ai.input.messages` (see messages)',
  },
  {
    field: 'response_text',
    type: 'string',
    presence: 'optional',
    meaning: 'Answer text.',
    otel: [
      attr('gen_ai.output.messages', 'genai', 'output_messages'),
      attr('gen_ai.completion.0.content', 'openllmetry'),
      attr('llm.output_messages.0.message.content', 'openinference'),
      attr('ai.response.text', 'vercel_ai'),
      attr('output.value', 'openinference', 'openai_response_body'),
      attr('gen_ai.completion', 'deprecated', 'output_messages'),
      attr('netra.response_text', 'netra'),
    ],
    otelNote:
      'text of the first output message. `gen_ai.completion` comes from the older `gen_ai.content.completion` span event and `gen_ai.choice` events are read too',
  },
  {
    field: 'messages',
    type: 'messages',
    presence: 'optional',
    meaning: 'Chat messages `[{role, content}]`; prompt_text, prompt_hash and prefix_hash are derived from them. Input only, not stored.',
    otel: [
      attr('gen_ai.system_instructions', 'genai', 'system_instructions'),
      attr('gen_ai.input.messages', 'genai', 'input_messages'),
      { kind: 'indexed', prefix: 'gen_ai.prompt.', role: '.role', content: '.content', status: 'openllmetry' },
      { kind: 'indexed', prefix: 'llm.input_messages.', role: '.message.role', content: '.message.content', status: 'openinference' },
      attr('ai.prompt.messages', 'vercel_ai', 'input_messages'),
      attr('ai.prompt', 'vercel_ai', 'input_messages'),
      attr('input.value', 'openinference', 'openai_request_body'),
      attr('gen_ai.prompt', 'deprecated', 'message_list'),
    ],
    otelNote:
      'opt-in content capture; structured or JSON string; the first source present wins. System instructions become a leading system message; text parts are joined, other parts rendered as JSON. `gen_ai.prompt` comes from the older `gen_ai.content.prompt` span event; `gen_ai.{system,user,assistant,tool}.message` span events are read too',
  },
  {
    field: 'quality_score',
    type: 'number',
    presence: 'optional',
    meaning: 'Quality of the answer in [0, 1], from your evaluations.',
    otel: [attr('netra.quality_score', 'netra')],
    otelNote: '`gen_ai.evaluation.score.value` lives on evaluation events, not on the call span: not read',
  },
  {
    field: 'tags',
    type: 'tags',
    presence: 'default: {}',
    meaning: 'Free-form string labels (team, feature, ...); numbers and booleans become strings.',
    otel: [
      { kind: 'prefix', prefix: 'netra.tags.', status: 'netra' },
      { kind: 'prefix', prefix: 'traceloop.association.properties.', status: 'openllmetry' },
      { kind: 'prefix', prefix: 'ai.telemetry.metadata.', status: 'vercel_ai' },
      { kind: 'prefix', prefix: 'ai.settings.context.', status: 'vercel_ai' },
      attr('traceloop.workflow.name', 'openllmetry'),
      attr('traceloop.entity.name', 'openllmetry'),
      attr('ai.telemetry.functionId', 'vercel_ai'),
      attr('metadata', 'openinference'),
      attr('tag.tags', 'openinference'),
    ],
    otelNote:
      '`netra.tags.team = "search"` → tags.team; association properties, AI SDK metadata and AI SDK 7 runtime context (`ai.settings.context.*`, sent for the keys named in `includeRuntimeContext`) the same way (user and session ids too); `traceloop.workflow.name` → tags.workflow, `traceloop.entity.name` → tags.entity, `ai.telemetry.functionId` → tags.function_id; OpenInference `metadata` (JSON object) → one tag per key, `tag.tags` (list) → tags.tags (comma-joined)',
  },
  {
    field: 'cost_source',
    type: 'enum',
    presence: 'derived',
    meaning:
      '`given` (cost_usd was sent), `catalog` (computed) or `unknown_model` (no price for the model yet: cost 0, listed by `GET /api/v1/models/unpriced`; a price override reprices it). Stored, not accepted as input.',
    otel: [{ kind: 'none', note: 'derived' }],
  },
  {
    field: 'token_source',
    type: 'enum',
    presence: 'derived',
    meaning:
      '`reported` (token counts came with the event) or `estimated` (a successful call sent with text but 0 or no tokens: counted from prompt_text / response_text, see "Tokens when usage is missing"). Stored, not accepted as input.',
    otel: [{ kind: 'none', note: 'derived' }],
  },
];

export const EVENT_FIELD_BY_NAME: ReadonlyMap<string, EventFieldSpec> = new Map(EVENT_FIELDS.map((f) => [f.field, f]));

/** Input fields (everything a client may send, in schema order). */
export const INPUT_FIELD_NAMES: readonly string[] = EVENT_FIELDS.filter((f) => f.field !== 'cost_source' && f.field !== 'token_source').map(
  (f) => f.field,
);

const STATUS_LABEL: Record<SourceStatus, string> = {
  genai: 'GenAI convention',
  otel: 'OTel convention',
  deprecated: 'deprecated OTel name',
  legacy: 'legacy, not OTel',
  netra: 'no convention: Netra attribute',
  openllmetry: 'OpenLLMetry',
  openinference: 'OpenInference',
  openlit: 'OpenLIT',
  vercel_ai: 'Vercel AI SDK',
};

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function renderSource(s: OtelSource): string {
  switch (s.kind) {
    case 'span':
      return `span \`${s.path}\`${s.note ? ` (${s.note})` : ''}`;
    case 'attribute':
      return s.jsonKey ? `\`${s.key}\`.${s.jsonKey} (${STATUS_LABEL[s.status]})` : `\`${s.key}\` (${STATUS_LABEL[s.status]})`;
    case 'indexed':
      return `\`${s.prefix}N${s.role}\` / \`${s.prefix}N${s.content}\` (${STATUS_LABEL[s.status]})`;
    case 'prefix':
      return `\`${s.prefix}*\` (${STATUS_LABEL[s.status]})`;
    case 'none':
      return `none: ${s.note}`;
  }
}

/** The event schema as a Markdown table (field, type, required/default, meaning). */
export function renderEventSchemaMarkdown(): string {
  const rows = EVENT_FIELDS.map((f) => `| \`${f.field}\` | ${f.type} | ${cell(f.presence)} | ${cell(f.meaning)} |`);
  return ['| Field | Type | Required / default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The OTel mapping as a Markdown table: sources in lookup order, first present wins. */
export function renderOtelMappingMarkdown(): string {
  const rows = EVENT_FIELDS.map(
    (f) => `| \`${f.field}\` | ${cell(f.otel.map(renderSource).join(', then '))} | ${cell(f.otelNote ?? '')} |`,
  );
  return ['| Netra field | OpenTelemetry source (lookup order) | Notes |', '| --- | --- | --- |', ...rows].join('\n');
}
