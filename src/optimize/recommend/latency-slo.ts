/**
 * latency_slo: apps and models whose p95 latency misses the target (AnalysisParams.latency_slo_p95_ms).
 * Pure: latency rows per app and per model (status = ok, traffic not tagged offline) + AnalysisContext → KindResult.
 *
 * Advice, from the figures: stream when most calls are not streamed and time to first token is well inside the
 * target; move to the fastest observed model of the same modality and an equal or higher catalog tier that meets the
 * target (models only: an app's own model mix is not known here); when time to first
 * token itself is most of the budget, look at region / network distance and prompt size. No dollar savings.
 */
import type { AnalysisContext } from '../context.js';
import type { LatencyResult, LatencyRow } from '../ports/usage.js';
import { confidenceFromCount, type KindResult, type Recommendation, type Risk } from '../recommendation.js';
import { buildRecommendation, fmt, pct, round } from './usage-shared.js';

/** Streaming is advised when fewer than this share of calls stream. */
const STREAM_ADVICE_BELOW = 0.5;
/** Time to first token is "most of the budget" above this share of the target. */
const TTFT_DOMINANT = 0.5;

/**
 * Fastest observed model that can stand in for `exclude`: the same modality (a chat model for chat, an embedding model
 * for embeddings: the catalog's modes overlap), a catalog tier equal or higher, and a p95 that meets the SLO.
 */
function fasterAlternative(
  exclude: string,
  models: readonly LatencyRow[],
  ctx: AnalysisContext,
  slo: number,
): { row: LatencyRow; tier: number } | null {
  const me = ctx.resolve(exclude);
  if (!me) return null;
  const ok = models.flatMap((m) => {
    const e = ctx.resolve(m.key);
    if (!e || m.key === exclude || m.events < ctx.params.min_events || m.latency_p95_ms === null || m.latency_p95_ms > slo) return [];
    if (e.quality_tier < me.quality_tier || !e.modes.some((x) => me.modes.includes(x))) return [];
    return [{ row: m, tier: e.quality_tier }];
  });
  return ok.sort((a, b) => a.row.latency_p95_ms! - b.row.latency_p95_ms! || a.row.key.localeCompare(b.row.key))[0] ?? null;
}

export function recommendLatencySlo(result: LatencyResult, ctx: AnalysisContext): KindResult {
  if (result.events_with_latency === 0) {
    return {
      recommendations: [],
      skipped: {
        kind: 'latency_slo',
        reason: 'no successful event records its latency',
        needs: 'latency_ms on events (and ttft_ms for streaming advice)',
      },
    };
  }
  const slo = ctx.params.latency_slo_p95_ms;
  const models = result.rows.filter((r) => r.dimension === 'model');
  const recs: Recommendation[] = [];
  for (const r of result.rows) {
    const p95 = r.latency_p95_ms;
    if (p95 === null || p95 <= slo || r.events < ctx.params.min_events) continue;
    const steps: string[] = [];
    let risk: { level: Risk; reason: string } = { level: 'low', reason: 'delivery changes only (streaming, placement); outputs unchanged' };
    let delta = slo - p95;
    let deltaWhy = `the reduction needed to meet the ${fmt(slo)} ms target`;
    const ttft = r.ttft_p95_ms;
    if (r.stream_share < STREAM_ADVICE_BELOW && ttft !== null && ttft <= slo) {
      steps.push(
        `Stream responses (stream: true): only ${pct(r.stream_share, 0)} of calls stream today; the first token arrives by p95 ${fmt(ttft)} ms, well inside the ${fmt(slo)} ms target, so users see progress at once.`,
      );
    }
    const tier = r.dimension === 'model' ? (ctx.resolve(r.key)?.quality_tier ?? null) : null;
    // an app's own model mix is not known here: a model is only suggested in place of a model
    const found = r.dimension === 'model' ? fasterAlternative(r.key, models, ctx, slo) : null;
    const alt = found?.row ?? null;
    if (found && alt) {
      const same = found.tier === tier;
      steps.push(
        `Move latency-sensitive calls to ${alt.key} (catalog tier ${found.tier}, ${same ? 'the same as' : 'above'} ${r.key}'s tier ${tier}; same modality): its observed p95 is ${fmt(alt.latency_p95_ms!)} ms vs ${fmt(p95)} ms here.`,
      );
      risk = {
        level: 'medium',
        reason: `a different model (tier ${found.tier} for tier ${tier}); verify output quality on a sample before switching`,
      };
      delta = alt.latency_p95_ms! - p95;
      deltaWhy = `${alt.key}'s observed p95 minus this p95`;
    }
    if (ttft !== null && ttft > TTFT_DOMINANT * slo) {
      steps.push(
        `Time to first token alone reaches ${fmt(ttft)} ms at p95: use the provider region closest to the callers (or a regional endpoint), keep connections warm, and trim prompt size (prefill time grows with prompt tokens).`,
      );
    } else {
      steps.push(
        `Most time is generation (${fmt(r.mean_completion_tokens)} completion tokens on average): cap max_tokens near the real need and ask for shorter answers where possible.`,
      );
    }
    recs.push(
      buildRecommendation(
        {
          kind: 'latency_slo',
          key: `${r.dimension}/${r.key}`,
          title: `${r.dimension === 'app' ? 'App' : 'Model'} ${r.key} misses the p95 latency target: ${fmt(p95)} ms vs ${fmt(slo)} ms`,
          scope:
            r.dimension === 'app'
              ? { app: r.key, segment: 'status = ok, not tagged offline' }
              : { model: r.key, segment: 'status = ok, not tagged offline' },
          events: r.events,
          spend_usd: r.spend_usd,
          window_savings_usd: 0,
          latency_impact: {
            p50_ms_delta: null,
            p95_ms_delta: round(delta, 1),
            description: `p95 ${fmt(p95)} ms today (p50 ${fmt(r.latency_p50_ms ?? 0)} ms); delta shown is ${deltaWhy}`,
          },
          quality_risk: risk,
          confidence: confidenceFromCount(r.events),
          evidence: {
            figures: {
              events: r.events,
              latency_p50_ms: r.latency_p50_ms,
              latency_p95_ms: p95,
              ttft_p95_ms: ttft,
              slo_p95_ms: slo,
              stream_share: round(r.stream_share, 4),
              mean_completion_tokens: round(r.mean_completion_tokens, 1),
              offline_events_excluded: result.offline_events_excluded,
              faster_same_tier_model: alt?.key ?? null,
            },
            query: result.sql,
            sample_event_ids: r.sample_event_ids,
          },
          how_to_apply: steps,
        },
        ctx,
      ),
    );
  }
  return {
    recommendations: recs.sort(
      (a, b) => (a.latency_impact.p95_ms_delta ?? 0) - (b.latency_impact.p95_ms_delta ?? 0) || a.id.localeCompare(b.id),
    ),
  };
}
