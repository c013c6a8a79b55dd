/**
 * The LLM layer's public surface: createLlmClient() and the types and helpers the agents need. See docs/LLM.md.
 */
export { createLlmClient } from './client.js';
export type { LlmClient, LlmClientOptions, ProviderConfig, StructuredResult } from './client.js';
export type {
  BreakerStateName,
  ChatMessage,
  ChatRole,
  LlmCallEvent,
  LlmCallOutcome,
  LlmFallbackEvent,
  LlmProvider,
  LlmRequest,
  LlmResult,
  LlmStreamChunk,
  LlmUsage,
} from './types.js';
export { BUILTIN_MODEL, BuiltinProvider, builtinAnswer, payloadMessage, type BuiltinPayload } from './builtin.js';
export {
  formatByUnit,
  formatNumber,
  formatPercent,
  formatUsd,
  labelOf,
  renderReport,
  type FactValue,
  type ReportComparison,
  type ReportPayload,
  type ReportRecommendation,
} from './builtin-prose.js';
export { MemoryLlmCache, llmCacheKey, type LlmResponseCache } from './response-cache.js';
export { LlmProviderError, type ProviderFailure } from './provider-error.js';
export { RESILIENCE_DEFAULTS, backoffCeilingMs, type ResilienceOptions } from './resilience.js';
export { OpenAiCompatibleProvider, type OpenAiCompatibleConfig } from './openai-compatible.js';
export { AnthropicProvider, type AnthropicConfig } from './anthropic.js';
