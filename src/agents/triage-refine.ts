/**
 * Optional LLM refinement of the deterministic triage ("Deterministic first; an LLM may refine it"). Runs only when a
 * remote provider leads the LLM chain and the keyword classification is low-confidence (no category keyword); never for
 * admin pipelines, growth scenarios or runs whose goal the caller fixed. The model gets the request and the
 * deterministic triage as the draft, and answers one JSON value validated with zod (one repair request, then the next
 * link of the chain); the built-in model answers the draft itself, so the built-in path stays deterministic. A refined
 * category is used only with confidence ≥ 0.5; any failure keeps the deterministic triage and never fails the run.
 */
import { z } from 'zod';
import type { LlmClient, LlmFallbackEvent } from '../llm/index.js';
import { payloadMessage } from '../llm/index.js';
import { GOALS } from '../optimize/ranking.js';
import type { RunContext } from './run-context.js';
import { CATEGORIES, classificationConfidence, type Triage } from './triage.js';

export const RefinedTriage = z.object({
  category: z.enum(CATEGORIES),
  goal: z.enum(GOALS),
  /** the model's confidence in its category, 0..1 */
  confidence: z.number().min(0).max(1),
});
export type RefinedTriage = z.infer<typeof RefinedTriage>;

export const MIN_REFINED_CONFIDENCE = 0.5;

export interface Refinement {
  provider: string;
  model: string;
  /** the deterministic category it replaced (or kept) */
  deterministic: { category: Triage['category']; goal: Triage['goal'] };
  confidence: number;
  applied: boolean;
}

/** Whether the triage of `text` is worth an LLM call with this client. */
export function shouldRefine(llm: Pick<LlmClient, 'chain'>, t: Triage, text: string, goalGiven: boolean): boolean {
  const remoteFirst = llm.chain.length > 1; // the chain always ends with the built-in model
  return remoteFirst && t.admin === null && !goalGiven && t.growth_factor === null && classificationConfidence(text) === 'low';
}

/**
 * Asks the LLM for category, goal and confidence; returns the (possibly) refined triage and what happened, or the
 * deterministic triage unchanged with `null` when the call failed. Streams tool_executing / tool_completed and one
 * agent_fallback per hop of the chain.
 */
export async function refineTriage(
  ctx: RunContext,
  llm: LlmClient,
  t: Triage,
  request: string,
): Promise<{ triage: Triage; refinement: Refinement | null }> {
  const draft: RefinedTriage = { category: t.category, goal: t.goal, confidence: 0 };
  let fallbacks: Promise<void> = Promise.resolve();
  const onFallback = (e: LlmFallbackEvent): void => {
    fallbacks = fallbacks.then(() => ctx.emit('agent_fallback', { agent: 'triage', ...e }));
    fallbacks.catch(() => undefined);
  };
  const call = async () => {
    try {
      return await llm.completeStructured(RefinedTriage, {
        system: `You classify requests to Netra, an LLM cost and latency analytics product, into one of these categories: ${CATEGORIES.join(', ')}; and pick the user's goal: ${GOALS.join(', ')}. The draft is a keyword classifier's low-confidence guess.`,
        messages: [
          payloadMessage({ kind: 'report', question: request, facts: { keyword_category: t.category, keyword_goal: t.goal }, draft }),
        ],
        signal: ctx.signal,
        onFallback,
      });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      return null; // refinement is optional: the deterministic triage stands
    }
  };
  const r = await ctx.tool('triage', 'llm_triage', { draft }, call, (x) =>
    x
      ? {
          provider: x.result.provider,
          model: x.result.model,
          category: x.data.category,
          goal: x.data.goal,
          confidence: x.data.confidence,
          repaired: x.repaired,
        }
      : { error: 'the LLM refinement failed; the keyword triage is kept' },
  );
  await ctx.guard(fallbacks);
  if (!r) return { triage: t, refinement: null };
  const builtin = llm.chain[llm.chain.length - 1]!.name;
  const applied = r.result.provider !== builtin && r.data.confidence >= MIN_REFINED_CONFIDENCE;
  const refinement: Refinement = {
    provider: r.result.provider,
    model: r.result.model,
    deterministic: { category: t.category, goal: t.goal },
    confidence: r.data.confidence,
    applied,
  };
  if (!applied) return { triage: t, refinement };
  return {
    triage: { ...t, category: r.data.category, goal: r.data.goal, matched: [...t.matched, `llm:${r.result.provider}`] },
    refinement,
  };
}
