/**
 * Prices: per-token rates for a model and the cost of one call. Pure domain code.
 * The catalog itself (data/price-catalog.json), its loading, alias resolution and per-workspace overrides are in
 * workload/price-catalog.ts.
 */
import type { Usage } from './event.js';

/** USD per token. */
export interface ModelRates {
  /** canonical model id in the catalog */
  model: string;
  provider: string;
  input: number;
  output: number;
  /** price of a prompt token read from the provider's prompt cache; defaults to `input` when the provider has none */
  cached_input: number;
  /** price of a prompt token written to the cache (null: no explicit write price) */
  cache_write: number | null;
}

/**
 * Cost of one call: uncached prompt tokens at the input rate, cached prompt tokens at the cached-read rate,
 * completion tokens at the output rate.
 */
export function costOf(rates: ModelRates, usage: Usage): number {
  const uncached = usage.prompt_tokens - usage.cached_prompt_tokens;
  return uncached * rates.input + usage.cached_prompt_tokens * rates.cached_input + usage.completion_tokens * rates.output;
}
