/**
 * Turns recommendations into a what-if policy (the "chosen policy" that replay and the gateway exports use):
 * routing rules from model_routing, response caches from exact_cache / semantic_cache, batch rules from batch_api,
 * caps from max_tokens, provider prompt caching from prompt_caching (the replay simulates it over the events' block
 * chains). Kinds without a policy lever (retry_waste, context_growth, latency_slo) are advice only and are left out
 * (POLICY_KINDS). Pure.
 *
 * The policy does not depend on the goal's order: routing rules are sorted most specific first (task rules before
 * size-only rules), then by id, so every goal replays one policy and the projected savings are the same figure.
 */
import type { PolicyInput } from './policy.js';
import { PROMPT_SIZE_BANDS } from './ports/usage.js';
import type { Recommendation, RecommendationKind } from './recommendation.js';

/** Kinds the replay applies; the others are advice whose savings the projection does not include. */
export const POLICY_KINDS: ReadonlySet<RecommendationKind> = new Set([
  'model_routing',
  'exact_cache',
  'semantic_cache',
  'batch_api',
  'max_tokens',
]);

/** Largest prompt of the smallest size band (a size-based routing segment holds only those prompts). */
const SMALL_PROMPT_MAX_TOKENS = PROMPT_SIZE_BANDS[0].below - 1;

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
  const sorted = [...recs].sort((a, b) => Number(!a.scope.task) - Number(!b.scope.task) || a.id.localeCompare(b.id));
  for (const r of sorted) {
    const app = r.scope.app;
    switch (r.kind) {
      case 'model_routing': {
        const target = r.scope.target_model;
        if (!target || !r.scope.model) break;
        const tasks = r.scope.task ? r.scope.task.split(',') : [];
        policy.routing.push({
          match: {
            ...(app ? { app } : {}),
            model: r.scope.model,
            ...(tasks.length === 1 ? { task: tasks[0] } : tasks.length > 1 ? { task: tasks } : {}),
            // a size-based segment is the smallest prompts only, not every call of the app and model
            ...(r.scope.basis === 'small_io' ? { max_prompt_tokens: SMALL_PROMPT_MAX_TOKENS } : {}),
          },
          target_model: target,
        });
        break;
      }
      case 'exact_cache':
        policy.exact_cache = { enabled: true, ttl_seconds: ttl };
        break;
      case 'semantic_cache':
        policy.semantic_cache = { enabled: true, ttl_seconds: ttl };
        // a response cache merged from both kinds (merge.ts) keeps its exact part explicit
        if (r.merged_from?.some((id) => id.startsWith('exact_cache:'))) policy.exact_cache = { enabled: true, ttl_seconds: ttl };
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
