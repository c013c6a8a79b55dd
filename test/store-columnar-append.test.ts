/**
 * The DuckDB store's columnar append (src/store/duckdb-columnar-append.ts): generated column batches are stored
 * exactly as the same events appended as objects, across batches of different dictionaries; a file-backed store
 * has committed them when appendColumns resolves; a bad batch is refused whole, naming the field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateWorkload, type GenerateOptions } from '../src/corpus/generator.js';
import { NetraError } from '../src/errors.js';
import { createDuckDbStore, type DuckDbStoreOptions } from '../src/store/duckdb-store.js';
import { eventAt, fromEvents, NULL_CODE, type DictColumn, type EventColumns } from '../src/workload/event-columns.js';
import type { Pricer, WorkloadEvent } from '../src/workload/event.js';

const dir = mkdtempSync(join(tmpdir(), 'netra-columnar-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pricer: Pricer = {
  price: (_ws, model, u) => ({
    cost_usd: u.prompt_tokens * 1e-6 + u.completion_tokens * 3e-6,
    provider: model.startsWith('claude') ? 'anthropic' : 'openai',
  }),
};
const END = Date.UTC(2026, 10, 22);
const opts = (preset: string, seed: number): GenerateOptions => ({
  preset,
  events: 3000,
  days: 2,
  seed,
  end: END,
  pricer,
  workspace: 'cols',
  batchSize: 700,
});

async function open(o: DuckDbStoreOptions) {
  const s = createDuckDbStore(o);
  await s.init();
  return s;
}
const byId = (a: WorkloadEvent, b: WorkloadEvent) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);

describe('DuckDB columnar append', () => {
  it('stores generated column batches exactly as append stores the same events, batches of two generators interleaved', async () => {
    const cols = await open({ path: ':memory:', flushIntervalMs: 60_000 });
    const rows = await open({ path: ':memory:' });
    const a = generateWorkload(opts('agent-tool-use', 3)).columnBatches();
    const b = generateWorkload(opts('chat-support', 4)).columnBatches();
    let inserted = 0;
    for (;;) {
      const x = a.next();
      const y = b.next();
      if (!x.done) inserted += (await cols.appendColumns(x.value)).inserted;
      if (!y.done) inserted += (await cols.appendColumns(y.value)).inserted;
      if (x.done && y.done) break;
    }
    expect(inserted).toBe(6000);
    for (const o of [opts('agent-tool-use', 3), opts('chat-support', 4)])
      for (const batch of generateWorkload(o).batches()) await rows.append(batch);
    const got = (await cols.listEvents({ workspace: 'cols' }, { limit: 10_000 })).sort(byId);
    const want = (await rows.listEvents({ workspace: 'cols' }, { limit: 10_000 })).sort(byId);
    expect(got.length).toBe(6000);
    expect(got).toEqual(want);
    // sessions, traces, users, nulls and errors are all exercised by these presets
    expect(got.some((e) => e.session_id !== null) && got.some((e) => e.end_user !== null) && got.some((e) => e.http_status === 429)).toBe(
      true,
    );
    await cols.close();
    await rows.close();
  });

  it('has committed the rows of a file-backed store when appendColumns resolves', async () => {
    const path = join(dir, 'durable.duckdb');
    const store = await open({ path });
    let n = 0;
    for (const batch of generateWorkload(opts('rag-assistant', 5)).columnBatches()) n += (await store.appendColumns(batch)).inserted;
    expect(n).toBe(3000);
    await store.close();
    const again = await open({ path });
    expect((await again.stats({ workspace: 'cols' })).events).toBe(3000);
    // the same batches again: every key is a duplicate, found through the row path's exact check
    let dup = 0;
    for (const batch of generateWorkload(opts('rag-assistant', 5)).columnBatches()) dup += (await again.appendColumns(batch)).duplicates;
    expect(dup).toBe(3000);
    await again.close();
  });

  it('refuses a batch with a missing required value, a non-finite timestamp or a non-string text, and stays usable', async () => {
    const store = await open({ path: ':memory:' });
    const ok = generateWorkload(opts('chat-support', 6)).columnBatches().next().value as EventColumns;
    const noModel: EventColumns = {
      ...ok,
      model: { kind: 'dict', dict: (ok.model as DictColumn).dict, codes: new Uint32Array(ok.length).fill(NULL_CODE) },
    };
    await expect(store.appendColumns(noModel)).rejects.toThrow(/event 0: model is required/);
    const badTs = fromEvents([{ ...eventAt(ok, 0), timestamp: Number.NaN }]);
    await expect(store.appendColumns(badTs)).rejects.toBeInstanceOf(NetraError);
    const notText = fromEvents([{ ...eventAt(ok, 0), prompt_text: 42 as unknown as string }]);
    await expect(store.appendColumns(notText)).rejects.toThrow(/event 0: prompt_text must be a string/);
    expect((await store.stats({ workspace: 'cols' })).events).toBe(0);
    expect(await store.appendColumns(ok)).toEqual({ inserted: ok.length, duplicates: 0 });
    expect((await store.stats({ workspace: 'cols' })).events).toBe(ok.length);
    await store.close();
  });
});
