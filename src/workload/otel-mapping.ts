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

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'enum' | 'messages' | 'tags';

/**
 * - genai: an attribute of the OTel GenAI conventions; otel: a general OTel convention (error, http, user, session,
 *   service, deployment); deprecated: a former OTel name still accepted; legacy: a name used by popular
 *   instrumentations but not by OTel; netra: no convention exists, Netra's own attribute.
 */
export type SourceStatus = 'genai' | 'otel' | 'deprecated' | 'legacy' | 'netra';

/** How an attribute value becomes the field value. Default: taken as is (numbers from intValue/doubleValue). */
export type OtelTransform = 'seconds_to_ms' | 'first_of_array' | 'operation_name' | 'input_messages' | 'system_instructions' | 'output_messages';

export type OtelSource =
  /** a field of the OTLP span itself */
  | { kind: 'span'; path: string; note?: string }
  /** an attribute (span first, then resource) */
  | { kind: 'attribute'; key: string; status: SourceStatus; transform?: OtelTransform }
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

/** gen_ai.operation.name well-known values → Netra operation. Anything else → 'other'. */
export const OTEL_OPERATION_MAP: Readonly<Record<string, string>> = {
  chat: 'chat',
  generate_content: 'chat',
  text_completion: 'completion',
  embeddings: 'embedding',
};

/**
 * Operations whose spans are not model calls: agent and workflow spans wrap the model-call spans below them (and may
 * repeat their token usage), so the OTLP parser skips them to avoid counting a call twice.
 */
export const OTEL_NON_MODEL_OPERATIONS: ReadonlySet<string> = new Set(['invoke_agent', 'create_agent', 'invoke_workflow', 'execute_tool']);

export const EVENT_FIELDS: readonly EventFieldSpec[] = [
  { field: 'event_id', type: 'string', presence: 'default: random UUID', meaning: 'Unique id of the call within the workspace; re-sending an id stores nothing twice.', otel: [{ kind: 'span', path: 'spanId', note: 'hex' }] },
  { field: 'timestamp', type: 'timestamp', presence: 'required', meaning: 'When the call started: ISO 8601 (a zone-less value is read as UTC in files) or epoch milliseconds; 2000-01-01 to 2100-01-01.', otel: [{ kind: 'span', path: 'startTimeUnixNano' }] },
  { field: 'workspace', type: 'string', presence: 'from the API key / CLI', meaning: 'Tenant. Always the caller\'s workspace; a value in the event is ignored.', otel: [{ kind: 'none', note: 'the workspace of the authenticated caller' }] },
  { field: 'app', type: 'string', presence: 'default: `default`', meaning: 'Application or service that made the call.', otel: [attr('netra.app', 'netra'), attr('service.name', 'otel')], otelNote: '`service.name` is a resource attribute' },
  { field: 'environment', type: 'string', presence: 'default: `production`', meaning: 'Deployment environment.', otel: [attr('netra.environment', 'netra'), attr('deployment.environment.name', 'otel'), attr('deployment.environment', 'deprecated')] },
  { field: 'end_user', type: 'string', presence: 'optional', meaning: 'The end user on whose behalf the call was made.', otel: [attr('user.id', 'otel'), attr('enduser.id', 'otel'), attr('enduser.pseudo.id', 'otel')] },
  { field: 'session_id', type: 'string', presence: 'optional', meaning: 'Conversation / session the call belongs to.', otel: [attr('gen_ai.conversation.id', 'genai'), attr('session.id', 'otel')] },
  { field: 'trace_id', type: 'string', presence: 'optional', meaning: 'Distributed trace id.', otel: [{ kind: 'span', path: 'traceId', note: 'hex' }] },
  { field: 'span_id', type: 'string', presence: 'optional', meaning: 'Span id of the call.', otel: [{ kind: 'span', path: 'spanId', note: 'hex' }] },
  { field: 'provider', type: 'string', presence: 'default: from the price catalog', meaning: 'Model provider (openai, anthropic, ...).', otel: [attr('gen_ai.provider.name', 'genai'), attr('gen_ai.system', 'deprecated')], otelNote: 'kept as sent (e.g. `aws.bedrock`, `gcp.vertex_ai`)' },
  { field: 'model', type: 'string', presence: 'required', meaning: 'Model name; priced from the catalog unless `cost_usd` is given (an unknown model without `cost_usd` is rejected).', otel: [attr('gen_ai.response.model', 'genai'), attr('gen_ai.request.model', 'genai')], otelNote: 'the model that answered, else the one requested' },
  { field: 'operation', type: 'enum', presence: 'default: `chat`', meaning: 'chat, completion, embedding, image, audio, rerank, moderation, tool, other.', otel: [attr('gen_ai.operation.name', 'genai', 'operation_name')], otelNote: 'chat, generate_content → chat; text_completion → completion; embeddings → embedding; others → other. Agent, workflow and tool-execution spans are skipped (not model calls)' },
  { field: 'prompt_tokens', type: 'integer', presence: 'default: 0', meaning: 'Input tokens, cached ones included.', otel: [attr('gen_ai.usage.input_tokens', 'genai'), attr('gen_ai.usage.prompt_tokens', 'legacy')] },
  { field: 'completion_tokens', type: 'integer', presence: 'default: 0', meaning: 'Output tokens (reasoning tokens included).', otel: [attr('gen_ai.usage.output_tokens', 'genai'), attr('gen_ai.usage.completion_tokens', 'legacy')] },
  { field: 'cached_prompt_tokens', type: 'integer', presence: 'default: 0', meaning: 'Input tokens read from the provider\'s prompt cache; at most prompt_tokens.', otel: [attr('gen_ai.usage.cache_read.input_tokens', 'genai'), attr('gen_ai.usage.cache_read_input_tokens', 'legacy'), attr('gen_ai.usage.input_tokens.cached', 'legacy')], otelNote: 'the convention counts them inside input_tokens too. `gen_ai.usage.cache_write.input_tokens` has no Netra field yet' },
  { field: 'latency_ms', type: 'number', presence: 'optional', meaning: 'Wall time of the call in milliseconds (at most one day).', otel: [{ kind: 'span', path: 'endTimeUnixNano - startTimeUnixNano' }] },
  { field: 'ttft_ms', type: 'number', presence: 'optional', meaning: 'Time to first token of a streamed answer, ms; at most latency_ms.', otel: [attr('gen_ai.response.time_to_first_chunk', 'genai', 'seconds_to_ms')], otelNote: 'seconds in OTel, × 1000' },
  { field: 'status', type: 'enum', presence: 'default: `ok`', meaning: '`ok` or `error`.', otel: [{ kind: 'span', path: 'status.code', note: '2 (ERROR) → error' }], otelNote: 'also `error` when `error.type` is set' },
  { field: 'error_type', type: 'string', presence: 'optional', meaning: 'Class of error (rate_limit, timeout, 500, ...).', otel: [attr('error.type', 'otel')] },
  { field: 'http_status', type: 'integer', presence: 'optional', meaning: 'HTTP status of the provider response (100-599).', otel: [attr('http.response.status_code', 'otel')] },
  { field: 'finish_reason', type: 'string', presence: 'optional', meaning: 'Why generation stopped (stop, length, tool_calls, ...).', otel: [attr('gen_ai.response.finish_reasons', 'genai', 'first_of_array')], otelNote: 'first entry of the array (the first choice)' },
  { field: 'max_tokens', type: 'integer', presence: 'optional', meaning: 'Output token limit requested.', otel: [attr('gen_ai.request.max_tokens', 'genai')] },
  { field: 'temperature', type: 'number', presence: 'optional', meaning: 'Sampling temperature requested (0-5).', otel: [attr('gen_ai.request.temperature', 'genai')] },
  { field: 'stream', type: 'boolean', presence: 'optional', meaning: 'Whether the answer was streamed.', otel: [attr('gen_ai.request.stream', 'genai')] },
  { field: 'cost_usd', type: 'number', presence: 'default: from the price catalog', meaning: 'Cost in USD. When given it is kept as is (cost_source `given`) and never repriced.', otel: [attr('netra.cost_usd', 'netra')] },
  { field: 'prompt_hash', type: 'string', presence: 'default: sha256 of prompt_text', meaning: 'Hash of the full prompt, for exact-duplicate detection without storing text.', otel: [attr('netra.prompt_hash', 'netra')] },
  { field: 'prefix_hash', type: 'string', presence: 'default: from messages', meaning: 'Hash of the cacheable prefix (leading system messages).', otel: [attr('netra.prefix_hash', 'netra')] },
  { field: 'prefix_tokens', type: 'integer', presence: 'default: from messages', meaning: 'Size of that prefix in tokens (estimated at 4 characters per token when derived).', otel: [attr('netra.prefix_tokens', 'netra')] },
  { field: 'prompt_text', type: 'string', presence: 'default: from messages', meaning: 'Prompt text (optional; needed for near-duplicate analysis).', otel: [attr('netra.prompt_text', 'netra')], otelNote: 'normally derived from `gen_ai.input.messages` (see messages)' },
  { field: 'response_text', type: 'string', presence: 'optional', meaning: 'Answer text.', otel: [attr('gen_ai.output.messages', 'genai', 'output_messages'), attr('netra.response_text', 'netra')], otelNote: 'text parts of the first output message' },
  { field: 'messages', type: 'messages', presence: 'optional', meaning: 'Chat messages `[{role, content}]`; prompt_text, prompt_hash and prefix_hash are derived from them. Input only, not stored.', otel: [attr('gen_ai.system_instructions', 'genai', 'system_instructions'), attr('gen_ai.input.messages', 'genai', 'input_messages')], otelNote: 'opt-in content capture; structured or JSON string. System instructions become a leading system message; text parts are joined, other parts rendered as JSON' },
  { field: 'quality_score', type: 'number', presence: 'optional', meaning: 'Quality of the answer in [0, 1], from your evaluations.', otel: [attr('netra.quality_score', 'netra')], otelNote: '`gen_ai.evaluation.score.value` lives on evaluation events, not on the call span: not read' },
  { field: 'tags', type: 'tags', presence: 'default: {}', meaning: 'Free-form string labels (team, feature, ...); numbers and booleans become strings.', otel: [{ kind: 'prefix', prefix: 'netra.tags.', status: 'netra' }], otelNote: '`netra.tags.team = "search"` → tags.team' },
  { field: 'cost_source', type: 'enum', presence: 'derived', meaning: '`given` (cost_usd was sent) or `catalog` (computed). Stored, not accepted as input.', otel: [{ kind: 'none', note: 'derived' }] },
];

export const EVENT_FIELD_BY_NAME: ReadonlyMap<string, EventFieldSpec> = new Map(EVENT_FIELDS.map((f) => [f.field, f]));

/** Input fields (everything a client may send, in schema order). */
export const INPUT_FIELD_NAMES: readonly string[] = EVENT_FIELDS.filter((f) => f.field !== 'cost_source').map((f) => f.field);

const STATUS_LABEL: Record<SourceStatus, string> = {
  genai: 'GenAI convention',
  otel: 'OTel convention',
  deprecated: 'deprecated OTel name',
  legacy: 'legacy, not OTel',
  netra: 'no convention: Netra attribute',
};

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function renderSource(s: OtelSource): string {
  switch (s.kind) {
    case 'span': return `span \`${s.path}\`${s.note ? ` (${s.note})` : ''}`;
    case 'attribute': return `\`${s.key}\` (${STATUS_LABEL[s.status]})`;
    case 'prefix': return `\`${s.prefix}*\` (${STATUS_LABEL[s.status]})`;
    case 'none': return `none: ${s.note}`;
  }
}

/** The event schema as a Markdown table (field, type, required/default, meaning). */
export function renderEventSchemaMarkdown(): string {
  const rows = EVENT_FIELDS.map((f) => `| \`${f.field}\` | ${f.type} | ${cell(f.presence)} | ${cell(f.meaning)} |`);
  return ['| Field | Type | Required / default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The OTel mapping as a Markdown table: sources in lookup order, first present wins. */
export function renderOtelMappingMarkdown(): string {
  const rows = EVENT_FIELDS.map((f) => `| \`${f.field}\` | ${cell(f.otel.map(renderSource).join(', then '))} | ${cell(f.otelNote ?? '')} |`);
  return ['| Netra field | OpenTelemetry source (lookup order) | Notes |', '| --- | --- | --- |', ...rows].join('\n');
}
