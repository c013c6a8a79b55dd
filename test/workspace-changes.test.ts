/**
 * Every change of a workspace's data goes through one path (src/services/workspace-changes.ts): ingest, generation,
 * dataset delete, reprice, price-override changes and the block-chain backfill each invalidate the workspace's query cache, touch the precompute,
 * and are reported with their reason; a delete or reprice drops the precompute's snapshot, so a chat turn after a delete
 * is never answered from figures that still count the deleted events.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSupervisor } from '../src/agents/index.js';
import { RedisRunEventBus } from '../src/chat/run-event-bus.js';
import { createDatasetAdmin, ownerCheck } from '../src/services/dataset-admin.js';
import { type ChangeReason, createWorkspaceChanges } from '../src/services/workspace-changes.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { makeEvent } from './store.suite.js';

const END = Date.UTC(2026, 10, 20);
const T0 = END - 3_600_000;
const ev = (i: number) => ({
  event_id: `e-${i}`,
  timestamp: new Date(T0 + i * 1000).toISOString(),
  model: 'gpt-4o-mini',
  prompt_tokens: 1000,
  completion_tokens: 100,
  latency_ms: 500,
});
const REDIS_URL = process.env.REDIS_URL;

describe('workspaceChanged: one path for every mutation', () => {
  let t: TestApp;
  const seen: [string, ChangeReason][] = [];
  const inject = async (o: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: object }) =>
    t.app.server.inject({ ...o, headers: await t.auth() });

  beforeAll(async () => {
    // the precompute runs only when asked (long debounce); with REDIS_URL the run-event bus spans processes
    t = await startTestApp({
      precompute: { debounceMs: 600_000, maxWaitMs: 600_000 },
      ...(REDIS_URL ? { redisUrl: REDIS_URL, cache: { redisPrefix: `netra-test-${process.pid}-${Date.now()}:` } } : {}),
    });
    t.app.precompute.start();
    t.app.changes.onChange((ws, reason) => seen.push([ws, reason]));
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  /** Runs a mutation and checks what the one path did: the reason reported, the generation moved, the precompute due. */
  async function expectChange(workspace: string, reason: ChangeReason, mutate: () => Promise<unknown>) {
    const gen = await t.app.cache!.generation(workspace);
    seen.length = 0;
    await mutate();
    expect(seen).toEqual([[workspace, reason]]);
    expect(await t.app.cache!.generation(workspace)).toBeGreaterThan(gen);
    expect(t.app.precompute.status().pending).toContain(workspace);
  }

  it('ingest over HTTP', async () => {
    await expectChange('w-ingest', 'ingest', async () => {
      const r = await inject({ method: 'POST', url: '/api/v1/events?workspace=w-ingest', payload: [ev(1), ev(2)] });
      expect(r.json().accepted).toBe(2);
    });
    // a request that stores nothing (all duplicates) changes nothing
    seen.length = 0;
    await inject({ method: 'POST', url: '/api/v1/events?workspace=w-ingest', payload: [ev(1)] });
    expect(seen).toEqual([]);
  });

  it('generation', async () => {
    await expectChange('w-gen', 'generate', () =>
      t.app.generate({ preset: 'chat-support', events: 200, days: 1, seed: 2, workspace: 'w-gen', end: END }),
    );
  });

  it('reprice, and setting or removing a price override', async () => {
    await inject({ method: 'POST', url: '/api/v1/events?workspace=w-price', payload: [ev(1), ev(2)] });
    await expectChange('w-price', 'reprice', async () =>
      expect((await inject({ method: 'POST', url: '/api/v1/workspaces/w-price/reprice' })).statusCode).toBe(200),
    );
    await expectChange('w-price', 'override', async () => {
      const r = await inject({
        method: 'PUT',
        url: '/api/v1/workspaces/w-price/price-overrides/gpt-4o-mini',
        payload: { input: 1e-6, output: 2e-6 },
      });
      expect(r.json().repriced.updated).toBe(2);
    });
    await expectChange('w-price', 'override', async () =>
      expect((await inject({ method: 'DELETE', url: '/api/v1/workspaces/w-price/price-overrides/gpt-4o-mini' })).statusCode).toBe(200),
    );
  });

  it('a backfill of block chains for events stored without them', async () => {
    const text = `shared document ${'lorem ipsum dolor sit amet '.repeat(300)}`; // well over 1,024 tokens
    await t.app.store.append([makeEvent({ event_id: 'old-1', workspace: 'w-backfill', prompt_text: text })]);
    await expectChange('w-backfill', 'backfill', async () => expect((await t.app.backfill.run('w-backfill')).chained).toBe(1));
    // a walk that gives no event a chain changes nothing
    seen.length = 0;
    await t.app.store.append([makeEvent({ event_id: 'old-2', workspace: 'w-backfill-none', prompt_text: 'x'.repeat(2000) })]);
    expect(await t.app.backfill.run('w-backfill-none')).toMatchObject({ scanned: 1, chained: 0 });
    expect(seen).toEqual([]);
  });

  it('an invalid override changes nothing and names the field of the override itself', async () => {
    seen.length = 0;
    const r = await inject({ method: 'PUT', url: '/api/v1/workspaces/w-price/price-overrides/my-own-model', payload: { input: 1e-6 } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'NETRA_E_VALIDATION', field: 'output' });
    expect(r.json().error.message).toMatch(/^price override output: model 'my-own-model' is not in the price catalog/);
    expect(seen).toEqual([]);
  });

  it('a dataset delete; then a chat turn counts what is left, never the snapshot that still counts the deleted events', async () => {
    await t.app.generate({ preset: 'chat-support', events: 1500, days: 3, seed: 5, workspace: 'w-del', end: END });
    await t.app.generate({ preset: 'rag-assistant', events: 1500, days: 3, seed: 6, workspace: 'w-del', end: END });
    expect(await t.app.precompute.run('w-del')).toMatchObject({ outcome: 'ok' });
    const snap = t.app.precompute.snapshot('w-del')!;
    expect(snap.stats.events).toBe(3000);

    const datasets = createDatasetAdmin({
      store: t.app.store,
      reprice: (ws) => t.app.reprice(ws),
      changes: t.app.changes,
      isOwner: ownerCheck(t.app.accounts.access),
    });
    const app = (await t.app.store.datasets('w-del'))[0]!.app;
    let deleted = 0;
    await expectChange('w-del', 'delete', async () => {
      deleted = await datasets.remove('w-del', t.app.accounts.identity.localOwnerId(), app);
    });
    expect(deleted).toBeGreaterThan(0);
    expect(t.app.precompute.snapshot('w-del')).toBeNull();

    const sup = createSupervisor({ analysis: t.app.analysis, llm: t.app.llm, catalog: () => t.app.catalog() });
    const events: { type: string; payload: Record<string, unknown> }[] = [];
    const r = await sup.execute(
      { run_id: 'r1', thread_id: 't1', workspace: 'w-del', user_id: 'u1', request: 'Where does my money go?', history: [] },
      async (e) => {
        events.push(e as never);
      },
      new AbortController().signal,
    );
    expect(r.status).toBe('completed');
    const report = events.find((e) => e.type === 'final_report')!.payload;
    expect(report.stale).toBeUndefined();
    const stats = events.find((e) => e.type === 'tool_completed' && e.payload.tool === 'stats')!.payload.result as { events: number };
    expect(stats.events).toBe(3000 - deleted);
  });

  it.skipIf(!REDIS_URL)("a change in another process drops this process's snapshot (announced on the run-event bus)", async () => {
    await t.app.generate({ preset: 'chat-support', events: 300, days: 1, seed: 9, workspace: 'w-remote', end: END });
    expect(await t.app.precompute.run('w-remote')).toMatchObject({ outcome: 'ok' });
    expect(t.app.precompute.snapshot('w-remote')).not.toBeNull();
    const bus = new RedisRunEventBus({ url: REDIS_URL!, prefix: t.app.config.cache.redisPrefix });
    await bus.connect();
    try {
      const other = createWorkspaceChanges({ cache: null });
      other.attach({ bus });
      // an append elsewhere keeps the snapshot (it still counts a prefix of the data); a delete elsewhere drops it
      await other.changed('w-remote', 'ingest');
      await other.changed('w-remote', 'delete');
      await vi.waitFor(() => expect(t.app.precompute.snapshot('w-remote')).toBeNull(), { timeout: 5_000, interval: 20 });
    } finally {
      await bus.close();
    }
  });
});
