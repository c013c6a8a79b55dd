/**
 * The manifest: the planted truth of a generated workload, counted exactly while events are emitted, with the
 * definition of every figure (also in docs/GENERATOR.md). Every figure is recomputable from the stored events
 * alone (test/corpus.test.ts does so). Memory is bounded: per-model and per-(app, model) counters and one
 * completion-token histogram of size max_tokens + 1 per (app, model) for exact p99s. Pure.
 */
import type { Burst } from './arrivals.js';
import type { LatencyProfile } from './models.js';

export const OVER_PROVISIONED_RATIO = 4;

export const MANIFEST_DEFINITIONS: Readonly<Record<string, string>> = {
  earlier:
    'Event A is earlier than B when A.timestamp < B.timestamp (generated timestamps are strictly increasing). "Within W" means 0 < B.timestamp - A.timestamp <= W.',
  total_spend_usd: 'Sum of cost_usd over all events (failed calls included; 429s cost 0).',
  spend_share: 'For a class of events: sum of their cost_usd / total_spend_usd. A share without "spend" is their count / events.',
  exact_duplicate:
    'An event with an earlier status=ok event of the same model and the same prompt_hash within exact_cache_ttl_seconds (a response cache would have served it).',
  near_duplicate:
    'Not an exact duplicate, and there is an earlier status=ok event of the same model, with a different prompt_hash, within exact_cache_ttl_seconds, whose prompt_text has word-3-shingle Jaccard >= near_duplicate_jaccard with this one (words = lower-cased runs of [a-z0-9]).',
  routable: 'An event on a tier-3 model (tiers as listed in params.tiers) whose tags.task is in params.simple_tasks.',
  batchable: 'An event with tags.latency_class = "offline", end_user null and session_id null.',
  prefix_cacheable:
    'An event with prefix_tokens >= params.prefix_min_tokens and an earlier status=ok event of the same model and the same prefix_hash within prefix_cache_window_seconds (a warm provider prompt cache).',
  error: 'An event with status = "error".',
  retry: 'An event whose trace_id and prompt_hash equal those of an earlier status=error event.',
  truncated: 'An event with finish_reason = "length" (completion_tokens = max_tokens).',
  max_tokens_headroom:
    'Per (app, model) with max_tokens set: p99 = nearest-rank 99th percentile (smallest v with count(completion_tokens <= v) >= ceil(0.99 n)) of completion_tokens over its status=ok events; ratio = max_tokens / p99; the group is over-provisioned when max_tokens >= 4 x p99. over_provisioned_share = events of over-provisioned groups / events; truncated_share = truncated events / events.',
  prompt_hash:
    '16 hex chars (64-bit), not sha256(prompt_text): a hash of the full prompt identity (app system prompt, conversation so far, prompt_text). Within one generated workspace equal prompt_hash <=> equal (app, prefix_hash, prompt_text, conversation).',
  prompt_text:
    'The newest part of the prompt: the user request (or, in a chain, the newest user message / tool observation). System prompt and retrieved context are counted in prompt_tokens but not reproduced.',
};

export interface Manifest {
  version: 1;
  preset: string;
  seed: number;
  workspace: string;
  events: number;
  days: number;
  from: number;
  to: number;
  total_spend_usd: number;
  counts: Record<
    'exact_duplicate' | 'near_duplicate' | 'routable' | 'batchable' | 'prefix_cacheable' | 'error' | 'retry' | 'truncated',
    number
  >;
  spend_usd: Record<'exact_duplicate' | 'near_duplicate' | 'routable' | 'batchable' | 'prefix_cacheable' | 'error' | 'retry', number>;
  shares: {
    exact_duplicate_share: number;
    exact_duplicate_spend_share: number;
    near_duplicate_share: number;
    near_duplicate_spend_share: number;
    routable_share: number;
    routable_spend_share: number;
    batchable_share: number;
    batchable_spend_share: number;
    prefix_cacheable_share: number;
    prefix_cacheable_spend_share: number;
    error_share: number;
    error_spend_share: number;
    retry_share: number;
    retry_spend_share: number;
  };
  max_tokens_headroom: {
    over_provisioned_ratio: number;
    over_provisioned_share: number;
    truncated_share: number;
    groups: {
      app: string;
      model: string;
      events: number;
      ok_events: number;
      max_tokens: number;
      p99_completion_tokens: number;
      ratio: number | null;
      over_provisioned: boolean;
      truncated: number;
    }[];
  };
  models: Record<string, { events: number; errors: number; spend_usd: number; tier: number | null }>;
  apps: Record<string, { events: number; spend_usd: number; latency_class: string }>;
  errors_by_http_status: Record<string, number>;
  chains: { sessions: number; session_events: number; agent_runs: number; agent_events: number };
  params: {
    exact_cache_ttl_seconds: number;
    prefix_cache_window_seconds: number;
    prefix_min_tokens: number;
    near_duplicate_jaccard: number;
    simple_tasks: string[];
    tiers: Record<string, number | null>;
  };
  latency_models: Record<string, LatencyProfile>;
  bursts: Burst[];
  definitions: Record<string, string>;
}

/** What the manifest counts of one event (the generator fills one record and reuses it). */
export interface ManifestRow {
  app: string;
  model: string;
  /** the event's tags (task, latency_class) */
  tags: Readonly<Record<string, string>>;
  cost: number;
  hasUser: boolean;
  hasSession: boolean;
  error: boolean;
  http: number | null;
  /** finish_reason = 'length' */
  truncated: boolean;
  completion: number;
}

export interface EventFlags {
  exact: boolean;
  near: boolean;
  prefixCacheable: boolean;
  retry: boolean;
}

interface Group {
  app: string;
  model: string;
  maxTokens: number;
  events: number;
  hist: Uint32Array;
  ok: number;
  truncated: number;
}

type Header = Pick<Manifest, 'preset' | 'seed' | 'workspace' | 'events' | 'days' | 'from' | 'to' | 'params' | 'latency_models'>;

export class ManifestBuilder {
  private readonly counts = {
    exact_duplicate: 0,
    near_duplicate: 0,
    routable: 0,
    batchable: 0,
    prefix_cacheable: 0,
    error: 0,
    retry: 0,
    truncated: 0,
  };
  private readonly spend = { exact_duplicate: 0, near_duplicate: 0, routable: 0, batchable: 0, prefix_cacheable: 0, error: 0, retry: 0 };
  private total = 0;
  private n = 0;
  private readonly groups: Group[] = [];
  private readonly models = new Map<string, { events: number; errors: number; spend_usd: number; tier: number | null }>();
  private readonly apps = new Map<string, { events: number; spend_usd: number; latency_class: string }>();
  private readonly byStatus: Record<string, number> = {};
  readonly chains = { sessions: 0, session_events: 0, agent_runs: 0, agent_events: 0 };
  private readonly simple: Set<string>;

  constructor(private readonly header: Header) {
    this.simple = new Set(header.params.simple_tasks);
  }

  /** Registers an (app, model) max_tokens group; returns its index (-1 when max_tokens is null). */
  group(app: string, model: string, maxTokens: number | null): number {
    if (maxTokens === null) return -1;
    this.groups.push({ app, model, maxTokens, events: 0, hist: new Uint32Array(maxTokens + 1), ok: 0, truncated: 0 });
    return this.groups.length - 1;
  }

  add(e: ManifestRow, f: EventFlags, group: number): void {
    const cost = e.cost;
    this.n++;
    this.total += cost;
    if (f.exact) {
      this.counts.exact_duplicate++;
      this.spend.exact_duplicate += cost;
    }
    if (f.near) {
      this.counts.near_duplicate++;
      this.spend.near_duplicate += cost;
    }
    if (f.prefixCacheable) {
      this.counts.prefix_cacheable++;
      this.spend.prefix_cacheable += cost;
    }
    if (f.retry) {
      this.counts.retry++;
      this.spend.retry += cost;
    }
    const tier = this.header.params.tiers[e.model] ?? null;
    if (tier === 3 && this.simple.has(e.tags.task ?? '')) {
      this.counts.routable++;
      this.spend.routable += cost;
    }
    if (e.tags.latency_class === 'offline' && !e.hasUser && !e.hasSession) {
      this.counts.batchable++;
      this.spend.batchable += cost;
    }
    if (e.error) {
      this.counts.error++;
      this.spend.error += cost;
      const k = String(e.http);
      this.byStatus[k] = (this.byStatus[k] ?? 0) + 1;
    }
    if (e.truncated) this.counts.truncated++;
    let m = this.models.get(e.model);
    if (!m) this.models.set(e.model, (m = { events: 0, errors: 0, spend_usd: 0, tier }));
    m.events++;
    m.spend_usd += cost;
    if (e.error) m.errors++;
    let a = this.apps.get(e.app);
    if (!a) this.apps.set(e.app, (a = { events: 0, spend_usd: 0, latency_class: e.tags.latency_class ?? '' }));
    a.events++;
    a.spend_usd += cost;
    if (group >= 0) {
      const g = this.groups[group]!;
      g.events++;
      if (!e.error) {
        g.ok++;
        g.hist[Math.min(e.completion, g.maxTokens)]!++;
      }
      if (e.truncated) g.truncated++;
    }
  }

  finish(bursts: Burst[]): Manifest {
    const n = this.n || 1;
    const sp = this.total || 1;
    const c = this.counts;
    const s = this.spend;
    let overEvents = 0;
    const groups = this.groups
      .filter((g) => g.events > 0)
      .map((g) => {
        const p99 = percentile99(g.hist, g.ok);
        const ratio = p99 > 0 ? g.maxTokens / p99 : null;
        const over = g.maxTokens >= OVER_PROVISIONED_RATIO * p99 && g.ok > 0;
        if (over) overEvents += g.events;
        return {
          app: g.app,
          model: g.model,
          events: g.events,
          ok_events: g.ok,
          max_tokens: g.maxTokens,
          p99_completion_tokens: p99,
          ratio,
          over_provisioned: over,
          truncated: g.truncated,
        };
      });
    return {
      version: 1,
      preset: this.header.preset,
      seed: this.header.seed,
      workspace: this.header.workspace,
      events: this.n,
      days: this.header.days,
      from: this.header.from,
      to: this.header.to,
      total_spend_usd: this.total,
      counts: { ...c },
      spend_usd: { ...s },
      shares: {
        exact_duplicate_share: c.exact_duplicate / n,
        exact_duplicate_spend_share: s.exact_duplicate / sp,
        near_duplicate_share: c.near_duplicate / n,
        near_duplicate_spend_share: s.near_duplicate / sp,
        routable_share: c.routable / n,
        routable_spend_share: s.routable / sp,
        batchable_share: c.batchable / n,
        batchable_spend_share: s.batchable / sp,
        prefix_cacheable_share: c.prefix_cacheable / n,
        prefix_cacheable_spend_share: s.prefix_cacheable / sp,
        error_share: c.error / n,
        error_spend_share: s.error / sp,
        retry_share: c.retry / n,
        retry_spend_share: s.retry / sp,
      },
      max_tokens_headroom: {
        over_provisioned_ratio: OVER_PROVISIONED_RATIO,
        over_provisioned_share: overEvents / n,
        truncated_share: c.truncated / n,
        groups,
      },
      models: Object.fromEntries(this.models),
      apps: Object.fromEntries(this.apps),
      errors_by_http_status: { ...this.byStatus },
      chains: { ...this.chains },
      params: this.header.params,
      latency_models: this.header.latency_models,
      bursts,
      definitions: { ...MANIFEST_DEFINITIONS },
    };
  }
}

/** Nearest-rank p99 from a histogram holding `n` values (0 when empty). */
export function percentile99(hist: ArrayLike<number>, n: number): number {
  if (n === 0) return 0;
  const rank = Math.ceil(0.99 * n);
  let seen = 0;
  for (let v = 0; v < hist.length; v++) {
    seen += hist[v]!;
    if (seen >= rank) return v;
  }
  return hist.length - 1;
}
