/**
 * What the policy saved (enforce) or would have saved (shadow) on one call, per rule kind, as event tags: the
 * realized-savings query (src/store/analysis/gateway/) sums them per kind. Attributed in the replay's order, so the kinds
 * add up to the call's whole saving: routing (original model → routed model, same usage) → exact, then semantic cache
 * (a hit saves what the routed call costs) → max_tokens cap (output above the cap, on the routed model; not on a hit). Pure.
 *
 * Enforce has no cap figure: a capped call never produced the tokens it was stopped from producing, so the uncapped
 * cost is unknown; the query counts capped calls and those the cap cut off (finish_reason 'length') instead.
 */
import type { PolicyDecision } from './policy-engine.js';

export interface CallUsage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_prompt_tokens: number;
}

/** The catalog price of a usage on a model (null: the catalog does not price the model). */
export type PriceOf = (model: string, usage: CallUsage) => number | null;

/** A cache hit: exact (identical request) or semantic (near-duplicate prompt); null: none. */
export type HitKind = 'exact' | 'semantic' | null;

/** Tag keys, per kind and mode. */
export const SAVINGS_TAG = {
  shadow: {
    routing: 'netra.would_save_routing_usd',
    cache: 'netra.would_save_cache_usd',
    semantic: 'netra.would_save_semantic_usd',
    cap: 'netra.would_save_cap_usd',
  },
  enforce: { routing: 'netra.saved_routing_usd', cache: 'netra.saved_cache_usd', semantic: 'netra.saved_semantic_usd' },
} as const;

const usd = (v: number) => String(Math.max(0, v));

/**
 * Shadow: `netra.would_cost_usd` (what the call would have cost under the policy) and the would-have saving of each kind
 * that applied. Nothing when the catalog does not price the model.
 */
export function shadowSavingsTags(
  d: PolicyDecision,
  model: string,
  usage: CallUsage,
  wouldHit: HitKind,
  price: PriceOf,
): Record<string, string> {
  const tags: Record<string, string> = {};
  const original = price(model, usage);
  if (original === null) return tags;
  const routed = d.routeTo ? (price(d.routeTo, usage) ?? original) : original;
  if (d.routeTo) tags[SAVINGS_TAG.shadow.routing] = usd(original - routed);
  let would = routed;
  if (wouldHit) {
    tags[wouldHit === 'exact' ? SAVINGS_TAG.shadow.cache : SAVINGS_TAG.shadow.semantic] = usd(routed);
    would = 0;
  } else if (d.cap !== null) {
    const capped = price(d.routeTo ?? model, { ...usage, completion_tokens: Math.min(usage.completion_tokens, d.cap) }) ?? routed;
    tags[SAVINGS_TAG.shadow.cap] = usd(routed - capped);
    would = capped;
  }
  tags['netra.would_cost_usd'] = String(would);
  return tags;
}

/**
 * Enforce: `netra.counterfactual_cost_usd` (the call on the model the client asked for, uncached) and the saving of
 * routing and of a cache hit, for a call that was routed or served from the cache. `served`: the model that answered
 * (on a hit, the one that answered the cached call).
 */
export function enforceSavingsTags(
  requested: string,
  served: string,
  routed: boolean,
  hit: HitKind,
  usage: CallUsage,
  price: PriceOf,
): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!routed && !hit) return tags;
  const onServed = price(served, usage);
  if (onServed === null) return tags;
  const counterfactual = routed ? (price(requested, usage) ?? onServed) : onServed;
  if (routed) tags[SAVINGS_TAG.enforce.routing] = usd(counterfactual - onServed);
  if (hit) tags[hit === 'exact' ? SAVINGS_TAG.enforce.cache : SAVINGS_TAG.enforce.semantic] = usd(onServed);
  tags['netra.counterfactual_cost_usd'] = String(counterfactual);
  return tags;
}
