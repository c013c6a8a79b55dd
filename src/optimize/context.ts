/**
 * What every recommendation kind receives: the analysed scope, totals, and the price catalog view.
 */
import type { ModelRates } from '../workload/pricing.js';

export interface CatalogModel {
  id: string;
  provider: string;
  family: string;
  quality_tier: number;
  input: number;
  output: number;
  cached_input: number;
  cache_write: number | null;
  batch_discount: number;
  context_window: number | null;
  min_cacheable_prompt_tokens: number | null;
  modes: readonly string[];
}

export interface AnalysisContext {
  workspace: string;
  /** analysed window, epoch ms, [from, to) */
  from: number;
  to: number;
  /** totals over the window */
  total_events: number;
  total_spend_usd: number;
  /** how much of the window rests on estimates: events with estimated tokens, their share of tokens, unpriced events */
  data_quality?: DataQuality;
  /** catalog entries with the workspace's overrides applied */
  catalog: readonly CatalogModel[];
  /** rates for a model (override → catalog), null when unknown */
  rates(model: string): ModelRates | null;
  /** catalog entry a model id resolves to, null when unknown */
  resolve(model: string): CatalogModel | null;
  /** tunable parameters with documented defaults */
  params: AnalysisParams;
}

export interface DataQuality {
  estimated_token_events: number;
  estimated_token_share: number;
  unpriced_events: number;
}

export interface AnalysisParams {
  /** exact/semantic cache TTL (s) */
  cache_ttl_seconds: number;
  /** latency SLO: p95 target in ms */
  latency_slo_p95_ms: number;
  /** max_tokens is "far above" the p99 completion when cap >= ratio x p99 */
  max_tokens_ratio: number;
  /** task classes a cheaper tier handles (tags.task) */
  simple_tasks: readonly string[];
  /** minimum supporting events for a recommendation */
  min_events: number;
}

export const DEFAULT_ANALYSIS_PARAMS: AnalysisParams = {
  cache_ttl_seconds: 3600,
  latency_slo_p95_ms: 5000,
  max_tokens_ratio: 4,
  simple_tasks: ['classification', 'extraction', 'faq', 'short_answer', 'tool_selection'],
  min_events: 20,
};
