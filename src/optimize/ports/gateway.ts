/**
 * Analysis queries for the gateway area (see ports/index.ts): what a workspace's gateway policy saved, measured on the
 * events the gateway recorded under it. Each such event carries `netra.policy` (shadow | enforce), the policy's version
 * and, per rule kind that applied, the saving (enforce) or would-have saving (shadow) the proxy priced when it recorded
 * the call (src/gateway/savings-tags.ts). The store sums them; the domain (optimize/realized-savings.ts) sets them beside
 * the replay's prediction.
 */
import type { AnalysisScope } from './scope.js';

/** Totals of the events of one (mode, policy version) in the window. */
export interface GatewaySavingsRow {
  mode: 'shadow' | 'enforce';
  /** netra.policy_version of the events (null: recorded before versions were) */
  policy_version: string | null;
  events: number;
  ok_events: number;
  /** recorded cost of the events (a cache hit costs 0 in enforce) */
  spend_usd: number;
  /** epoch ms of the first and last event */
  first_event: number;
  last_event: number;
  /** events the routing rule applied to (rerouted, or would have been) and the saving */
  routing_events: number;
  routing_savings_usd: number;
  /** exact-cache hits (served, or would have been) and the saving */
  cache_events: number;
  cache_savings_usd: number;
  /** semantic-cache hits (near-duplicate prompts; served, or would have been) and the saving */
  semantic_events: number;
  semantic_savings_usd: number;
  /** events the max_tokens cap applied to; shadow: its would-have saving (enforce: 0, not measurable) */
  cap_events: number;
  cap_savings_usd: number;
  /** shadow: capped events whose completion exceeded the cap (their answer would have been cut off); enforce: capped events that stopped at the cap (finish_reason 'length') */
  cap_truncated: number;
}

export interface GatewayQueries {
  /** One row per (mode, policy version) of the gateway events in the scope, ordered by mode then version. */
  gatewaySavings(scope: AnalysisScope): Promise<{ rows: GatewaySavingsRow[]; sql: string }>;
}
