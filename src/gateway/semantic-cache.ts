/**
 * The semantic cache in the request path, when the workspace's policy enables it: per workspace, upstream, endpoint and
 * response shape, the near-duplicate index the replay simulates with (optimize/near-duplicates.ts), holding the prompts
 * of recent calls by the exact-cache key their response is stored under. A lookup finds the most similar earlier prompt
 * of the same (routed) model within the TTL at or above the threshold; the response is then read from the response
 * cache under that key (gone, or never stored because the call failed: a miss). Like the replay's cache, it stores
 * misses only, and the index is this process's (hits are shared through Redis, lookups are not).
 */
import { LRUCache } from 'lru-cache';
import { createNearDuplicateIndex, type NearDuplicateIndex } from '../optimize/near-duplicates.js';

export interface SemanticSettings {
  ttlSeconds: number;
  /** minimum similarity; undefined: the calibrated default */
  threshold: number | undefined;
}

/** Most prompts one index keeps (oldest evicted first). */
const MAX_ENTRIES = 20_000;

export class SemanticLookup {
  private readonly indexes = new LRUCache<string, NearDuplicateIndex>({ max: 1000 });

  /**
   * Looks the prompt up and, on a miss, records it under `key` (the exact-cache key of this call). Returns the key of
   * the earlier call whose response would serve this one, or null.
   */
  lookup(scope: string, s: SemanticSettings, call: { key: string; model: string; promptText: string; now: number }): string | null {
    const id = `${scope}\n${s.ttlSeconds}\n${s.threshold ?? ''}`;
    let index = this.indexes.get(id);
    if (!index) {
      index = createNearDuplicateIndex({ ttlMs: s.ttlSeconds * 1000, threshold: s.threshold, maxEntries: MAX_ENTRIES });
      this.indexes.set(id, index);
    }
    const r = index.observe({
      event_id: call.key,
      timestamp: call.now,
      model: call.model,
      prompt_hash: null,
      prompt_text: call.promptText,
    });
    return r.kind === 'miss' ? null : (r.matchedEventId ?? null);
  }
}
