/**
 * The replay's policy (src/optimize/policy.ts) applied to one live request, in the replay's order: routing (first
 * matching rule) → exact cache, then semantic cache when the policy enables it → max_tokens cap (first matching cap, on
 * the model that serves the call). Pure. Batch rules are not applied in the request path (a live caller is waiting), so
 * the gateway neither enforces nor shadows them.
 */
import type { Policy, PolicyMatch } from '../optimize/policy.js';

export interface PolicyRequest {
  app: string;
  model: string;
  tags: Readonly<Record<string, string>>;
  endUser: string | null;
  sessionId: string | null;
  maxTokens: number | null;
  /** prompt tokens, computed only when a rule bounds them */
  promptTokens(): number;
}

export interface PolicyDecision {
  /** the model the routing rule sends the call to (null: unchanged) */
  routeTo: string | null;
  /** the max_tokens the call would be capped to (null: no cap applies or the request asks for less) */
  cap: number | null;
  /** exact cache TTL in seconds when the policy enables it */
  cacheTtlSeconds: number | null;
  /** semantic cache settings when the policy enables it */
  semantic: { ttlSeconds: number; threshold: number | undefined } | null;
}

/** Whether two model ids name the same catalog model (aliases, dated snapshots). */
export type SameModel = (a: string, b: string) => boolean;

export function matches(m: PolicyMatch, req: PolicyRequest, model: string, sameModel: SameModel): boolean {
  if (m.app && !m.app.includes(req.app)) return false;
  if (m.model && !m.model.some((x) => sameModel(x, model))) return false;
  if (m.task && !(req.tags.task !== undefined && m.task.includes(req.tags.task))) return false;
  if (m.tags) for (const [k, v] of Object.entries(m.tags)) if (req.tags[k] !== v) return false;
  if (m.offline && (req.endUser !== null || req.sessionId !== null)) return false;
  if (m.min_prompt_tokens !== undefined || m.max_prompt_tokens !== undefined) {
    const n = req.promptTokens();
    if (m.min_prompt_tokens !== undefined && n < m.min_prompt_tokens) return false;
    if (m.max_prompt_tokens !== undefined && n > m.max_prompt_tokens) return false;
  }
  return true;
}

export function decide(policy: Policy, req: PolicyRequest, sameModel: SameModel): PolicyDecision {
  let routeTo: string | null = null;
  for (const r of policy.routing) {
    if (matches(r.match, req, req.model, sameModel)) {
      if (!sameModel(r.target_model, req.model)) routeTo = r.target_model;
      break;
    }
  }
  const served = routeTo ?? req.model;
  let cap: number | null = null;
  for (const c of policy.max_tokens_caps) {
    if (matches(c.match, req, served, sameModel)) {
      if (req.maxTokens === null || req.maxTokens > c.cap) cap = c.cap;
      break;
    }
  }
  const sc = policy.semantic_cache;
  return {
    routeTo,
    cap,
    cacheTtlSeconds: policy.exact_cache?.enabled ? policy.exact_cache.ttl_seconds : null,
    semantic: sc?.enabled ? { ttlSeconds: sc.ttl_seconds, threshold: sc.threshold } : null,
  };
}
