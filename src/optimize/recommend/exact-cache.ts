/**
 * exact_cache: identical (model, prompt) calls repeated within a TTL, which a response cache in front of the model
 * would have answered. Pure: ExactCacheResult rows + AnalysisContext → KindResult.
 *
 * A hit is the manifest's exact_duplicate: an event with an earlier status=ok event of the same model and
 * prompt_hash at most `params.cache_ttl_seconds` earlier. Savings = the spend of the hits (the calls the cache would
 * not have made). One recommendation per app with at least `params.min_events` hits; hit rates at 5 min, 1 h and
 * 24 h are reported beside the chosen TTL so the TTL can be chosen with the trade-off in view.
 */
import type { AnalysisContext } from '../context.js';
import type { ExactCacheGroup, ExactCacheOptions, ExactCacheResult } from '../ports/cache.js';
import { confidenceFromCount, share, type KindResult, type Recommendation } from '../recommendation.js';
import { buildRecommendation, bySavings, fmt, pct, round } from './usage-shared.js';

/** TTLs whose hit rates are reported as evidence beside the chosen one (seconds). */
export const EXACT_CACHE_COMPARE_TTLS: readonly number[] = [300, 3600, 86_400];
/** Mean sampling temperature of the hits at or above which re-serving one answer is a visible change. */
export const VARIED_OUTPUT_TEMPERATURE = 0.7;

export function exactCacheQueryOptions(ctx: AnalysisContext): ExactCacheOptions {
  return { ttl_seconds: ctx.params.cache_ttl_seconds, compare_ttls_seconds: EXACT_CACHE_COMPARE_TTLS };
}

const ttlLabel = (s: number): string =>
  s % 86_400 === 0 ? `${s / 86_400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`;

export function recommendExactCache(
  result: ExactCacheResult,
  ctx: AnalysisContext,
  opts: ExactCacheOptions = exactCacheQueryOptions(ctx),
): KindResult {
  const hashed = result.groups.reduce((s, g) => s + g.events, 0);
  if (hashed === 0) {
    if (ctx.total_events === 0) return { recommendations: [] };
    return {
      recommendations: [],
      skipped: {
        kind: 'exact_cache',
        reason: 'no event carries prompt_hash or prompt_text: exact-cache analysis skipped (identical prompts cannot be recognised)',
        needs: 'prompt_hash on events (or prompt_text / messages, from which it is derived)',
      },
    };
  }
  const byApp = new Map<string, ExactCacheGroup[]>();
  for (const g of result.groups) byApp.set(g.app, [...(byApp.get(g.app) ?? []), g]);

  const recs: Recommendation[] = [];
  for (const [app, groups] of byApp) {
    const sum = (f: (g: ExactCacheGroup) => number) => groups.reduce((s, g) => s + f(g), 0);
    const hits = sum((g) => g.hits);
    const hitSpend = sum((g) => g.hit_spend_usd);
    if (hits < ctx.params.min_events || !(hitSpend > 0)) continue;
    const events = sum((g) => g.events);
    const spend = sum((g) => g.spend_usd);
    const top = [...groups].sort((a, b) => b.hits - a.hits)[0]!;
    const tempHits = groups.filter((g) => g.hit_temperature_avg !== null);
    const temp = tempHits.length
      ? tempHits.reduce((s, g) => s + g.hit_temperature_avg! * g.hits, 0) /
        Math.max(
          1,
          tempHits.reduce((s, g) => s + g.hits, 0),
        )
      : null;
    const figures: Record<string, number | string | null> = {
      ttl_seconds: opts.ttl_seconds,
      events_with_prompt_hash: events,
      hits,
      hit_rate: round(share(hits, events), 4),
      hit_spend_usd: round(hitSpend),
      app_spend_usd: round(spend),
      hit_latency_p50_ms: top.hit_latency_p50_ms === null ? null : round(top.hit_latency_p50_ms, 1),
      hit_latency_p95_ms: top.hit_latency_p95_ms === null ? null : round(top.hit_latency_p95_ms, 1),
      hit_temperature_avg: temp === null ? null : round(temp, 3),
    };
    opts.compare_ttls_seconds.forEach((t, i) => {
      const h = sum((g) => g.hits_at[i] ?? 0);
      figures[`hit_rate_at_${ttlLabel(t)}`] = round(share(h, events), 4);
      figures[`hit_spend_usd_at_${ttlLabel(t)}`] = round(sum((g) => g.hit_spend_at[i] ?? 0));
    });
    for (const g of groups) figures[`hits:${g.model}`] = g.hits;
    const samples = groups.flatMap((g) => g.sample_event_ids).slice(0, 3);
    const models = groups.map((g) => g.model).sort();
    // compared at the precision of the figure: a store's parallel avg() is 0.7 or 0.6999999999 from run to run
    const variedOutput = temp !== null && round(temp, 6) >= VARIED_OUTPUT_TEMPERATURE;
    recs.push(
      buildRecommendation(
        {
          kind: 'exact_cache',
          key: app,
          title: `Cache ${app}'s repeated prompts for ${ttlLabel(opts.ttl_seconds)}: ${pct(share(hits, events))} of its calls are exact repeats`,
          scope: {
            app,
            model: models.length === 1 ? models[0] : undefined,
            segment: `identical (model, prompt) within ${ttlLabel(opts.ttl_seconds)}`,
          },
          events: hits,
          spend_usd: hitSpend,
          window_savings_usd: hitSpend,
          latency_impact: {
            p50_ms_delta: null,
            p95_ms_delta: null,
            description:
              `${fmt(hits)} calls (${pct(share(hits, events))} of ${app}'s) would be answered from the cache in milliseconds` +
              (top.hit_latency_p50_ms !== null ? ` instead of a median ${fmt(top.hit_latency_p50_ms)} ms (${top.model})` : '') +
              '; misses are unchanged',
          },
          quality_risk: variedOutput
            ? {
                level: 'medium',
                reason: `the repeated calls sample at a mean temperature of ${fmt(temp!, 2)}: a cache returns the same answer every time, where callers may expect a fresh one`,
              }
            : {
                level: 'low',
                reason: `the same model already answered the identical prompt within ${ttlLabel(opts.ttl_seconds)}${temp !== null ? ` (mean temperature ${fmt(temp, 2)})` : ''}; only answers that depend on time or external state can go stale`,
              },
          confidence: confidenceFromCount(hits),
          evidence: { figures, query: result.query, sample_event_ids: samples },
          how_to_apply: [
            `Put a response cache keyed on (model, full prompt, sampling parameters) in front of ${models.join(', ')} for ${app}, TTL ${opts.ttl_seconds} s; cache only successful responses.`,
            `LiteLLM proxy: litellm_settings: { cache: true, cache_params: { type: redis, ttl: ${opts.ttl_seconds} } }. Portkey: "cache": { "mode": "simple", "max_age": ${opts.ttl_seconds} }.`,
            `Hit rate by TTL here: ${opts.compare_ttls_seconds.map((t) => `${ttlLabel(t)} ${pct(Number(figures[`hit_rate_at_${ttlLabel(t)}`]))}`).join(', ')}; a longer TTL catches more repeats but serves older answers.`,
            'Bypass the cache for prompts whose answer depends on the current time or on live data (send a cache-control: no-cache header or a per-request flag).',
          ],
        },
        ctx,
      ),
    );
  }
  recs.sort(bySavings);
  return { recommendations: recs };
}
