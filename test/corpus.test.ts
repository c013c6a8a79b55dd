/**
 * Synthetic workload generator: determinism, streaming, schema validity, and every manifest figure recomputed
 * independently from the emitted events (the manifest is the planted truth the optimiser is graded against).
 */
import { describe, expect, it } from 'vitest';
import { generateAll, generateWorkload } from '../src/corpus/generator.js';
import type { Manifest } from '../src/corpus/manifest.js';
import { GENERATOR_MODELS, MODEL_PROFILES } from '../src/corpus/models.js';
import { PRESET_NAMES, PRESETS, SIMPLE_TASKS } from '../src/corpus/presets.js';
import { jaccard, jaccardKeys, shingleKeys, wordShingles } from '../src/corpus/similarity.js';
import { NetraError } from '../src/errors.js';
import { normalizeEvent, type Pricer, type Usage, type WorkloadEvent } from '../src/workload/event.js';

/** USD per million tokens (input, output) and provider: explicit local rates, independent of the price catalog. */
const RATES: Record<string, [number, number, string]> = {
  'gpt-4o': [2.5, 10, 'openai'],
  'gpt-4o-mini': [0.15, 0.6, 'openai'],
  'gpt-4.1': [2, 8, 'openai'],
  'gpt-4.1-mini': [0.4, 1.6, 'openai'],
  'gpt-4.1-nano': [0.1, 0.4, 'openai'],
  'gpt-5': [1.25, 10, 'openai'],
  'gpt-5-mini': [0.25, 2, 'openai'],
  'gpt-5-nano': [0.05, 0.4, 'openai'],
  o3: [2, 8, 'openai'],
  'o4-mini': [1.1, 4.4, 'openai'],
  'claude-opus-4-1': [15, 75, 'anthropic'],
  'claude-sonnet-4-5': [3, 15, 'anthropic'],
  'claude-haiku-4-5': [1, 5, 'anthropic'],
  'claude-3-haiku': [0.25, 1.25, 'anthropic'],
  'gemini-2.5-pro': [1.25, 10, 'google'],
  'gemini-2.5-flash': [0.3, 2.5, 'google'],
  'gemini-2.5-flash-lite': [0.1, 0.4, 'google'],
  'gemini-2.0-flash': [0.1, 0.4, 'google'],
  'mistral-large': [2, 6, 'mistral'],
  'mistral-small': [0.1, 0.3, 'mistral'],
  codestral: [0.3, 0.9, 'mistral'],
  'llama-3.3-70b': [0.6, 0.6, 'meta'],
  'llama-3.1-8b': [0.1, 0.1, 'meta'],
  'deepseek-chat': [0.27, 1.1, 'deepseek'],
  'deepseek-reasoner': [0.55, 2.19, 'deepseek'],
  'text-embedding-3-small': [0.02, 0, 'openai'],
};
const pricer: Pricer = {
  price(_ws: string, model: string, u: Usage) {
    const r = RATES[model];
    if (!r) return null;
    return { cost_usd: ((u.prompt_tokens - u.cached_prompt_tokens) * r[0] + u.completion_tokens * r[1]) / 1e6, provider: r[2] };
  },
};
/** Local tiers (deliberately not the generator's defaults for two models, to show the tiers passed in are used). */
const TIERS: Record<string, number> = {
  'gpt-4o': 3,
  'gpt-4.1': 3,
  'gpt-5': 3,
  o3: 3,
  'claude-opus-4-1': 3,
  'claude-sonnet-4-5': 3,
  'gemini-2.5-pro': 3,
  'deepseek-reasoner': 3,
  'gemini-2.5-flash': 3,
  'o4-mini': 3,
};
const tierOf = (m: string) => TIERS[m] ?? (m.includes('mini') || m.includes('nano') || m.includes('haiku') || m.includes('lite') ? 1 : 2);

const END = Date.UTC(2026, 10, 16); // a Monday, 00:00 UTC
const ALLOWED = new Set([
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4.1-nano',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
  'o3',
  'o4-mini',
  'claude-opus-4-1',
  'claude-sonnet-4-5',
  'claude-haiku-4-5',
  'claude-3-haiku',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-2.0-flash',
  'mistral-large',
  'mistral-small',
  'codestral',
  'llama-3.3-70b',
  'llama-3.1-8b',
  'deepseek-chat',
  'deepseek-reasoner',
  'text-embedding-3-small',
]);

const cache = new Map<string, { events: WorkloadEvent[]; manifest: Manifest }>();
function workload(preset: string, events = 12_000, days = 2, seed = 3) {
  const key = `${preset}/${events}/${days}/${seed}`;
  let w = cache.get(key);
  if (!w) cache.set(key, (w = generateAll({ preset, events, days, seed, end: END, pricer, tierOf, workspace: 'test' })));
  return w;
}

/** Every manifest count, recomputed from the events alone, straight from the written definitions. */
function recompute(events: WorkloadEvent[], m: Manifest) {
  const ttl = m.params.exact_cache_ttl_seconds * 1000;
  const win = m.params.prefix_cache_window_seconds * 1000;
  const simple = new Set(SIMPLE_TASKS);
  const c = { exact_duplicate: 0, near_duplicate: 0, routable: 0, batchable: 0, prefix_cacheable: 0, error: 0, retry: 0, truncated: 0 };
  const spend = { exact_duplicate: 0, near_duplicate: 0, routable: 0, batchable: 0, prefix_cacheable: 0, error: 0, retry: 0 };
  let total = 0;
  const lastOkHash = new Map<string, number>();
  const lastOkPrefix = new Map<string, number>();
  const errorKeys = new Set<string>();
  const okWindow: { e: WorkloadEvent; sh: Set<string> }[] = [];
  const groups = new Map<string, { max: number; events: number; ok: number[] }>();
  for (const e of events) {
    total += e.cost_usd;
    const add = (k: keyof typeof spend) => {
      c[k]++;
      spend[k] += e.cost_usd;
    };
    const hk = e.model + '\u0000' + e.prompt_hash;
    const exact = e.timestamp - (lastOkHash.get(hk) ?? -Infinity) <= ttl;
    if (exact) add('exact_duplicate');
    while (okWindow.length && e.timestamp - okWindow[0]!.e.timestamp > ttl) okWindow.shift();
    const sh = wordShingles(e.prompt_text ?? '');
    if (
      !exact &&
      okWindow.some(
        (o) => o.e.model === e.model && o.e.prompt_hash !== e.prompt_hash && jaccard(o.sh, sh) >= m.params.near_duplicate_jaccard,
      )
    )
      add('near_duplicate');
    if (tierOf(e.model) === 3 && simple.has(e.tags.task!)) add('routable');
    if (e.tags.latency_class === 'offline' && e.end_user === null && e.session_id === null) add('batchable');
    const pk = e.model + '\u0000' + e.prefix_hash;
    if (e.prefix_hash && (e.prefix_tokens ?? 0) >= m.params.prefix_min_tokens && e.timestamp - (lastOkPrefix.get(pk) ?? -Infinity) <= win)
      add('prefix_cacheable');
    if (e.status === 'error') add('error');
    if (errorKeys.has(e.trace_id + '\u0000' + e.prompt_hash)) add('retry');
    if (e.finish_reason === 'length') c.truncated++;
    if (e.status === 'error') errorKeys.add(e.trace_id + '\u0000' + e.prompt_hash);
    else {
      lastOkHash.set(hk, e.timestamp);
      if (e.prefix_hash) lastOkPrefix.set(pk, e.timestamp);
      okWindow.push({ e, sh });
    }
    if (e.max_tokens !== null) {
      const gk = e.app + '/' + e.model;
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { max: e.max_tokens, events: 0, ok: [] }));
      g.events++;
      if (e.status === 'ok') g.ok.push(e.completion_tokens);
    }
  }
  const p99 = new Map<string, number>();
  for (const [k, g] of groups) {
    const s = [...g.ok].sort((a, b) => a - b);
    p99.set(k, s.length ? s[Math.ceil(0.99 * s.length) - 1]! : 0);
  }
  return { c, spend, total, p99, groups };
}

describe('corpus generator', () => {
  it('is deterministic: same seed gives identical events and manifest, another seed differs', () => {
    const a = generateAll({ preset: 'chat-support', events: 3000, seed: 42, end: END, pricer, tierOf });
    const b = generateAll({ preset: 'chat-support', events: 3000, seed: 42, end: END, pricer, tierOf });
    const c = generateAll({ preset: 'chat-support', events: 3000, seed: 43, end: END, pricer, tierOf });
    expect(JSON.stringify(a.events)).toBe(JSON.stringify(b.events));
    expect(JSON.stringify(a.manifest)).toBe(JSON.stringify(b.manifest));
    expect(a.events.map((e) => e.timestamp)).not.toEqual(c.events.map((e) => e.timestamp));
    expect(a.events[10]!.prompt_text).not.toBe(c.events[10]!.prompt_text);
    expect(new Set(a.events.map((e) => e.event_id)).size).toBe(3000);
  });

  it('streams batches no larger than batchSize, in timestamp order, with the exact count', () => {
    const w = generateWorkload({ preset: 'agent-tool-use', events: 5000, batchSize: 777, seed: 5, days: 3, end: END, pricer });
    expect(() => w.manifest()).toThrow(NetraError);
    const sizes: number[] = [];
    let last = -Infinity;
    let n = 0;
    for (const batch of w.batches()) {
      sizes.push(batch.length);
      for (const e of batch) {
        expect(e.timestamp).toBeGreaterThan(last);
        expect(e.timestamp).toBeGreaterThanOrEqual(w.from);
        expect(e.timestamp).toBeLessThan(w.to);
        last = e.timestamp;
        n++;
      }
    }
    expect(n).toBe(5000);
    expect(sizes.slice(0, -1).every((s) => s === 777)).toBe(true);
    expect(sizes.at(-1)).toBe(5000 % 777);
    expect(w.manifest().events).toBe(5000);
    expect(w.to - w.from).toBe(3 * 86_400_000);
    expect(() => w.batches()).toThrow(NetraError);
  });

  it('rejects bad options with clear errors', () => {
    expect(() => generateWorkload({ preset: 'nope', events: 10, pricer })).toThrow(/unknown preset 'nope'/);
    expect(() => generateWorkload({ preset: 'chat-support', events: 10, days: 0, pricer })).toThrow(/days/);
    expect(() => generateWorkload({ preset: 'chat-support', events: 1e9, days: 1, pricer })).toThrow(/events must be at most/);
    const partial: Pricer = { price: (w, m, u) => (m === 'gpt-4o' ? null : pricer.price(w, m, u)) };
    expect(() => generateWorkload({ preset: 'chat-support', events: 10, pricer: partial })).toThrow(/gpt-4o/);
  });

  for (const preset of PRESET_NAMES) {
    describe(preset, () => {
      it('emits events that pass normalizeEvent, with allowed models and consistent cost', () => {
        const { events } = workload(preset);
        let id = 0;
        for (const e of events) {
          expect(ALLOWED.has(e.model)).toBe(true);
          const raw: Record<string, unknown> = { ...e };
          if (e.cost_source === 'catalog') delete raw.cost_usd;
          const r = normalizeEvent(raw, { workspace: 'test', pricer, newId: () => `x${id++}` });
          if (!r.ok) throw new Error(`${e.event_id}: ${JSON.stringify(r.errors)}`);
          expect(r.event.cost_usd).toBeCloseTo(e.cost_usd, 12);
          expect(r.event.cost_source).toBe(e.cost_source);
          expect({ ...r.event, tags: e.tags }).toEqual(e);
        }
      });

      it('plants a manifest that the events reproduce exactly', () => {
        const { events, manifest: m } = workload(preset);
        const r = recompute(events, m);
        expect(m.events).toBe(events.length);
        expect(m.total_spend_usd).toBeCloseTo(r.total, 9);
        expect(m.counts).toEqual(r.c);
        for (const k of Object.keys(r.spend) as (keyof typeof r.spend)[]) expect(m.spend_usd[k]).toBeCloseTo(r.spend[k], 9);
        expect(m.shares.exact_duplicate_share).toBeCloseTo(r.c.exact_duplicate / events.length, 12);
        expect(m.shares.near_duplicate_spend_share).toBeCloseTo(r.spend.near_duplicate / r.total, 12);
        // planted figures are non-trivial
        expect(r.c.exact_duplicate).toBeGreaterThan(20);
        expect(r.c.near_duplicate).toBeGreaterThan(20);
        expect(r.c.error).toBeGreaterThan(20);
        expect(r.c.retry).toBeGreaterThan(10);
        expect(r.c.prefix_cacheable).toBeGreaterThan(100);
        for (const g of m.max_tokens_headroom.groups) {
          const k = `${g.app}/${g.model}`;
          expect(g.p99_completion_tokens).toBe(r.p99.get(k));
          expect(g.events).toBe(r.groups.get(k)!.events);
          expect(g.over_provisioned).toBe(g.max_tokens >= 4 * g.p99_completion_tokens);
        }
        const over = m.max_tokens_headroom.groups.filter((g) => g.over_provisioned).reduce((s, g) => s + g.events, 0);
        expect(m.max_tokens_headroom.over_provisioned_share).toBeCloseTo(over / events.length, 12);
        const byModel = new Map<string, number>();
        for (const e of events) byModel.set(e.model, (byModel.get(e.model) ?? 0) + e.cost_usd);
        for (const [model, s] of byModel) expect(m.models[model]!.spend_usd).toBeCloseTo(s, 9);
        expect(Object.keys(m.definitions)).toEqual(
          expect.arrayContaining([
            'exact_duplicate',
            'near_duplicate',
            'routable',
            'batchable',
            'prefix_cacheable',
            'retry',
            'max_tokens_headroom',
          ]),
        );
      });

      it('gives prompt_hash one text and each text one hash', () => {
        const { events } = workload(preset);
        const textOf = new Map<string, string>();
        const hashOf = new Map<string, string>();
        for (const e of events) {
          const t = textOf.get(e.prompt_hash!);
          if (t !== undefined) expect(t).toBe(e.prompt_text);
          textOf.set(e.prompt_hash!, e.prompt_text!);
          const k = `${e.app}\u0000${e.prefix_hash}\u0000${e.prompt_text}`;
          const h = hashOf.get(k);
          if (h !== undefined) expect(h).toBe(e.prompt_hash);
          hashOf.set(k, e.prompt_hash!);
        }
      });
    });
  }

  it('keeps unrelated prompts far apart and planted paraphrases close (word 3-shingle Jaccard)', () => {
    const { events } = workload('chat-support');
    const ok = events.filter((e) => e.session_id === null && e.operation === 'chat');
    const byHash = new Map(ok.map((e) => [e.prompt_hash!, e]));
    const unique = [...byHash.values()];
    const refs = unique.map((e) => wordShingles(e.prompt_text!));
    let max = 0;
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < 3000; i++) {
      const a = (i * 7919) % unique.length;
      const b = (i * 104729 + 13) % unique.length;
      if (a === b || unique[a]!.tags.topic !== unique[b]!.tags.topic) continue; // same topic: the hardest unrelated pairs
      const j = jaccard(refs[a]!, refs[b]!);
      if (j >= 0.5) expect(unique[a]!.prompt_text!.slice(-40)).toBe('a paraphrase pair, not unrelated'); // shows the pair on failure
      max = Math.max(max, j);
      sum += j;
      pairs++;
    }
    expect(pairs).toBeGreaterThan(100);
    expect(max).toBeLessThan(0.5);
    expect(sum / pairs).toBeLessThan(0.2);
    // the numeric fast path agrees with the string definition
    for (let i = 0; i + 1 < 400; i += 2) {
      const a = unique[i]!.prompt_text!;
      const b = unique[i + 1]!.prompt_text!;
      expect(jaccardKeys(shingleKeys(a), shingleKeys(b))).toBeCloseTo(jaccard(wordShingles(a), wordShingles(b)), 12);
    }
  });

  it('follows the diurnal curve: office-hours traffic beats the night, nightly jobs run at night', () => {
    const code = workload('coding-assistant', 20_000, 7).events;
    const hour = (e: WorkloadEvent) => new Date(e.timestamp).getUTCHours();
    const weekday = (e: WorkloadEvent) => ![0, 6].includes(new Date(e.timestamp).getUTCDay());
    const busy = code.filter((e) => weekday(e) && hour(e) >= 10 && hour(e) < 12).length;
    const night = code.filter((e) => weekday(e) && hour(e) >= 2 && hour(e) < 4).length;
    expect(busy).toBeGreaterThan(5 * night);
    const weekendShare = code.filter((e) => !weekday(e)).length / code.length;
    expect(weekendShare).toBeLessThan(2 / 7);
    const batch = workload('batch-summarization', 20_000, 7).events.filter((e) => e.app === 'nightly-digest');
    expect(batch.filter((e) => hour(e) < 5).length).toBeGreaterThan(0.6 * batch.length);
  });

  it('draws log-normal token sizes (median below mean, median near the preset median)', () => {
    const { events } = workload('chat-support', 20_000, 7);
    const spec = PRESETS['chat-support']!.apps.find((a) => a.app === 'ticket-router')!;
    const comp = events
      .filter((e) => e.app === 'ticket-router' && e.status === 'ok')
      .map((e) => e.completion_tokens)
      .sort((a, b) => a - b);
    const median = comp[comp.length >> 1]!;
    const mean = comp.reduce((s, x) => s + x, 0) / comp.length;
    expect(Math.abs(median - spec.completion.median)).toBeLessThanOrEqual(1);
    const user = events.filter((e) => e.app === 'reply-drafter' && e.status === 'ok').map((e) => e.prompt_tokens - (e.prefix_tokens ?? 0));
    const sorted = [...user].sort((a, b) => a - b);
    const med = sorted[sorted.length >> 1]!;
    const avg = user.reduce((s, x) => s + x, 0) / user.length;
    expect(avg).toBeGreaterThan(med);
    expect(mean).toBeGreaterThanOrEqual(median);
    expect(med / 900).toBeGreaterThan(0.85);
    expect(med / 900).toBeLessThan(1.15);
    const logs = user.map(Math.log);
    const mu = logs.reduce((s, x) => s + x, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mu) ** 2, 0) / logs.length);
    expect(sd).toBeGreaterThan(0.4);
    expect(sd).toBeLessThan(0.6);
  });

  it('models latency as TTFT + completion tokens / throughput, with noise', () => {
    const { events } = workload('coding-assistant', 20_000, 7);
    const byModel = new Map<string, number[]>();
    for (const e of events) {
      if (e.status !== 'ok' || e.ttft_ms === null || e.completion_tokens < 50) continue;
      expect(e.latency_ms!).toBeGreaterThanOrEqual(e.ttft_ms);
      const tps = (e.completion_tokens * 1000) / Math.max(1, e.latency_ms! - e.ttft_ms);
      byModel.set(e.model, [...(byModel.get(e.model) ?? []), tps]);
    }
    expect(byModel.size).toBeGreaterThan(3);
    for (const [model, list] of byModel) {
      const med = [...list].sort((a, b) => a - b)[list.length >> 1]!;
      expect(med / MODEL_PROFILES[model]!.tokens_per_second).toBeGreaterThan(0.85);
      expect(med / MODEL_PROFILES[model]!.tokens_per_second).toBeLessThan(1.15);
    }
    const errors = events.filter((e) => e.status === 'error');
    expect(
      errors.every((e) => [429, 500, 503].includes(e.http_status!) && e.error_type && e.ttft_ms === null && e.completion_tokens === 0),
    ).toBe(true);
  });

  it('grows prompts turn by turn in sessions and agent runs; retries reuse the failed call', () => {
    const chat = workload('chat-support', 20_000, 7).events;
    const sessions = new Map<string, WorkloadEvent[]>();
    for (const e of chat) if (e.session_id) sessions.set(e.session_id, [...(sessions.get(e.session_id) ?? []), e]);
    const multi = [...sessions.values()].filter((s) => new Set(s.map((e) => e.prompt_hash)).size >= 3);
    expect(multi.length).toBeGreaterThan(50);
    for (const s of multi) {
      const turns = s.filter((e, i) => i === 0 || e.prompt_hash !== s[i - 1]!.prompt_hash);
      for (let i = 1; i < turns.length; i++) expect(turns[i]!.prompt_tokens).toBeGreaterThan(turns[i - 1]!.prompt_tokens);
      expect(new Set(s.map((e) => e.end_user)).size).toBe(1);
      expect(new Set(s.map((e) => e.model)).size).toBe(1);
    }
    const agent = workload('agent-tool-use', 20_000, 7).events;
    const traces = new Map<string, WorkloadEvent[]>();
    for (const e of agent) if (e.app === 'ops-agent') traces.set(e.trace_id!, [...(traces.get(e.trace_id!) ?? []), e]);
    const runs = [...traces.values()].filter((t) => new Set(t.map((e) => e.prompt_hash)).size >= 3);
    expect(runs.length).toBeGreaterThan(100);
    expect(runs.some((t) => t.some((e) => e.finish_reason === 'tool_calls'))).toBe(true);
    const failed = new Map<string, WorkloadEvent>();
    let retries = 0;
    for (const e of agent) {
      const k = e.trace_id + '/' + e.prompt_hash;
      const f = failed.get(k);
      if (f) {
        retries++;
        expect(e.model).toBe(f.model);
        expect(e.prompt_tokens).toBe(f.prompt_tokens);
        expect(e.timestamp - f.timestamp).toBeGreaterThanOrEqual(250);
      }
      if (e.status === 'error') failed.set(k, e);
    }
    expect(retries).toBeGreaterThan(50);
  });

  it('marks offline traffic as batchable and keeps interactive sessions out of it', () => {
    const { events, manifest } = workload('batch-summarization');
    expect(manifest.shares.batchable_share).toBeGreaterThan(0.5);
    for (const e of events) {
      expect(['interactive', 'offline']).toContain(e.tags.latency_class);
      if (e.tags.latency_class === 'offline') expect(e.end_user === null && e.session_id === null).toBe(true);
    }
    expect(manifest.params.tiers['gemini-2.5-flash']).toBe(3); // the tiers passed in, not the defaults
  });

  it('uses only models the generator knows latency for', () => {
    for (const p of Object.values(PRESETS)) for (const a of p.apps) for (const m of a.models) expect(GENERATOR_MODELS).toContain(m.model);
  });
});
