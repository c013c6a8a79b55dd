/**
 * The one LLM interface every provider implements (built-in, OpenAI-compatible, Anthropic) and the resilient client
 * re-implements on top of them: complete() for a whole answer, stream() for text deltas followed by one final usage chunk.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface LlmRequest {
  /** system prompt; providers put it where their protocol wants it */
  system?: string;
  messages: ChatMessage[];
  /** default from the client options (1,024) */
  maxTokens?: number;
  /** default from the client options (0) */
  temperature?: number;
  /** caller cancellation (stop_agent): aborts the request, the retry wait and the fallback chain */
  signal?: AbortSignal;
  /** 'json' when the caller wants one JSON value back (completeStructured sets it); default 'text' */
  responseFormat?: 'text' | 'json';
  /** false skips the response cache for this call (read and write); default true */
  cache?: boolean;
  /**
   * Client only (providers never see it): called once per hop of the fallback chain made by this call, in order, with
   * the precise reason the abandoned link failed. Use it to tell the user (the agents emit `agent_fallback`). The
   * client-wide `onFallback` option still fires too. A listener that throws never breaks the call.
   */
  onFallback?: (e: LlmFallbackEvent) => void;
}

export interface LlmUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface LlmResult {
  text: string;
  usage: LlmUsage;
  model: string;
  /** name of the provider that answered ('builtin', 'openai-compatible', 'anthropic' or a configured name) */
  provider: string;
  latency_ms: number;
  /** true when the answer came from the response cache */
  cached?: boolean;
}

export type LlmStreamChunk =
  | { type: 'delta'; text: string }
  | { type: 'done'; usage: LlmUsage; model: string; provider: string; latency_ms: number; cached?: boolean };

export interface LlmProvider {
  /** provider name, used for breakers, metrics and fallback reports */
  readonly name: string;
  readonly model: string;
  complete(req: LlmRequest): Promise<LlmResult>;
  /** yields text deltas, then exactly one 'done' chunk */
  stream(req: LlmRequest): AsyncIterable<LlmStreamChunk>;
}

/**
 * Why a link of the chain was abandoned: the provider failure kinds of provider-error.ts, plus `breaker_open` (the
 * provider was not called: its circuit is open), `invalid_output` (structured output still invalid after the repair
 * request) and `unknown` (any other error).
 */
export type LlmFallbackKind =
  | 'rate_limited'
  | 'server'
  | 'network'
  | 'timeout'
  | 'auth'
  | 'bad_request'
  | 'protocol'
  | 'breaker_open'
  | 'invalid_output'
  | 'unknown';

/** Reported once per hop of the fallback chain; the agents turn it into an `agent_fallback` event. */
export interface LlmFallbackEvent {
  from: string;
  to: string;
  /**
   * why `from` was abandoned, user-presentable and specific (`HTTP 500: … (3 attempts)`, `timeout: no answer within
   * 30000 ms (3 attempts)`, `circuit breaker open after 5 consecutive failures`, `invalid structured output after one
   * repair request: …`); never contains an API key or an auth header
   */
  reason: string;
  error_kind: LlmFallbackKind;
  /** HTTP status of the last failed attempt, when there was one */
  http_status?: number;
  /** requests made to `from` by this call (0 when its breaker was open) */
  attempts: number;
}

export type LlmCallOutcome = 'ok' | 'error' | 'retry' | 'fallback' | 'cache_hit';

/** Metrics hook: one call per outcome (per attempt for 'retry', per provider for 'ok' / 'error' / 'fallback'). */
export interface LlmCallEvent {
  provider: string;
  model: string;
  outcome: LlmCallOutcome;
  latency_ms: number;
}

export type BreakerStateName = 'closed' | 'open' | 'half_open' | 'isolated';

/** Rough token count (4 characters per token) for providers that do not report usage. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}
