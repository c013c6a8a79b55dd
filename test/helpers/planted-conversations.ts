/**
 * Planted multi-turn conversations for the prompt-caching truth test: chat events whose messages re-send the whole
 * conversation so far, normalised by the real ingest path (normalizeEvent derives the text and its 128-token block
 * chain), with the cacheable tokens known by construction:
 * - turn k + 1 of a conversation sent at most 300 s after turn k reads turn k's whole blocks from the cache
 *   (floor(tokens(turn k) / 128) x 128 tokens, the text of turn k being a prefix of turn k + 1's); later, nothing
 *   (the cache expired; every block of the conversation was last used by turn k);
 * - cache writes a later read confirms: in each run of warm turns, the blocks the last of them reads (reads only grow
 *   within a run, and a block is confirmed once);
 * - conversations open with their own document, so no two share a block; one-off long prompts and short prompts
 *   (below 1,024 tokens) are never cacheable.
 * A deterministic generator: the same seed plants the same events.
 */
import { normalizeEvent, type Message, type WorkloadEvent } from '../../src/workload/event.js';
import type { PriceCatalog } from '../../src/workload/price-catalog.js';
import { estimateTokens } from '../../src/workload/token-estimate.js';

export interface PlantedConversations {
  events: WorkloadEvent[];
  /** per app: planted cacheable prompt tokens, all prompt tokens, turns that read the cache */
  byApp: Map<string, { cacheable: number; prompt: number; hits: number; writes: number; model: string }>;
}

const WINDOW_MS = 300_000;
const BLOCK = 128;

export function plantConversations(opts: {
  workspace: string;
  from: number;
  seed: number;
  catalog: PriceCatalog;
  apps: readonly { app: string; model: string }[];
  conversations: number;
}): PlantedConversations {
  let x = opts.seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const words = (n: number) => Array.from({ length: n }, () => `w${int(0, 9999)}`).join(' ');
  const ctx = { workspace: opts.workspace, pricer: opts.catalog, newId: () => `planted-${++ids}` };
  let ids = 0;
  const events: WorkloadEvent[] = [];
  const byApp: PlantedConversations['byApp'] = new Map();
  const add = (app: string, model: string, t: number, messages: Message[]) => {
    const r = normalizeEvent({ timestamp: t, app, model, messages, completion_tokens: 80, session_id: `c${ids}` }, ctx);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    events.push(r.event);
    const a = byApp.get(app) ?? { cacheable: 0, prompt: 0, hits: 0, writes: 0, model };
    a.prompt += r.event.prompt_tokens;
    byApp.set(app, a);
    return r.event;
  };
  for (let c = 0; c < opts.conversations; c++) {
    const { app, model } = opts.apps[c % opts.apps.length]!;
    let t = opts.from + rnd() * 20 * 3_600_000;
    const messages: Message[] = [
      { role: 'system', content: `conversation ${c}: ${words(int(700, 1400))}` },
      { role: 'user', content: words(int(20, 200)) },
    ];
    let prevTokens = 0;
    let runRead = 0;
    const turns = int(3, 8);
    for (let k = 0; k < turns; k++) {
      const e = add(app, model, t, messages);
      if (k > 0 && prevTokens >= 1024) {
        const a = byApp.get(app)!;
        const read = Math.floor(prevTokens / BLOCK) * BLOCK;
        a.cacheable += read;
        a.hits++;
        a.writes += read - runRead;
        runRead = read;
      }
      prevTokens = estimateTokens(e.prompt_text!, model);
      messages.push({ role: 'assistant', content: words(int(30, 250)) }, { role: 'user', content: words(int(10, 120)) });
      const gap = rnd() < 0.7 ? int(20, 240) * 1000 : int(330, 900) * 1000;
      t += gap;
      // an expired gap: the next turn reads nothing
      if (gap > WINDOW_MS) prevTokens = runRead = 0;
    }
    // a one-off long prompt and a short one, never cacheable
    add(app, model, t + 1000, [{ role: 'user', content: `one-off ${c}: ${words(int(1100, 1600))}` }]);
    add(app, model, t + 2000, [{ role: 'user', content: words(int(50, 300)) }]);
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  return { events, byApp };
}
