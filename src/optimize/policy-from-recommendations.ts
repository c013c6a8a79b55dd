/**
 * Turns recommendations into a what-if policy (the "chosen policy" that replay and the gateway exports use):
 * routing rules from model_routing, response caches from exact_cache / semantic_cache, batch rules from batch_api,
 * caps from max_tokens, provider prompt caching from prompt_caching (the replay simulates it over the events' block
 * chains). Kinds without a policy lever (retry_waste, context_growth, latency_slo) are advice only and are left out.
 * Pure.
 */
import type { PolicyInput } from './policy.js';
import type { Recommendation } from './recommendation.js';

export function policyFromRecommendations(
  recs: readonly Recommendation[],
  opts: { name?: string; cache_ttl_seconds?: number } = {},
): PolicyInput {
  const ttl = opts.cache_ttl_seconds ?? 3600;
  const policy: Required<Pick<PolicyInput, 'routing' | 'batch' | 'max_tokens_caps'>> & PolicyInput = {
    name: opts.name ?? 'netra recommendations',
    routing: [],
    batch: [],
    max_tokens_caps: [],
  };
  for (const r of recs) {
    const app = r.scope.app;
    switch (r.kind) {
      case 'model_routing': {
        const target = r.scope.target_model;
        if (!target || !r.scope.model) break;
        policy.routing.push({
          match: { ...(app ? { app } : {}), model: r.scope.model, ...(r.scope.task ? { task: r.scope.task } : {}) },
          target_model: target,
        });
        break;
      }
      case 'exact_cache':
        policy.exact_cache = { enabled: true, ttl_seconds: ttl };
        break;
      case 'semantic_cache':
        policy.semantic_cache = { enabled: true, ttl_seconds: ttl };
        break;
      case 'prompt_caching': {
        const w = Number(r.evidence.figures.cache_window_seconds);
        policy.prompt_caching = { enabled: true, window_seconds: Number.isFinite(w) && w > 0 ? w : 300 };
        break;
      }
      case 'batch_api':
        policy.batch.push({ match: { ...(app ? { app } : {}), ...(r.scope.model ? { model: r.scope.model } : {}), offline: true } });
        break;
      case 'max_tokens': {
        const cap = Number(r.evidence.figures.suggested_max_tokens);
        if (Number.isInteger(cap) && cap > 0)
          policy.max_tokens_caps.push({ match: { ...(app ? { app } : {}), ...(r.scope.model ? { model: r.scope.model } : {}) }, cap });
        break;
      }
      default:
        break;
    }
  }
  return policy;
}
