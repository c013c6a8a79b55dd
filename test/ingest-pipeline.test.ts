/**
 * The one ingest path: validation under the caller's workspace, batching, bounded read-ahead, de-duplication,
 * error positions and caps; end to end from each parser; file import (the real Azure trace: 8,819 rows).
 *
 * The store is a minimal in-memory AnalyticsStore.append written here (the DuckDB store is written in parallel and
 * has its own suite); the pricer has explicit rates.
 */
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFile, type ImportProgress } from '../src/ingest/file-import.js';
import { parseJsonBody } from '../src/ingest/json-body.js';
import { parseOtlpTraces } from '../src/ingest/otlp.js';
import { createIngestor } from '../src/ingest/pipeline.js';
import type { IngestItem } from '../src/ingest/types.js';
import type { AppendResult } from '../src/store/types.js';
import type { Pricer, Usage, WorkloadEvent } from '../src/workload/event.js';
import { readFileSync } from 'node:fs';

/** Minimal in-memory store: append with de-duplication on (workspace, event_id), within a batch too. */
class MemoryStore {
  readonly events = new Map<string, WorkloadEvent>();
  readonly batchSizes: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  async append(events: readonly WorkloadEvent[]): Promise<AppendResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.batchSizes.push(events.length);
    await new Promise<void>((resolve) => setImmediate(resolve)); // an append takes a turn of the event loop, like real I/O
    let inserted = 0;
    for (const e of events) {
      const key = `${e.workspace}\u0000${e.event_id}`;
      if (this.events.has(key)) continue;
      this.events.set(key, e);
      inserted++;
    }
    this.inFlight--;
    return { inserted, duplicates: events.length - inserted };
  }
  list(workspace: string): WorkloadEvent[] {
    return [...this.events.values()].filter((e) => e.workspace === workspace);
  }
}

/** USD per token. */
const RATES: Record<string, { provider: string; input: number; cached: number; output: number }> = {
  'gpt-4o': { provider: 'openai', input: 2.5e-6, cached: 1.25e-6, output: 10e-6 },
  'gpt-4o-mini': { provider: 'openai', input: 0.15e-6, cached: 0.075e-6, output: 0.6e-6 },
  'text-embedding-3-small': { provider: 'openai', input: 0.02e-6, cached: 0.02e-6, output: 0 },
};
const pricer: Pricer = {
  price(_ws: string, model: string, u: Usage) {
    const r = RATES[model] ?? RATES[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
    if (!r) return null;
    return {
      provider: r.provider,
      cost_usd: (u.prompt_tokens - u.cached_prompt_tokens) * r.input + u.cached_prompt_tokens * r.cached + u.completion_tokens * r.output,
    };
  },
};

function setup(batchSize?: number) {
  const store = new MemoryStore();
  let n = 0;
  const ingestor = createIngestor({ store, pricer, newId: () => `gen-${++n}`, batchSize });
  return { store, ingestor };
}

const ev = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `e${i}`,
  timestamp: Date.UTC(2026, 0, 1) + i,
  model: 'gpt-4o-mini',
  prompt_tokens: 100,
  completion_tokens: 10,
  ...extra,
});

describe('createIngestor', () => {
  it('stores valid events under the caller workspace and reports invalid ones by index and field', async () => {
    const { store, ingestor } = setup();
    const body = parseJsonBody([
      ev(0, { workspace: 'someone-else' }),
      ev(1, { prompt_tokens: -3 }),
      { model: 'gpt-4o' },
      ev(3, { model: 'mystery-9' }),
      ev(4, { timestamp: 'last tuesday' }),
      { ...ev(5), event_id: undefined },
      'not an object',
    ]);
    if (!body.ok) throw new Error(body.message);
    const r = await ingestor.ingest('acme', body.items);
    expect(r).toMatchObject({ processed: 7, accepted: 3, rejected: 4, duplicates: 0, errors_total: 4, errors_truncated: false });
    expect(r.errors).toEqual([
      { index: 1, field: 'prompt_tokens', message: 'must be >= 0' },
      { index: 2, field: 'timestamp', message: 'required' },
      { index: 4, field: 'timestamp', message: expect.stringContaining('not a valid timestamp') },
      { index: 6, field: '(event)', message: 'must be a JSON object' },
    ]);
    const stored = store.list('acme');
    expect(stored.map((e) => e.event_id).sort()).toEqual(['e0', 'e3', 'gen-1']);
    // an unknown model is stored, unpriced and flagged, never dropped
    expect(stored.find((e) => e.event_id === 'e3')).toMatchObject({
      model: 'mystery-9',
      cost_usd: 0,
      cost_source: 'unknown_model',
      provider: 'unknown',
    });
    expect(store.list('someone-else')).toHaveLength(0);
    expect(stored[0]!.cost_usd).toBeCloseTo(100 * 0.15e-6 + 10 * 0.6e-6, 12);
  });

  it('re-sending the same event ids stores nothing twice (across requests and within one)', async () => {
    const { store, ingestor } = setup(3);
    const items = (ids: number[]): IngestItem[] => ids.map((i, index) => ({ index, raw: ev(i) }));
    expect(await ingestor.ingest('acme', items([1, 2, 3, 4, 5]))).toMatchObject({ accepted: 5, duplicates: 0, rejected: 0 });
    expect(await ingestor.ingest('acme', items([1, 2, 3, 4, 5, 6, 6]))).toMatchObject({ accepted: 1, duplicates: 6, rejected: 0 });
    expect(await ingestor.ingest('other', items([1]))).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(store.list('acme')).toHaveLength(6);
  });

  it('batches, keeps one append in flight and reads at most two batches ahead of the store', async () => {
    const { store, ingestor } = setup();
    const total = 10_250;
    let pulled = 0;
    let maxAhead = 0;
    async function* source(): AsyncGenerator<IngestItem> {
      for (let i = 0; i < total; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - store.events.size);
        yield { line: i + 1, raw: ev(i) };
      }
    }
    const progress: number[] = [];
    const r = await ingestor.ingest('acme', source(), { batchSize: 1_000, onProgress: (p) => progress.push(p.accepted) });
    expect(r).toMatchObject({ accepted: total, rejected: 0, processed: total });
    expect(store.batchSizes).toEqual([...Array(10).fill(1_000), 250]);
    expect(store.maxInFlight).toBe(1);
    expect(maxAhead).toBeLessThanOrEqual(2 * 1_000 + 1);
    expect(progress.at(-1)).toBe(total);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('caps the error list and reports the total; line positions for streams', async () => {
    const { ingestor } = setup();
    const items: IngestItem[] = Array.from({ length: 30 }, (_, i) => ({
      line: i + 2,
      errors: [{ field: '(json)', message: 'malformed JSON' }],
    }));
    items.push({ line: 40, raw: ev(1) });
    const r = await ingestor.ingest('acme', items, { maxErrors: 10 });
    expect(r).toMatchObject({ accepted: 1, rejected: 30, errors_total: 30, errors_truncated: true });
    expect(r.errors).toHaveLength(10);
    expect(r.errors[0]).toEqual({ line: 2, field: '(json)', message: 'malformed JSON' });
  });

  it('stores the events of an OTLP export, rejecting the bad spans by index', async () => {
    const { store, ingestor } = setup();
    const parsed = parseOtlpTraces(JSON.parse(readFileSync(new URL('./fixtures/ingest-otlp-genai.json', import.meta.url), 'utf8')));
    if (!parsed.ok) throw new Error(parsed.message);
    const r = await ingestor.ingest('acme', parsed.items);
    expect(r).toMatchObject({ accepted: 4, rejected: 1, duplicates: 0 });
    expect(r.errors.map((e) => `${e.index}:${e.field}`)).toEqual(['5:prompt_tokens', '5:completion_tokens']);
    expect(
      store
        .list('acme')
        .filter((e) => e.cost_source === 'unknown_model')
        .map((e) => e.model),
    ).toEqual(['mystery-model-9']);
    const chat = store.list('acme').find((e) => e.event_id === '051581bf3cb55c13')!;
    expect(chat).toMatchObject({
      model: 'gpt-4o-2024-08-06',
      provider: 'openai',
      cached_prompt_tokens: 1024,
      ttft_ms: 420,
      tags: { region: 'eu-west-1', team: 'support', priority: '2' },
    });
    expect(chat.prompt_text).toBe('system: You are a helpful support agent.\nuser: Where is my order?');
    expect(chat.prefix_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(chat.cost_usd).toBeCloseTo(176 * 2.5e-6 + 1024 * 1.25e-6 + 85 * 10e-6, 12);
    const again = await ingestor.ingest('acme', parsed.items);
    expect(again).toMatchObject({ accepted: 0, duplicates: 4, rejected: 1 });
  });
});

describe('importFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netra-ingest-'));

  it('imports the real Azure trace: 8,819 rows, 18,059,974 prompt and 245,896 completion tokens; re-import stores nothing', async () => {
    const { store, ingestor } = setup();
    const path = fileURLToPath(new URL('./fixtures/data/azure-llm-inference-2023-code.csv', import.meta.url));
    const seen: ImportProgress[] = [];
    const r = await importFile(path, { format: 'azure-trace', model: 'gpt-4o-mini', workspace: 'azure' }, ingestor, (p) => seen.push(p));
    expect(r).toMatchObject({ accepted: 8_819, rejected: 0, duplicates: 0, format: 'azure-trace' });
    const events = store.list('azure');
    expect(events).toHaveLength(8_819);
    expect(events.reduce((a, e) => a + e.prompt_tokens, 0)).toBe(18_059_974);
    expect(events.reduce((a, e) => a + e.completion_tokens, 0)).toBe(245_896);
    expect(events.reduce((a, e) => a + e.cost_usd, 0)).toBeCloseTo(18_059_974 * 0.15e-6 + 245_896 * 0.6e-6, 9);
    expect(Math.min(...events.map((e) => e.timestamp))).toBe(Date.UTC(2023, 10, 16, 18, 17, 3, 979));
    expect(r.bytes).toBe(readFileSync(path).length);
    expect(seen.at(-1)).toMatchObject({ bytesRead: r.bytes, totalBytes: r.bytes, accepted: 8_819 });

    const again = await importFile(path, { format: 'azure-trace', model: 'gpt-4o-mini', workspace: 'azure' }, ingestor);
    expect(again).toMatchObject({ accepted: 0, duplicates: 8_819, rejected: 0 });
    expect(store.list('azure')).toHaveLength(8_819);
  });

  it('imports JSONL with bad lines and unknown models: errors name the line and field, valid rows are stored', async () => {
    const { store, ingestor } = setup();
    const path = join(dir, 'events.jsonl');
    writeFileSync(
      path,
      [
        JSON.stringify(ev(1)),
        '{oops',
        '',
        JSON.stringify(ev(2, { model: 'nope-1' })),
        JSON.stringify(ev(3, { completion_tokens: 1.5 })),
        JSON.stringify(ev(4)),
      ].join('\r\n'),
    );
    const r = await importFile(path, { format: 'jsonl', workspace: 'w' }, ingestor);
    expect(r).toMatchObject({ accepted: 3, rejected: 2 });
    expect(r.errors.map((e) => `${e.line}:${e.field}`)).toEqual(['2:(json)', '5:completion_tokens']);
    expect(
      store
        .list('w')
        .map((e) => e.event_id)
        .sort(),
    ).toEqual(['e1', 'e2', 'e4']);
    expect(store.list('w').find((e) => e.event_id === 'e2')?.cost_source).toBe('unknown_model');
  });

  it('imports CSV with a column mapping and OpenAI JSONL logs', async () => {
    const { store, ingestor } = setup();
    const csv = join(dir, 'calls.csv');
    writeFileSync(
      csv,
      'id,when,llm,in,out,cost\nc1,2026-01-02 10:00:00,gpt-4o,1000,100,0.5\nc2,2026-01-02 10:00:01,secret-model,5,5,0.01\nc3,bad-date,gpt-4o,1,1,\n',
    );
    const r = await importFile(
      csv,
      {
        format: 'csv',
        workspace: 'w',
        mapping: { event_id: 'id', timestamp: 'when', model: 'llm', prompt_tokens: 'in', completion_tokens: 'out', cost_usd: 'cost' },
      },
      ingestor,
    );
    expect(r).toMatchObject({ accepted: 2, rejected: 1, errors: [{ line: 4, field: 'timestamp' }] });
    expect(store.list('w').find((e) => e.event_id === 'c2')).toMatchObject({
      cost_usd: 0.01,
      cost_source: 'given',
      timestamp: Date.UTC(2026, 0, 2, 10, 0, 1),
    });

    const logs = join(dir, 'openai.jsonl');
    writeFileSync(
      logs,
      `${JSON.stringify({ response: { id: 'chatcmpl-1', created: 1767225600, model: 'gpt-4o', usage: { prompt_tokens: 10, completion_tokens: 2 } } })}\n42\n`,
    );
    const r2 = await importFile(logs, { format: 'openai-jsonl', workspace: 'w' }, ingestor);
    expect(r2).toMatchObject({ accepted: 1, rejected: 1, errors: [{ line: 2, field: '(event)' }] });
  });

  it('fails clearly for a missing file or a trace without a model', async () => {
    const { ingestor } = setup();
    await expect(importFile(join(dir, 'nope.csv'), { format: 'csv', workspace: 'w' }, ingestor)).rejects.toMatchObject({
      code: 'NETRA_E_NOT_FOUND',
    });
    await expect(
      importFile(
        fileURLToPath(new URL('./fixtures/data/azure-llm-inference-2023-code.csv', import.meta.url)),
        { format: 'azure-trace', workspace: 'w' },
        ingestor,
      ),
    ).rejects.toMatchObject({ code: 'NETRA_E_VALIDATION', field: 'model' });
  });
});
