/**
 * The workload event: one LLM call. Pure domain code: schema, validation, normalisation. No I/O.
 *
 * Input events (from HTTP, OTLP, OpenAI logs, files) are validated with `EventInputSchema` and normalised
 * into `WorkloadEvent`, the one shape every store and analysis works with. The mapping of each field to the
 * OpenTelemetry GenAI semantic conventions lives in `otel-mapping.ts` and docs/EVENTS.md.
 */
import { z } from 'zod';
import type { FieldError } from '../errors.js';
import { parseEventInputFast } from './event-fast-parse.js';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, OPERATIONS, STATUSES } from './event-values.js';

export { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, OPERATIONS, STATUSES };
import { sha256Hex } from './hash.js';
import { repairText } from './text-repair.js';
import { estimateTokens as countTokens, estimateRecurringTokens } from './token-estimate.js';
import { blockHashValue, MAX_PREFIX_BLOCK_SIZE, MAX_PREFIX_BLOCKS, textBlockChain } from './prefix-blocks.js';

export type Operation = (typeof OPERATIONS)[number];

/** given: the client sent cost_usd; catalog: computed from the price catalog; unknown_model: the model has no price yet (cost 0 until a price override reprices it) */
export type CostSource = 'given' | 'catalog' | 'unknown_model';
/** reported: token counts came with the event; estimated: counted from the prompt / answer text (workload/token-estimate.ts) */
export type TokenSource = 'reported' | 'estimated';

export type Status = (typeof STATUSES)[number];

/** Earliest and latest accepted timestamps: anything outside is almost certainly a unit error (s vs ms) or garbage. */

const MAX_ID = 256;
const MAX_NAME = 200;
const MAX_TEXT = 1_000_000;

const id = z.string().min(1).max(MAX_ID);
const name = z.string().min(1).max(MAX_NAME);
const tokenCount = z.number().int('must be a whole number of tokens').nonnegative('must be >= 0').max(100_000_000);
const ms = z.number().nonnegative('must be >= 0').max(86_400_000, 'must be at most one day in milliseconds');

const timestamp = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const t = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(t)) {
    ctx.addIssue({
      code: 'custom',
      message: `not a valid timestamp: ${JSON.stringify(v).slice(0, 60)} (use ISO 8601 or epoch milliseconds)`,
    });
    return z.NEVER;
  }
  if (t < MIN_TIMESTAMP_MS || t >= MAX_TIMESTAMP_MS) {
    // values beyond JavaScript's date range (|t| > 8.64e15) cannot be printed as a date: show the number
    const shown = Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : String(t);
    ctx.addIssue({
      code: 'custom',
      message: `timestamp ${shown} is outside 2000-01-01..2100-01-01 (epoch seconds, microseconds or nanoseconds instead of milliseconds?)`,
    });
    return z.NEVER;
  }
  return t;
});

export const MessageSchema = z.object({ role: z.string().min(1).max(32), content: z.string().max(MAX_TEXT) });
export type Message = z.infer<typeof MessageSchema>;

/** What a client may send. Everything but `model` and `timestamp` has a default or may be derived. */
export const EventInputSchema = z
  .object({
    event_id: id.optional(),
    timestamp,
    workspace: name.optional(),
    app: name.optional(),
    environment: name.optional(),
    end_user: id.nullish(),
    session_id: id.nullish(),
    trace_id: id.nullish(),
    span_id: id.nullish(),
    provider: name.nullish(),
    model: name,
    operation: z.enum(OPERATIONS).optional(),
    prompt_tokens: tokenCount.default(0),
    completion_tokens: tokenCount.default(0),
    cached_prompt_tokens: tokenCount.default(0),
    latency_ms: ms.nullish(),
    ttft_ms: ms.nullish(),
    status: z.enum(STATUSES).default('ok'),
    error_type: z.string().max(MAX_NAME).nullish(),
    http_status: z.number().int().min(100).max(599).nullish(),
    finish_reason: z.string().max(64).nullish(),
    max_tokens: z.number().int().positive('must be > 0').max(10_000_000).nullish(),
    temperature: z.number().min(0).max(5).nullish(),
    stream: z.boolean().nullish(),
    cost_usd: z.number().nonnegative('must be >= 0').max(1_000_000).nullish(),
    prompt_hash: z.string().min(1).max(128).nullish(),
    prefix_hash: z.string().min(1).max(128).nullish(),
    prefix_tokens: tokenCount.nullish(),
    /** The prompt as a chain of block hashes (prefix-blocks.ts): integers (< 2^53) or strings (hashed); needs prefix_block_size. */
    prefix_block_hashes: z
      .array(
        z.union([
          z.number().int('must be whole numbers').nonnegative('must be >= 0').max(Number.MAX_SAFE_INTEGER),
          z.string().min(1).max(128),
        ]),
      )
      .min(1)
      .max(MAX_PREFIX_BLOCKS, `at most ${MAX_PREFIX_BLOCKS} blocks`)
      .nullish(),
    /** Tokens per block of prefix_block_hashes (the last block may be partial). */
    prefix_block_size: z.number().int('must be a whole number of tokens').positive('must be > 0').max(MAX_PREFIX_BLOCK_SIZE).nullish(),
    prompt_text: z.string().max(MAX_TEXT).nullish(),
    response_text: z.string().max(MAX_TEXT).nullish(),
    /** Chat messages; when given, prompt_text, prompt_hash and prefix_hash (over leading system messages) are derived. */
    messages: z.array(MessageSchema).max(10_000).optional(),
    quality_score: z.number().min(0).max(1).nullish(),
    tags: z.record(z.string().max(MAX_NAME), z.union([z.string().max(2_000), z.number(), z.boolean()]).transform(String)).optional(),
  })
  .superRefine((e, ctx) => {
    // compare only valid values: a negative prompt_tokens is reported on its own, not as a cached_prompt_tokens error too
    if (e.prompt_tokens >= 0 && e.cached_prompt_tokens > e.prompt_tokens) {
      ctx.addIssue({ code: 'custom', path: ['cached_prompt_tokens'], message: `must be <= prompt_tokens (${e.prompt_tokens})` });
    }
    if (e.prefix_block_hashes != null && e.prefix_block_size == null) {
      ctx.addIssue({ code: 'custom', path: ['prefix_block_size'], message: 'required with prefix_block_hashes (tokens per block)' });
    }
    if (e.prefix_block_size != null && e.prefix_block_hashes == null) {
      ctx.addIssue({ code: 'custom', path: ['prefix_block_hashes'], message: 'required with prefix_block_size' });
    }
    if (e.ttft_ms != null && e.latency_ms != null && e.latency_ms >= 0 && e.ttft_ms > e.latency_ms) {
      ctx.addIssue({ code: 'custom', path: ['ttft_ms'], message: `must be <= latency_ms (${e.latency_ms})` });
    }
  });
export type EventInput = z.input<typeof EventInputSchema>;
type ParsedInput = z.output<typeof EventInputSchema>;

/** The normalised event every store holds. Timestamps are epoch milliseconds (UTC). */
export interface WorkloadEvent {
  event_id: string;
  timestamp: number;
  workspace: string;
  app: string;
  environment: string;
  end_user: string | null;
  session_id: string | null;
  trace_id: string | null;
  span_id: string | null;
  provider: string;
  model: string;
  operation: Operation;
  prompt_tokens: number;
  completion_tokens: number;
  cached_prompt_tokens: number;
  latency_ms: number | null;
  ttft_ms: number | null;
  status: Status;
  error_type: string | null;
  http_status: number | null;
  finish_reason: string | null;
  max_tokens: number | null;
  temperature: number | null;
  stream: boolean | null;
  cost_usd: number;
  /** 'given' when the client sent cost_usd (never recomputed), 'catalog' when computed from the price catalog. */
  cost_source: CostSource;
  /** 'reported' when the token counts came with the event, 'estimated' when some were counted from its text */
  token_source: TokenSource;
  prompt_hash: string | null;
  prefix_hash: string | null;
  prefix_tokens: number | null;
  /**
   * The prompt as a chain of block hashes (prefix-blocks.ts), given or derived from the prompt text at ingest; null
   * when neither. Optional in the type so that producers with no chain (the generator, the gateway) need not set it.
   */
  prefix_block_hashes?: number[] | null;
  /** tokens per block of prefix_block_hashes */
  prefix_block_size?: number | null;
  prompt_text: string | null;
  response_text: string | null;
  quality_score: number | null;
  tags: Record<string, string>;
}

/** Column order shared by every store and by file exports. */
export const EVENT_COLUMNS = [
  'event_id',
  'timestamp',
  'workspace',
  'app',
  'environment',
  'end_user',
  'session_id',
  'trace_id',
  'span_id',
  'provider',
  'model',
  'operation',
  'prompt_tokens',
  'completion_tokens',
  'cached_prompt_tokens',
  'latency_ms',
  'ttft_ms',
  'status',
  'error_type',
  'http_status',
  'finish_reason',
  'max_tokens',
  'temperature',
  'stream',
  'cost_usd',
  'cost_source',
  'token_source',
  'prompt_hash',
  'prefix_hash',
  'prefix_tokens',
  'prefix_block_hashes',
  'prefix_block_size',
  'prompt_text',
  'response_text',
  'quality_score',
  'tags',
] as const satisfies readonly (keyof WorkloadEvent)[];

/** Prices an event: cost in USD and the canonical provider, or null when the model is unknown (see workload/pricing.ts). */
export interface Pricer {
  price(workspace: string, model: string, usage: Usage): { cost_usd: number; provider: string } | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_prompt_tokens: number;
}

export interface NormalizeContext {
  workspace: string;
  pricer: Pricer;
  /** Makes an event id when the client did not send one. Deterministic in tests, random in production. */
  newId: () => string;
}

export type NormalizeResult = { ok: true; event: WorkloadEvent } | { ok: false; errors: FieldError[] };

/**
 * Field errors from zod issues. zod 4 does not put the input on issues, so whether a field was missing is read from
 * the raw event: a missing field is 'required', a wrong type says what was expected and what came.
 */
function zodErrors(err: z.ZodError, raw: Record<string, unknown>): FieldError[] {
  return err.issues.map((i) => {
    let value: unknown = raw;
    for (const k of i.path)
      value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
    let message = i.message;
    if (i.code === 'invalid_type' || i.code === 'invalid_union') {
      if (value === undefined) message = 'required';
      else if (i.code === 'invalid_type')
        message = `expected ${i.expected}, received ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`;
      else {
        const expected = i.errors.map((b) => (b[0] as { expected?: string } | undefined)?.expected).filter(Boolean);
        message = `expected ${expected.join(' or ')}, received ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`;
      }
    }
    return { field: i.path.length ? i.path.map(String).join('.') : '(event)', message };
  });
}

/** Leading system messages form the cacheable prefix (the system prompt). */
function deriveFromMessages(messages: Message[]): { text: string; prefix: string | null } {
  const text = messages.map((m) => `${m.role}: ${m.content}`).join('\n');
  let prefixEnd = 0;
  while (prefixEnd < messages.length && messages[prefixEnd]!.role === 'system') prefixEnd++;
  const prefix =
    prefixEnd > 0
      ? messages
          .slice(0, prefixEnd)
          .map((m) => `${m.role}: ${m.content}`)
          .join('\n')
      : null;
  return { text, prefix };
}

/**
 * Validates one raw input and turns it into a WorkloadEvent. Never throws for bad input: returns field errors.
 * `workspace` in the event is ignored in favour of the context's workspace: a caller can only write to the
 * workspace it is authorised for.
 */
export function normalizeEvent(raw: unknown, ctx: NormalizeContext): NormalizeResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: '(event)', message: 'must be a JSON object' }] };
  }
  // Fast path for valid events (zod costs ~8 µs per typical event); zod decides and explains everything else.
  const fast = parseEventInputFast(raw as Record<string, unknown>);
  if (fast !== null) return finishNormalize(fast, ctx);
  const parsed = EventInputSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error, raw as Record<string, unknown>) };
  return finishNormalize(parsed.data, ctx);
}

function finishNormalize(parsed: ParsedInput, ctx: NormalizeContext): NormalizeResult {
  const e = repairText(parsed);
  let promptText = e.prompt_text ?? null;
  let prefixHash = e.prefix_hash ?? null;
  let prefixTokens = e.prefix_tokens ?? null;
  if (e.messages && e.messages.length > 0) {
    const d = deriveFromMessages(e.messages);
    promptText ??= d.text;
    if (d.prefix !== null) {
      const sha = sha256Hex(d.prefix);
      prefixHash ??= sha;
      prefixTokens ??= estimateRecurringTokens(sha, d.prefix, e.model);
    }
  }
  const promptHash = e.prompt_hash ?? (promptText !== null ? sha256Hex(promptText) : null);
  const chain =
    e.prefix_block_hashes != null && e.prefix_block_size != null
      ? { hashes: e.prefix_block_hashes.map(blockHashValue), block_size: e.prefix_block_size }
      : promptText !== null
        ? textBlockChain(promptText, e.model)
        : null;

  // A successful call with text is never stored as 0 tokens: a side reported as 0 (or not reported) is counted from its text.
  let promptTokens = e.prompt_tokens;
  let completionTokens = e.completion_tokens;
  let tokenSource: TokenSource = 'reported';
  if (e.status === 'ok') {
    if (promptTokens === 0 && promptText) {
      promptTokens = countTokens(promptText, e.model);
      tokenSource = 'estimated';
    }
    if (completionTokens === 0 && e.response_text) {
      completionTokens = countTokens(e.response_text, e.model);
      tokenSource = 'estimated';
    }
  }

  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, cached_prompt_tokens: e.cached_prompt_tokens };
  const priced = ctx.pricer.price(ctx.workspace, e.model, usage);
  // An unknown model is stored (cost 0, cost_source unknown_model) and listed by GET /api/v1/models/unpriced; a price
  // override for it reprices its events.
  const costSource: CostSource = e.cost_usd != null ? 'given' : priced ? 'catalog' : 'unknown_model';
  const cost = e.cost_usd ?? priced?.cost_usd ?? 0;

  const event: WorkloadEvent = {
    event_id: e.event_id ?? ctx.newId(),
    timestamp: e.timestamp,
    workspace: ctx.workspace,
    app: e.app ?? 'default',
    environment: e.environment ?? 'production',
    end_user: e.end_user ?? null,
    session_id: e.session_id ?? null,
    trace_id: e.trace_id ?? null,
    span_id: e.span_id ?? null,
    provider: e.provider ?? priced?.provider ?? 'unknown',
    model: e.model,
    operation: e.operation ?? 'chat',
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    cached_prompt_tokens: e.cached_prompt_tokens,
    latency_ms: e.latency_ms ?? null,
    ttft_ms: e.ttft_ms ?? null,
    status: e.status,
    error_type: e.error_type ?? null,
    http_status: e.http_status ?? null,
    finish_reason: e.finish_reason ?? null,
    max_tokens: e.max_tokens ?? null,
    temperature: e.temperature ?? null,
    stream: e.stream ?? null,
    cost_usd: cost,
    cost_source: costSource,
    token_source: tokenSource,
    prompt_hash: promptHash,
    prefix_hash: prefixHash,
    prefix_tokens: prefixTokens,
    prefix_block_hashes: chain?.hashes ?? null,
    prefix_block_size: chain?.block_size ?? null,
    prompt_text: promptText,
    response_text: e.response_text ?? null,
    quality_score: e.quality_score ?? null,
    tags: e.tags ?? {},
  };
  return { ok: true, event };
}
