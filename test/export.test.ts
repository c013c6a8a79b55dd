/**
 * Exports: a policy as a LiteLLM proxy config.yaml and as a Portkey gateway config, each validated against a zod
 * schema of the format's documented shape (doc pages cited on each schema) and the YAML round-tripped through a tiny
 * parser; recommendations as Markdown and JSON.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validatePolicy } from '../src/optimize/policy.js';
import {
  cacheAppsFromRecommendations,
  gatewayModel,
  policyToLiteLLM,
  toYaml,
  type GatewayExportOptions,
} from '../src/optimize/export/litellm.js';
import { policyToPortkey } from '../src/optimize/export/portkey.js';
import { analysisMarkdown, recommendationsToJson, recommendationsToMarkdown } from '../src/optimize/export/markdown.js';
import type { FullAnalysis } from '../src/optimize/analyze.js';
import type { Recommendation } from '../src/optimize/recommendation.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const catalog = loadPriceCatalog();
const opts: GatewayExportOptions = {
  resolve: (m) => {
    const e = catalog.resolve(m);
    return e ? gatewayModel(e) : null;
  },
  models: ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'],
};

const POLICY = validatePolicy({
  name: 'cost: route simple work, cache, cap',
  routing: [
    { match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' },
    { match: { app: 'support', model: 'claude-sonnet-4-5', task: ['faq', 'classification'] }, target_model: 'claude-haiku-4-5' },
    { match: { max_prompt_tokens: 500 }, target_model: 'gemini-2.5-flash' },
  ],
  exact_cache: { enabled: true, ttl_seconds: 3600 },
  semantic_cache: { enabled: true, ttl_seconds: 1800, threshold: 0.92 },
  batch: [{ match: { offline: true } }],
  max_tokens_caps: [
    { match: { model: 'gpt-4o-mini' }, cap: 512 },
    { match: { app: 'writer' }, cap: 300 },
  ],
});

// ---------- LiteLLM: documented shape ----------
// https://docs.litellm.ai/docs/proxy/configs (model_list: model_name + litellm_params.model "provider/model", api_key
// "os.environ/..."; router_settings; litellm_settings), https://docs.litellm.ai/docs/router/api_reference/configuration
// (routing_strategy, num_retries, timeout, fallbacks [{group: [groups]}], model_group_alias),
// https://docs.litellm.ai/docs/proxy/caching and /proxy/caching_semantic (cache: true, cache_params.type redis |
// redis-semantic | ..., ttl, similarity_threshold, redis_semantic_cache_embedding_model), /proxy/caching_settings
// (host, port, password, mode: default_off), /proxy/virtual_keys (general_settings.master_key).
/** An API key placeholder the Portkey export writes (filled in by envsubst). */
const keyRef = (name: string) => `\${${name}}`;
const envRef = z.string().regex(/^os\.environ\/[A-Z0-9_]+$/);
const LiteLLMSchema = z.strictObject({
  general_settings: z.looseObject({ master_key: envRef }),
  model_list: z
    .array(
      z.strictObject({
        model_name: z.string().min(1),
        litellm_params: z.looseObject({
          model: z.string().regex(/^[a-z_]+\/[^/\s]+/, 'provider/model'),
          api_key: z
            .string()
            .regex(/^os\.environ\/[A-Z0-9_]+$/)
            .optional(),
          max_tokens: z.number().int().positive().optional(),
        }),
      }),
    )
    .min(1),
  router_settings: z.looseObject({
    routing_strategy: z.enum(['simple-shuffle', 'least-busy', 'usage-based-routing', 'latency-based-routing', 'cost-based-routing']),
    num_retries: z.number().int().nonnegative(),
    timeout: z.number().positive(),
    fallbacks: z.array(z.record(z.string(), z.array(z.string()).min(1))),
    model_group_alias: z.record(z.string(), z.string()).optional(),
  }),
  litellm_settings: z
    .looseObject({
      cache: z.literal(true),
      cache_params: z.looseObject({
        type: z.enum(['local', 'redis', 'redis-semantic', 'qdrant-semantic', 'valkey-semantic', 's3', 'gcs', 'disk']),
        ttl: z.number().positive(),
        host: envRef,
        port: envRef,
        password: envRef,
        mode: z.literal('default_off').optional(),
        similarity_threshold: z.number().min(0).max(1).optional(),
        redis_semantic_cache_embedding_model: z.string().min(1).optional(),
      }),
    })
    .optional(),
});

// ---------- Portkey: documented shape ----------
// https://portkey.ai/docs/product/ai-gateway/configs and /conditional-routing (strategy.mode conditional with
// conditions [{query, then}] and default naming a target; targets with unique names, provider, override_params;
// nested targets with their own strategy, e.g. fallback), /cache-simple-and-semantic (cache {mode simple|semantic,
// max_age}), /automatic-retries (retry {attempts <= 5}).
type PkTarget = {
  name?: string;
  provider?: string;
  api_key?: string;
  cache?: { mode: string; max_age: number };
  override_params?: Record<string, unknown>;
  strategy?: { mode: string };
  targets?: PkTarget[];
  weight?: number;
};
const PortkeyTargetSchema: z.ZodType<PkTarget> = z.lazy(() =>
  z
    .strictObject({
      name: z.string().min(1).optional(),
      provider: z.string().min(1).optional(),
      // a key filled in from the environment (envsubst) before the config is used
      api_key: z
        .string()
        .regex(/^\$\{[A-Z0-9_]+\}$/)
        .optional(),
      cache: z.strictObject({ mode: z.enum(['simple', 'semantic']), max_age: z.number().int().positive() }).optional(),
      override_params: z
        .looseObject({ model: z.string().min(1).optional(), max_tokens: z.number().int().positive().optional() })
        .optional(),
      strategy: z.strictObject({ mode: z.enum(['fallback', 'loadbalance']) }).optional(),
      targets: z.array(PortkeyTargetSchema).min(1).optional(),
      weight: z.number().min(0).optional(),
    })
    .refine((t) => (t.provider !== undefined) !== (t.targets !== undefined), 'a target has a provider or nested targets')
    // the gateway's own validator: provider with api_key, or strategy with targets
    .refine(
      (t) => (t.provider !== undefined && t.api_key !== undefined) || (t.strategy !== undefined && t.targets !== undefined),
      'provider needs api_key',
    ),
);
const QUERY_OPS = new Set(['$eq', '$ne', '$in', '$nin', '$regex', '$gt', '$gte', '$lt', '$lte', '$and', '$or']);
const QuerySchema: z.ZodType<Record<string, unknown>> = z.lazy(() =>
  z.record(z.string(), z.unknown()).superRefine((q, ctx) => {
    for (const [k, v] of Object.entries(q)) {
      if (k === '$and' || k === '$or') {
        if (!Array.isArray(v)) ctx.addIssue({ code: 'custom', message: `${k} takes an array` });
        else
          v.forEach((x) => {
            if (!QuerySchema.safeParse(x).success) ctx.addIssue({ code: 'custom', message: `bad ${k} item` });
          });
      } else if (!/^(metadata|params|url)\./.test(k)) ctx.addIssue({ code: 'custom', message: `unknown field ${k}` });
      else if (typeof v === 'object' && v !== null && !Object.keys(v).every((op) => QUERY_OPS.has(op)))
        ctx.addIssue({ code: 'custom', message: `unknown operator in ${k}` });
    }
  }),
);
const PortkeySchema = z
  .strictObject({
    strategy: z.discriminatedUnion('mode', [
      z.strictObject({
        mode: z.literal('conditional'),
        conditions: z.array(z.strictObject({ query: QuerySchema, then: z.string().min(1) })),
        default: z.string().min(1),
      }),
      z.strictObject({ mode: z.literal('loadbalance') }),
      z.strictObject({ mode: z.literal('fallback') }),
    ]),
    targets: z.array(PortkeyTargetSchema).min(1),
    cache: z.strictObject({ mode: z.enum(['simple', 'semantic']), max_age: z.number().int().positive() }).optional(),
    retry: z.strictObject({ attempts: z.number().int().min(0).max(5) }).optional(),
  })
  .superRefine((c, ctx) => {
    const names = c.targets.map((t) => t.name).filter((n): n is string => n !== undefined);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', message: 'target names must be unique' });
    if (c.strategy.mode === 'conditional') {
      for (const ref of [...c.strategy.conditions.map((x) => x.then), c.strategy.default]) {
        if (!names.includes(ref)) ctx.addIssue({ code: 'custom', message: `condition target '${ref}' is not a target name` });
      }
    }
  });

// ---------- a tiny YAML reader for the block subset the emitter writes ----------
function parseYaml(text: string): unknown {
  const lines = text
    .split('\n')
    .map((raw) => ({ indent: raw.length - raw.trimStart().length, text: raw.trim() }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
  let i = 0;
  const scalar = (s: string): unknown => {
    if (s.startsWith('"')) return JSON.parse(s);
    if (s === '[]') return [];
    if (s === '{}') return {};
    if (s === 'true' || s === 'false') return s === 'true';
    if (s === 'null') return null;
    if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(s)) return Number(s);
    return s;
  };
  const splitKey = (s: string): [string, string] => {
    if (s.startsWith('"')) {
      const end = s.indexOf('":') + 1;
      return [JSON.parse(s.slice(0, end)) as string, s.slice(end + 1).trim()];
    }
    const at = s.indexOf(':');
    if (at < 0) throw new Error(`not a mapping line: ${s}`);
    return [s.slice(0, at), s.slice(at + 1).trim()];
  };
  function block(indent: number): unknown {
    return lines[i]!.text.startsWith('- ') || lines[i]!.text === '-' ? seq(indent) : map(indent);
  }
  function nested(parentIndent: number): unknown {
    if (i < lines.length && lines[i]!.indent > parentIndent) return block(lines[i]!.indent);
    return null;
  }
  function seq(indent: number): unknown[] {
    const out: unknown[] = [];
    while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('-')) {
      const rest = lines[i]!.text.slice(1).trim();
      if (rest === '') {
        i++;
        out.push(nested(indent));
        continue;
      }
      if ((/^("[^"]*"|[^"\s][^:]*):( |$)/.test(rest) && !rest.startsWith('"')) || /^"[^"]*":( |$)/.test(rest)) {
        lines[i] = { indent: indent + 2, text: rest };
        out.push(map(indent + 2));
      } else {
        out.push(scalar(rest));
        i++;
      }
    }
    return out;
  }
  function map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (i < lines.length && lines[i]!.indent === indent && !lines[i]!.text.startsWith('- ')) {
      const [k, v] = splitKey(lines[i]!.text);
      i++;
      out[k] = v === '' ? nested(indent) : scalar(v);
    }
    return out;
  }
  const v = block(lines[0]!.indent);
  if (i !== lines.length) throw new Error(`unparsed YAML from line: ${lines[i]!.text}`);
  return v;
}

describe('LiteLLM config.yaml', () => {
  const { config, yaml, notes } = policyToLiteLLM(POLICY, opts);

  it('matches the documented shape and round-trips through YAML', () => {
    expect(LiteLLMSchema.safeParse(config).error?.issues ?? []).toEqual([]);
    expect(parseYaml(yaml)).toEqual(config);
    expect(LiteLLMSchema.safeParse(parseYaml(yaml)).success).toBe(true);
  });

  it('maps routing, fallbacks, caps and the cache', () => {
    const byName = Object.fromEntries(config.model_list.map((d) => [d.model_name, d.litellm_params]));
    expect(byName['netra-route-0']).toMatchObject({ model: 'openai/gpt-4o-mini', api_key: 'os.environ/OPENAI_API_KEY' });
    expect(byName['netra-route-1']!.model).toBe('anthropic/claude-haiku-4-5');
    expect(byName['netra-route-2']!.model).toBe('gemini/gemini-2.5-flash');
    expect(byName['gpt-4o']).toBeUndefined(); // its name is an alias of the route now
    expect(byName['netra-original-gpt-4o']!.model).toBe('openai/gpt-4o');
    expect(byName['gpt-4o-mini']!.max_tokens).toBe(512);
    expect(config.router_settings.model_group_alias).toEqual({ 'gpt-4o': 'netra-route-0' });
    expect(config.router_settings.fallbacks).toEqual([
      { 'netra-route-0': ['netra-original-gpt-4o'] },
      { 'netra-route-1': ['claude-sonnet-4-5'] },
    ]);
    expect(config.litellm_settings).toEqual({
      cache: true,
      cache_params: {
        type: 'redis-semantic',
        ttl: 1800,
        host: 'os.environ/REDIS_HOST',
        port: 'os.environ/REDIS_PORT',
        password: 'os.environ/REDIS_PASSWORD',
        similarity_threshold: 0.92,
        redis_semantic_cache_embedding_model: 'netra-cache-embedding',
      },
    });
    expect(byName['netra-cache-embedding']).toEqual({ model: 'openai/text-embedding-3-small', api_key: 'os.environ/OPENAI_API_KEY' });
    expect(config.general_settings).toEqual({ master_key: 'os.environ/LITELLM_MASTER_KEY' });
    expect(yaml).toMatch(
      /^# routing\[1\]: send model "netra-route-1" for app=support, model=claude-sonnet-4-5, task in \(faq, classification\)/m,
    );
    expect(notes.join('\n')).toMatch(/max_tokens_caps\[1\] \(app=writer\): LiteLLM cannot cap by segment/);
    expect(notes.join('\n')).toMatch(/batch\[0\].*\/v1\/batches/);
  });

  it('writes an exact-only cache as redis with the ttl', () => {
    const { config: c } = policyToLiteLLM(validatePolicy({ exact_cache: { enabled: true, ttl_seconds: 120 } }), opts);
    expect(c.litellm_settings).toEqual({
      cache: true,
      cache_params: {
        type: 'redis',
        ttl: 120,
        host: 'os.environ/REDIS_HOST',
        port: 'os.environ/REDIS_PORT',
        password: 'os.environ/REDIS_PASSWORD',
      },
    });
    expect(LiteLLMSchema.safeParse(c).success).toBe(true);
  });

  it('quotes YAML strings that would change meaning', () => {
    const tricky = {
      a: 'yes',
      b: '1e5',
      c: 'x: y',
      d: '#hash',
      e: '',
      f: ['- item', 'true'],
      'key with space': 'ok',
      g: [],
      h: {},
      i: [{ j: 1, k: [2, 3] }],
    };
    expect(parseYaml(toYaml(tricky))).toEqual(tricky);
  });
});

describe('Portkey gateway config', () => {
  const { config, notes } = policyToPortkey(POLICY, opts);

  it('matches the documented shape', () => {
    expect(PortkeySchema.safeParse(config).error?.issues ?? []).toEqual([]);
    expect(PortkeySchema.safeParse(JSON.parse(JSON.stringify(config))).success).toBe(true);
  });

  it('maps routing rules to conditions with fallbacks, caps to max_tokens and the cache', () => {
    if (config.strategy.mode !== 'conditional') throw new Error('expected a conditional config');
    expect(config.strategy.conditions[0]).toEqual({ query: { 'params.model': { $eq: 'gpt-4o' } }, then: 'route-0' });
    expect(config.strategy.conditions[1]).toEqual({
      query: {
        $and: [
          { 'params.model': { $eq: 'claude-sonnet-4-5' } },
          { 'metadata.app': { $eq: 'support' } },
          { 'metadata.task': { $in: ['faq', 'classification'] } },
        ],
      },
      then: 'route-1',
    });
    const route0 = config.targets.find((t) => t.name === 'route-0')!;
    expect(route0).toEqual({
      name: 'route-0',
      strategy: { mode: 'fallback' },
      targets: [
        { provider: 'openai', api_key: keyRef('OPENAI_API_KEY'), override_params: { model: 'gpt-4o-mini', max_tokens: 512 } },
        { provider: 'openai', api_key: keyRef('OPENAI_API_KEY'), override_params: { model: 'gpt-4o' } },
      ],
    });
    expect(config.targets.map((t) => t.name)).toEqual([
      'route-0',
      'route-1',
      'cap-0',
      'passthrough-openai',
      'passthrough-anthropic',
      'passthrough-google',
    ]);
    expect(config.targets[2]).toEqual({
      name: 'cap-0',
      provider: 'openai',
      api_key: keyRef('OPENAI_API_KEY'),
      override_params: { model: 'gpt-4o-mini', max_tokens: 512 },
    });
    expect(config.strategy.conditions[2]).toEqual({ query: { 'params.model': { $eq: 'gpt-4o-mini' } }, then: 'cap-0' });
    expect(config.strategy.default).toBe('passthrough-openai');
    expect(config.cache).toEqual({ mode: 'semantic', max_age: 1800 });
    const n = notes.join('\n');
    expect(n).toMatch(/routing\[2\] \(prompt <= 500 tokens\): Portkey conditions cannot see prompt size; left out/);
    expect(n).toMatch(/batch\[0\]/);
    expect(n).toMatch(/max_tokens_caps\[1\] \(app=writer\): a Portkey target needs one provider/);
    expect(n).toMatch(/x-portkey-metadata/);
  });

  it('with no rules and one provider: a single-target loadbalance config with a simple cache', () => {
    const { config: c } = policyToPortkey(validatePolicy({ exact_cache: { enabled: true, ttl_seconds: 60 } }), {
      ...opts,
      models: ['gpt-4o'],
    });
    expect(c).toEqual({
      strategy: { mode: 'loadbalance' },
      targets: [{ name: 'passthrough-openai', provider: 'openai', api_key: keyRef('OPENAI_API_KEY'), weight: 1 }],
      retry: { attempts: 2 },
      cache: { mode: 'simple', max_age: 60 },
    });
    expect(PortkeySchema.safeParse(c).success).toBe(true);
  });
});

describe('recommendations as Markdown and JSON', () => {
  const rec: Recommendation = {
    id: 'exact_cache:app=support',
    kind: 'exact_cache',
    title: 'Cache exact repeats in support | bot',
    scope: { app: 'support' },
    affected_share: 0.125,
    affected_spend_share: 0.1,
    monthly_savings_usd: 1234.5,
    savings_share: 0.08,
    latency_impact: { p50_ms_delta: -850, p95_ms_delta: null, description: 'hits return in ~20 ms' },
    quality_risk: { level: 'low', reason: 'identical prompts get identical answers' },
    confidence: 0.9,
    evidence: {
      figures: { hits: 1200, hit_rate: 0.125, spend_usd: 41.15, note: 'ttl 3600 s', missing: null },
      query: 'SELECT 1\nFROM events',
      sample_event_ids: ['e1', 'e2'],
    },
    how_to_apply: ['Enable a response cache keyed on (model, prompt).', 'Set the TTL to 1 hour.'],
  };
  const meta = {
    workspace: 'demo',
    from: Date.UTC(2026, 10, 1),
    to: Date.UTC(2026, 10, 8),
    total_spend_usd: 15000,
    total_events: 96000,
    goal: 'cost',
  };

  it('writes a readable report with title, dollars, share, risk, evidence and steps', () => {
    const md = recommendationsToMarkdown([rec], meta, [
      { kind: 'semantic_cache', reason: 'No prompt text.', needs: 'prompt_text on events' },
    ]);
    expect(md).toContain('# Netra recommendations: demo');
    expect(md).toContain('Window 2026-11-01 to 2026-11-08 (UTC), 96,000 calls, $15,000.00 spent; ranked for goal `cost`.');
    expect(md).toContain('| 1 | Cache exact repeats in support \\| bot | $1,234.50 | 8.0% | low | 90.0% |');
    expect(md).toContain('## 1. Cache exact repeats in support \\| bot');
    expect(md).toContain('- **Savings:** $1,234.50 per month standalone (8.0% of spend)');
    expect(md).toContain('- **Affects:** 12.5% of calls, 10.0% of spend');
    expect(md).toContain('- **Latency:** p50 -850 ms, p95 n/a: hits return in ~20 ms');
    expect(md).toContain('- **Quality risk:** low: identical prompts get identical answers');
    expect(md).toContain('| hits | 1,200 |');
    expect(md).toContain('| spend_usd | 41.15 |');
    expect(md).toContain('| missing | n/a |');
    expect(md).toContain('```sql\nSELECT 1\nFROM events\n```');
    expect(md).toContain('Sample events: `e1`, `e2`');
    expect(md).toContain('1. Enable a response cache keyed on (model, prompt).\n2. Set the TTL to 1 hour.');
    expect(md).toContain('- `semantic_cache`: No prompt text. Needs: prompt_text on events.');
    expect(recommendationsToMarkdown([rec], meta)).toBe(recommendationsToMarkdown([rec], meta)); // reproducible
  });

  it('says so when there is nothing to recommend', () => {
    expect(recommendationsToMarkdown([], meta)).toContain('No recommendation: nothing in this window has evidence of a saving.');
  });

  it('writes the report of a full analysis with its summary highlights', () => {
    const a = {
      summary: {
        workspace: 'demo',
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-08T00:00:00.000Z',
        goal: 'cost',
        events: 96000,
        spend_usd: 15000,
        monthly_spend_usd: 64285.71,
        projected_savings: {
          monthly_usd: 1234.5,
          share_of_spend: 0.0192,
          projected_monthly_spend_usd: 63051.21,
          basis: 'replay',
          replayed_recommendations: 1,
          not_in_projection: [],
        },
        warnings: [],
        latency_p50_ms: 1234.4,
        latency_p95_ms: 5000,
        latency_p99_ms: null,
        error_rate: 0.012,
        note: 'Savings of different kinds can overlap.',
      },
      recommendations: [{ ...rec, rank: 1, score: 0.1, utility: { quality: 0, cost: 0, latency: 0 } }],
      skipped: [],
    } as unknown as FullAnalysis;
    const md = analysisMarkdown(a);
    expect(md).toContain('Window 2026-11-01 to 2026-11-08 (UTC), 96,000 calls, $15,000.00 spent; ranked for goal `cost`.');
    expect(md).toContain(
      '- Monthly spend $64,285.71; projected savings $1,234.50 a month (1.9%), from a replay of the recommendations together (overlaps counted once), so $63,051.21 a month.',
    );
    expect(md).toContain('- Latency p50 1234 ms, p95 5000 ms, p99 n/a; error rate 1.2%.');
    expect(md).toContain('## 1. Cache exact repeats in support \\| bot');
  });

  it('writes JSON that parses back to the same recommendations', () => {
    const doc = JSON.parse(recommendationsToJson([rec], meta)) as {
      workspace: string;
      recommendations: Recommendation[];
      skipped: unknown[];
    };
    expect(doc.workspace).toBe('demo');
    expect(doc.recommendations).toEqual([rec]);
    expect(doc.skipped).toEqual([]);
  });
});

// ---------- deployable: gateway names from the catalog, scoped caches, secrets from the environment ----------
const LITELLM_PRICES = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/data/model-prices-2026-07-24.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;
// https://docs.litellm.ai/docs/providers: the provider prefixes of litellm_params.model the catalog's hosts use
const LITELLM_PREFIXES = ['openai', 'anthropic', 'gemini', 'mistral', 'deepseek', 'together_ai', 'groq'];
// Portkey-AI/gateway src/globals.ts (VALID_PROVIDERS): the slugs of the catalog's hosts
const PORTKEY_PROVIDERS = ['openai', 'anthropic', 'google', 'mistral-ai', 'deepseek', 'together-ai', 'groq'];

describe('gateway names in the price catalog', () => {
  it('every model carries its LiteLLM and Portkey names, and LiteLLM knows the LiteLLM-priced ones', () => {
    const entries = catalog.entries;
    expect(entries.length).toBeGreaterThan(50);
    for (const e of entries) {
      expect({ id: e.id, litellm: e.litellm_model, pk: e.portkey_provider, pkm: e.portkey_model }).toEqual({
        id: e.id,
        litellm: expect.any(String),
        pk: expect.any(String),
        pkm: expect.any(String),
      });
      const prefix = e.litellm_model!.slice(0, e.litellm_model!.indexOf('/'));
      const name = e.litellm_model!.slice(prefix.length + 1);
      expect(LITELLM_PREFIXES, e.id).toContain(prefix);
      expect(PORTKEY_PROVIDERS, e.id).toContain(e.portkey_provider);
      // LiteLLM's price table names the model (the prices came from it); else the provider's API id, one of our ids
      if (e.source.startsWith('litellm')) expect(LITELLM_PRICES[name], `${e.id}: ${name}`).toBeDefined();
      else expect([e.id, ...e.aliases], e.id).toContain(name);
      expect(e.portkey_model).toBe(name);
    }
    // dated-only LiteLLM names are used where LiteLLM has no undated key
    expect(catalog.resolve('claude-3-haiku')!.litellm_model).toBe('anthropic/claude-3-haiku-20240307');
    expect(catalog.resolve('llama-3.3-70b')!.litellm_model).toBe('together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo');
    expect(catalog.resolve('mistral-large')!.portkey_provider).toBe('mistral-ai');
  });

  it('the LiteLLM export writes only model names LiteLLM knows, and leaves out a model without one', () => {
    const { config } = policyToLiteLLM(POLICY, { ...opts, models: [...opts.models!, 'llama-3.3-70b', 'mistral-large'] });
    const names = config.model_list.map((d) => d.litellm_params.model);
    for (const n of names) expect(Object.values(Object.fromEntries(catalog.entries.map((e) => [e.id, e.litellm_model])))).toContain(n);
    expect(names).toContain('together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo');
    expect(names).toContain('mistral/mistral-large-latest');
    const apiKeys = config.model_list.map((d) => d.litellm_params.api_key);
    expect(apiKeys).toContain('os.environ/TOGETHERAI_API_KEY');
    const unnamed = policyToLiteLLM(validatePolicy({ routing: [{ match: { model: 'gpt-4o' }, target_model: 'house-model' }] }), {
      resolve: (m) => (m === 'house-model' ? { id: 'house-model', provider: 'acme' } : opts.resolve(m)),
      models: ['gpt-4o'],
    });
    expect(unnamed.config.model_list.map((d) => d.litellm_params.model)).toEqual(['openai/gpt-4o']);
    expect(unnamed.notes.join('\n')).toMatch(/no LiteLLM name for 'house-model'; left out/);
  });
});

describe('caches scoped to the apps they were recommended for', () => {
  const recs = [
    { kind: 'semantic_cache', scope: { app: 'support' } },
    { kind: 'exact_cache', scope: { app: 'faq-bot' } },
    { kind: 'model_routing', scope: { app: 'writer' } },
  ];

  it('cacheAppsFromRecommendations names the apps, or every app when a recommendation has none', () => {
    expect(cacheAppsFromRecommendations(recs)).toEqual({ semantic: ['support'], exact: ['faq-bot'] });
    expect(cacheAppsFromRecommendations([...recs, { kind: 'exact_cache', scope: {} }]).exact).toBeNull();
    expect(cacheAppsFromRecommendations([]).semantic).toBeNull();
  });

  it('LiteLLM: the cache is off by default and the recommended apps opt in; Redis, embedding and master key from the environment', () => {
    const { config, yaml } = policyToLiteLLM(POLICY, { ...opts, cache_apps: cacheAppsFromRecommendations(recs) });
    expect(LiteLLMSchema.safeParse(config).error?.issues ?? []).toEqual([]);
    expect(config.litellm_settings!.cache_params.mode).toBe('default_off');
    expect(yaml).toMatch(
      /^# Cache: off by default \(mode: default_off\); it was recommended for faq-bot, support only.*"use-cache": true/m,
    );
    expect(yaml).toMatch(
      /^# Environment: .*ANTHROPIC_API_KEY.*GEMINI_API_KEY.*LITELLM_MASTER_KEY.*OPENAI_API_KEY.*REDIS_HOST, REDIS_PASSWORD, REDIS_PORT/m,
    );
    // the embedding deployment the semantic cache names exists
    const embedding = config.litellm_settings!.cache_params.redis_semantic_cache_embedding_model;
    expect(config.model_list.map((d) => d.model_name)).toContain(embedding);
    expect(parseYaml(yaml)).toEqual(config);
    // unscoped: on for every request
    const all = policyToLiteLLM(POLICY, opts);
    expect(all.config.litellm_settings!.cache_params.mode).toBeUndefined();
    expect(all.yaml).toMatch(/^# Cache: on for every request\./m);
    // no cache: no Redis settings, but still a master key
    const none = policyToLiteLLM(validatePolicy({ routing: [{ match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }] }), opts);
    expect(none.config.litellm_settings).toBeUndefined();
    expect(none.config.general_settings.master_key).toBe('os.environ/LITELLM_MASTER_KEY');
    expect(none.yaml).not.toMatch(/REDIS_HOST/);
  });

  it('Portkey: the cache sits on the targets the recommended apps reach, not on the whole config', () => {
    const policy = validatePolicy({
      routing: [{ match: { app: 'support', model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }],
      semantic_cache: { enabled: true, ttl_seconds: 600 },
    });
    const { config, notes } = policyToPortkey(policy, { ...opts, cache_apps: { semantic: ['support'] } });
    expect(PortkeySchema.safeParse(config).error?.issues ?? []).toEqual([]);
    expect(config.cache).toBeUndefined();
    if (config.strategy.mode !== 'conditional') throw new Error('expected a conditional config');
    const byName = new Map(config.targets.map((t) => [t.name, t]));
    expect(byName.get('route-0')!.cache).toEqual({ mode: 'semantic', max_age: 600 });
    const cached = config.strategy.conditions.filter((c) => byName.get(c.then)?.cache !== undefined);
    // the routed rule plus one cached pass-through per provider, all on metadata.app = support
    expect(cached.length).toBe(1 + 3);
    for (const c of cached) expect(JSON.stringify(c.query)).toContain('"metadata.app":{"$eq":"support"}');
    // other traffic reaches targets without a cache
    expect(byName.get(config.strategy.default)!.cache).toBeUndefined();
    expect(notes.join('\n')).toMatch(/Cache: recommended for support only/);
    expect(notes.join('\n')).toMatch(/envsubst/);
    // every app: the top-level cache, no cached targets
    const all = policyToPortkey(policy, opts).config;
    expect(all.cache).toEqual({ mode: 'semantic', max_age: 600 });
    expect(all.targets.some((t) => t.cache !== undefined)).toBe(false);
  });
});
