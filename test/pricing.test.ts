/**
 * The price catalog: unit guard, validation errors, cost of a call, alias resolution, per-workspace overrides, and a
 * cross-check of the real data/price-catalog.json against the shared LiteLLM-derived price list it was taken from.
 */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NetraError } from '../src/errors.js';
import { normalizeEvent } from '../src/workload/event.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import { MAX_PRICE_PER_TOKEN, parseCatalog, type PriceCatalog } from '../src/workload/price-catalog.js';
import { costOf } from '../src/workload/pricing.js';

const SHARED_PRICES = fileURLToPath(new URL('./fixtures/data/model-prices-2026-07-24.json', import.meta.url));

/** A minimal valid catalog; tests copy and break it. */
function tinyCatalog(): Record<string, unknown> & { models: Record<string, unknown>[] } {
  return {
    schema_version: 1,
    catalog_version: 'test.1',
    prices_taken: '2026-07-24',
    currency: 'USD',
    unit: 'usd_per_token',
    sources: [{ id: 'src', name: 'test source', url: 'https://example.com/pricing', prices_taken: '2026-07-24' }],
    models: [
      {
        id: 'alpha-1',
        provider: 'openai',
        family: 'alpha',
        aliases: ['alpha-1-2025-01-01'],
        input: 2.5e-6,
        output: 1e-5,
        cached_input: 1.25e-6,
        cache_write: null,
        batch_discount: 0.5,
        context_window: 128000,
        max_output: 16384,
        quality_tier: 3,
        modes: ['chat'],
        min_cacheable_prompt_tokens: 1024,
        source: 'src',
      },
      {
        id: 'beta-mini',
        provider: 'anthropic',
        family: 'beta',
        aliases: [],
        input: 1e-6,
        output: 5e-6,
        cached_input: 1e-7,
        cache_write: 1.25e-6,
        batch_discount: 0.5,
        context_window: 200000,
        max_output: 64000,
        quality_tier: 1,
        modes: ['chat'],
        min_cacheable_prompt_tokens: 4096,
        source: 'src',
      },
    ],
  };
}

function thrown(fn: () => unknown): NetraError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NetraError);
    return err as NetraError;
  }
  throw new Error('expected an error, none was thrown');
}

const catalog = loadPriceCatalog();
const usage = (prompt: number, cached: number, completion: number) => ({
  prompt_tokens: prompt,
  cached_prompt_tokens: cached,
  completion_tokens: completion,
});

describe('unit guard and validation', () => {
  it('accepts the tiny fixture', () => {
    expect(parseCatalog(tinyCatalog()).entries.map((e) => e.id)).toEqual(['alpha-1', 'beta-mini']);
  });

  it('rejects a per-million price entered as per-token, naming model, field and the unit mistake', () => {
    const bad = tinyCatalog();
    bad.models[1]!.input = 2.5;
    const err = thrown(() => parseCatalog(bad));
    expect(err.code).toBe('NETRA_E_CONFIG');
    expect(err.field).toBe('models[1].input');
    expect(err.message).toContain("model 'beta-mini' field 'input'");
    expect(err.message).toContain('per-million');
    expect(err.message).toContain('0.001');
  });

  it('accepts exactly the limit and rejects just above it, on every price field', () => {
    const atLimit = tinyCatalog();
    atLimit.models[0]!.output = MAX_PRICE_PER_TOKEN;
    expect(parseCatalog(atLimit).resolve('alpha-1')?.output).toBe(0.001);
    for (const field of ['output', 'cached_input', 'cache_write']) {
      const bad = tinyCatalog();
      bad.models[1]![field] = 0.0011;
      expect(thrown(() => parseCatalog(bad)).field).toBe(`models[1].${field}`);
    }
  });

  it('names the model and field for a missing field, a negative price, a duplicate alias and an unknown source', () => {
    const missing = tinyCatalog();
    delete missing.models[0]!.output;
    expect(thrown(() => parseCatalog(missing)).message).toContain("model 'alpha-1' field 'output'");

    const negative = tinyCatalog();
    negative.models[0]!.cached_input = -1e-7;
    expect(thrown(() => parseCatalog(negative)).message).toMatch(/model 'alpha-1' field 'cached_input': must be >= 0/);

    const dup = tinyCatalog();
    dup.models[1]!.aliases = ['ALPHA-1'];
    const dupErr = thrown(() => parseCatalog(dup));
    expect(dupErr.field).toBe('models[1].aliases');
    expect(dupErr.message).toContain("already used by model 'alpha-1'");

    const src = tinyCatalog();
    src.models[0]!.source = 'nowhere';
    expect(thrown(() => parseCatalog(src)).message).toContain("model 'alpha-1' field 'source'");
  });

  it('rejects a misspelt field instead of ignoring it', () => {
    const typo = tinyCatalog();
    typo.models[0]!.cache_writ = 1e-6;
    expect(thrown(() => parseCatalog(typo)).message).toContain("model 'alpha-1'");
  });

  it('every model of the real catalog is priced per token: <= 0.001, and > 0 for chat models', () => {
    for (const m of catalog.entries) {
      for (const v of [m.input, m.output, m.cached_input, m.cache_write ?? 0]) expect(v, m.id).toBeLessThanOrEqual(MAX_PRICE_PER_TOKEN);
      if (m.modes.includes('chat')) {
        expect(m.input, m.id).toBeGreaterThan(0);
        expect(m.output, m.id).toBeGreaterThan(0);
      } else {
        expect(m.input, m.id).toBeGreaterThan(0);
      }
    }
  });
});

describe('cost of a call', () => {
  it('gpt-4o-mini: 1,000 prompt tokens incl. 200 cached + 500 completion', () => {
    // 800 × $0.15/M + 200 × $0.075/M + 500 × $0.60/M = 0.00012 + 0.000015 + 0.0003
    const priced = catalog.price('ws', 'gpt-4o-mini', usage(1000, 200, 500));
    expect(priced?.provider).toBe('openai');
    expect(priced?.cost_usd).toBeCloseTo(0.000435, 12);
  });

  it('claude-sonnet-4-5 with cache reads at a tenth of the input price', () => {
    // 9,000 × $3/M + 1,000 × $0.30/M + 2,000 × $15/M = 0.027 + 0.0003 + 0.03
    expect(catalog.price('ws', 'claude-sonnet-4-5', usage(10_000, 1_000, 2_000))?.cost_usd).toBeCloseTo(0.0573, 12);
  });

  it('rates() agree with costOf() and carry the canonical id', () => {
    const r = catalog.rates('ws', 'gpt-4o-mini-2024-07-18')!;
    expect(r).toEqual({ model: 'gpt-4o-mini', provider: 'openai', input: 1.5e-7, output: 6e-7, cached_input: 7.5e-8, cache_write: null });
    expect(costOf(r, usage(1000, 200, 500))).toBe(catalog.price('ws', 'gpt-4o-mini', usage(1000, 200, 500))!.cost_usd);
  });

  it('prices events through normalizeEvent (the Pricer contract)', () => {
    const res = normalizeEvent(
      {
        timestamp: '2026-11-01T00:00:00Z',
        model: 'openai/gpt-4o-mini',
        prompt_tokens: 1000,
        cached_prompt_tokens: 200,
        completion_tokens: 500,
      },
      { workspace: 'ws', pricer: catalog, newId: () => 'e1' },
    );
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.event.cost_source).toBe('catalog');
      expect(res.event.provider).toBe('openai');
      expect(res.event.cost_usd).toBeCloseTo(0.000435, 12);
    }
  });
});

describe('model id resolution', () => {
  it.each([
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['claude-3-haiku-20240307', 'claude-3-haiku'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['OpenAI/GPT-4o', 'gpt-4o'],
    ['  GPT-4.1-MINI ', 'gpt-4.1-mini'],
    ['openrouter/openai/gpt-5-mini', 'gpt-5-mini'],
    ['models/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['gemini-2.5-pro-latest', 'gemini-2.5-pro'],
    ['mistral-large-latest', 'mistral-large'],
    ['meta-llama/Llama-3.3-70B-Instruct-Turbo', 'llama-3.3-70b'],
    ['anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku'],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['gpt-4o-2030-01-01', 'gpt-4o'],
  ])('%s → %s', (given, canonical) => {
    expect(catalog.resolve(given)?.id).toBe(canonical);
  });

  it('keeps a differently priced snapshot apart from its family alias', () => {
    expect(catalog.resolve('gpt-4o-2024-05-13')?.id).toBe('gpt-4o-2024-05-13');
    expect(catalog.rates('ws', 'gpt-4o-2024-05-13')!.input).toBe(5e-6);
    expect(catalog.rates('ws', 'gpt-4o-2024-08-06')!.input).toBe(2.5e-6);
  });

  it('unknown models resolve to null and price to null', () => {
    for (const m of ['gpt-9-ultra', 'my-fine-tune', 'claude', '', 'openai/']) {
      expect(catalog.resolve(m), m).toBeNull();
      expect(catalog.price('ws', m, usage(10, 0, 10)), m).toBeNull();
    }
    // an unknown model is stored unpriced and flagged (listed by GET /api/v1/models/unpriced), never dropped
    const res = normalizeEvent(
      { timestamp: 1_700_000_000_000, model: 'gpt-9-ultra', prompt_tokens: 10 },
      { workspace: 'ws', pricer: catalog, newId: () => 'x' },
    );
    expect(res.ok && res.event).toMatchObject({ model: 'gpt-9-ultra', cost_usd: 0, cost_source: 'unknown_model', provider: 'unknown' });
  });
});

describe('per-workspace overrides', () => {
  const base: PriceCatalog = catalog;

  it('a partial override replaces only the given fields, for every alias of the model', () => {
    const c = base.withOverrides([{ workspace: 'acme', model: 'gpt-4o-2024-08-06', input: 2e-6 }]);
    const r = c.rates('acme', 'openai/gpt-4o')!;
    expect(r.input).toBe(2e-6);
    expect(r.output).toBe(1e-5);
    expect(r.cached_input).toBe(1.25e-6);
    expect(c.price('acme', 'gpt-4o', usage(1000, 0, 0))!.cost_usd).toBeCloseTo(0.002, 12);
  });

  it('an override in workspace A does not affect workspace B nor the original catalog', () => {
    const c = base.withOverrides([{ workspace: 'A', model: 'claude-haiku-4-5', input: 5e-7, output: 2.5e-6 }]);
    expect(c.rates('A', 'claude-haiku-4-5')!.output).toBe(2.5e-6);
    expect(c.rates('B', 'claude-haiku-4-5')!.output).toBe(5e-6);
    expect(base.rates('A', 'claude-haiku-4-5')!.output).toBe(5e-6);
    expect(c.overridesFor('B').size).toBe(0);
  });

  it('a full override defines a model the catalog does not know, in that workspace only', () => {
    const c = base.withOverrides([{ workspace: 'A', model: 'acme-ft-7b', input: 1e-7, output: 2e-7, provider: 'self-hosted' }]);
    expect(c.rates('A', 'ACME-FT-7B')).toEqual({
      model: 'acme-ft-7b',
      provider: 'self-hosted',
      input: 1e-7,
      output: 2e-7,
      cached_input: 1e-7,
      cache_write: null,
    });
    expect(c.price('A', 'acme-ft-7b', usage(1000, 0, 1000))!.cost_usd).toBeCloseTo(0.0003, 12);
    expect(c.price('B', 'acme-ft-7b', usage(1000, 0, 1000))).toBeNull();
  });

  it('an override of an unknown model without input or output is rejected, naming the field', () => {
    const err = thrown(() => base.withOverrides([{ workspace: 'A', model: 'acme-ft-7b', input: 1e-7 }]));
    expect(err.code).toBe('NETRA_E_VALIDATION');
    expect(err.field).toBe('overrides[0].output');
    expect(err.message).toContain("'acme-ft-7b' is not in the price catalog");
  });

  it('overrides obey the unit guard too', () => {
    const err = thrown(() => base.withOverrides([{ workspace: 'A', model: 'gpt-4o', output: 10 }]));
    expect(err.field).toBe('overrides[0].output');
    expect(err.message).toContain('per-million');
  });

  it('withOverrides replaces earlier overrides; entriesFor and rateMap apply them', () => {
    const first = base.withOverrides([{ workspace: 'A', model: 'gpt-5', input: 1e-6 }]);
    const second = first.withOverrides([{ workspace: 'A', model: 'o3', output: 4e-6 }]);
    expect(second.rates('A', 'gpt-5')!.input).toBe(1.25e-6);
    expect(second.entriesFor('A').find((e) => e.id === 'o3')!.output).toBe(4e-6);
    expect(second.entriesFor('B').find((e) => e.id === 'o3')!.output).toBe(8e-6);
    const map = second.rateMap('A', ['o3-2025-04-16', 'gpt-5', 'nope']);
    expect([...map.keys()]).toEqual(['o3-2025-04-16', 'gpt-5']);
    expect(map.get('o3-2025-04-16')!.output).toBe(4e-6);
  });
});

describe('the real catalog', () => {
  const required = [
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4.1',
    'gpt-4.1-mini',
    'gpt-4.1-nano',
    'gpt-5',
    'gpt-5-mini',
    'gpt-5-nano',
    'o3',
    'o4-mini',
    'claude-opus-4-1',
    'claude-sonnet-4-5',
    'claude-haiku-4-5',
    'claude-3-haiku',
    'gemini-2.5-pro',
    'gemini-2.5-flash',
    'gemini-2.5-flash-lite',
    'gemini-2.0-flash',
    'mistral-large',
    'mistral-medium',
    'mistral-small',
    'codestral',
    'llama-3.3-70b',
    'llama-3.1-8b',
    'llama-3.1-405b',
    'deepseek-chat',
    'deepseek-reasoner',
    'text-embedding-3-small',
    'text-embedding-3-large',
  ];

  it('every model id the workload generator uses resolves, to itself', () => {
    for (const id of required) expect(catalog.resolve(id)?.id, id).toBe(id);
  });

  it('has at least 40 models and all six providers', () => {
    expect(catalog.entries.length).toBeGreaterThanOrEqual(40);
    const providers = new Set(catalog.entries.map((e) => e.provider));
    for (const p of ['openai', 'anthropic', 'google', 'mistral', 'meta', 'deepseek']) expect(providers.has(p), p).toBe(true);
    for (const e of catalog.entries.filter((x) => x.provider === 'meta')) expect(e.hosted_by, e.id).toBeTruthy();
    expect(catalog.version).toBe('2026-12-07.1');
    expect(catalog.pricesTaken).toBe('2026-07-24');
  });

  it('batch discounts and prompt-caching minimums are what the providers bill', () => {
    for (const e of catalog.entries) {
      const expected = e.provider === 'deepseek' ? 0 : 0.5;
      expect(e.batch_discount, e.id).toBe(expected);
      if (e.provider === 'openai' && e.modes.includes('chat') && e.id !== 'gpt-4o-2024-05-13')
        expect(e.min_cacheable_prompt_tokens, e.id).toBe(1024);
    }
    expect(catalog.resolve('claude-sonnet-4-5')!.min_cacheable_prompt_tokens).toBe(1024);
    expect(catalog.resolve('claude-opus-4-1')!.min_cacheable_prompt_tokens).toBe(1024);
    expect(catalog.resolve('mistral-large')!.min_cacheable_prompt_tokens).toBeNull();
  });

  it('input, output and cache prices equal the shared LiteLLM-derived file for every model (id or alias) it lists', () => {
    const shared = JSON.parse(readFileSync(SHARED_PRICES, 'utf8')) as Record<string, Record<string, unknown>>;
    let compared = 0;
    for (const e of catalog.entries) {
      const keys = [e.id, ...e.aliases].filter((k) => shared[k]);
      if (e.source === 'litellm-2026-07-24') expect(keys.length, `${e.id} claims the LiteLLM source but is not in it`).toBeGreaterThan(0);
      for (const k of keys) {
        const s = shared[k]!;
        expect(e.input, `${e.id} via ${k}`).toBe(s.input_cost_per_token);
        expect(e.output, `${e.id} via ${k}`).toBe(s.output_cost_per_token);
        if (typeof s.cache_read_input_token_cost === 'number')
          expect(e.cached_input, `${e.id} via ${k}`).toBe(s.cache_read_input_token_cost);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(40);
  });

  it('models priced from outside the shared file carry their own date and source', () => {
    for (const e of catalog.entries.filter((x) => x.source !== 'litellm-2026-07-24')) {
      expect(e.prices_taken, e.id).not.toBe(catalog.pricesTaken);
      expect(
        catalog.sources.some((s) => s.id === e.source),
        e.id,
      ).toBe(true);
    }
  });
});
