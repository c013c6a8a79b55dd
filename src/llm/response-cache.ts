/**
 * The LLM response cache: successful answers keyed by prompt + config (provider chain and models, system, messages,
 * temperature, maxTokens, response format), 1 h TTL by default. In memory with lru-cache; any other store (the Redis one
 * the lead plugs in) implements LlmResponseCache. Errors are never cached, nor answers produced after a fallback
 * (a degraded answer must not outlive the outage). A failing cache store never fails the call.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { LlmRequest, LlmResult } from './types.js';

export interface LlmResponseCache {
  get(key: string): Promise<LlmResult | undefined>;
  set(key: string, value: LlmResult, ttlMs: number): Promise<void>;
}

export class MemoryLlmCache implements LlmResponseCache {
  private readonly lru: LRUCache<string, string>;

  constructor(opts: { maxEntries?: number; ttlMs?: number } = {}) {
    this.lru = new LRUCache<string, string>({ max: opts.maxEntries ?? 1000, ttl: opts.ttlMs ?? 3_600_000 });
  }

  async get(key: string): Promise<LlmResult | undefined> {
    const text = this.lru.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as LlmResult);
  }

  async set(key: string, value: LlmResult, ttlMs: number): Promise<void> {
    // stored as text: a hit is always a fresh copy
    this.lru.set(key, JSON.stringify(value), { ttl: ttlMs });
  }

  get size(): number {
    return this.lru.size;
  }
}

function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stable(x)}`).join(',')}}`;
}

/** The cache key of a request under a chain (`name:model` of each provider) with the effective defaults applied. */
export function llmCacheKey(chain: readonly string[], req: LlmRequest, defaults: { maxTokens: number; temperature: number }): string {
  const material = stable({
    chain,
    system: req.system ?? '',
    messages: req.messages.map((m) => [m.role, m.content]),
    temperature: req.temperature ?? defaults.temperature,
    max_tokens: req.maxTokens ?? defaults.maxTokens,
    format: req.responseFormat ?? 'text',
  });
  return `llm:${createHash('sha256').update(material).digest('base64url')}`;
}
