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
 * Deployable as checked against the gateway's own validator (Portkey-AI/gateway,
 * src/middlewares/requestValidator/schema/config.ts): every target has a `provider` from its VALID_PROVIDERS (the
 * catalog's `portkey_provider`) and an `api_key`, or a strategy with targets. Keys are written as `${NAME}`
 * placeholders for `envsubst` (a config travels in the x-portkey-config header and has no environment lookup of its
 * own). A cache recommended for some apps only sits on targets chosen by `metadata.app` (the gateway lets a target's
 * own `cache` override the inherited one); for every app it is the top-level `cache`.
 */
import type { Policy, PolicyMatch } from '../policy.js';
import { describeMatch, type GatewayExportOptions, type GatewayModel } from './litellm.js';

/** The API key variable of each Portkey provider slug (filled in by envsubst before the config is used). */
const KEY_ENV: Record<string, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  google: 'GEMINI_API_KEY',
  'mistral-ai': 'MISTRAL_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  'together-ai': 'TOGETHER_API_KEY',
  groq: 'GROQ_API_KEY',
  'fireworks-ai': 'FIREWORKS_API_KEY',
};
export const portkeyKeyEnv = (provider: string) => KEY_ENV[provider] ?? `${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;

type Query = Record<string, unknown>;

export interface PortkeyTarget {
  name?: string;
  provider?: string;
  api_key?: string;
  cache?: { mode: 'simple' | 'semantic'; max_age: number };
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

/** The metadata.app condition inside an $and query, if any. */
function findApp(q: Query): { $eq?: string; $in?: string[] } | undefined {
  const and = q.$and as Query[] | undefined;
  return and?.map((p) => p['metadata.app'] as { $eq?: string; $in?: string[] } | undefined).find((x) => x !== undefined);
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
    else if (!g.portkey_provider || !g.portkey_model) notes.push(`${where}: the catalog has no Portkey name for '${model}'; left out.`);
    return g?.portkey_provider && g.portkey_model ? g : null;
  };
  const envs = new Set<string>();
  const leaf = (g: GatewayModel, extra: Partial<PortkeyTarget['override_params']> = {}): PortkeyTarget => {
    envs.add(portkeyKeyEnv(g.portkey_provider!));
    return {
      provider: g.portkey_provider!,
      api_key: `\${${portkeyKeyEnv(g.portkey_provider!)}}`,
      override_params: { model: g.portkey_model!, ...extra },
    };
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
    const primary = leaf(target);
    const sources = (rule.match.model ?? []).map((m) => known(m, `routing[${i}].match.model`)).filter((g): g is GatewayModel => g !== null);
    const name = `route-${i}`;
    targets.push(
      sources.length
        ? {
            name,
            strategy: { mode: 'fallback' },
            targets: [primary, ...sources.map((g) => leaf(g))],
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
    targets.push({ name, ...leaf(models[0]!, { max_tokens: c.cap }) });
    conditions.push({ query: q.query, then: name });
  });
  policy.batch.forEach((b, i) =>
    notes.push(`batch[${i}] (${describeMatch(b.match)}): not a gateway setting; send this traffic to the provider's Batch API.`),
  );

  // unmatched traffic keeps its model: one pass-through target per provider, chosen by the requested model
  const byProvider = new Map<string, string[]>();
  for (const m of opts.models ?? []) {
    const g = opts.resolve(m);
    if (g?.portkey_provider) byProvider.set(g.portkey_provider, [...(byProvider.get(g.portkey_provider) ?? []), m]);
    else if (g) notes.push(`models: the catalog has no Portkey name for '${m}'; its traffic takes the default target.`);
  }
  if (byProvider.size === 0) byProvider.set('openai', []);
  const providers = [...byProvider.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const passthrough = (provider: string, name: string): PortkeyTarget => {
    envs.add(portkeyKeyEnv(provider));
    return { name, provider, api_key: `\${${portkeyKeyEnv(provider)}}` };
  };

  const sem = policy.semantic_cache?.enabled ? policy.semantic_cache : null;
  const exact = policy.exact_cache?.enabled ? policy.exact_cache : null;
  const cache: PortkeyConfig['cache'] = sem
    ? { mode: 'semantic', max_age: sem.ttl_seconds }
    : exact
      ? { mode: 'simple', max_age: exact.ttl_seconds }
      : undefined;
  const cacheScope = sem ? (opts.cache_apps?.semantic ?? null) : exact ? (opts.cache_apps?.exact ?? null) : null;
  const cacheApps = cache && cacheScope !== null ? [...cacheScope] : null;
  if (cache && cacheApps !== null) {
    // routed and capped targets of rules that only touch these apps carry the cache too
    conditions.forEach((c) => {
      const apps = (c.query['metadata.app'] as { $eq?: string; $in?: string[] } | undefined) ?? findApp(c.query);
      const list = apps?.$eq !== undefined ? [apps.$eq] : apps?.$in;
      if (list?.every((a) => cacheApps.includes(a))) {
        const t = targets.find((x) => x.name === c.then);
        if (t) t.cache = { ...cache };
      }
    });
    // then the rest of these apps' traffic, per provider, before the pass-through conditions
    for (const [provider, models] of providers) {
      const name = `cached-${provider}`;
      targets.push({ ...passthrough(provider, name), cache: { ...cache } });
      const app = { 'metadata.app': cacheApps.length === 1 ? { $eq: cacheApps[0] } : { $in: cacheApps } };
      conditions.push({ query: providers.length > 1 ? { $and: [app, { 'params.model': { $in: models } }] } : app, then: name });
    }
  }
  for (const [provider, models] of providers) {
    const name = `passthrough-${provider}`;
    targets.push(passthrough(provider, name));
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
  if (cache && cacheApps === null) config.cache = cache;
  if (sem) {
    notes.push(
      "Semantic cache: Portkey checks exact matches first, then cosine similarity of embeddings (its own threshold), not Netra's MinHash threshold.",
    );
  }
  if (cache && cacheApps !== null) {
    notes.push(
      `Cache: recommended for ${cacheApps.join(', ')} only; it is on the targets those apps reach (metadata.app), not for every request.`,
    );
  }
  notes.push(
    `API keys are \${NAME} placeholders: fill them from the environment before use, e.g. envsubst < portkey-config.json (${[...envs].sort().join(', ')}).`,
  );
  if (conditions.some((c) => JSON.stringify(c.query).includes('metadata.'))) {
    notes.push('Conditions on app / task / tags read request metadata: send them in the x-portkey-metadata header (values as strings).');
  }
  return { config, notes };
}
