/**
 * Export of a policy (policy.ts) as a LiteLLM proxy `config.yaml`, with a small YAML emitter (no dependency). Pure.
 *
 * Documented shape used (https://docs.litellm.ai/docs/proxy/configs, .../proxy/caching, .../proxy/caching_semantic,
 * .../router/api_reference/configuration):
 * - `model_list[]`: `{ model_name, litellm_params: { model: "provider/model", api_key: "os.environ/KEY", max_tokens? } }`;
 * - `router_settings`: `routing_strategy`, `num_retries`, `timeout` (s), `fallbacks: [{ group: [groups] }]`,
 *   `model_group_alias: { requested: group }`;
 * - `litellm_settings`: `cache: true`, `cache_params: { type: redis | redis-semantic, ttl, similarity_threshold,
 *   redis_semantic_cache_embedding_model }`.
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
}

export interface LiteLLMDeployment {
  model_name: string;
  litellm_params: { model: string; api_key: string; max_tokens?: number };
}

export interface LiteLLMConfig {
  model_list: LiteLLMDeployment[];
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
      similarity_threshold?: number;
      redis_semantic_cache_embedding_model?: string;
    };
  };
}

/** LiteLLM's provider prefix for a provider name (https://docs.litellm.ai/docs/providers). */
const PREFIX: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'gemini',
  mistral: 'mistral',
  deepseek: 'deepseek',
  together: 'together_ai',
  groq: 'groq',
  fireworks: 'fireworks_ai',
  azure: 'azure',
  bedrock: 'bedrock',
};

export const litellmModel = (m: GatewayModel) => `${PREFIX[m.provider] ?? m.provider}/${m.id}`;
const apiKey = (m: GatewayModel) => `os.environ/${(PREFIX[m.provider] ?? m.provider).toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;

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
    return g;
  };
  const deployments = new Map<string, LiteLLMDeployment>();
  const deploy = (name: string, g: GatewayModel) => {
    if (!deployments.has(name)) deployments.set(name, { model_name: name, litellm_params: { model: litellmModel(g), api_key: apiKey(g) } });
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
  if (sem) {
    config.litellm_settings = {
      cache: true,
      cache_params: {
        type: 'redis-semantic',
        ttl: sem.ttl_seconds,
        similarity_threshold: sem.threshold ?? 0.9,
        redis_semantic_cache_embedding_model: opts.embedding_model ?? 'text-embedding-3-small',
      },
    };
    notes.push(
      "Semantic cache: LiteLLM compares embedding cosine similarity, not Netra's MinHash similarity; tune similarity_threshold on your traffic (exact repeats also hit).",
    );
    if (exact && exact.ttl_seconds !== sem.ttl_seconds)
      notes.push(
        `exact_cache ttl ${exact.ttl_seconds} s: one cache per proxy, so the semantic cache's ttl (${sem.ttl_seconds} s) applies to exact repeats too.`,
      );
  } else if (exact) {
    config.litellm_settings = { cache: true, cache_params: { type: 'redis', ttl: exact.ttl_seconds } };
  }
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
