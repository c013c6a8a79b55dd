/**
 * One recommendation per change a team would make (pure). Two rules, both about the same change being proposed twice:
 *
 * - Routing: model_routing items of one app, one source model and one target model (simple-task basis) are one routing
 *   rule keyed on a list of tasks ("route ops-agent's extraction and tool_selection calls from X to Y"). Their events
 *   are disjoint (one task each), so figures add up.
 * - Response cache: an app's exact_cache and semantic_cache items are one cache in front of the app (a semantic cache
 *   answers exact repeats first; the replay counts them the same way). The near hits exclude the exact repeats by
 *   construction, so the savings add up; the risk is the semantic cache's, and the steps say to start with the exact
 *   part alone when that risk is not acceptable.
 *
 * Everything else is left as it is: other kinds touch different events or for a different reason. A merged item keeps
 * the ids it replaces in `merged_from`.
 */
import { share, type Recommendation, type Risk } from './recommendation.js';

const RISK_ORDER: Record<Risk, number> = { low: 0, medium: 1, high: 2 };
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const usd = (x: number) => `$${x.toFixed(2)}`;

/** Sums the additive fields; confidence is the savings-weighted mean (the event-weighted one when nothing saves). */
function combined(
  parts: readonly Recommendation[],
): Pick<
  Recommendation,
  'affected_share' | 'affected_spend_share' | 'monthly_savings_usd' | 'savings_share' | 'confidence' | 'quality_risk'
> {
  const sum = (f: (r: Recommendation) => number) => parts.reduce((s, r) => s + f(r), 0);
  const savings = sum((r) => r.monthly_savings_usd);
  const weight = (r: Recommendation) => (savings > 0 ? r.monthly_savings_usd : r.affected_share);
  const wsum = sum(weight);
  const worst = [...parts].sort((a, b) => RISK_ORDER[b.quality_risk.level] - RISK_ORDER[a.quality_risk.level])[0]!;
  return {
    affected_share: r6(sum((r) => r.affected_share)),
    affected_spend_share: r6(sum((r) => r.affected_spend_share)),
    monthly_savings_usd: r6(savings),
    savings_share: r6(sum((r) => r.savings_share)),
    confidence: Math.round((wsum > 0 ? sum((r) => r.confidence * weight(r)) / wsum : parts[0]!.confidence) * 1000) / 1000,
    quality_risk: { level: worst.quality_risk.level, reason: worst.quality_risk.reason },
  };
}

const samples = (parts: readonly Recommendation[]) => parts.flatMap((r) => r.evidence.sample_event_ids).slice(0, 3);

function mergeRouting(parts: Recommendation[]): Recommendation {
  parts.sort((a, b) => b.monthly_savings_usd - a.monthly_savings_usd || a.id.localeCompare(b.id));
  const first = parts[0]!;
  const { app, model, target_model: target } = first.scope;
  const tasks = parts.map((r) => r.scope.task!).sort();
  const c = combined(parts);
  const figures: Recommendation['evidence']['figures'] = {
    merged_recommendations: parts.length,
    tasks: tasks.join(','),
    source_tier: first.evidence.figures.source_tier ?? null,
    target_tier: first.evidence.figures.target_tier ?? null,
  };
  for (const r of parts) {
    figures[`events:${r.scope.task}`] = r.evidence.figures.events ?? null;
    figures[`standalone_monthly_savings_usd:${r.scope.task}`] = r6(r.monthly_savings_usd);
  }
  return {
    ...first,
    ...c,
    id: `model_routing:${app}/${model}/${tasks.join('+')}`,
    title: `Route ${app} ${tasks.map((t) => `'${t}'`).join(' and ')} calls from ${model} to ${target}`,
    scope: { ...first.scope, task: tasks.join(','), segment: `tasks ${tasks.join(', ')}` },
    evidence: { figures, query: first.evidence.query, sample_event_ids: samples(parts) },
    how_to_apply: [
      `Add one routing rule: requests from app '${app}' with tags.task in (${tasks.map((t) => `'${t}'`).join(', ')}) go to ${target} instead of ${model}.`,
      ...first.how_to_apply.slice(1, 3),
      `Per task, on its own: ${parts.map((r) => `${r.scope.task} ${usd(r.monthly_savings_usd)}/month`).join(', ')}.`,
    ],
    merged_from: parts.map((r) => r.id),
  };
}

function mergeCaches(exact: Recommendation, semantic: Recommendation): Recommendation {
  const c = combined([exact, semantic]);
  const ef = exact.evidence.figures;
  const sf = semantic.evidence.figures;
  return {
    ...semantic,
    ...c,
    quality_risk: semantic.quality_risk,
    title: `Put a response cache in front of ${semantic.scope.app}: ${exact.title.replace(/^.*?: /, '')} and ${semantic.title.replace(/^.*?: /, '')}`,
    scope: { ...semantic.scope, segment: 'exact repeats and near-duplicate prompts within the TTL' },
    evidence: {
      figures: {
        ...sf,
        exact_hits: ef.hits ?? null,
        exact_hit_rate: ef.hit_rate ?? null,
        exact_hit_spend_usd: ef.hit_spend_usd ?? null,
        standalone_monthly_savings_usd_exact: r6(exact.monthly_savings_usd),
        standalone_monthly_savings_usd_semantic: r6(semantic.monthly_savings_usd),
        exact_share_of_savings: r6(share(exact.monthly_savings_usd, c.monthly_savings_usd)),
      },
      query: `${exact.evidence.query};\n${semantic.evidence.query}`,
      sample_event_ids: samples([exact, semantic]),
    },
    how_to_apply: [
      ...semantic.how_to_apply,
      `The exact part alone (${usd(exact.monthly_savings_usd)}/month, risk ${exact.quality_risk.level}) needs no similarity threshold: deploy it first if the near-hit risk is not acceptable (${exact.how_to_apply[0] ?? ''}).`,
    ],
    merged_from: [exact.id, semantic.id],
  };
}

/** Applies both rules; the order of the rest is kept (ranking comes after). */
export function mergeRecommendations(recs: readonly Recommendation[]): Recommendation[] {
  const routes = new Map<string, Recommendation[]>();
  const exact = new Map<string, Recommendation>();
  const semantic = new Map<string, Recommendation>();
  for (const r of recs) {
    const { app, model, target_model, task, basis } = r.scope;
    if (r.kind === 'model_routing' && basis === 'simple_task' && app && model && target_model && task) {
      const k = `${app}\u0000${model}\u0000${target_model}`;
      routes.set(k, [...(routes.get(k) ?? []), r]);
    }
    if (r.kind === 'exact_cache' && r.scope.app) exact.set(r.scope.app, r);
    if (r.kind === 'semantic_cache' && r.scope.app) semantic.set(r.scope.app, r);
  }
  const replaced = new Map<string, Recommendation | null>();
  for (const parts of routes.values()) {
    if (parts.length < 2) continue;
    const m = mergeRouting([...parts]);
    parts.forEach((p, i) => replaced.set(p.id, i === 0 ? m : null));
  }
  for (const [app, s] of semantic) {
    const e = exact.get(app);
    if (!e) continue;
    replaced.set(e.id, mergeCaches(e, s));
    replaced.set(s.id, null);
  }
  return recs.flatMap((r) => {
    if (!replaced.has(r.id)) return [r];
    const m = replaced.get(r.id);
    return m ? [m] : [];
  });
}
