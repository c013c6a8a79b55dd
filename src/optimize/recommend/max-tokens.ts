/**
 * max_tokens: caps far above what calls actually generate. Pure: max_tokens group rows + AnalysisContext → KindResult.
 *
 * Per (app, model, max_tokens): the nearest-rank p99 of completion_tokens over status=ok calls; the group is
 * over-provisioned when max_tokens >= AnalysisParams.max_tokens_ratio × p99 (the generator's max_tokens_headroom
 * definition with ratio 4). Recommended cap: p99 × 1.5 rounded up to two significant figures.
 *
 * Dollars, honestly: output tokens are billed as generated, so a lower cap saves nothing on normal calls. It saves
 * only on runaways that ran into the current cap (finish_reason = 'length'): each would stop at the new cap, saving
 * (cap − new cap) output tokens. The benefit is mostly risk and latency-tail reduction: a bounded worst case.
 */
import type { AnalysisContext } from '../context.js';
import type { MaxTokensGroupRow, UsageResult } from '../ports/usage.js';
import { confidenceFromCount, share, type KindResult, type Recommendation, type Risk } from '../recommendation.js';
import { buildRecommendation, bySavings, fmt, pct, round, usd } from './usage-shared.js';

export const SUGGESTED_CAP_FACTOR = 1.5;
const MIN_CAP = 16;

/** Rounds up to two significant figures (55.5 → 56, 1851 → 1900), at least MIN_CAP. */
export function suggestedCap(p99: number): number {
  const x = Math.max(MIN_CAP, p99 * SUGGESTED_CAP_FACTOR);
  const step = 10 ** Math.max(0, Math.floor(Math.log10(x)) - 1);
  return Math.ceil(x / step) * step;
}

export function recommendMaxTokens(result: UsageResult<MaxTokensGroupRow>, ctx: AnalysisContext): KindResult {
  if (result.rows.length === 0) {
    return {
      recommendations: [],
      skipped: {
        kind: 'max_tokens',
        reason: 'no event records the max_tokens cap it was sent with',
        needs: 'max_tokens on events (the cap each request was sent with), with completion_tokens and finish_reason',
      },
    };
  }
  const ratio = ctx.params.max_tokens_ratio;
  const recs: Recommendation[] = [];
  for (const g of result.rows) {
    const p99 = g.p99_completion_tokens;
    if (p99 === null || g.ok_events < ctx.params.min_events) continue;
    if (g.max_tokens < ratio * p99) continue;
    const cap = suggestedCap(p99);
    if (cap >= g.max_tokens) continue;
    const rates = ctx.rates(g.model);
    const cut = g.max_tokens - cap;
    const savings = rates ? g.truncated * cut * rates.output : 0;
    const tps = g.decode_ms > 0 ? (g.decode_tokens / g.decode_ms) * 1000 : null;
    const runawaySecondsSaved = tps ? cut / tps : null;
    const maxSeen = g.max_completion_tokens ?? 0;
    const truncRate = share(g.truncated, g.events);
    const risk: { level: Risk; reason: string } =
      maxSeen <= cap
        ? {
            level: 'low',
            reason: `no successful call in the window generated more than ${fmt(maxSeen)} tokens (new cap ${fmt(cap)}); current truncation rate ${pct(truncRate, 2)}`,
          }
        : {
            level: 'medium',
            reason: `up to 1% of successful calls (those above p99 = ${fmt(p99)} tokens; longest ${fmt(maxSeen)}) would be cut at ${fmt(cap)} with finish_reason = 'length'; current truncation rate ${pct(truncRate, 2)}`,
          };
    recs.push(
      buildRecommendation(
        {
          kind: 'max_tokens',
          key: `${g.app}/${g.model}/${g.max_tokens}`,
          title: `Lower max_tokens for ${g.app} on ${g.model} from ${fmt(g.max_tokens)} to ${fmt(cap)} (p99 completion ${fmt(p99)})`,
          scope: { app: g.app, model: g.model, segment: `max_tokens=${g.max_tokens}` },
          events: g.events,
          spend_usd: g.spend_usd,
          window_savings_usd: savings,
          latency_impact: {
            p50_ms_delta: 0,
            p95_ms_delta: null,
            description:
              runawaySecondsSaved !== null
                ? `typical calls unchanged; a runaway generation stops ${fmt(cut)} tokens sooner (~${fmt(runawaySecondsSaved, 1)} s at the observed ${fmt(tps!, 0)} tokens/s), bounding the latency tail`
                : `typical calls unchanged; a runaway generation stops ${fmt(cut)} tokens sooner, bounding the latency tail`,
          },
          quality_risk: risk,
          confidence: confidenceFromCount(g.ok_events),
          evidence: {
            figures: {
              events: g.events,
              ok_events: g.ok_events,
              max_tokens: g.max_tokens,
              p99_completion_tokens: p99,
              max_completion_tokens: g.max_completion_tokens,
              ratio: round(g.max_tokens / Math.max(p99, 1), 2),
              suggested_max_tokens: cap,
              truncated: g.truncated,
              truncation_rate: round(truncRate),
              over_provisioned_share: round(share(g.events, ctx.total_events)),
              window_savings_usd: round(savings),
              output_usd_per_mtok: rates ? round(rates.output * 1e6) : null,
              decode_tokens_per_second: tps === null ? null : round(tps, 1),
            },
            query: result.sql,
            sample_event_ids: g.sample_event_ids,
          },
          how_to_apply: [
            `Set max_tokens = ${cap} for ${g.app}'s calls to ${g.model} (currently ${g.max_tokens}; p99 of successful completions is ${p99}).`,
            `Watch finish_reason = 'length' after the change: it is ${pct(truncRate, 2)} today; raise the cap for the specific prompts that hit it rather than for all calls.`,
            savings > 0
              ? `Savings come only from runaways: ${fmt(g.truncated)} calls hit the current cap and would stop ${fmt(cut)} tokens earlier (${usd(savings)} over the window). Output is billed as generated, so normal calls cost the same.`
              : 'No dollar savings expected: output is billed as generated and no call ran into the current cap; the gain is a bounded worst case (cost and latency) if a prompt makes the model ramble.',
          ],
        },
        ctx,
      ),
    );
  }
  return { recommendations: recs.sort(bySavings) };
}
