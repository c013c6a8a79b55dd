/**
 * The analytics store interface. DuckDB (embedded, default) implements it in duckdb-store.ts; ClickHouse comes
 * later against the same interface and the same test suite (test/store.suite.ts).
 *
 * Rules every implementation keeps:
 * - every read is scoped to one workspace and a time range [from, to) in epoch milliseconds;
 * - appends are batched (DuckDB: the Appender API) and de-duplicated on (workspace, event_id), within a batch too;
 * - the schema is versioned (a `netra_schema` table holds the version; init() migrates forward).
 */
import type { WorkloadEvent } from '../workload/event.js';
import type { EventFilter } from './event-filter.js';
import type { ModelRates } from '../workload/pricing.js';
import type { AnalysisQueries } from '../optimize/ports/index.js';
import type { StoreQueryTiming } from '../optimize/store-health.js';

import type { Scope } from '../workload/scope.js';
import type { EventColumns } from '../workload/event-columns.js';
import type { LoadColumns } from './duckdb-load-columns.js';

export type { Scope };

export interface AppendResult {
  /** rows newly stored */
  inserted: number;
  /** rows skipped because (workspace, event_id) was already stored or repeated within the batch */
  duplicates: number;
}

export interface ModelStats {
  model: string;
  provider: string;
  events: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_prompt_tokens: number;
  spend_usd: number;
  /** null when no event in the group has a latency */
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  /** events whose token counts were estimated from their text (token_source = 'estimated') */
  estimated_token_events: number;
  /** events of a model with no price (cost_source = 'unknown_model', stored at $0) */
  unpriced_events: number;
}

export interface WorkspaceStats {
  workspace: string;
  from: number | null;
  to: number | null;
  events: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_prompt_tokens: number;
  spend_usd: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  /** events whose token counts were estimated from their text, and their tokens (prompt + completion) */
  estimated_token_events: number;
  estimated_tokens: number;
  /** estimated_tokens / all tokens (0 when there are none) */
  estimated_token_share: number;
  /** events of models with no price (stored at $0 until a price override reprices them) */
  unpriced_events: number;
  /** first and last event timestamps in scope (epoch ms), null when empty */
  first_event: number | null;
  last_event: number | null;
  by_model: ModelStats[];
}

export interface WorkspaceInfo {
  workspace: string;
  events: number;
  first_event: number | null;
  last_event: number | null;
}

/** One dataset of a workspace: the events of one `app` (generated workloads use the preset as app; imports carry theirs). */
export interface DatasetInfo {
  app: string;
  events: number;
  /** first and last event timestamps (epoch ms) */
  first_event: number;
  last_event: number;
  spend_usd: number;
  /** distinct models, sorted */
  models: string[];
}

export interface RepriceResult {
  /** events whose cost was recomputed (cost_source = 'catalog' and a rate was known) */
  updated: number;
  spend_before_usd: number;
  spend_after_usd: number;
}

export interface StoreHealth {
  ok: boolean;
  engine: string;
  detail?: string;
}

/** Events encoded for appendEncoded(): `rows` events, `hashes[i]` the de-duplication key hash of event i. */
export interface EncodedBatch {
  rows: number;
  hashes: Float64Array;
  /** the store's write format of the events (DuckDB: one spool line, UTF-8) */
  bytes: Uint8Array;
  /**
   * DuckDB: the same rows by column (duckdb-load-columns.ts), which DuckDB loads while the process lives; the bytes
   * stay the durable record, read back only after a crash
   */
  columns?: LoadColumns;
}

/** Position in a workspace's events, ordered by (timestamp, event_id); `timestamp_us`: epoch microseconds. */
export interface PromptCursor {
  timestamp_us: number;
  event_id: string;
}

export interface ChainlessPrompt extends PromptCursor {
  model: string;
  prompt_text: string;
}

export interface DerivedChain {
  event_id: string;
  hashes: readonly number[];
  block_size: number;
}

export interface AnalyticsStore {
  readonly engine: 'duckdb' | 'clickhouse';
  /** Creates or migrates the schema. Idempotent. */
  init(): Promise<void>;
  /** Stores events (all of one or many workspaces), skipping already-stored (workspace, event_id) pairs. */
  append(events: readonly WorkloadEvent[]): Promise<AppendResult>;
  /** The same for a column batch (workload/event-columns.ts); the batch must not change afterwards. */
  appendColumns(batch: EventColumns): Promise<AppendResult>;
  /**
   * Stores a batch already validated and encoded in the store's own write format off the event loop (a DuckDB file
   * store: its spool line, duckdb-bulk-load.ts `encodeSpoolBatch`), with the same de-duplication and acknowledgement as
   * append(). Absent when the store has no such format; then callers use append().
   */
  appendEncoded?(batch: EncodedBatch): Promise<AppendResult>;
  /** Totals and per-model figures for a scope. */
  stats(scope: Scope): Promise<WorkspaceStats>;
  /** Events in scope, oldest first, at most `limit` (for exports and samples). */
  listEvents(scope: Scope, opts?: { limit?: number; offset?: number }): Promise<WorkloadEvent[]>;
  /** Workspaces present in the store with event counts. */
  workspaces(): Promise<WorkspaceInfo[]>;
  /** Distinct models seen in a workspace (for repricing). */
  models(workspace: string): Promise<string[]>;
  /** Recomputes cost_usd for catalog-priced events of the given models from new rates. */
  reprice(workspace: string, rates: ReadonlyMap<string, ModelRates>): Promise<RepriceResult>;
  /**
   * Events whose prompt text is long enough for a block chain (workload/prefix-blocks.ts) but that have none stored
   * (stored before chains were derived at ingest), oldest first after `after`: one page of the chain backfill.
   */
  chainlessPrompts(workspace: string, after: PromptCursor | null, limit: number): Promise<ChainlessPrompt[]>;
  /** How many events chainlessPrompts would return from `after` on, all pages together. */
  countChainlessPrompts(workspace: string, after: PromptCursor | null): Promise<number>;
  /** Stores derived chains on those of the given events that still have none; returns how many rows changed. */
  setPrefixBlocks(workspace: string, chains: readonly DerivedChain[]): Promise<number>;
  /** Deletes every event of a workspace; returns how many were deleted. */
  deleteWorkspace(workspace: string): Promise<number>;
  /** The workspace's datasets (one per app), sorted by app. */
  datasets(workspace: string): Promise<DatasetInfo[]>;
  /**
   * Deletes the events of a workspace matching the filter (ids, app, model, time range; all given must match; at least
   * one); returns how many were deleted. Deleted (workspace, event_id) keys may be appended again afterwards (they are
   * new events then).
   */
  deleteEvents(workspace: string, filter: EventFilter): Promise<number>;
  health(): Promise<StoreHealth>;
  /** The aggregated queries of the optimisation engine (src/optimize/ports), timed per kind. */
  readonly analysis: AnalysisQueries;
  /**
   * Runs `fn` with analysis queries that all read one snapshot of the events (what was accepted before the call), so
   * the several queries of one analysis or replay agree with each other while events keep arriving.
   */
  analysisSnapshot<T>(fn: (q: AnalysisQueries) => Promise<T>): Promise<T>;
  /** Recent query durations by kind (store health). */
  queryTimings(): StoreQueryTiming[];
  /**
   * Optional background maintenance (statistics, compaction), run by the startup tasks (src/jobs/startup-tasks.ts);
   * returns what it did. DuckDB: CHECKPOINT + ANALYZE.
   */
  maintain?(): Promise<Record<string, unknown>>;
  /** Flushes pending writes and releases every handle. Safe to call twice. */
  close(): Promise<void>;
}
