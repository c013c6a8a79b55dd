/**
 * prompt_caching: long shared prefixes (system prompts, the conversation so far, shared documents) re-sent while the
 * provider's prompt cache would still be warm, so the provider would bill them at its cached-read price. Pure:
 * PrefixCacheResult rows (and the block simulation) + AnalysisContext → KindResult.
 *
 * Two sources, on disjoint events:
 * - events with a block chain (prefix_block_hashes): the provider's cache simulated block by block
 *   (prompt-cache-simulation.ts), so each turn of a conversation reads the turns before it and a shared document
 *   hits whatever precedes it; the tokens read are the cacheable tokens;
 * - events with only a prefix_hash (one shared system prompt), as below.
 * Evidence: cacheable_input_token_share = tokens the cache serves / all prompt tokens of the app's events;
 * cache_window_seconds = the cache lifetime assumed.
 *
 * A hit is the manifest's prefix_cacheable event (prefix_tokens >= the model's minimum cacheable prompt size, and an
 * earlier status=ok event of the same model and prefix_hash within the cache window), minus the events that already
 * report cached_prompt_tokens (they already get the discount; reported as evidence). Models whose catalog entry has
 * no prompt caching (min_cacheable_prompt_tokens null) are skipped. Savings = hit prefix tokens × (input − cached
 * input), minus the cache-write premium (cache_write − input, Anthropic) on the cold calls of reused prefixes.
 */
import type { AnalysisContext } from '../context.js';
import type {
  BlockCacheSimulation,
  BlockCacheTally,
  CacheQueries,
  PrefixCacheGroup,
  PrefixCacheOptions,
  PrefixCacheResult,
} from '../ports/cache.js';
import type { AnalysisScope } from '../ports/scope.js';
import { BlockCacheTallies } from '../prompt-cache-simulation.js';
import { confidenceFromCount, share, type KindResult, type Recommendation } from '../recommendation.js';
import { buildRecommendation, bySavings, fmt, pct, round } from './usage-shared.js';

/** Provider prompt caches stay warm ~5 minutes after the last use (OpenAI, Anthropic default); the manifest's window. */
export const PREFIX_CACHE_WINDOW_SECONDS = 300;

/**
 * The rows of the kind: the prefix_hash groups and the block-chain simulation (streamed from the store, simulated
 * here in one pass). The two reads run side by side.
 */
export async function loadPromptCaching(
  q: CacheQueries,
  scope: AnalysisScope,
  ctx: AnalysisContext,
  opts: PrefixCacheOptions = prefixCacheQueryOptions(ctx),
): Promise<PrefixCacheResult> {
  const sim = new BlockCacheTallies(opts.window_seconds * 1000, (m) => ctx.resolve(m)?.min_cacheable_prompt_tokens ?? null);
  const [groups, scan] = await Promise.all([q.prefixCacheGroups(scope, opts), q.scanPrefixBlocks(scope, (rows) => sim.add(rows))]);
  const blocks: BlockCacheSimulation = {
    window_seconds: opts.window_seconds,
    tallies: sim.result(),
    totals: scan.totals,
    query: scan.query,
  };
  return { ...groups, blocks };
}

export function prefixCacheQueryOptions(ctx: AnalysisContext, windowSeconds = PREFIX_CACHE_WINDOW_SECONDS): PrefixCacheOptions {
  const mins = new Set<number>();
  for (const m of ctx.catalog) if (m.min_cacheable_prompt_tokens !== null) mins.add(m.min_cacheable_prompt_tokens);
  return { window_seconds: windowSeconds, min_token_thresholds: [...mins].sort((a, b) => a - b) };
}

interface ModelTally {
  model: string;
  provider: string;
  min: number;
  hits: number;
  hitTokens: number;
  savings: number;
  writePremium: number;
}

function howToApply(providers: Set<string>, app: string, minTokens: number, conversations: boolean): string[] {
  const steps = [
    `Keep ${app}'s system prompt (and any other fixed preamble) first and byte-identical across calls; put the user-specific part after it. Prefixes under ${fmt(minTokens)} tokens are not cached.`,
  ];
  if (conversations)
    steps.push(
      'Multi-turn conversations and shared documents: append new turns at the end and re-send earlier turns unchanged (no re-summarising or re-ordering of history, documents before the question), so each call reads everything before its new part from the cache.',
    );
  if (providers.has('openai') || providers.has('deepseek'))
    steps.push(
      'OpenAI / DeepSeek cache prefixes automatically: no flag, but any change early in the prompt (timestamps, user names, tool lists in a varying order) breaks the match. Check usage.prompt_tokens_details.cached_tokens afterwards.',
    );
  if (providers.has('anthropic'))
    steps.push(
      'Anthropic: mark the end of the system prompt with "cache_control": { "type": "ephemeral" }, and in conversations also the last message (up to 4 breakpoints; 5-minute cache; the first call pays the cache-write premium).',
    );
  if (providers.has('google'))
    steps.push(
      'Google Gemini: implicit caching applies to repeated prefixes on 2.5 models; for a guaranteed discount create an explicit context cache for the system prompt.',
    );
  steps.push('Report cached_prompt_tokens on events afterwards so the achieved discount shows up here.');
  return steps;
}

export function recommendPromptCaching(
  result: PrefixCacheResult,
  ctx: AnalysisContext,
  opts: PrefixCacheOptions = prefixCacheQueryOptions(ctx),
): KindResult {
  const blockTallies = result.blocks?.tallies ?? [];
  if (result.groups.length === 0 && blockTallies.length === 0) {
    if (ctx.total_events === 0) return { recommendations: [] };
    return {
      recommendations: [],
      skipped: {
        kind: 'prompt_caching',
        reason:
          'no event carries a prompt block chain or prefix_hash with prefix_tokens: repeated prompt prefixes cannot be recognised, so prompt-caching analysis skipped',
        needs:
          'prompt_text (a chain of 128-token blocks is derived from prompts of 1,024 tokens or more), prefix_block_hashes with prefix_block_size, or prefix_hash and prefix_tokens on events (or messages with a leading system message, from which they are derived)',
      },
    };
  }
  const byApp = new Map<string, { groups: PrefixCacheGroup[]; blocks: BlockCacheTally[] }>();
  const appOf = (app: string) => byApp.get(app) ?? byApp.set(app, { groups: [], blocks: [] }).get(app)!;
  for (const g of result.groups) appOf(g.app).groups.push(g);
  for (const b of blockTallies) appOf(b.app).blocks.push(b);
  const appPromptTokens = new Map<string, number>();
  for (const t of result.blocks?.totals ?? []) appPromptTokens.set(t.app, (appPromptTokens.get(t.app) ?? 0) + t.prompt_tokens);

  const recs: Recommendation[] = [];
  for (const [app, { groups, blocks }] of byApp) {
    const tallies = new Map<string, ModelTally>();
    const tallyOf = (model: string, provider: string, min: number) => {
      let t = tallies.get(model);
      if (t === undefined) {
        t = { model, provider, min, hits: 0, hitTokens: 0, savings: 0, writePremium: 0 };
        tallies.set(model, t);
      }
      return t;
    };
    const noCaching = new Set<string>();
    const belowMin = { events: 0, models: new Set<string>() };
    let warm = 0;
    let warmSpend = 0;
    let hits = 0;
    let hitSpend = 0;
    let writes = 0;
    let alreadyEvents = 0;
    let alreadyTokens = 0;
    let alreadySavings = 0;
    let cacheableTokens = 0;
    let prefixPromptTokens = 0;
    const samples: string[] = [];
    for (const g of groups) {
      const entry = ctx.resolve(g.model);
      const rates = ctx.rates(g.model);
      const min = entry?.min_cacheable_prompt_tokens ?? null;
      if (min === null || rates === null) {
        noCaching.add(g.model);
        continue;
      }
      alreadyEvents += g.already_cached_events;
      alreadyTokens += g.already_cached_tokens;
      alreadySavings += g.already_cached_tokens * (rates.input - rates.cached_input);
      if (g.min_tokens_bucket < min) {
        belowMin.events += g.events;
        belowMin.models.add(g.model);
        continue;
      }
      const t = tallyOf(g.model, g.provider, min);
      const premium =
        rates.cache_write !== null && rates.cache_write > rates.input ? g.write_prefix_tokens * (rates.cache_write - rates.input) : 0;
      t.hits += g.hits;
      t.hitTokens += g.hit_prefix_tokens;
      t.savings += g.hit_prefix_tokens * (rates.input - rates.cached_input) - premium;
      t.writePremium += premium;
      warm += g.warm;
      warmSpend += g.warm_spend_usd;
      hits += g.hits;
      hitSpend += g.hit_spend_usd;
      writes += g.writes;
      // warm prefix tokens (hits and calls that already read the cache) are cacheable
      cacheableTokens += g.hit_prefix_tokens + g.already_cached_tokens;
      for (const id of g.sample_event_ids) if (samples.length < 3) samples.push(id);
    }
    let blockEvents = 0;
    let blockHits = 0;
    let blockHitTokens = 0;
    let blockWriteTokens = 0;
    for (const b of blocks) {
      blockEvents += b.events;
      const entry = ctx.resolve(b.model);
      const rates = ctx.rates(b.model);
      const min = entry?.min_cacheable_prompt_tokens ?? null;
      if (!b.simulated || min === null || rates === null) {
        noCaching.add(b.model);
        continue;
      }
      prefixPromptTokens += b.prompt_tokens;
      alreadyEvents += b.already_cached_events;
      alreadyTokens += b.already_cached_tokens;
      alreadySavings += b.already_cached_tokens * (rates.input - rates.cached_input);
      const t = tallyOf(b.model, entry!.provider, min);
      const premium =
        rates.cache_write !== null && rates.cache_write > rates.input ? b.write_tokens * (rates.cache_write - rates.input) : 0;
      t.hits += b.hits;
      t.hitTokens += b.hit_tokens;
      t.savings += b.hit_tokens * (rates.input - rates.cached_input) - premium;
      t.writePremium += premium;
      warm += b.warm;
      warmSpend += b.warm_spend_usd;
      hits += b.hits;
      hitSpend += b.hit_spend_usd;
      blockHits += b.hits;
      blockHitTokens += b.hit_tokens;
      blockWriteTokens += b.write_tokens;
      cacheableTokens += b.cacheable_tokens;
      for (const id of b.sample_event_ids) if (samples.length < 3) samples.push(id);
    }
    const models = [...tallies.values()].filter((t) => t.savings > 0);
    const savings = models.reduce((s, t) => s + t.savings, 0);
    const modelHits = models.reduce((s, t) => s + t.hits, 0);
    if (modelHits < ctx.params.min_events || !(savings > 0)) continue;
    const premium = models.reduce((s, t) => s + t.writePremium, 0);
    const hitTokens = models.reduce((s, t) => s + t.hitTokens, 0);
    const appEvents = groups.reduce((s, g) => s + g.events, 0) + blockEvents;
    // all prompt tokens of the app's events when the store reported them, else those of the events looked at
    const allPromptTokens = appPromptTokens.get(app) ?? prefixPromptTokens;
    const figures: Record<string, number | string | null> = {
      cacheable_input_token_share: allPromptTokens > 0 ? round(Math.min(1, cacheableTokens / allPromptTokens), 4) : null,
      cacheable_input_tokens: cacheableTokens,
      input_tokens: allPromptTokens,
      cache_window_seconds: opts.window_seconds,
      window_seconds: opts.window_seconds,
      events_with_prefix: appEvents,
      prefix_cacheable_events: warm,
      prefix_cacheable_spend_usd: round(warmSpend),
      hits,
      hit_spend_usd: round(hitSpend),
      hit_prefix_tokens: hitTokens,
      cache_writes: writes,
      cache_write_tokens: blockWriteTokens + groups.reduce((s, g) => s + (g.hits > 0 ? g.write_prefix_tokens : 0), 0),
      cache_write_premium_usd: round(premium),
      block_chain_events: blockEvents,
      block_chain_hits: blockHits,
      block_chain_hit_tokens: blockHitTokens,
      already_cached_events: alreadyEvents,
      already_cached_tokens: alreadyTokens,
      already_saving_usd: round(alreadySavings),
      below_min_prefix_events: belowMin.events,
      models_without_prompt_caching: [...noCaching].sort().join(', ') || null,
    };
    for (const t of models) figures[`savings_usd:${t.model}`] = round(t.savings);
    for (const t of models) figures[`min_cacheable_prompt_tokens:${t.model}`] = t.min;
    const providers = new Set(models.map((t) => t.provider));
    const names = models.map((t) => t.model).sort();
    const what = blockHits > 0 ? 'repeated prompt prefixes (conversation so far, shared documents, system prompt)' : 'system prompt';
    recs.push(
      buildRecommendation(
        {
          kind: 'prompt_caching',
          key: app,
          title: `Use provider prompt caching for ${app}'s ${what}: ${pct(share(hits, appEvents))} of its calls re-send a warm prefix`,
          scope: { app, model: names.length === 1 ? names[0] : undefined, segment: `prefix reused within ${opts.window_seconds} s` },
          events: hits,
          spend_usd: hitSpend,
          window_savings_usd: savings,
          latency_impact: {
            p50_ms_delta: null,
            p95_ms_delta: null,
            description: `cached prefixes (${fmt(hitTokens / Math.max(1, hits))} tokens per call on average) skip prefill: time to first token drops on ${fmt(hits)} calls; output is unchanged`,
          },
          quality_risk: {
            level: 'low',
            reason: 'provider prompt caching returns the same output as an uncached call; only billing and prefill time change',
          },
          confidence: confidenceFromCount(hits),
          evidence: {
            figures,
            query: result.blocks && blockEvents > 0 ? `${result.query};\n${result.blocks.query}` : result.query,
            sample_event_ids: samples,
          },
          how_to_apply: howToApply(providers, app, Math.min(...models.map((t) => t.min)), blockHits > 0),
        },
        ctx,
      ),
    );
  }
  recs.sort(bySavings);
  return { recommendations: recs };
}
