/**
 * Analysis queries for the usage area (see ports/index.ts): the aggregated rows behind the usage-based recommendation
 * kinds (model_routing, batch_api, max_tokens, retry_waste, context_growth, latency_slo). Each method runs one
 * aggregated query over the scope and returns its rows plus the SQL text (quoted as evidence). Constants shared by
 * the SQL and the domain code (prompt-size bands, burst thresholds) live here too.
 */
import type { AnalysisScope } from './scope.js';

/** Rows of one aggregated query plus the SQL that produced them (bound parameters appear as $names). */
export interface UsageResult<R> {
  rows: R[];
  sql: string;
}

/** Prompt-size bands of model-routing segments: a prompt of n tokens is in the first band with n < below. */
export const PROMPT_SIZE_BANDS = [
  { band: 'xs', below: 256 },
  { band: 's', below: 1024 },
  { band: 'm', below: 4096 },
  { band: 'l', below: 16384 },
  { band: 'xl', below: Number.POSITIVE_INFINITY },
] as const;
export type PromptSizeBand = (typeof PROMPT_SIZE_BANDS)[number]['band'];

/** A completion of at most this many tokens is small (short answers, labels, extracted fields). */
export const SMALL_COMPLETION_TOKENS = 128;

/** One model-routing segment: events of one (app, model, operation, tags.task, prompt-size band). */
export interface RoutingSegmentRow {
  app: string;
  model: string;
  operation: string;
  /** tags.task; null when the events carry none */
  task: string | null;
  size_band: PromptSizeBand;
  events: number;
  ok_events: number;
  /** sum of cost_usd (failed calls included, as billed) */
  spend_usd: number;
  /** token sums over billed events (cost_usd > 0): what the same calls would cost on another model */
  billed_uncached_prompt_tokens: number;
  billed_cached_prompt_tokens: number;
  billed_completion_tokens: number;
  /** largest prompt of the segment (a target's context window must hold it) */
  max_prompt_tokens: number;
  /** status=ok events with completion_tokens <= SMALL_COMPLETION_TOKENS */
  small_completions: number;
  /** events with a quality_score, and their mean score (null when none) */
  quality_events: number;
  mean_quality: number | null;
  sample_event_ids: string[];
}

/** Why traffic is considered deferrable. */
/** 'schedule': untagged user-less traffic recurring at the same hours each day (ports/batch-schedule.ts) */
export type BatchBasis = 'offline_tag' | 'bulk_burst' | 'schedule';

/** A minute with at least this many untagged calls without end user or session (from one app and model) is a bulk burst. */
export const BULK_BURST_MIN_PER_MINUTE = 30;

/** Deferrable traffic of one (app, model): tagged offline, or untagged bulk bursts without end user and session. */
export interface BatchCandidateRow {
  app: string;
  model: string;
  basis: BatchBasis;
  events: number;
  spend_usd: number;
  /** mean latency of those events (null when none has a latency) */
  mean_latency_ms: number | null;
  /** minutes with such traffic, and the busiest minute's count */
  active_minutes: number;
  peak_per_minute: number;
  /** basis 'schedule': the UTC hours it recurs at */
  schedule_hours?: number[];
  sample_event_ids: string[];
}

/** Completion sizes of one (app, model, max_tokens) group: events with max_tokens set. */
export interface MaxTokensGroupRow {
  app: string;
  model: string;
  max_tokens: number;
  events: number;
  ok_events: number;
  spend_usd: number;
  /** nearest-rank p99 (smallest v with count(<= v) >= ceil(0.99 n)) and max of completion_tokens over status=ok events (null when none) */
  p99_completion_tokens: number | null;
  max_completion_tokens: number | null;
  /** events with finish_reason = 'length' */
  truncated: number;
  /** sum of completion_tokens and of (latency_ms - ttft_ms) over ok events with both latencies: decode throughput */
  decode_tokens: number;
  decode_ms: number;
  /** the events with the longest completions */
  sample_event_ids: string[];
}

/** Failures and retries of one (app, model). */
/**
 * Which failed calls a provider bills, per HTTP status and error type (the retry_waste figure counts only these):
 * - 429 and error types naming a rate limit: never billed (the request was refused before the model ran);
 * - other 4xx (400, 401, 403, 404, 408, 413, 422): not billed, rejected before the model ran;
 * - 5xx (500, 502, 503, 504, 529): not billed, unless completion tokens were recorded (a stream that failed part-way
 *   is billed for what it produced);
 * - no HTTP status, or a 2xx/3xx marked as an error by the application (a parse failure, a content filter, a client
 *   timeout after the answer started): billed as recorded, since the provider answered.
 */
export const BILLED_ERROR_RULE =
  "coalesce(http_status, 0) <> 429 AND coalesce(lower(error_type), '') NOT LIKE '%rate_limit%' AND (completion_tokens > 0 OR coalesce(http_status, 0) < 400)";

export interface RetryWasteRow {
  app: string;
  model: string;
  errors: number;
  /** recorded cost_usd of status=error events (what the ingest priced, billed or not) */
  error_spend_usd: number;
  /** status=error events a provider bills (BILLED_ERROR_RULE) and their recorded cost */
  billed_errors: number;
  billed_error_spend_usd: number;
  /** http_status = 429 */
  rate_limited: number;
  /** events whose (trace_id, prompt_hash) matches an earlier status=error event */
  retries: number;
  retry_spend_usd: number;
  /** retries that failed again */
  failed_retries: number;
  failed_retry_spend_usd: number;
  sample_event_ids: string[];
}

/** A minute with at least this many 429s in one app counts as a rate-limit burst. */
export const RATE_LIMIT_BURST_MIN_PER_MINUTE = 5;

/** 429s of one app per minute. */
export interface RateLimitRow {
  app: string;
  rate_limited: number;
  minutes_with_429: number;
  /** minutes with >= RATE_LIMIT_BURST_MIN_PER_MINUTE 429s */
  burst_minutes: number;
  peak_per_minute: number;
  /** start of the busiest minute, epoch ms */
  peak_minute: number;
}

/** History kept by windowing: a session's prompt is capped at its first-turn size plus this many tokens. */
export const CONTEXT_WINDOW_TOKENS = 2000;
/** A session needs at least this many turns for a growth slope. */
export const CONTEXT_MIN_TURNS = 3;

/**
 * Sessions of one (app, model) whose prompt_tokens grow turn by turn: >= CONTEXT_MIN_TURNS turns and a positive OLS
 * slope of prompt_tokens over time (the session's model: any one when it switches models mid-session).
 */
export interface ContextGrowthRow {
  app: string;
  model: string;
  /** growing sessions, their events and spend */
  sessions: number;
  events: number;
  spend_usd: number;
  /** prompt tokens (all, and cached) of their billed events, and the part above each session's cap (first turn + window) */
  prompt_tokens: number;
  cached_prompt_tokens: number;
  excess_prompt_tokens: number;
  /** mean growth of prompt_tokens per turn (per-session OLS slope over time x mean gap between turns), mean turns */
  mean_growth_tokens_per_turn: number;
  mean_turns: number;
  sample_session_ids: string[];
  sample_event_ids: string[];
}

export interface ContextGrowthResult extends UsageResult<ContextGrowthRow> {
  /** events with a session_id, and sessions with >= CONTEXT_MIN_TURNS turns (growing or not) */
  session_events: number;
  multi_turn_sessions: number;
}

/** Latency of one app or one model over status=ok, not-offline events. */
export interface LatencyRow {
  dimension: 'app' | 'model';
  key: string;
  events: number;
  spend_usd: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  ttft_p95_ms: number | null;
  /** share of the events sent with stream = true */
  stream_share: number;
  mean_completion_tokens: number;
  sample_event_ids: string[];
}

export interface LatencyResult extends UsageResult<LatencyRow> {
  /** ok events with a latency (the SLO's population) and those left out because tagged offline */
  events_with_latency: number;
  offline_events_excluded: number;
}

export interface LatencyOptions {
  /**
   * How many events the scope holds, when the caller knows it (the analysis context's count): a store may pick a
   * faster form for small scopes whose memory grows with the events (DuckDB: percentile states below 2M events).
   * Without it the store takes the form whose memory stays bounded.
   */
  scope_events?: number;
}

export interface UsageQueries {
  routingSegments(scope: AnalysisScope): Promise<UsageResult<RoutingSegmentRow>>;
  batchCandidates(scope: AnalysisScope): Promise<UsageResult<BatchCandidateRow>>;
  maxTokensGroups(scope: AnalysisScope): Promise<UsageResult<MaxTokensGroupRow>>;
  retryWaste(scope: AnalysisScope): Promise<UsageResult<RetryWasteRow>>;
  rateLimitBursts(scope: AnalysisScope): Promise<UsageResult<RateLimitRow>>;
  contextGrowth(scope: AnalysisScope, opts?: { window_tokens?: number }): Promise<ContextGrowthResult>;
  latencyByAppModel(scope: AnalysisScope, opts?: LatencyOptions): Promise<LatencyResult>;
}
