/**
 * A provider's prompt cache, simulated over block chains (workload/prefix-blocks.ts). Pure: rows in time order in,
 * per-event hit and write tokens out; no I/O.
 *
 * Model of the cache (OpenAI's automatic caching, Anthropic's cache_control, vLLM/Mooncake prefix caching share it):
 * - entries are blocks keyed by their whole prefix: per scope (app, model) the chains form a trie, and a request
 *   reads the longest run of its leading blocks that are in the cache;
 * - an entry lives `window_ms` after its last use; every successful call that sends a block refreshes it (TTL
 *   refreshed on use) and writes the blocks it did not find; failed calls neither write nor refresh;
 * - a call reads nothing when its prompt is below the model's minimum cacheable size, and a read shorter than that
 *   minimum counts as no read (OpenAI caches from 1,024 tokens in 128-token steps);
 * - "earlier" is strict: a call does not read what another call wrote in the same millisecond.
 * Cache writes: a written block counts as a cache write when a later call reads it while it is still warm. This is
 * what a client that marks cache breakpoints only on content it reuses pays (Anthropic bills writes, at the catalog's
 * cache_write price); a write that is never read is a breakpoint the client would not have placed. The written tokens
 * are reported at the read that confirms them.
 *
 * Memory: expired subtrees are dropped as time advances (a block's last use is never later than its parent's), so the
 * trie holds the blocks used within one window, not the history.
 */
import type { BlockCacheTally, CacheQueries, PrefixBlockRow } from './ports/cache.js';
import type { AnalysisScope } from './ports/scope.js';

export type { BlockCacheTally, PrefixBlockRow };

export interface PromptCacheStep {
  /** prompt tokens the cache serves to this call (0: a miss, or below the model's minimum) */
  hit_tokens: number;
  /** tokens written earlier and first read by this call: the cache writes this read confirms */
  confirmed_write_tokens: number;
  /** false when the model has no prompt caching (min tokens null): nothing was simulated */
  simulated: boolean;
}

interface Node {
  last: number;
  /** tokens of this block written and not read since (a write not yet confirmed) */
  pending: number;
  children: Map<number, Node> | null;
}

const newNode = (): Node => ({ last: Number.NEGATIVE_INFINITY, pending: 0, children: null });

/** How often (calls) expired entries are swept, at most once per window of event time. */
const SWEEP_EVERY = 4096;

export class PromptCacheSimulator {
  private readonly roots = new Map<string, Node>();
  private steps = 0;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly minCache = new Map<string, number | null>();

  /**
   * @param windowMs cache lifetime after the last use (ms)
   * @param minTokens the model's minimum cacheable prompt (tokens), null when the model has no prompt caching
   */
  constructor(
    readonly windowMs: number,
    private readonly minTokens: (model: string) => number | null,
  ) {}

  private minFor(model: string): number | null {
    let m = this.minCache.get(model);
    if (m === undefined) {
      m = this.minTokens(model);
      this.minCache.set(model, m);
    }
    return m;
  }

  /** Simulates one call; calls must come in timestamp order. */
  step(r: PrefixBlockRow): PromptCacheStep {
    const min = this.minFor(r.model);
    if (min === null) return { hit_tokens: 0, confirmed_write_tokens: 0, simulated: false };
    const t = r.timestamp;
    if (++this.steps % SWEEP_EVERY === 0 && t - this.lastSweep > this.windowMs) this.sweep(t);
    const n = r.hashes.length;
    const B = r.block_size;
    const promptTokens = r.prompt_tokens > 0 ? r.prompt_tokens : n * B;
    if (promptTokens < min) return { hit_tokens: 0, confirmed_write_tokens: 0, simulated: true };
    const key = `${r.app}\u0000${r.model}`;
    let root = this.roots.get(key);
    if (root === undefined) {
      root = newNode();
      this.roots.set(key, root);
    }
    const lo = t - this.windowMs;
    let hitBlocks = 0;
    let node = root;
    while (hitBlocks < n) {
      const child = node.children?.get(r.hashes[hitBlocks]!);
      if (child === undefined || child.last < lo || child.last >= t) break;
      hitBlocks++;
      node = child;
    }
    let hit = Math.min(hitBlocks * B, promptTokens);
    if (hit < min) hit = 0;
    let confirmed = 0;
    if (r.status === 'ok') {
      node = root;
      for (let i = 0; i < n; i++) {
        const h = r.hashes[i]!;
        node.children ??= new Map();
        let child = node.children.get(h);
        if (child === undefined) {
          child = newNode();
          node.children.set(h, child);
        }
        const blockTokens = Math.max(0, Math.min(B, promptTokens - i * B));
        if (i < hitBlocks && hit > 0) {
          confirmed += child.pending;
          child.pending = 0;
        } else if (child.last < lo) child.pending = blockTokens; // new or expired: written (a warm block not read is only refreshed)
        if (child.last < t) child.last = t;
        node = child;
      }
    }
    return { hit_tokens: hit, confirmed_write_tokens: confirmed, simulated: true };
  }

  /** Drops entries that expired before `t` (their whole subtrees: a child is never used later than its parent). */
  private sweep(t: number): void {
    this.lastSweep = t;
    const lo = t - this.windowMs;
    const prune = (n: Node): void => {
      if (n.children === null) return;
      for (const [h, c] of n.children) {
        if (c.last < lo) n.children.delete(h);
        else prune(c);
      }
      if (n.children.size === 0) n.children = null;
    };
    for (const [k, root] of this.roots) {
      prune(root);
      if (root.children === null) this.roots.delete(k);
    }
  }
}

/** Runs the simulation over chunks of rows (time order) and sums it per (app, model). */
export class BlockCacheTallies {
  private readonly sim: PromptCacheSimulator;
  private readonly tallies = new Map<string, BlockCacheTally>();
  rows = 0;

  constructor(windowMs: number, minTokens: (model: string) => number | null) {
    this.sim = new PromptCacheSimulator(windowMs, minTokens);
  }

  add(rows: readonly PrefixBlockRow[]): void {
    for (const r of rows) {
      this.rows++;
      const s = this.sim.step(r);
      const key = `${r.app}\u0000${r.model}`;
      let t = this.tallies.get(key);
      if (t === undefined) {
        t = {
          app: r.app,
          model: r.model,
          events: 0,
          spend_usd: 0,
          prompt_tokens: 0,
          warm: 0,
          warm_spend_usd: 0,
          cacheable_tokens: 0,
          hits: 0,
          hit_spend_usd: 0,
          hit_tokens: 0,
          write_tokens: 0,
          already_cached_events: 0,
          already_cached_tokens: 0,
          simulated: s.simulated,
          sample_event_ids: [],
        };
        this.tallies.set(key, t);
      }
      t.events++;
      t.spend_usd += r.cost_usd;
      t.prompt_tokens += r.prompt_tokens > 0 ? r.prompt_tokens : r.hashes.length * r.block_size;
      t.write_tokens += s.confirmed_write_tokens;
      if (r.cached_prompt_tokens > 0) {
        t.already_cached_events++;
        t.already_cached_tokens += r.cached_prompt_tokens;
      }
      if (s.hit_tokens > 0) {
        t.warm++;
        t.warm_spend_usd += r.cost_usd;
        t.cacheable_tokens += s.hit_tokens;
        if (r.cached_prompt_tokens === 0) {
          t.hits++;
          t.hit_spend_usd += r.cost_usd;
          t.hit_tokens += s.hit_tokens;
          if (t.sample_event_ids.length < 3) t.sample_event_ids.push(r.event_id);
        }
      }
    }
  }

  result(): BlockCacheTally[] {
    return [...this.tallies.values()].sort((a, b) => b.hit_spend_usd - a.hit_spend_usd || (a.app + a.model < b.app + b.model ? -1 : 1));
  }
}

/** What the replay bills: per event that reads the cache (or confirms writes), the tokens read and writes confirmed. */
export interface PromptCacheReads {
  event_ids: string[];
  /** tokens read beyond those the call already reported as cached (those are billed at the cached price already) */
  hit_tokens: number[];
  write_tokens: number[];
}

/** The prompt-cache reads of a scope's chained events (for the replay); `chained`: events with a chain. */
export async function promptCacheReads(
  queries: Pick<CacheQueries, 'scanPrefixBlocks'>,
  scope: AnalysisScope,
  windowMs: number,
  minTokens: (model: string) => number | null,
): Promise<{ reads: PromptCacheReads; chained: number }> {
  const sim = new PromptCacheSimulator(windowMs, minTokens);
  const reads: PromptCacheReads = { event_ids: [], hit_tokens: [], write_tokens: [] };
  const scan = await queries.scanPrefixBlocks(
    scope,
    (rows) => {
      for (const r of rows) {
        const s = sim.step(r);
        if (s.hit_tokens > 0 || s.confirmed_write_tokens > 0) {
          reads.event_ids.push(r.event_id);
          reads.hit_tokens.push(Math.max(0, s.hit_tokens - r.cached_prompt_tokens));
          reads.write_tokens.push(s.confirmed_write_tokens);
        }
      }
    },
    { totals: false },
  );
  return { reads, chained: scan.rows };
}
