/**
 * Analysis queries for the cache area (see ports/index.ts): the rows behind the `exact_cache`, `semantic_cache` and
 * `prompt_caching` recommendations. Definitions follow the generator's manifest (src/corpus/manifest.ts):
 * - an exact-cache hit is an event with an earlier status=ok event of the same model and prompt_hash at most TTL
 *   earlier ("earlier": strictly smaller timestamp; the gap is 0 < gap <= TTL);
 * - a prefix-cache hit is an event with an earlier status=ok event of the same model and prefix_hash at most the
 *   provider's cache window earlier.
 * Only events inside the analysed scope count, as earlier events too.
 */
import type { AnalysisScope } from './scope.js';

export interface ExactCacheOptions {
  /** the TTL the recommendation is computed for (seconds) */
  ttl_seconds: number;
  /** further TTLs to report hit counts for (seconds), e.g. 300, 3600, 86400 */
  compare_ttls_seconds: readonly number[];
}

/** Exact-repeat figures of one (app, model) over its events that carry a prompt_hash. */
export interface ExactCacheGroup {
  app: string;
  model: string;
  provider: string;
  /** events of the group with a prompt_hash */
  events: number;
  spend_usd: number;
  /** hits at ttl_seconds and the spend they cost (what a response cache would have saved) */
  hits: number;
  hit_spend_usd: number;
  /** hits and their spend at each of compare_ttls_seconds (same order) */
  hits_at: number[];
  hit_spend_at: number[];
  /** latency of the hits (what a cache answer would replace), null when no hit has a latency */
  hit_latency_p50_ms: number | null;
  hit_latency_p95_ms: number | null;
  /** mean sampling temperature of the hits, null when none reports one */
  hit_temperature_avg: number | null;
  /** up to 3 of the earliest hit event ids */
  sample_event_ids: string[];
}

export interface ExactCacheResult {
  groups: ExactCacheGroup[];
  /** the SQL that produced the groups (parameters as $names) */
  query: string;
}

/** One event with prompt text, for the semantic-cache pass (events arrive in timestamp order). */
export interface PromptTextRow {
  event_id: string;
  /** epoch ms */
  timestamp: number;
  app: string;
  model: string;
  prompt_hash: string | null;
  prompt_text: string;
  cost_usd: number;
  status: 'ok' | 'error';
}

/** [from, to) in epoch ms */
export interface TimeRange {
  from: number;
  to: number;
}

export interface PromptTextScanOptions {
  chunk_rows?: number;
  /**
   * Only the events in these [from, to) ranges (ascending, not overlapping), still oldest first, in one scan: the
   * sampled slices of the semantic-cache pass, each with its warm-up.
   */
  ranges?: readonly TimeRange[];
}

export interface PromptTextScan {
  /** rows delivered */
  rows: number;
  query: string;
}

export interface PrefixCacheOptions {
  /** how long a provider keeps a prompt-cache entry warm (seconds; 300 for OpenAI and Anthropic defaults) */
  window_seconds: number;
  /**
   * The distinct minimum cacheable prefix sizes in use (tokens, from the catalog). Groups are bucketed by the
   * largest of them <= prefix_tokens, so the caller can apply each model's own minimum exactly.
   */
  min_token_thresholds: readonly number[];
}

/** Prefix reuse of one (app, model, prefix-size bucket) over events with prefix_hash and prefix_tokens. */
export interface PrefixCacheGroup {
  app: string;
  model: string;
  provider: string;
  /** largest threshold <= prefix_tokens; 0 when prefix_tokens is below every threshold */
  min_tokens_bucket: number;
  events: number;
  spend_usd: number;
  /** events with a warm prefix (earlier ok call, same model and prefix_hash, within the window), all of them */
  warm: number;
  warm_spend_usd: number;
  /** warm events not already reporting cached_prompt_tokens: the ones prompt caching would discount */
  hits: number;
  hit_spend_usd: number;
  hit_prefix_tokens: number;
  /** cold events (no warm prefix, not already cached) of (app, model, prefix_hash) groups with at least one hit: cache writes */
  writes: number;
  write_prefix_tokens: number;
  /** events already reporting cached_prompt_tokens > 0, and how many tokens they read from the cache */
  already_cached_events: number;
  already_cached_tokens: number;
  /** up to 3 of the earliest hit event ids */
  sample_event_ids: string[];
}

export interface PrefixCacheResult {
  groups: PrefixCacheGroup[];
  query: string;
  /** the block-chain simulation of the same scope (recommend/prompt-caching.ts: loadPromptCaching), when it ran */
  blocks?: BlockCacheSimulation;
}

/** What the prompt-caching recommendation needs of one (app, model): the simulation summed. */
export interface BlockCacheTally {
  app: string;
  model: string;
  /** events with a chain */
  events: number;
  spend_usd: number;
  /** their prompt tokens */
  prompt_tokens: number;
  /** events the cache serves some prompt tokens to, and how many tokens (all of them, including calls that already report cached tokens) */
  warm: number;
  warm_spend_usd: number;
  cacheable_tokens: number;
  /** warm events that do not already report cached_prompt_tokens: the ones prompt caching would discount */
  hits: number;
  hit_spend_usd: number;
  hit_tokens: number;
  /** cache writes later read (tokens), and the writing calls are not counted separately */
  write_tokens: number;
  already_cached_events: number;
  already_cached_tokens: number;
  /** false when the model has no prompt caching in the catalog (nothing simulated) */
  simulated: boolean;
  sample_event_ids: string[];
}

/** The prompt-cache simulation over block chains, summed per (app, model) (prompt-cache-simulation.ts). */
export interface BlockCacheSimulation {
  window_seconds: number;
  tallies: BlockCacheTally[];
  totals: PromptTokenTotal[];
  query: string;
}

/** One event with a block chain (workload/prefix-blocks.ts), for the prompt-cache simulation (oldest first). */
export interface PrefixBlockRow {
  event_id: string;
  /** epoch ms */
  timestamp: number;
  app: string;
  model: string;
  status: 'ok' | 'error';
  prompt_tokens: number;
  cached_prompt_tokens: number;
  cost_usd: number;
  /** tokens per block */
  block_size: number;
  hashes: readonly number[];
}

/** Prompt tokens of every event of one (app, model) in scope, with a chain or not: the denominator of the cacheable share. */
export interface PromptTokenTotal {
  app: string;
  model: string;
  events: number;
  prompt_tokens: number;
}

export interface PrefixBlockScan {
  /** rows delivered (events with a chain) */
  rows: number;
  /** every event's prompt tokens per (app, model) */
  totals: PromptTokenTotal[];
  query: string;
}

export interface CacheQueries {
  /** Exact repeats per (app, model): hit counts and spend at the chosen TTL and at the comparison TTLs. One scan. */
  exactCacheGroups(scope: AnalysisScope, opts: ExactCacheOptions): Promise<ExactCacheResult>;
  /**
   * Streams the events that carry prompt_text, oldest first, in chunks of at most `chunk_rows` (default: DuckDB 512, yielding to the event loop between chunks; ClickHouse 8,192) to
   * `onRows` (called synchronously per chunk, inside the store's read: keep it pure and quick).
   */
  scanPromptTexts(scope: AnalysisScope, onRows: (rows: PromptTextRow[]) => void, opts?: PromptTextScanOptions): Promise<PromptTextScan>;
  /** Events (with or without text) in each [from, to) epoch-ms range within the scope's workspace and window. One scan. */
  countEvents(scope: AnalysisScope, ranges: readonly TimeRange[]): Promise<number[]>;
  /**
   * Prefix reuse per (app, model, prefix-size bucket) within the provider cache window, over the events that carry a
   * prefix_hash but no block chain (events with a chain are simulated block by block: scanPrefixBlocks). One scan.
   */
  prefixCacheGroups(scope: AnalysisScope, opts: PrefixCacheOptions): Promise<PrefixCacheResult>;
  /**
   * Streams the events that carry a block chain, oldest first, in chunks (like scanPromptTexts), and returns every
   * event's prompt tokens per (app, model) (`totals: false`: not asked for, an empty list, one scan of the whole scope
   * fewer; the replay needs only the chains).
   */
  scanPrefixBlocks(
    scope: AnalysisScope,
    onRows: (rows: PrefixBlockRow[]) => void,
    opts?: { chunk_rows?: number; totals?: boolean },
  ): Promise<PrefixBlockScan>;
}
