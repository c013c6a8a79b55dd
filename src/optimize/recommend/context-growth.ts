/**
 * context_growth: multi-turn sessions whose prompts grow turn by turn because the whole history is re-sent.
 * Pure: context-growth rows per (app, model) + coverage + AnalysisContext → KindResult.
 *
 * A session grows when it has >= CONTEXT_MIN_TURNS turns and a positive OLS slope of prompt_tokens over time. The
 * saving modelled is windowing: keep each prompt at most at the session's first-turn size (system prompt + first
 * message) plus a fixed window of recent history (the `window_tokens` the query ran with); the tokens above that cap
 * on billed calls, priced at the model's input rate (cached share at the cached rate), are the savings.
 */
import type { AnalysisContext } from '../context.js';
import { CONTEXT_MIN_TURNS, CONTEXT_WINDOW_TOKENS, type ContextGrowthResult } from '../ports/usage.js';
import { confidenceFromCount, share, type KindResult, type Recommendation } from '../recommendation.js';
import { buildRecommendation, bySavings, fmt, pct, round, usd } from './usage-shared.js';

export function recommendContextGrowth(
  result: ContextGrowthResult,
  ctx: AnalysisContext,
  windowTokens = CONTEXT_WINDOW_TOKENS,
): KindResult {
  if (result.session_events === 0) {
    return {
      recommendations: [],
      skipped: {
        kind: 'context_growth',
        reason: 'no event carries a session_id, so turns of one conversation cannot be linked',
        needs: 'session_id on events (the same id for every turn of a conversation)',
      },
    };
  }
  const recs: Recommendation[] = [];
  for (const r of result.rows) {
    if (r.events < ctx.params.min_events || r.excess_prompt_tokens <= 0) continue;
    const rates = ctx.rates(r.model);
    if (!rates) continue;
    const cachedShare = share(r.cached_prompt_tokens, r.prompt_tokens);
    const perToken = rates.input * (1 - cachedShare) + rates.cached_input * cachedShare;
    const savings = r.excess_prompt_tokens * perToken;
    if (!(savings > 0)) continue;
    const excessShare = share(r.excess_prompt_tokens, r.prompt_tokens);
    recs.push(
      buildRecommendation(
        {
          kind: 'context_growth',
          key: `${r.app}/${r.model}`,
          title: `Window or summarise ${r.app}'s conversation history on ${r.model}: prompts grow ~${fmt(r.mean_growth_tokens_per_turn)} tokens per turn`,
          scope: { app: r.app, model: r.model, segment: `sessions with >= ${CONTEXT_MIN_TURNS} turns and growing prompts` },
          events: r.events,
          spend_usd: r.spend_usd,
          window_savings_usd: savings,
          latency_impact: {
            p50_ms_delta: null,
            p95_ms_delta: null,
            description: `shorter prompts on long sessions: ${pct(excessShare)} fewer prompt tokens in these sessions means less prefill time to first token on late turns`,
          },
          quality_risk: {
            level: 'medium',
            reason: `turns older than the last ~${fmt(windowTokens)} tokens would be dropped or summarised; answers that depend on early details can degrade (summaries reduce this)`,
          },
          confidence: confidenceFromCount(r.sessions) * 0.8,
          evidence: {
            figures: {
              sessions: r.sessions,
              events: r.events,
              spend_usd: round(r.spend_usd),
              mean_turns: round(r.mean_turns, 2),
              mean_growth_tokens_per_turn: round(r.mean_growth_tokens_per_turn, 1),
              prompt_tokens: r.prompt_tokens,
              excess_prompt_tokens: r.excess_prompt_tokens,
              excess_share: round(excessShare),
              window_tokens: windowTokens,
              sessions_with_3_plus_turns: result.multi_turn_sessions,
              window_savings_usd: round(savings),
              sample_session_ids: r.sample_session_ids.join(', '),
            },
            query: result.sql,
            sample_event_ids: r.sample_event_ids,
          },
          how_to_apply: [
            `Keep the system prompt and the first user message, plus only the most recent ~${fmt(windowTokens)} tokens of history, in each ${r.app} request.`,
            'Replace older turns with a running summary (regenerated every few turns by a cheap model) so earlier facts survive.',
            'Or store the conversation server-side and retrieve only the turns relevant to the new message.',
            `Expected: ${fmt(r.excess_prompt_tokens)} fewer prompt tokens over the window (${usd(savings)}), ${pct(excessShare)} of these sessions' prompt tokens.`,
          ],
        },
        ctx,
      ),
    );
  }
  return { recommendations: recs.sort(bySavings) };
}
