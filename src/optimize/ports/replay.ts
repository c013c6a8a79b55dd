/**
 * Analysis queries for the replay area (see ports/index.ts): the what-if replay of a policy over stored history.
 * The domain (optimize/replay.ts) resolves a validated policy into a `ReplayPlan` (catalog rates, stored model ids
 * per rule, semantic-cache hits) and the store applies it in SQL, returning totals and per-day (UTC) rows.
 */
import type { TimeRange } from './cache.js';
import type { AnalysisScope } from './scope.js';

/** One policy match, resolved: every list is "any of"; null means "any". */
export interface ReplayMatch {
  apps: string[] | null;
  /** model ids as stored in events (aliases of the policy's model already expanded) */
  models: string[] | null;
  /** tags.task values */
  tasks: string[] | null;
  min_prompt_tokens: number | null;
  max_prompt_tokens: number | null;
  /** tag key → required value */
  tags: [string, string][];
  /** only events with no end_user and no session_id */
  offline: boolean;
}

/** Per-token rates (USD) and batch discount of a model id (as stored or as targeted), plus its typical decode speed. */
export interface ReplayRate {
  model: string;
  input: number;
  cached_input: number;
  output: number;
  /** fraction off with the provider's batch API (0: none) */
  batch_discount: number;
  /** typical latency per output token in this workspace (ms), null when the workspace has no data for it */
  ms_per_output_token: number | null;
  /** provider prompt-cache write premium per token (cache_write - input; 0 when the provider bills none) */
  cache_write_premium: number;
}

export interface ReplayPlan {
  /**
   * First matching rule wins. `same_models`: stored model ids that already are the target (aliases of it): events
   * on them match the rule but stay where they are.
   */
  routing: { match: ReplayMatch; target_model: string; same_models: string[] }[];
  /** exact (model, prompt_hash) response cache TTL in ms; null: off */
  exact_cache_ttl_ms: number | null;
  /** events served by the semantic cache (near-duplicate hits found by the domain); ignored when also exact hits */
  semantic_hit_ids: readonly string[];
  /**
   * How many events each semantic hit stands for (default 1). Above the sampling bound the domain finds near hits in
   * sampled slices only (replay.ts); each one then also stands for (weight - 1) unsampled events like it: the store
   * moves their cost, counts and savings from "not a hit" to "semantic hit" (latency percentiles are not extrapolated).
   */
  semantic_hit_weight?: number;
  /** latency of a response served from cache (ms) */
  cache_latency_ms: number;
  /**
   * Provider prompt caching, simulated by the domain (prompt-cache-simulation.ts): per event that reads the cache, the
   * prompt tokens read and the cache writes the read confirms. The store bills read tokens at the serving model's
   * cached-input price and the writes at its write premium. Null: off.
   */
  prompt_cache: { event_ids: readonly string[]; hit_tokens: readonly number[]; write_tokens: readonly number[] } | null;
  batch: ReplayMatch[];
  /** first matching cap wins */
  caps: { match: ReplayMatch; cap: number }[];
  /** rates of every stored model the catalog knows and of every target model */
  rates: ReplayRate[];
}

/** Per-model facts for planning the replay (one GROUP BY). */
export interface ReplayModelRow {
  model: string;
  events: number;
  spend_usd: number;
  /** median of latency_ms / completion_tokens over ok events with both; null when none or not asked for */
  ms_per_output_token: number | null;
}

/** A text-bearing event for the semantic-cache simulation, with the model that would serve it after routing. */
export interface ReplayTextRow {
  event_id: string;
  timestamp: number;
  model: string;
  prompt_hash: string | null;
  prompt_text: string;
}

/** Baseline vs projected figures of the total (day = null) or one UTC day ('YYYY-MM-DD'). */
export interface ReplayAggregateRow {
  day: string | null;
  events: number;
  baseline_spend_usd: number;
  projected_spend_usd: number;
  baseline_latency_p50_ms: number | null;
  baseline_latency_p95_ms: number | null;
  projected_latency_p50_ms: number | null;
  projected_latency_p95_ms: number | null;
  exact_hits: number;
  semantic_hits: number;
  /** events that read the provider prompt cache (and are not served by a response cache) */
  prompt_cache_hits: number;
  routed: number;
  batched: number;
  /** events whose completion was above their cap (billed tokens clipped to the cap) */
  truncated: number;
  /** events whose handling changes: routed, served from cache, sent to batch or clipped */
  changed: number;
  routing_savings_usd: number;
  cache_savings_usd: number;
  prompt_cache_savings_usd: number;
  batch_savings_usd: number;
  cap_savings_usd: number;
  /** events matched by each routing rule, in rule order */
  rule_events: number[];
}

/** The total row of a replay over no events (a scope with nothing in it, or a store that returned no total). */
export function emptyReplayTotal(rules: number): ReplayAggregateRow {
  return {
    day: null,
    events: 0,
    baseline_spend_usd: 0,
    projected_spend_usd: 0,
    baseline_latency_p50_ms: null,
    baseline_latency_p95_ms: null,
    projected_latency_p50_ms: null,
    projected_latency_p95_ms: null,
    exact_hits: 0,
    semantic_hits: 0,
    prompt_cache_hits: 0,
    routed: 0,
    batched: 0,
    truncated: 0,
    changed: 0,
    routing_savings_usd: 0,
    cache_savings_usd: 0,
    prompt_cache_savings_usd: 0,
    batch_savings_usd: 0,
    cap_savings_usd: 0,
    rule_events: Array.from({ length: rules }, () => 0),
  };
}

export interface ReplayQueries {
  /** Per stored model: events, spend and (with `latency`) typical latency per output token. */
  replayModels(scope: AnalysisScope, opts: { latency: boolean }): Promise<ReplayModelRow[]>;
  /**
   * Streams the text-bearing events in timestamp order (ties by event_id), with the routed model, in batches to
   * `onBatch`. Returns how many were streamed. With `ranges` (ascending, not overlapping), only the events inside them.
   */
  replayTextEvents(
    scope: AnalysisScope,
    routing: ReplayPlan['routing'],
    onBatch: (rows: ReplayTextRow[]) => void,
    opts?: { ranges?: readonly TimeRange[] },
  ): Promise<number>;
  /** Applies the plan in SQL: the total row (day null) first, then one row per UTC day, oldest first. */
  replaySimulate(scope: AnalysisScope, plan: ReplayPlan): Promise<{ rows: ReplayAggregateRow[]; sql: string }>;
}
