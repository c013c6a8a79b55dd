/**
 * Prompt caching at block granularity: the Mooncake trace import (test/fixtures/imports/mooncake-trace.jsonl, written
 * for this project) and its cacheable token share against a computation written here, chains derived from text, and
 * the cache simulation's rules (TTL refreshed on use, minimum size, failed calls, confirmed cache writes).
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../src/ingest/file-import.js';
import { PromptCacheSimulator, type PrefixBlockRow } from '../src/optimize/prompt-cache-simulation.js';
import { loadPromptCaching, recommendPromptCaching } from '../src/optimize/recommend/prompt-caching.js';
import { normalizeEvent } from '../src/workload/event.js';
import { TEXT_BLOCK_TOKENS, textBlockChain } from '../src/workload/prefix-blocks.js';
import { estimateTokens } from '../src/workload/token-estimate.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { usageContext } from './helpers/usage-analysis-context.js';

const TRACE = fileURLToPath(new URL('./fixtures/imports/mooncake-trace.jsonl', import.meta.url));
const START = '2026-11-02T08:00:00Z';
const WINDOW_MS = 300_000;

interface TraceLine {
  timestamp: number;
  input_length: number;
  output_length: number;
  hash_ids: number[];
}

/**
 * The cacheable tokens of a trace, computed the plain way: a map from each prefix of hash ids (as text) to the last
 * time a request sent it; a request reads the longest prefix sent within the window (never below 1,024 tokens).
 */
function cacheableTokens(lines: TraceLine[], minTokens: number): { cacheable: number; input: number } {
  const lastSent = new Map<string, number>();
  let cacheable = 0;
  let input = 0;
  for (const l of lines) {
    input += l.input_length;
    if (l.input_length < minTokens) continue;
    let k = 0;
    while (k < l.hash_ids.length) {
      const t = lastSent.get(l.hash_ids.slice(0, k + 1).join(','));
      if (t === undefined || l.timestamp - t > WINDOW_MS || t >= l.timestamp) break;
      k++;
    }
    const hit = Math.min(k * 512, l.input_length);
    if (hit >= minTokens) cacheable += hit;
    for (let i = 1; i <= l.hash_ids.length; i++) lastSent.set(l.hash_ids.slice(0, i).join(','), l.timestamp);
  }
  return { cacheable, input };
}

describe('Mooncake trace import and the cacheable token share', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'netra-mooncake-'));
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is detected, needs a model and a start, and imports hash_ids as 512-token block chains', async () => {
    expect(await detectFormat(TRACE)).toBe('mooncake');
    await expect(t.app.importFile(TRACE, { format: 'mooncake', workspace: 'mc0', model: 'gpt-4o-mini' })).rejects.toMatchObject({
      code: 'NETRA_E_VALIDATION',
      message: expect.stringMatching(/--start/),
    });
    const r = await t.app.importFile(TRACE, { format: 'mooncake', workspace: 'mc', model: 'gpt-4o-mini', start: START });
    expect(r).toMatchObject({ accepted: 15, rejected: 0 });
    const events = await t.app.store.listEvents({ workspace: 'mc' }, { limit: 100 });
    const second = events.find((e) => e.timestamp === Date.parse(START) + 30_000)!;
    expect(second).toMatchObject({
      model: 'gpt-4o-mini',
      provider: 'openai',
      prompt_tokens: 1900,
      completion_tokens: 80,
      prefix_block_hashes: [1, 2, 4, 5],
      prefix_block_size: 512,
    });
    expect(second.event_id).toMatch(/^mooncake-[0-9a-f]{32}$/);
    // same file again: same ids, nothing stored twice
    const again = await t.app.importFile(TRACE, { format: 'mooncake', workspace: 'mc', model: 'gpt-4o-mini', start: START });
    expect(again).toMatchObject({ accepted: 0, duplicates: 15 });
  });

  it('names the line and field of a bad row', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      '{"timestamp": 0, "input_length": 2000, "output_length": 5, "hash_ids": [1, 2, 3, 4]}\n{"timestamp": 10, "input_length": -1, "output_length": 5, "hash_ids": [1, "x"]}\n',
    );
    const r = await t.app.importFile(bad, { format: 'mooncake', workspace: 'mcbad', model: 'gpt-4o-mini', start: START });
    expect(r).toMatchObject({ accepted: 1, rejected: 1 });
    expect(r.errors.map((e) => [e.line, e.field])).toEqual([
      [2, 'input_length'],
      [2, 'hash_ids'],
    ]);
  });

  it('the prompt-caching recommendation reports the cacheable share computed here, and the cache window', async () => {
    const lines = readFileSync(TRACE, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TraceLine);
    const expected = cacheableTokens(lines, 1024);
    // by hand: the conversation's turns read 1,024 + 1,536 + 2,560, the document 4,096 x 4, the resumed conversation 3,584
    expect(expected.cacheable).toBe(1024 + 1536 + 2560 + 4096 + 4096 + 3584 + 4096 + 4096);
    const from = Date.parse(START);
    const ctx = usageContext({
      workspace: 'mc',
      from,
      to: from + 86_400_000,
      total_events: 15,
      total_spend_usd: 1,
      params: { min_events: 1 },
    });
    const scope = { workspace: 'mc', from, to: from + 86_400_000 };
    const result = await loadPromptCaching(t.app.store.analysis, scope, ctx);
    expect(result.blocks?.tallies).toHaveLength(1);
    expect(result.blocks!.tallies[0]).toMatchObject({ events: 15, cacheable_tokens: expected.cacheable, prompt_tokens: expected.input });
    const rec = recommendPromptCaching(result, ctx).recommendations;
    expect(rec).toHaveLength(1);
    const f = rec[0]!.evidence.figures;
    expect(f.cacheable_input_token_share).toBe(Math.round((expected.cacheable / expected.input) * 10_000) / 10_000);
    expect(f.cache_window_seconds).toBe(300);
    expect(f.hits).toBe(8);
    // gpt-4o-mini: cached input at half the input price, no write premium
    const rates = ctx.rates('gpt-4o-mini')!;
    expect(Number(f['savings_usd:gpt-4o-mini'])).toBeCloseTo(expected.cacheable * (rates.input - rates.cached_input), 6);
  });
});

describe('block chains from prompt text', () => {
  const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${(i * 7919 + seed * 104729) % 5003}`).join(' ');

  it('short prompts get none; a later turn of a conversation starts with the earlier turn’s full blocks', () => {
    expect(textBlockChain('hello there', 'gpt-4o')).toBeNull();
    const turn1 = `system: ${words(900, 1)}\nuser: ${words(300, 2)}`;
    const turn2 = `${turn1}\nassistant: ${words(200, 3)}\nuser: ${words(150, 4)}`;
    const a = textBlockChain(turn1, 'gpt-4o')!;
    const b = textBlockChain(turn2, 'gpt-4o')!;
    expect(a.block_size).toBe(TEXT_BLOCK_TOKENS);
    expect(a.hashes.length).toBe(Math.floor(estimateTokens(turn1, 'gpt-4o') / TEXT_BLOCK_TOKENS));
    expect(b.hashes.slice(0, a.hashes.length)).toEqual(a.hashes);
    expect(b.hashes[a.hashes.length]).not.toBe(undefined);
    // a different opening changes every block after it (hashes are chained)
    const other = textBlockChain(`system: x ${turn1.slice(8)}`, 'gpt-4o')!;
    expect(other.hashes.some((h, i) => h === a.hashes[i])).toBe(false);
  });

  it('normalizeEvent derives the chain from messages, keeps a given chain, and refuses a chain without block size', () => {
    const ctx = { workspace: 'w', pricer: { price: () => null }, newId: () => 'id' };
    const messages = [
      { role: 'system', content: words(1200, 5) },
      { role: 'user', content: 'question' },
    ];
    const r = normalizeEvent({ timestamp: Date.UTC(2026, 0, 1), model: 'gpt-4o', messages }, ctx);
    expect(r.ok && r.event.prefix_block_hashes!.length).toBeGreaterThanOrEqual(8);
    expect(r.ok && r.event.prefix_block_size).toBe(128);
    const given = normalizeEvent(
      { timestamp: Date.UTC(2026, 0, 1), model: 'gpt-4o', prefix_block_hashes: [7, 'abc'], prefix_block_size: 256 },
      ctx,
    );
    expect(given.ok && given.event.prefix_block_hashes?.[0]).toBe(7);
    expect(given.ok && typeof given.event.prefix_block_hashes?.[1]).toBe('number');
    const bad = normalizeEvent({ timestamp: Date.UTC(2026, 0, 1), model: 'gpt-4o', prefix_block_hashes: [1] }, ctx);
    expect(bad).toMatchObject({ ok: false, errors: [{ field: 'prefix_block_size' }] });
    const tooLong = normalizeEvent(
      { timestamp: Date.UTC(2026, 0, 1), model: 'gpt-4o', prefix_block_hashes: new Array(4097).fill(1), prefix_block_size: 1 },
      ctx,
    );
    expect(tooLong).toMatchObject({ ok: false, errors: [{ field: 'prefix_block_hashes' }] });
  });
});

describe('the cache simulation', () => {
  const row = (p: Partial<PrefixBlockRow>): PrefixBlockRow => ({
    event_id: 'e',
    timestamp: 0,
    app: 'a',
    model: 'm',
    status: 'ok',
    prompt_tokens: 0,
    cached_prompt_tokens: 0,
    cost_usd: 0,
    block_size: 512,
    hashes: [1, 2, 3, 4],
    ...p,
  });

  it('refreshes the TTL on use, ignores failed calls, and applies the minimum', () => {
    const sim = new PromptCacheSimulator(WINDOW_MS, (m) => (m === 'nocache' ? null : 1024));
    expect(sim.step(row({ timestamp: 0, status: 'error' })).hit_tokens).toBe(0);
    expect(sim.step(row({ timestamp: 1000 })).hit_tokens).toBe(0); // the failed call wrote nothing
    expect(sim.step(row({ timestamp: 250_000 })).hit_tokens).toBe(2048);
    expect(sim.step(row({ timestamp: 540_000 })).hit_tokens).toBe(2048); // 290 s after the refresh, 539 s after the write
    expect(sim.step(row({ timestamp: 900_000 })).hit_tokens).toBe(0); // 360 s of silence: expired
    // a 512-token prefix read is below the 1,024 minimum
    expect(sim.step(row({ timestamp: 910_000, hashes: [1, 9, 9, 9] })).hit_tokens).toBe(0);
    expect(sim.step(row({ timestamp: 920_000, model: 'nocache' })).simulated).toBe(false);
    // other apps do not share the cache
    expect(sim.step(row({ timestamp: 930_000, app: 'b' })).hit_tokens).toBe(0);
  });

  it('counts a cache write once, when a later call reads it', () => {
    const sim = new PromptCacheSimulator(WINDOW_MS, () => 1024);
    expect(sim.step(row({ timestamp: 0, prompt_tokens: 1800 })).confirmed_write_tokens).toBe(0);
    // reads 3 blocks: 512 + 512 + 512 written by the first call
    const s = sim.step(row({ timestamp: 10_000, prompt_tokens: 2100, hashes: [1, 2, 3, 5, 6] }));
    expect(s).toMatchObject({ hit_tokens: 1536, confirmed_write_tokens: 1536 });
    expect(sim.step(row({ timestamp: 20_000, prompt_tokens: 2100, hashes: [1, 2, 3, 5, 6] }))).toMatchObject({
      hit_tokens: 2100,
      confirmed_write_tokens: 512 + 52,
    });
  });
});
