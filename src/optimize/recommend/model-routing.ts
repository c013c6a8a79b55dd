/**
 * model_routing: traffic on a premium (tier-3) model that a cheaper catalog model of adequate tier would serve.
 * Pure: routing-segment rows (app, model, operation, tags.task, prompt-size band) + AnalysisContext → KindResult.
 *
 * A segment is routable when its task class is simple (AnalysisParams.simple_tasks; the generator's `routable`
 * definition) or, failing that, when its prompts are in the smallest band and >= 95% of its completions are small.
 * Bands of one (app, model, operation, task) are merged into one recommendation. The target is the cheapest catalog
 * model (for the segment's own token mix) with the same operation mode, tier >= 2, a context window that holds the
 * segment's largest prompt, preferring the source's provider. Savings = segment spend − the same billed tokens at the
 * target's rates. Quality risk comes from mean quality_score per model when both models carry enough scores, else
 * from the tier gap (0: low; 1: medium, low for a simple task; >= 2: high).
 */
import type { AnalysisContext, CatalogModel } from '../context.js';
import type { RoutingSegmentRow, UsageResult } from '../ports/usage.js';
import { SMALL_COMPLETION_TOKENS } from '../ports/usage.js';
import { confidenceFromCount, type KindResult, type Recommendation, type Risk } from '../recommendation.js';
import { buildRecommendation, bySavings, fmt, pct, round, usd } from './usage-shared.js';

/** Tier a routed segment needs: one below premium. */
export const ROUTING_REQUIRED_TIER = 2;
const PREMIUM_TIER = 3;
/** Share of ok completions that must be small for a size-based segment. */
const SMALL_COMPLETION_SHARE = 0.95;
/** Quality-score deltas (target − source mean) that keep the risk low / medium. */
const SCORE_LOW = -0.02;
const SCORE_MEDIUM = -0.05;

type Basis = 'simple_task' | 'small_io';

interface Segment {
  app: string;
  model: string;
  operation: string;
  task: string | null;
  basis: Basis;
  bands: string[];
  events: number;
  spend: number;
  uncached: number;
  cached: number;
  completion: number;
  maxPrompt: number;
  samples: string[];
}

/** Cost of the segment's billed tokens at a model's rates. */
function costAt(m: Pick<CatalogModel, 'input' | 'cached_input' | 'output'>, s: Segment): number {
  return s.uncached * m.input + s.cached * m.cached_input + s.completion * m.output;
}

function basisOf(r: RoutingSegmentRow, simple: ReadonlySet<string>): Basis | null {
  if (r.task !== null && simple.has(r.task)) return 'simple_task';
  if (r.size_band === 'xs' && r.ok_events > 0 && r.small_completions / r.ok_events >= SMALL_COMPLETION_SHARE) return 'small_io';
  return null;
}

/** Cheapest adequate model: same provider first, then any provider; null when nothing is cheaper. */
export function pickTarget(source: CatalogModel, s: Segment, catalog: readonly CatalogModel[]): CatalogModel | null {
  const current = costAt(source, s);
  const fits = catalog.filter(
    (m) =>
      m.id !== source.id &&
      m.quality_tier >= ROUTING_REQUIRED_TIER &&
      m.modes.includes(s.operation) &&
      (m.context_window === null || m.context_window >= s.maxPrompt) &&
      costAt(m, s) < current,
  );
  const cheapest = (list: CatalogModel[]) =>
    list.reduce<CatalogModel | null>((best, m) => {
      if (!best) return m;
      const d = costAt(m, s) - costAt(best, s);
      return d < 0 || (d === 0 && m.id < best.id) ? m : best;
    }, null);
  return cheapest(fits.filter((m) => m.provider === source.provider)) ?? cheapest(fits);
}

/** Event-weighted mean quality_score per model (and per model+task) over all segments. */
function qualityByModel(rows: readonly RoutingSegmentRow[]): Map<string, { n: number; mean: number }> {
  const acc = new Map<string, { n: number; sum: number }>();
  const add = (k: string, n: number, mean: number) => {
    const a = acc.get(k) ?? { n: 0, sum: 0 };
    a.n += n;
    a.sum += n * mean;
    acc.set(k, a);
  };
  for (const r of rows) {
    if (r.quality_events <= 0 || r.mean_quality === null) continue;
    add(r.model, r.quality_events, r.mean_quality);
    if (r.task !== null) add(`${r.model}\u0000${r.task}`, r.quality_events, r.mean_quality);
  }
  return new Map([...acc].map(([k, a]) => [k, { n: a.n, mean: a.sum / a.n }]));
}

function qualityRisk(
  s: Segment,
  source: CatalogModel,
  target: CatalogModel,
  scores: Map<string, { n: number; mean: number }>,
  minEvents: number,
): { level: Risk; reason: string; measured: boolean } {
  const pick = (model: string) => {
    const byTask = s.task !== null ? scores.get(`${model}\u0000${s.task}`) : undefined;
    return byTask && byTask.n >= minEvents
      ? { ...byTask, where: `task '${s.task}'` }
      : scores.get(model) && scores.get(model)!.n >= minEvents
        ? { ...scores.get(model)!, where: 'all tasks' }
        : null;
  };
  const src = pick(s.model);
  const tgt = pick(target.id);
  if (src && tgt) {
    const delta = tgt.mean - src.mean;
    const level: Risk = delta >= SCORE_LOW ? 'low' : delta >= SCORE_MEDIUM ? 'medium' : 'high';
    return {
      level,
      measured: true,
      reason: `mean quality_score ${tgt.mean.toFixed(3)} on ${target.id} (${fmt(tgt.n)} scored calls, ${tgt.where}) vs ${src.mean.toFixed(3)} on ${s.model} (${fmt(src.n)}, ${src.where}): ${delta >= 0 ? '+' : ''}${delta.toFixed(3)}`,
    };
  }
  const gap = source.quality_tier - target.quality_tier;
  const why =
    s.basis === 'simple_task'
      ? `task '${s.task}' is a simple task class`
      : `prompts under 256 tokens and >= ${pct(SMALL_COMPLETION_SHARE, 0)} of completions <= ${SMALL_COMPLETION_TOKENS} tokens`;
  if (gap <= 0) return { level: 'low', measured: false, reason: `same quality tier (${target.quality_tier}) in the catalog; ${why}` };
  const level: Risk = gap >= 2 ? 'high' : s.basis === 'simple_task' ? 'low' : 'medium';
  return {
    level,
    measured: false,
    reason: `catalog tier ${source.quality_tier} → ${target.quality_tier} (gap ${gap}); ${why}; no quality_score on events to confirm`,
  };
}

/** Merges the size bands of each routable (app, model, operation, task) and returns the segments. */
function routableSegments(rows: readonly RoutingSegmentRow[], ctx: AnalysisContext): Segment[] {
  const simple = new Set(ctx.params.simple_tasks);
  const out = new Map<string, Segment>();
  for (const r of rows) {
    const src = ctx.resolve(r.model);
    if (!src || src.quality_tier < PREMIUM_TIER) continue;
    const basis = basisOf(r, simple);
    if (!basis) continue;
    const key = [r.app, r.model, r.operation, r.task ?? '', basis].join('\u0000');
    const s = out.get(key) ?? {
      app: r.app,
      model: r.model,
      operation: r.operation,
      task: r.task,
      basis,
      bands: [],
      events: 0,
      spend: 0,
      uncached: 0,
      cached: 0,
      completion: 0,
      maxPrompt: 0,
      samples: [],
    };
    s.bands.push(r.size_band);
    s.events += r.events;
    s.spend += r.spend_usd;
    s.uncached += r.billed_uncached_prompt_tokens;
    s.cached += r.billed_cached_prompt_tokens;
    s.completion += r.billed_completion_tokens;
    s.maxPrompt = Math.max(s.maxPrompt, r.max_prompt_tokens);
    if (s.samples.length < 3) s.samples.push(...r.sample_event_ids.slice(0, 3 - s.samples.length));
    out.set(key, s);
  }
  return [...out.values()];
}

export function recommendModelRouting(result: UsageResult<RoutingSegmentRow>, ctx: AnalysisContext): KindResult {
  const rows = result.rows;
  if (rows.length === 0) return { recommendations: [] };
  if (!rows.some((r) => ctx.resolve(r.model))) {
    return {
      recommendations: [],
      skipped: {
        kind: 'model_routing',
        reason: 'none of the models in the events is in the price catalog, so quality tiers and prices are unknown',
        needs: 'model ids the price catalog knows (or price overrides for the workspace)',
      },
    };
  }
  const scores = qualityByModel(rows);
  const recs: Recommendation[] = [];
  for (const s of routableSegments(rows, ctx)) {
    if (s.events < ctx.params.min_events) continue;
    const source = ctx.resolve(s.model)!;
    const target = pickTarget(source, s, ctx.catalog);
    if (!target) continue;
    const currentAtCatalog = costAt(source, s);
    const targetCost = costAt(target, s);
    const savings = s.spend - targetCost;
    if (!(savings > 0)) continue;
    const risk = qualityRisk(s, source, target, scores, ctx.params.min_events);
    const taskLabel = s.task ?? '(no task tag)';
    const bands = [...new Set(s.bands)].sort();
    recs.push(
      buildRecommendation(
        {
          kind: 'model_routing',
          key: `${s.app}/${s.model}/${s.operation}/${taskLabel}${s.basis === 'small_io' ? '/small' : ''}`,
          title: `Route ${s.app} '${taskLabel}' calls from ${s.model} to ${target.id}`,
          scope: {
            app: s.app,
            model: s.model,
            segment: `task=${taskLabel}; prompt bands ${bands.join(',')}`,
            task: s.task ?? undefined,
            target_model: target.id,
            basis: s.basis,
          },
          events: s.events,
          spend_usd: s.spend,
          window_savings_usd: savings,
          latency_impact: {
            p50_ms_delta: null,
            p95_ms_delta: null,
            description: `not measured: ${target.id} has no traffic-based latency here; smaller models are usually faster to first token, verify in the shadow test`,
          },
          quality_risk: { level: risk.level, reason: risk.reason },
          confidence: confidenceFromCount(s.events) * (s.basis === 'simple_task' ? 1 : 0.8) * (risk.measured ? 1 : 0.9),
          assumptions: risk.measured
            ? undefined
            : [
                `No quality_score on these events: that ${target.id} (catalog tier ${target.quality_tier}) answers ${s.task ? `'${s.task}'` : 'these small calls'} as well as ${s.model} (tier ${source.quality_tier}) is assumed from the catalog tiers${s.basis === 'simple_task' ? ' and the task being a simple class' : ' and the calls being small'}, not measured.`,
              ],
          evidence: {
            figures: {
              events: s.events,
              spend_usd: round(s.spend),
              target_cost_usd: round(targetCost),
              window_savings_usd: round(savings),
              source_cost_at_catalog_usd: round(currentAtCatalog),
              billed_uncached_prompt_tokens: s.uncached,
              billed_cached_prompt_tokens: s.cached,
              billed_completion_tokens: s.completion,
              max_prompt_tokens: s.maxPrompt,
              target_context_window: target.context_window,
              source_tier: source.quality_tier,
              target_tier: target.quality_tier,
              target_input_usd_per_mtok: round(target.input * 1e6),
              target_output_usd_per_mtok: round(target.output * 1e6),
              basis: s.basis,
              prompt_bands: bands.join(','),
            },
            query: result.sql,
            sample_event_ids: s.samples,
          },
          how_to_apply: [
            `Add a routing rule: requests from app '${s.app}'${s.task ? ` with tags.task = '${s.task}'` : ' with prompts under 256 tokens'} go to ${target.id} instead of ${s.model} (e.g. a LiteLLM/Portkey route keyed on the task tag).`,
            `Shadow-test first: send ${pct(0.05, 0)} of that traffic to ${target.id} and compare outputs (or quality_score) with ${s.model} for a few days.`,
            `Roll out gradually and keep ${s.model} as the fallback for errors or low-confidence answers.`,
            `Expected: ${usd(s.spend)} → ${usd(targetCost)} over the analysed window on the same tokens (${pct(savings / Math.max(s.spend, 1e-12))} less).`,
          ],
        },
        ctx,
      ),
    );
  }
  if (
    recs.length === 0 &&
    !rows.some((r) => r.task !== null) &&
    rows.some((r) => (ctx.resolve(r.model)?.quality_tier ?? 0) >= PREMIUM_TIER)
  ) {
    return {
      recommendations: [],
      skipped: {
        kind: 'model_routing',
        reason:
          'premium-model traffic exists but no event carries a task class, so simple tasks cannot be told apart (and no segment is small enough to route on size alone)',
        needs: 'tags.task on events (e.g. classification, extraction, faq, short_answer)',
      },
    };
  }
  return { recommendations: recs.sort(bySavings) };
}
