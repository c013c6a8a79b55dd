/**
 * Export of a policy (policy.ts) as a Portkey gateway config (JSON). Pure.
 *
 * Documented shape used (https://portkey.ai/docs/product/ai-gateway/configs, .../conditional-routing,
 * .../cache-simple-and-semantic, .../fallbacks): `strategy: { mode: "conditional", conditions: [{ query, then }],
 * default }` with MongoDB-style queries over `metadata.<key>` and `params.<request param>` ($eq, $in, $and, ...);
 * `targets[]` with a unique `name`, `provider`, `override_params: { model, max_tokens }`, or a nested `strategy`
 * (`fallback`) with its own `targets`; `cache: { mode: "simple" | "semantic", max_age }` (max_age in seconds, per
 * the cache page's "With TTL (60 seconds)" example); `retry: { attempts }`.
 * How the policy maps: each routing rule is a condition on `params.model` (the requested model) and on metadata the
 * app sends (`x-portkey-metadata`: app, task and any tag), whose target is the rule's model with a fallback to the
 * original; caps become `override_params.max_tokens`; traffic no rule matches goes to a pass-through target of its
 * provider. Prompt-size bounds, "no end user" and batch rules cannot be expressed: the rule is left out and `notes`
 * says so.
 */
import type { Policy, PolicyMatch } from '../policy.js';
import { describeMatch, type GatewayExportOptions, type GatewayModel } from './litellm.js';

type Query = Record<string, unknown>;

export interface PortkeyTarget {
  name?: string;
  provider?: string;
  override_params?: { model?: string; max_tokens?: number };
  strategy?: { mode: 'fallback' };
  targets?: PortkeyTarget[];
  weight?: number;
}

export interface PortkeyConfig {
  strategy: { mode: 'conditional'; conditions: { query: Query; then: string }[]; default: string } | { mode: 'loadbalance' };
  targets: PortkeyTarget[];
  cache?: { mode: 'simple' | 'semantic'; max_age: number };
  retry?: { attempts: number };
}

/** The query of a match, or the reason it cannot be expressed. */
function queryOf(m: PolicyMatch): { query: Query } | { reason: string } {
  if (m.min_prompt_tokens !== undefined || m.max_prompt_tokens !== undefined)
    return { reason: 'Portkey conditions cannot see prompt size' };
  if (m.offline) return { reason: 'Portkey conditions cannot see whether an end user waits ("offline")' };
  const parts: Query[] = [];
  const one = (field: string, v?: string[]) => v && parts.push({ [field]: v.length === 1 ? { $eq: v[0] } : { $in: v } });
  one('params.model', m.model);
  one('metadata.app', m.app);
  one('metadata.task', m.task);
  for (const [k, v] of Object.entries(m.tags ?? {})) parts.push({ [`metadata.${k}`]: { $eq: v } });
  if (parts.length === 0) return { query: {} };
  return { query: parts.length === 1 ? parts[0]! : { $and: parts } };
}

export function policyToPortkey(
  policy: Policy,
  opts: GatewayExportOptions & { retry_attempts?: number },
): { config: PortkeyConfig; notes: string[] } {
  const notes: string[] = [];
  const targets: PortkeyTarget[] = [];
  const conditions: { query: Query; then: string }[] = [];
  const known = (model: string, where: string): GatewayModel | null => {
    const g = opts.resolve(model);
    if (!g) notes.push(`${where}: model '${model}' is not in the price catalog; left out.`);
    return g;
  };
  const capFor = (model: string): number | undefined =>
    policy.max_tokens_caps.find((c) => c.match.model?.includes(model) && Object.keys(c.match).every((k) => k === 'model'))?.cap;

  policy.routing.forEach((rule, i) => {
    const q = queryOf(rule.match);
    if ('reason' in q) {
      notes.push(`routing[${i}] (${describeMatch(rule.match)}): ${q.reason}; left out.`);
      return;
    }
    const target = known(rule.target_model, `routing[${i}].target_model`);
    if (!target) return;
    const primary: PortkeyTarget = { provider: target.provider, override_params: { model: target.id } };
    const sources = (rule.match.model ?? []).map((m) => known(m, `routing[${i}].match.model`)).filter((g): g is GatewayModel => g !== null);
    const name = `route-${i}`;
    targets.push(
      sources.length
        ? {
            name,
            strategy: { mode: 'fallback' },
            targets: [primary, ...sources.map((g) => ({ provider: g.provider, override_params: { model: g.id } }))],
          }
        : { name, ...primary },
    );
    conditions.push({ query: q.query, then: name });
  });
  policy.max_tokens_caps.forEach((c, i) => {
    const q = queryOf(c.match);
    if ('reason' in q) {
      notes.push(`max_tokens_caps[${i}] (${describeMatch(c.match)}): ${q.reason}; set max_tokens=${c.cap} in the app.`);
      return;
    }
    const models = (c.match.model ?? [])
      .map((m) => known(m, `max_tokens_caps[${i}].match.model`))
      .filter((g): g is GatewayModel => g !== null);
    if (models.length !== 1) {
      notes.push(
        `max_tokens_caps[${i}] (${describeMatch(c.match)}): a Portkey target needs one provider, so a cap is exported for a single model only; set max_tokens=${c.cap} in the app.`,
      );
      return;
    }
    const name = `cap-${i}`;
    targets.push({ name, provider: models[0]!.provider, override_params: { model: models[0]!.id, max_tokens: c.cap } });
    conditions.push({ query: q.query, then: name });
  });
  policy.batch.forEach((b, i) =>
    notes.push(`batch[${i}] (${describeMatch(b.match)}): not a gateway setting; send this traffic to the provider's Batch API.`),
  );

  // unmatched traffic keeps its model: one pass-through target per provider, chosen by the requested model
  const byProvider = new Map<string, string[]>();
  for (const m of opts.models ?? []) {
    const g = opts.resolve(m);
    if (g) byProvider.set(g.provider, [...(byProvider.get(g.provider) ?? []), m]);
  }
  if (byProvider.size === 0) byProvider.set('openai', []);
  const providers = [...byProvider.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  for (const [provider, models] of providers) {
    const name = `passthrough-${provider}`;
    targets.push({ name, provider });
    if (providers.length > 1) conditions.push({ query: { 'params.model': { $in: models } }, then: name });
  }
  const cap = (t: PortkeyTarget) => {
    const model = t.override_params?.model;
    const c = model ? capFor(model) : undefined;
    if (c !== undefined && t.override_params!.max_tokens === undefined) t.override_params!.max_tokens = c;
    t.targets?.forEach(cap);
  };
  targets.forEach(cap);

  const config: PortkeyConfig = {
    strategy: conditions.length ? { mode: 'conditional', conditions, default: `passthrough-${providers[0]![0]}` } : { mode: 'loadbalance' },
    targets: conditions.length ? targets : targets.map((t) => ({ ...t, weight: 1 })),
    retry: { attempts: opts.retry_attempts ?? 2 },
  };
  const sem = policy.semantic_cache?.enabled ? policy.semantic_cache : null;
  const exact = policy.exact_cache?.enabled ? policy.exact_cache : null;
  if (sem) {
    config.cache = { mode: 'semantic', max_age: sem.ttl_seconds };
    notes.push(
      "Semantic cache: Portkey checks exact matches first, then cosine similarity of embeddings (its own threshold), not Netra's MinHash threshold.",
    );
  } else if (exact) {
    config.cache = { mode: 'simple', max_age: exact.ttl_seconds };
  }
  if (conditions.some((c) => JSON.stringify(c.query).includes('metadata.'))) {
    notes.push('Conditions on app / task / tags read request metadata: send them in the x-portkey-metadata header (values as strings).');
  }
  return { config, notes };
}
