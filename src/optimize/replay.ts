/**
 * What-if replay: a policy (policy.ts) applied to the stored history, deterministically, giving baseline vs projected
 * spend, latency p50/p95, cache hit rate and share of traffic changed, in total and per UTC day, with the
 * assumptions behind every figure. No I/O: it receives the replay port (ports/replay.ts), whose store does the
 * heavy lifting in SQL; this file resolves the policy (`buildReplayPlan`), runs the semantic cache simulation
 * (near-duplicates.ts) and the provider prompt-cache simulation (prompt-cache-simulation.ts) in JS, shapes the result.
 *
 * Order of application per event: routing (first matching rule) → provider prompt caching (read tokens at the cached
 * price) → response cache (exact, then semantic; a hit costs 0 and takes `cache_latency_ms`) → max_tokens cap (first
 * matching cap) → batch discount.
 */
import type { AnalysisContext } from './context.js';
import { createNearDuplicateIndex } from './near-duplicates.js';
import { validatePolicy, type Policy, type PolicyMatch } from './policy.js';
import type { CacheQueries } from './ports/cache.js';
import type { AnalysisScope } from './ports/index.js';
import { promptCacheReads } from './prompt-cache-simulation.js';
import {
  emptyReplayTotal,
  type ReplayAggregateRow,
  type ReplayMatch,
  type ReplayModelRow,
  type ReplayPlan,
  type ReplayQueries,
  type ReplayRate,
} from './ports/replay.js';
import { monthly, share } from './recommendation.js';
import { SEMANTIC_SAMPLE_MAX_EVENTS, SEMANTIC_SAMPLE_SLICES, semanticSampleSlices, warmedRanges } from './recommend/semantic-cache.js';

export const DEFAULT_CACHE_LATENCY_MS = 20;

export type ReplayContext = Pick<AnalysisContext, 'workspace' | 'from' | 'to' | 'rates' | 'resolve'>;

export interface ReplayOptions {
  /** latency of a response served from cache (ms); default 20 */
  cache_latency_ms?: number;
  /** above this many events the semantic-cache simulation samples time slices (default SEMANTIC_SAMPLE_MAX_EVENTS) */
  semantic_max_events?: number;
}

/**
 * The semantic-cache hits of a replay. Up to `maxEvents` events in the window: every text event in time order
 * (exact). Above: the same slices as the analysis's semantic pass (recommend/semantic-cache.ts): SEMANTIC_SAMPLE_SLICES
 * evenly spaced slices holding about `maxEvents` events together, each after one TTL of warm-up that fills the index
 * without being counted; each hit found there stands for (events in the window / events in the slices) events. The
 * slices are counted in one query and streamed in one scan.
 */
async function semanticHits(
  queries: ReplayQueries & Pick<CacheQueries, 'countEvents'>,
  scope: AnalysisScope,
  plan: ReplayPlan,
  o: { ttlMs: number; threshold: number | undefined; totalEvents: number; maxEvents: number | undefined },
): Promise<{ hits: string[]; streamed: number; weight: number; note: string | null }> {
  const index = createNearDuplicateIndex({ ttlMs: o.ttlMs, threshold: o.threshold });
  const hits: string[] = [];
  const maxEvents = o.maxEvents ?? SEMANTIC_SAMPLE_MAX_EVENTS;
  if (o.totalEvents <= maxEvents) {
    const streamed = await queries.replayTextEvents(scope, plan.routing, (batch) => {
      for (const e of batch) if (index.observe(e).kind === 'near') hits.push(e.event_id);
    });
    return { hits, streamed, weight: 1, note: null };
  }
  const { slices, sliceLen } = semanticSampleSlices(scope, o.totalEvents, maxEvents, o.ttlMs);
  const counted = (await queries.countEvents(scope, slices)).reduce((x, y) => x + y, 0);
  let slice = 0;
  const streamed = await queries.replayTextEvents(
    scope,
    plan.routing,
    (batch) => {
      for (const e of batch) {
        if (index.observe(e).kind !== 'near') continue;
        while (slice < slices.length && e.timestamp >= slices[slice]!.to) slice++;
        if (slice < slices.length && e.timestamp >= slices[slice]!.from) hits.push(e.event_id);
      }
    },
    { ranges: warmedRanges(scope, slices, o.ttlMs) },
  );
  if (counted === 0) return { hits, streamed, weight: 1, note: null };
  const weight = o.totalEvents / counted;
  return {
    hits,
    streamed,
    weight,
    note: `Semantic cache, sampled (the window holds ${o.totalEvents} events, more than ${maxEvents}): near-duplicate hits were searched in ${SEMANTIC_SAMPLE_SLICES} evenly spaced slices of ${Math.round(sliceLen / 60_000)} min holding ${counted} events (each after one TTL of uncounted warm-up); each of the ${hits.length} hits found stands for ${weight.toFixed(2)} events in the totals and savings (their cost, counts and savings are extrapolated, including per day on the slices' days). Latency percentiles include only the sampled hits.`,
  };
}

export interface ReplayFigures {
  events: number;
  spend_usd: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  /** share of events served from a response cache */
  cache_hit_rate: number;
}

export interface ReplayDay {
  /** UTC day, YYYY-MM-DD */
  day: string;
  baseline: ReplayFigures;
  projected: ReplayFigures;
  savings_usd: number;
  changed_share: number;
}

export interface ReplayBreakdown {
  routed_events: number;
  routing_savings_usd: number;
  exact_cache_hits: number;
  semantic_cache_hits: number;
  cache_savings_usd: number;
  /** calls that read the provider prompt cache (policy.prompt_caching), and what the cached reads save net of writes */
  prompt_cache_hits: number;
  prompt_cache_savings_usd: number;
  batch_events: number;
  batch_savings_usd: number;
  /** events whose completion exceeded their cap: billed at the cap, and their answers would have been cut off */
  truncated_events: number;
  cap_savings_usd: number;
  /** events matched by each routing rule (including those already on the target model) */
  routing_rule_events: number[];
}

export interface ReplayResult {
  policy: Policy;
  workspace: string;
  from: number;
  to: number;
  baseline: ReplayFigures;
  projected: ReplayFigures;
  savings_usd: number;
  /** savings_usd / baseline spend */
  savings_share: number;
  /** savings projected to 30 days */
  monthly_savings_usd: number;
  changed_events: number;
  changed_share: number;
  breakdown: ReplayBreakdown;
  per_day: ReplayDay[];
  assumptions: string[];
  /** the SQL that produced the figures (evidence) */
  query: string;
}

/** Prompt-cache write premium per token: cache_write - input where the provider bills one (Anthropic), else 0. */
const writePremium = (rt: { input: number; cache_write: number | null }): number =>
  rt.cache_write !== null && rt.cache_write > rt.input ? rt.cache_write - rt.input : 0;

/** Canonical catalog id of a stored model id (the id itself when the catalog does not know it). */
const canonical = (ctx: ReplayContext, model: string) => ctx.resolve(model)?.id ?? ctx.rates(model)?.model ?? model;

function resolveMatch(m: PolicyMatch, where: string, models: readonly ReplayModelRow[], ctx: ReplayContext, notes: string[]): ReplayMatch {
  let stored: string[] | null = null;
  if (m.model) {
    const wanted = new Set(m.model.map((x) => canonical(ctx, x)));
    stored = models.filter((r) => wanted.has(canonical(ctx, r.model))).map((r) => r.model);
    if (stored.length === 0)
      notes.push(`${where}.match.model (${m.model.join(', ')}) matches no model seen in the window: the rule changes nothing.`);
  }
  return {
    apps: m.app ?? null,
    models: stored,
    tasks: m.task ?? null,
    min_prompt_tokens: m.min_prompt_tokens ?? null,
    max_prompt_tokens: m.max_prompt_tokens ?? null,
    tags: Object.entries(m.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    offline: m.offline === true,
  };
}

/** Resolves a validated policy against the catalog and the workspace's models. Pure. */
export function buildReplayPlan(
  policy: Policy,
  models: readonly ReplayModelRow[],
  ctx: ReplayContext,
  opts: ReplayOptions = {},
): { plan: ReplayPlan; assumptions: string[] } {
  const notes: string[] = [];
  const rates = new Map<string, ReplayRate>();
  const mptByCanonical = new Map<string, { events: number; mpt: number }>();
  for (const r of models) {
    const rt = ctx.rates(r.model);
    if (rt) {
      rates.set(r.model, {
        model: r.model,
        input: rt.input,
        cached_input: rt.cached_input,
        output: rt.output,
        batch_discount: ctx.resolve(r.model)?.batch_discount ?? 0,
        ms_per_output_token: r.ms_per_output_token,
        cache_write_premium: writePremium(rt),
      });
    }
    const c = canonical(ctx, r.model);
    const prev = mptByCanonical.get(c);
    if (r.ms_per_output_token !== null && (!prev || r.events > prev.events))
      mptByCanonical.set(c, { events: r.events, mpt: r.ms_per_output_token });
  }
  const unpriced = models.filter((r) => !rates.has(r.model)).map((r) => r.model);

  const routing = policy.routing.map((rule, i) => {
    const rt = ctx.rates(rule.target_model);
    if (!rt) throw new Error(`routing[${i}].target_model '${rule.target_model}' has no rates (validate the policy first)`);
    const target = rt.model;
    if (!rates.has(target)) {
      rates.set(target, {
        model: target,
        input: rt.input,
        cached_input: rt.cached_input,
        output: rt.output,
        batch_discount: ctx.resolve(target)?.batch_discount ?? 0,
        ms_per_output_token: mptByCanonical.get(target)?.mpt ?? null,
        cache_write_premium: writePremium(rt),
      });
    }
    const match = resolveMatch(rule.match, `routing[${i}]`, models, ctx, notes);
    const same = models.filter((r) => canonical(ctx, r.model) === target).map((r) => r.model);
    if (rates.get(target)!.ms_per_output_token === null) {
      notes.push(`routing[${i}]: the workspace has no latency data for ${target}, so the latency of calls routed to it is left unchanged.`);
    } else {
      const sources = (match.models ?? models.map((r) => r.model)).filter((m) => !same.includes(m));
      const blind = sources.filter((m) => rates.get(m)?.ms_per_output_token == null);
      if (blind.length)
        notes.push(`routing[${i}]: no latency data for ${blind.join(', ')}, so calls routed away from them keep their recorded latency.`);
    }
    return { match, target_model: target, same_models: same };
  });

  const exactOn = policy.exact_cache?.enabled === true;
  const semOn = policy.semantic_cache?.enabled === true;
  const ttlS = exactOn ? policy.exact_cache!.ttl_seconds : semOn ? policy.semantic_cache!.ttl_seconds : null;
  const plan: ReplayPlan = {
    routing,
    exact_cache_ttl_ms: ttlS === null ? null : ttlS * 1000,
    semantic_hit_ids: [],
    prompt_cache: null,
    cache_latency_ms: opts.cache_latency_ms ?? DEFAULT_CACHE_LATENCY_MS,
    batch: policy.batch.map((b, i) => resolveMatch(b.match, `batch[${i}]`, models, ctx, notes)),
    caps: policy.max_tokens_caps.map((c, i) => ({ match: resolveMatch(c.match, `max_tokens_caps[${i}]`, models, ctx, notes), cap: c.cap })),
    rates: [...rates.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0)),
  };

  const a: string[] = [
    'Baseline: the recorded traffic had no response cache in front of it (every stored event was a provider call), so its cache hit rate is 0.',
  ];
  if (routing.length) {
    a.push(
      "Routing: a rerouted call keeps its recorded token counts (tokenizer differences ignored, cached prompt tokens kept) and is billed at the target model's catalog rates; its latency is scaled by the ratio of the two models' median latency per output token in this workspace.",
    );
  }
  if (ttlS !== null) {
    a.push(
      `Exact cache (TTL ${ttlS} s): a call is a hit when an earlier successful call of the same (routed model, prompt_hash) lies within the TTL (the generator manifest's exact_duplicate definition; a cache that does not refresh entries on hits would hit slightly less). Calls without prompt_hash never hit. A hit costs 0 and takes ${plan.cache_latency_ms} ms.`,
    );
    if (!exactOn) a.push('The semantic cache also serves exact repeats, so exact hits are counted with the semantic cache TTL.');
  }
  if (policy.batch.length) {
    a.push(
      'Batch: matched calls (not served from cache) are billed at (1 - the catalog batch_discount of the model that serves them). Their recorded latency is kept, so batching does not move the interactive latency percentiles; in reality a batch API answers within its completion window (up to 24 h).',
    );
    const noBatch = plan.rates.filter((r) => r.batch_discount === 0).map((r) => r.model);
    if (noBatch.length) a.push(`No batch API in the catalog (no discount) for: ${noBatch.join(', ')}.`);
  }
  if (policy.max_tokens_caps.length) {
    a.push(
      'Caps: a call whose completion exceeded its cap is billed for cap completion tokens and counted as truncated (its answer would have been cut off); its latency is shortened in proportion to the decode time where ttft_ms is recorded, else left unchanged.',
    );
  }
  if (unpriced.length && (policy.max_tokens_caps.length || policy.batch.length)) {
    a.push(
      `Models unknown to the price catalog keep their recorded cost under caps (no output rate to price the clipped tokens): ${unpriced.join(', ')}.`,
    );
  }
  return { plan, assumptions: [...a, ...notes] };
}

const figures = (events: number, spend: number, p50: number | null, p95: number | null, hits: number): ReplayFigures => ({
  events,
  spend_usd: spend,
  latency_p50_ms: p50,
  latency_p95_ms: p95,
  cache_hit_rate: share(hits, events),
});

/** Shapes the store's aggregate rows into the result (pure). */
export function replayResultFrom(
  policy: Policy,
  ctx: ReplayContext,
  rows: readonly ReplayAggregateRow[],
  assumptions: string[],
  query: string,
): ReplayResult {
  const t = rows.find((r) => r.day === null) ?? emptyReplayTotal(policy.routing.length);
  const savings = t.baseline_spend_usd - t.projected_spend_usd;
  return {
    policy,
    workspace: ctx.workspace,
    from: ctx.from,
    to: ctx.to,
    baseline: figures(t.events, t.baseline_spend_usd, t.baseline_latency_p50_ms, t.baseline_latency_p95_ms, 0),
    projected: figures(
      t.events,
      t.projected_spend_usd,
      t.projected_latency_p50_ms,
      t.projected_latency_p95_ms,
      t.exact_hits + t.semantic_hits,
    ),
    savings_usd: savings,
    savings_share: share(savings, t.baseline_spend_usd),
    monthly_savings_usd: monthly(savings, ctx.to - ctx.from),
    changed_events: t.changed,
    changed_share: share(t.changed, t.events),
    breakdown: {
      routed_events: t.routed,
      routing_savings_usd: t.routing_savings_usd,
      exact_cache_hits: t.exact_hits,
      semantic_cache_hits: t.semantic_hits,
      cache_savings_usd: t.cache_savings_usd,
      prompt_cache_hits: t.prompt_cache_hits,
      prompt_cache_savings_usd: t.prompt_cache_savings_usd,
      batch_events: t.batched,
      batch_savings_usd: t.batch_savings_usd,
      truncated_events: t.truncated,
      cap_savings_usd: t.cap_savings_usd,
      routing_rule_events: t.rule_events,
    },
    per_day: rows
      .filter((r) => r.day !== null)
      .map((r) => ({
        day: r.day!,
        baseline: figures(r.events, r.baseline_spend_usd, r.baseline_latency_p50_ms, r.baseline_latency_p95_ms, 0),
        projected: figures(
          r.events,
          r.projected_spend_usd,
          r.projected_latency_p50_ms,
          r.projected_latency_p95_ms,
          r.exact_hits + r.semantic_hits,
        ),
        savings_usd: r.baseline_spend_usd - r.projected_spend_usd,
        changed_share: share(r.changed, r.events),
      })),
    assumptions,
    query,
  };
}

/**
 * Replays a policy (raw JSON or validated) over the scope. Throws NETRA_E_VALIDATION naming the field for a
 * malformed policy or an unknown target model.
 */
export async function replayPolicy(
  queries: ReplayQueries & Pick<CacheQueries, 'scanPrefixBlocks' | 'countEvents'>,
  ctx: ReplayContext,
  rawPolicy: unknown,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const policy = validatePolicy(rawPolicy, { knownModel: (m) => ctx.rates(m) !== null });
  const scope: AnalysisScope = { workspace: ctx.workspace, from: ctx.from, to: ctx.to };
  const models = await queries.replayModels(scope, { latency: policy.routing.length > 0 });
  const { plan, assumptions } = buildReplayPlan(policy, models, ctx, opts);

  if (policy.semantic_cache?.enabled) {
    const sc = policy.semantic_cache;
    const totalEvents = models.reduce((s, r) => s + r.events, 0);
    const sem = await semanticHits(queries, scope, plan, {
      ttlMs: sc.ttl_seconds * 1000,
      threshold: sc.threshold,
      totalEvents,
      maxEvents: opts.semantic_max_events,
    });
    plan.semantic_hit_ids = sem.hits;
    if (sem.weight !== 1) plan.semantic_hit_weight = sem.weight;
    if (sem.streamed === 0) {
      assumptions.push(
        'Semantic cache: no event in the window carries prompt_text, so no near-duplicate hits were simulated (send prompt_text with events to enable it); only exact repeats are counted.',
      );
    } else {
      assumptions.push(
        `Semantic cache (TTL ${sc.ttl_seconds} s${sc.threshold !== undefined ? `, threshold ${sc.threshold}` : ''}): near-duplicate hits were found by streaming the ${sem.streamed} text-bearing events (of ${totalEvents}) in time order through the MinHash near-duplicate index (near-duplicates.ts, in JS: linear in text events, roughly 5-20 µs each), as a cache that stores misses only; events without prompt_text can only hit exactly.`,
      );
      if (sem.note) assumptions.push(sem.note);
    }
  }

  if (policy.prompt_caching?.enabled) {
    const w = policy.prompt_caching.window_seconds;
    const pc = await promptCacheReads(queries, scope, w * 1000, (m) => ctx.resolve(m)?.min_cacheable_prompt_tokens ?? null);
    plan.prompt_cache = pc.reads;
    assumptions.push(
      pc.chained === 0
        ? 'Prompt caching: no event in the window carries a prompt block chain (prefix_block_hashes, or prompt_text of 1,024 tokens or more), so no provider prompt-cache reads were simulated.'
        : `Prompt caching (cache lifetime ${w} s, refreshed on use): the ${pc.chained} events with a prompt block chain were replayed in time order through a simulated provider cache per (app, recorded model) (prompt-cache-simulation.ts): a call reads the longest run of its leading blocks sent by a successful call within the lifetime, at least the model's minimum cacheable prompt (catalog). Read tokens are billed at the serving model's cached-input price; cache writes, at the write premium (Anthropic), only where a later call reads them. A call served by a response cache or rerouted keeps the simulated reads of its recorded model.`,
    );
  }

  const { rows, sql } = await queries.replaySimulate(scope, plan);
  return replayResultFrom(policy, ctx, rows, assumptions, sql);
}
