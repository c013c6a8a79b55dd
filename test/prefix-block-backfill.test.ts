/**
 * The backfill of block chains for events stored before ingest derived them: planted multi-turn conversations
 * (helpers/planted-conversations.ts, normalised by the real ingest path) are stored without their chains, as a store
 * from before the chain columns holds them. The prompt-caching analysis sees only their shared system prompt until the
 * backfill job has run; afterwards every event carries exactly the chain ingest derives and the analysis recovers the
 * planted share. A cancelled backfill resumes after its last saved page.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPromptCaching, recommendPromptCaching } from '../src/optimize/recommend/prompt-caching.js';
import { BACKFILL_STATE_FILE, createPrefixBlockBackfill } from '../src/services/prefix-block-backfill.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { TEXT_MIN_TOKENS } from '../src/workload/prefix-blocks.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { plantConversations } from './helpers/planted-conversations.js';
import { priceCatalog, usageContext } from './helpers/usage-analysis-context.js';

const FROM = Date.UTC(2026, 10, 10);
const APP = { app: 'assistant-gpt', model: 'gpt-4o' };

/** Planted conversations as a store from before derived chains holds them: the same events, no chain. */
function legacyConversations(workspace: string, seed: number, conversations: number) {
  const planted = plantConversations({ workspace, from: FROM, seed, catalog: priceCatalog(), conversations, apps: [APP] });
  const legacy = planted.events.map((e) => ({ ...e, prefix_block_hashes: null, prefix_block_size: null }));
  return { planted, legacy };
}

const longText = (e: WorkloadEvent) => e.prompt_text !== null && Buffer.byteLength(e.prompt_text) >= TEXT_MIN_TOKENS;

async function promptCachingShare(t: TestApp, workspace: string): Promise<number | null> {
  const stats = await t.app.store.stats({ workspace });
  const scope = { workspace, from: FROM, to: FROM + 86_400_000 };
  const ctx = usageContext({ ...scope, total_events: stats.events, total_spend_usd: stats.spend_usd });
  const r = recommendPromptCaching(await loadPromptCaching(t.app.store.analysis, scope, ctx), ctx);
  const rec = r.recommendations.find((x) => x.scope.app === APP.app);
  return rec ? Number(rec.evidence.figures.cacheable_input_token_share) : null;
}

describe('backfill of block chains derived from prompt text', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ startup: { delayMs: 600_000 } }); // the startup task is driven by hand below
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives old events the chains ingest derives; the prompt-caching analysis then recovers the planted share', async () => {
    const { planted, legacy } = legacyConversations('legacy', 3, 40);
    const other = legacyConversations('untouched', 4, 5).legacy;
    await t.app.store.append([...legacy, ...other]);
    const truth = planted.byApp.get(APP.app)!;
    const share = truth.cacheable / truth.prompt;
    expect(share).toBeGreaterThan(0.3);
    // without chains only the shared system prompt (prefix_hash) is seen: the re-sent conversations are invisible
    expect((await promptCachingShare(t, 'legacy')) ?? 0).toBeLessThan(share - 0.1);

    const progress: [number, number][] = [];
    const r = await t.app.backfill.run('legacy', { onProgress: (done, total) => progress.push([done, total]) });
    const chained = planted.events.filter((e) => e.prefix_block_hashes !== null);
    expect(chained.length).toBeGreaterThan(40);
    expect(r).toEqual({ workspace: 'legacy', scanned: legacy.filter(longText).length, chained: chained.length, completed: true });
    expect(progress.at(-1)).toEqual([r.scanned, r.scanned]);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThan(progress[i - 1]![0]);

    const stored = new Map((await t.app.store.listEvents({ workspace: 'legacy' }, { limit: 10_000 })).map((e) => [e.event_id, e]));
    for (const e of planted.events) {
      expect(stored.get(e.event_id), e.event_id).toMatchObject({
        prefix_block_hashes: e.prefix_block_hashes,
        prefix_block_size: e.prefix_block_size,
      });
    }
    expect(Math.abs((await promptCachingShare(t, 'legacy'))! - share)).toBeLessThanOrEqual(0.02);

    // another workspace is not touched; the job is on record with its counts; a completed workspace is not walked again
    expect(await t.app.store.countChainlessPrompts('untouched', null)).toBe(other.filter(longText).length);
    const [job] = await t.app.repo.listJobs('legacy');
    expect(job).toMatchObject({ kind: 'backfill', status: 'completed', accepted: chained.length });
    expect(await t.app.backfill.run('legacy')).toMatchObject({ scanned: 0, chained: 0, skipped: expect.stringMatching(/^completed at /) });
  });

  it('resumes a cancelled backfill after its last saved page and ends with every chain', async () => {
    const { planted, legacy } = legacyConversations('resumed', 5, 12);
    await t.app.store.append(legacy);
    const backfill = createPrefixBlockBackfill({
      store: t.app.store,
      jobs: t.app.jobs,
      dataDir: t.dir,
      ensureWorkspace: async () => {},
      changed: (ws) => t.app.changes.changed(ws, 'backfill'),
      pageRows: 5,
    });
    const stop = new AbortController();
    const first = backfill.run('resumed', { signal: stop.signal, onProgress: () => stop.abort(new Error('stopped by the test')) });
    await expect(first).rejects.toThrow();
    const state = JSON.parse(readFileSync(join(t.dir, BACKFILL_STATE_FILE), 'utf8')) as Record<
      string,
      { cursor: unknown; completed_at: unknown }
    >;
    expect(state.resumed).toMatchObject({ cursor: { event_id: expect.any(String) }, completed_at: null });
    const [cancelled] = await t.app.repo.listJobs('resumed');
    expect(cancelled).toMatchObject({ kind: 'backfill', status: 'cancelled' });

    const rest = await backfill.run('resumed');
    const total = legacy.filter(longText).length;
    expect(rest).toMatchObject({ scanned: total - 5, completed: true });
    const stored = new Map((await t.app.store.listEvents({ workspace: 'resumed' }, { limit: 10_000 })).map((e) => [e.event_id, e]));
    for (const e of planted.events) expect(stored.get(e.event_id)!.prefix_block_hashes).toEqual(e.prefix_block_hashes);
  });

  it('the startup task records workspaces with nothing to derive as complete and starts a job for the others', async () => {
    await t.app.generate({ preset: 'chat-support', events: 200, days: 1, seed: 1, workspace: 'generated', end: FROM });
    const r = await t.app.backfill.startPending();
    expect(r.completed).toContain('generated'); // generated prompts are all under the providers' cacheable minimum
    expect(r.submitted).toEqual(['untouched']); // 'legacy' and 'resumed' were completed above
    const done = await t.app.backfill.run('untouched'); // joins the job the task started
    expect(done).toMatchObject({ completed: true, chained: expect.any(Number) });
    expect(await t.app.store.countChainlessPrompts('untouched', null)).toBeGreaterThan(0); // short-of-1,024-token texts stay chainless
    expect((await t.app.backfill.startPending()).submitted).toEqual([]);
  });
});
