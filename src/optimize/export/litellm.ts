/**
 * Export of a policy (policy.ts) as a LiteLLM proxy `config.yaml`, with a small YAML emitter (no dependency). Pure.
 *
 * Documented shape used (https://docs.litellm.ai/docs/proxy/configs, .../proxy/caching, .../proxy/caching_semantic,
 * .../router/api_reference/configuration):
 * - `model_list[]`: `{ model_name, litellm_params: { model: "provider/model", api_key: "os.environ/KEY", max_tokens? } }`;
 * - `router_settings`: `routing_strategy`, `num_retries`, `timeout` (s), `fallbacks: [{ group: [groups] }]`,
 *   `model_group_alias: { requested: group }`;
 * - `litellm_settings`: `cache: true`, `cache_params: { type: redis | redis-semantic, ttl, host, port, password,
 *   mode: default_off, similarity_threshold, redis_semantic_cache_embedding_model }`; string values `os.environ/NAME`
 *   are read from the environment by the proxy (cache_params and general_settings alike);
 * - `general_settings.master_key` (.../proxy/virtual_keys): `os.environ/LITELLM_MASTER_KEY`.
 * Deployable as is: every model is written as LiteLLM names it (the catalog's `litellm_model`; a model without one is
 * left out and noted), secrets and Redis come from environment variables (listed in the header), and a cache
 * recommended for some apps only is scoped to them: `mode: default_off`, and those apps opt in per request with
 * `"cache": {"use-cache": true}` (LiteLLM's documented opt-in; a routing rule cannot see the app).
 * How the policy maps: LiteLLM routes by the requested model name, so each routing rule becomes a model group
 * `netra-route-<i>` on the target model, with a fallback to the original model. A rule that matches on model only
 * also gets a `model_group_alias` (clients keep sending the old name); a rule with app / task / tag / size
 * conditions needs that segment to request `netra-route-<i>` (said in the header comment). Caps on a model alone set
 * `max_tokens` on its deployment; batch rules are not proxy settings (LiteLLM's /v1/batches or the provider's Batch
 * API). Everything not expressible is listed in `notes` and in the file's header.
 */
import type { Policy, PolicyMatch } from '../policy.js';

export interface GatewayModel {
  /** canonical model id */
  id: string;
  /** provider whose API serves it (the catalog's hosted_by for open-weight models, else provider) */
  provider: string;
  /** the model as LiteLLM names it ("provider/model"); absent: LiteLLM cannot be given it */
  litellm_model?: string;
  /** Portkey's provider slug and model id; absent: Portkey cannot be given it */
  portkey_provider?: string;
  portkey_model?: string;
}

/** A catalog entry as the exports see it. */
export function gatewayModel(e: {
  id: string;
  provider: string;
  hosted_by?: string;
  litellm_model?: string;
  portkey_provider?: string;
  portkey_model?: string;
}): GatewayModel {
  return {
    id: e.id,
    provider: e.hosted_by ?? e.provider,
    ...(e.litellm_model ? { litellm_model: e.litellm_model } : {}),
    ...(e.portkey_provider && e.portkey_model ? { portkey_provider: e.portkey_provider, portkey_model: e.portkey_model } : {}),
  };
}

/** The apps each response cache was recommended for; null or absent: every app. */
export interface CacheApps {
  exact?: readonly string[] | null;
  semantic?: readonly string[] | null;
}

/**
 * The apps the cache recommendations name (null when one of them has no app: the whole workspace). What a gateway
 * export scopes its cache to.
 */
export function cacheAppsFromRecommendations(recs: readonly { kind: string; scope: { app?: string } }[]): CacheApps {
  const apps = (kind: string): string[] | null => {
    const rs = recs.filter((r) => r.kind === kind);
    if (rs.length === 0 || rs.some((r) => !r.scope.app)) return null;
    return [...new Set(rs.map((r) => r.scope.app!))].sort();
  };
  return { exact: apps('exact_cache'), semantic: apps('semantic_cache') };
}

export interface GatewayExportOptions {
  /** catalog lookup: canonical id and serving provider of a model id, null when unknown */
  resolve(model: string): GatewayModel | null;
  /** models the workspace calls today (kept as deployments so unmatched traffic still has a route) */
  models?: readonly string[];
  /** retries per request (default 2) */
  num_retries?: number;
  /** request timeout in seconds (default 600) */
  timeout_seconds?: number;
  /** embedding model for a semantic cache (default text-embedding-3-small) */
  embedding_model?: string;
  /** the apps each cache was recommended for (default: every app) */
  cache_apps?: CacheApps;
}

export interface LiteLLMDeployment {
  model_name: string;
  litellm_params: { model: string; api_key: string; max_tokens?: number };
}

export interface LiteLLMConfig {
  model_list: LiteLLMDeployment[];
  general_settings: { master_key: string };
  router_settings: {
    routing_strategy: 'simple-shuffle';
    num_retries: number;
    timeout: number;
    fallbacks: Record<string, string[]>[];
    model_group_alias?: Record<string, string>;
  };
  litellm_settings?: {
    cache: true;
    cache_params: {
      type: 'redis' | 'redis-semantic';
      ttl: number;
      host: string;
      port: string;
      password: string;
      mode?: 'default_off';
      similarity_threshold?: number;
      redis_semantic_cache_embedding_model?: string;
    };
  };
}

/** Environment variables the exported config reads (os.environ/...), besides the provider keys. */
export const LITELLM_ENV = {
  master_key: 'LITELLM_MASTER_KEY',
  redis_host: 'REDIS_HOST',
  redis_port: 'REDIS_PORT',
  redis_password: 'REDIS_PASSWORD',
} as const;
/** Model group of the semantic cache's embedding deployment. */
export const CACHE_EMBEDDING_GROUP = 'netra-cache-embedding';

/** The API key variable LiteLLM reads for each provider prefix (https://docs.litellm.ai/docs/providers). */
const KEY_ENV: Record<string, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
  mistral: 'MISTRAL_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  together_ai: 'TOGETHERAI_API_KEY',
  groq: 'GROQ_API_KEY',
  fireworks_ai: 'FIREWORKS_AI_API_KEY',
};

/** LiteLLM's name of a model, or null when the catalog gives none. */
export const litellmModel = (m: GatewayModel): string | null => m.litellm_model ?? null;
function apiKeyEnv(litellm: string): string {
  const prefix = litellm.slice(0, litellm.indexOf('/'));
  return KEY_ENV[prefix] ?? `${prefix.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;
}

/** A one-line description of a match, e.g. `app=support, task in (faq, classification), prompt <= 2000 tokens`. */
export function describeMatch(m: PolicyMatch): string {
  const parts: string[] = [];
  const list = (k: string, v?: string[]) => v && parts.push(v.length === 1 ? `${k}=${v[0]}` : `${k} in (${v.join(', ')})`);
  list('app', m.app);
  list('model', m.model);
  list('task', m.task);
  if (m.min_prompt_tokens !== undefined) parts.push(`prompt >= ${m.min_prompt_tokens} tokens`);
  if (m.max_prompt_tokens !== undefined) parts.push(`prompt <= ${m.max_prompt_tokens} tokens`);
  for (const [k, v] of Object.entries(m.tags ?? {})) parts.push(`tags.${k}=${v}`);
  if (m.offline) parts.push('no end user or session');
  return parts.length ? parts.join(', ') : 'all traffic';
}

/** True when a match constrains the model only (a gateway can express it by the requested model name). */
export const modelOnly = (m: PolicyMatch): boolean =>
  m.model !== undefined && Object.keys(m).every((k) => k === 'model' || (m as Record<string, unknown>)[k] === undefined);

export function policyToLiteLLM(policy: Policy, opts: GatewayExportOptions): { config: LiteLLMConfig; yaml: string; notes: string[] } {
  const notes: string[] = [];
  const known = (model: string, where: string): GatewayModel | null => {
    const g = opts.resolve(model);
    if (!g) notes.push(`${where}: model '${model}' is not in the price catalog; left out.`);
    else if (!g.litellm_model) notes.push(`${where}: the catalog has no LiteLLM name for '${model}'; left out.`);
    return g?.litellm_model ? g : null;
  };
  const envs = new Set<string>([LITELLM_ENV.master_key]);
  const deployments = new Map<string, LiteLLMDeployment>();
  const deploy = (name: string, g: GatewayModel) => {
    if (!deployments.has(name)) {
      const model = g.litellm_model!;
      envs.add(apiKeyEnv(model));
      deployments.set(name, { model_name: name, litellm_params: { model, api_key: `os.environ/${apiKeyEnv(model)}` } });
    }
    return deployments.get(name)!;
  };
  for (const m of opts.models ?? []) {
    const g = known(m, 'models');
    if (g) deploy(m, g);
  }
  const fallbacks: Record<string, string[]>[] = [];
  const alias: Record<string, string> = {};
  const header: string[] = [];
  policy.routing.forEach((rule, i) => {
    const target = known(rule.target_model, `routing[${i}].target_model`);
    if (!target) return;
    const group = `netra-route-${i}`;
    deploy(group, target);
    const sources = (rule.match.model ?? []).map((m) => ({ m, g: known(m, `routing[${i}].match.model`) })).filter((s) => s.g !== null);
    if (modelOnly(rule.match)) {
      const back: string[] = [];
      for (const s of sources) {
        if (alias[s.m] === undefined) alias[s.m] = group;
        deployments.delete(s.m); // the alias takes the name; the original stays reachable as a fallback
        back.push(deploy(`netra-original-${s.m}`, s.g!).model_name);
      }
      if (back.length) fallbacks.push({ [group]: back });
      header.push(
        `routing[${i}]: requests for ${sources.map((s) => s.m).join(', ')} go to ${target.id} (model_group_alias), falling back to the original model.`,
      );
    } else {
      const back = sources.map((s) => deploy(alias[s.m] ? `netra-original-${s.m}` : s.m, s.g!).model_name);
      if (back.length) fallbacks.push({ [group]: back });
      header.push(
        `routing[${i}]: send model "${group}" for ${describeMatch(rule.match)} (LiteLLM routes by model name; the segment is chosen in the app) → ${target.id}.`,
      );
    }
  });
  policy.max_tokens_caps.forEach((c, i) => {
    if (modelOnly(c.match)) {
      for (const m of c.match.model!) {
        const g = known(m, `max_tokens_caps[${i}].match.model`);
        if (g) deploy(alias[m] ? `netra-original-${m}` : m, g).litellm_params.max_tokens = c.cap;
      }
    } else {
      notes.push(
        `max_tokens_caps[${i}] (${describeMatch(c.match)}): LiteLLM cannot cap by segment; set max_tokens=${c.cap} in the calling app.`,
      );
    }
  });
  policy.batch.forEach((b, i) =>
    notes.push(
      `batch[${i}] (${describeMatch(b.match)}): not a proxy setting; submit this traffic through LiteLLM's /v1/batches (files + batches API) or the provider's Batch API.`,
    ),
  );

  const config: LiteLLMConfig = {
    model_list: [...deployments.values()],
    general_settings: { master_key: `os.environ/${LITELLM_ENV.master_key}` },
    router_settings: {
      routing_strategy: 'simple-shuffle',
      num_retries: opts.num_retries ?? 2,
      timeout: opts.timeout_seconds ?? 600,
      fallbacks,
      ...(Object.keys(alias).length ? { model_group_alias: alias } : {}),
    },
  };
  const sem = policy.semantic_cache?.enabled ? policy.semantic_cache : null;
  const exact = policy.exact_cache?.enabled ? policy.exact_cache : null;
  const redis = {
    host: `os.environ/${LITELLM_ENV.redis_host}`,
    port: `os.environ/${LITELLM_ENV.redis_port}`,
    password: `os.environ/${LITELLM_ENV.redis_password}`,
  };
  // one cache per proxy: its apps are the union of the cache kinds' apps (null: every app)
  const scopes = [sem ? (opts.cache_apps?.semantic ?? null) : undefined, exact ? (opts.cache_apps?.exact ?? null) : undefined].filter(
    (a) => a !== undefined,
  );
  const cacheApps = scopes.length === 0 || scopes.some((a) => a === null) ? null : [...new Set(scopes.flatMap((a) => a!))].sort();
  const scoped = cacheApps !== null ? { mode: 'default_off' as const } : {};
  if (sem) {
    const embedding = opts.resolve(opts.embedding_model ?? 'text-embedding-3-small');
    if (embedding?.litellm_model) deploy(CACHE_EMBEDDING_GROUP, embedding);
    else
      notes.push(
        `semantic cache: no LiteLLM name for the embedding model '${opts.embedding_model ?? 'text-embedding-3-small'}'; set redis_semantic_cache_embedding_model to a model_name of model_list.`,
      );
    config.model_list = [...deployments.values()];
    config.litellm_settings = {
      cache: true,
      cache_params: {
        type: 'redis-semantic',
        ttl: sem.ttl_seconds,
        ...redis,
        ...scoped,
        similarity_threshold: sem.threshold ?? 0.9,
        redis_semantic_cache_embedding_model: CACHE_EMBEDDING_GROUP,
      },
    };
    notes.push(
      "Semantic cache: LiteLLM compares embedding cosine similarity, not Netra's MinHash similarity; tune similarity_threshold on your traffic (exact repeats also hit). It needs Redis with the search module (Redis Stack or Redis 8).",
    );
    if (exact && exact.ttl_seconds !== sem.ttl_seconds)
      notes.push(
        `exact_cache ttl ${exact.ttl_seconds} s: one cache per proxy, so the semantic cache's ttl (${sem.ttl_seconds} s) applies to exact repeats too.`,
      );
  } else if (exact) {
    config.litellm_settings = { cache: true, cache_params: { type: 'redis', ttl: exact.ttl_seconds, ...redis, ...scoped } };
  }
  if (config.litellm_settings) {
    for (const v of [LITELLM_ENV.redis_host, LITELLM_ENV.redis_port, LITELLM_ENV.redis_password]) envs.add(v);
    header.push(
      cacheApps === null
        ? 'Cache: on for every request.'
        : `Cache: off by default (mode: default_off); it was recommended for ${cacheApps.join(', ')} only, so those apps opt in by sending "cache": {"use-cache": true} in the request body (OpenAI SDK: extra_body).`,
    );
  }
  header.push(`Environment: ${[...envs].sort().join(', ')} (read by the proxy through os.environ/).`);
  const comments = [`Generated by Netra from policy ${JSON.stringify(policy.name ?? 'unnamed')}.`, ...header, ...notes];
  return { config, yaml: comments.map((c) => `# ${c}`).join('\n') + '\n' + toYaml(config), notes };
}

// ---------- a YAML emitter for plain data (block style; strings quoted unless plainly safe) ----------

const PLAIN = /^[A-Za-z_./][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot write ${v} to YAML`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = String(v);
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Block-style YAML for objects, arrays and scalars (keys quoted when not plain). */
export function toYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((item) => {
        if (isObj(item) && Object.keys(item).length > 0) {
          const body = toYaml(item, indent + 2);
          return `${pad}- ${body.slice(indent + 2)}`;
        }
        if (Array.isArray(item) && item.length > 0) return `${pad}-\n${toYaml(item, indent + 2)}`;
        return `${pad}- ${isObj(item) ? '{}' : Array.isArray(item) ? '[]' : scalar(item)}\n`;
      })
      .join('');
  }
  if (isObj(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) return `${pad}{}\n`;
    return keys
      .map((k) => {
        const v = value[k];
        const key = scalar(k);
        if (isObj(v) && Object.keys(v).length > 0) return `${pad}${key}:\n${toYaml(v, indent + 2)}`;
        if (Array.isArray(v) && v.length > 0) return `${pad}${key}:\n${toYaml(v, indent + 2)}`;
        return `${pad}${key}: ${isObj(v) ? '{}' : Array.isArray(v) ? '[]' : scalar(v)}\n`;
      })
      .join('');
  }
  return `${pad}${scalar(value)}\n`;
}
