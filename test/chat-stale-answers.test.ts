/**
 * Stale-while-revalidate for the chat (src/services/analysis-service.ts, analysis-precompute.ts, src/agents): after a
 * precompute completed and new events arrived (the generation moved on), a chat turn is answered from the precompute's
 * snapshot without a single store query, its tool results and report say as of when, and its figures are the snapshot's;
 * the REST analysis API computes the current figures, after which the chat uses them too (an exact entry wins); a
 * snapshot older than the bound, or NETRA_PRECOMPUTE_STALE_MAX_MS=0, means the turn computes current figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../src/agents/index.js';
import type { RunRequest } from '../src/agents/types.js';
import { MemoryQueryCache } from '../src/cache/query-cache.js';
import { configFromEnv } from '../src/config.js';
import { asOfSentence, formatByUnit } from '../src/llm/builtin-prose.js';
import { createAnalysisPrecompute } from '../src/services/analysis-precompute.js';
import type { AnalysisQueries } from '../src/optimize/ports/index.js';
import { createAnalysisService } from '../src/services/analysis-service.js';
import type { AnalyticsStore } from '../src/store/types.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const END = Date.UTC(2026, 10, 20);
const request = (text: string, workspace = 'gen'): RunRequest => ({
  run_id: 'r1',
  thread_id: 't1',
  workspace,
  user_id: 'u1',
  request: text,
  history: [],
});
type Ev = { type: string; payload: Record<string, unknown> };

/**
 * Counts the store queries the analysis path can run: the analysis port's queries (`count`) and stats (`stats`). The
 * breakdown of the question's own figure and the workspace's names are not counted: they are read from current data,
 * the analysis from the snapshot.
 */
function countStoreQueries(store: AnalyticsStore): { count: () => number; stats: () => number } {
  let n = 0;
  let s = 0;
  const count = (queries: AnalysisQueries) => {
    const port = queries as unknown as Record<string, unknown>;
    for (const k of Object.keys(port)) {
      const f = port[k];
      if (typeof f === 'function' && k !== 'breakdown' && k !== 'topValues')
        port[k] = (...args: unknown[]) => {
          n++;
          return (f as (...a: unknown[]) => unknown).apply(queries, args);
        };
    }
    return queries;
  };
  count(store.analysis);
  // the analysis and the replay read through a snapshot's queries
  const snapshot = store.analysisSnapshot.bind(store);
  store.analysisSnapshot = (fn) => snapshot((q) => fn(count(q)));
  const stats = store.stats.bind(store);
  store.stats = (scope) => {
    s++;
    return stats(scope);
  };
  return { count: () => n, stats: () => s };
}

async function turn(sup: ReturnType<typeof createSupervisor>, text: string, workspace = 'gen') {
  const events: Ev[] = [];
  const r = await sup.execute(
    request(text, workspace),
    async (e) => {
      events.push(e as Ev);
    },
    new AbortController().signal,
  );
  expect(r.status).toBe('completed');
  const tools = events
    .filter((e) => e.type === 'tool_completed')
    .map((e) => ({ tool: `${e.payload.agent}:${e.payload.tool}`, result: e.payload.result as Record<string, unknown> }));
  const report = events.find((e) => e.type === 'final_report')!.payload;
  return { r, events, tools, report };
}

describe('chat answers from the last completed precompute', () => {
  let t: TestApp;
  let queries: { count: () => number; stats: () => number };
  beforeAll(async () => {
    // a long debounce: the precompute runs only when the test asks (run())
    t = await startTestApp({ precompute: { debounceMs: 600_000, maxWaitMs: 600_000 } });
    queries = countStoreQueries(t.app.store);
    t.app.precompute.start();
    await t.app.generate({ preset: 'chat-support', events: 4000, days: 7, seed: 3, workspace: 'gen', end: END });
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('the default bound is 10 minutes', () => {
    expect(configFromEnv({}).precompute.staleMaxMs).toBe(600_000);
    expect(configFromEnv({ NETRA_PRECOMPUTE_STALE_MAX_MS: '0' }).precompute.staleMaxMs).toBe(0);
    expect(t.app.config.precompute.staleMaxMs).toBe(600_000);
  });

  it('after new events, a turn is answered from the snapshot with no store query; the REST API is current; then the chat is too', async () => {
    expect(await t.app.precompute.run('gen')).toMatchObject({ outcome: 'ok' });
    const snap = t.app.precompute.snapshot('gen')!;
    expect(snap).not.toBeNull();
    expect(snap.generation).toBe(await t.app.cache!.generation('gen'));
    expect(snap.stats.events).toBe(4000);

    // new events: the generation moves on, the precompute is due (in 10 min here)
    await t.app.generate({ preset: 'chat-support', events: 300, days: 1, seed: 4, workspace: 'gen', end: END });
    expect(await t.app.cache!.generation('gen')).toBeGreaterThan(snap.generation);
    const now = (await t.app.store.workspaces()).find((w) => w.workspace === 'gen')!.events;
    expect(now).toBeGreaterThan(snap.stats.events);

    const sup = createSupervisor({ analysis: t.app.analysis, llm: t.app.llm, catalog: () => t.app.catalog() });
    const before = queries.count();
    const statsBefore = queries.stats();
    const t0 = Date.now();
    const stale = await turn(sup, 'Where does my money go?');
    expect(queries.count() - before).toBe(0); // no analysis query
    expect(queries.stats() - statsBefore).toBe(1); // one scoped count: how many events arrived since the snapshot
    // every result of the turn is the snapshot's, and says so
    const asOf = new Date(snap.completed_at).toISOString();
    for (const tool of [
      'triage:stats',
      'triage:analysis',
      'data:stats',
      'optimization:analysis',
      'optimization:policy',
      'optimization:simulate',
    ]) {
      // the answer for this question runs the tools it needs (triage always); each one it ran is the snapshot's
      const found = stale.tools.find((x) => x.tool === tool);
      if (!found && !tool.startsWith('triage:')) continue;
      const r = found!.result;
      expect({ tool, as_of: (r.stale as { as_of: string }).as_of }).toEqual({ tool, as_of: asOf });
      const age = (r.stale as { age_ms: number }).age_ms;
      expect(age).toBeGreaterThanOrEqual(t0 - snap.completed_at);
      expect(age).toBeLessThanOrEqual(Date.now() - snap.completed_at);
    }
    expect(stale.tools.find((x) => x.tool === 'triage:stats')!.result.events).toBe(snap.stats.events);
    // the report: as of when, how old, how many events arrived since; its figures are the snapshot's
    const st = stale.report.stale as { as_of: string; age_ms: number; events_since: number };
    expect(st).toMatchObject({ as_of: asOf, events_since: now - snap.stats.events });
    const content = stale.report.content as string;
    expect(content).toContain(asOfSentence({ time: asOf, age_ms: st.age_ms, events_since: now - snap.stats.events }));
    expect(content).toMatch(
      new RegExp(
        `Figures as of ${asOf.slice(11, 16)} UTC \\(\\d+ s before this answer; ${formatByUnit(now - snap.stats.events, 'events')} events have arrived since and are being analysed\\)\\.`,
      ),
    );
    const sum = stale.report.summary as Record<string, number>;
    expect(sum.monthly_spend_usd).toBe(snap.analysis.summary.monthly_spend_usd);
    expect(sum.projected_savings_monthly_usd).toBe(snap.analysis.summary.projected_savings!.monthly_usd);

    // a question naming a window is answered from current data (its window is placed from current stats), never stale
    const windowed = await turn(sup, 'Where did my money go in the last 7 days?');
    expect(windowed.report.stale).toBeUndefined();
    expect(windowed.tools.every((x) => x.result.stale === undefined)).toBe(true);
    expect(windowed.tools.find((x) => x.tool === 'triage:stats')!.result.events).toBe(now);

    // the REST analysis API is never stale: it computes the current figures
    const api = (await t.app.server.inject({ url: '/api/v1/analysis?workspace=gen', headers: await t.auth() })).json();
    expect(api.summary.events).toBe(now);
    expect(queries.count()).toBeGreaterThan(before);

    // the current generation now has its analysis: an exact entry wins, the chat answers with current figures
    const fresh = await turn(sup, 'Where does my money go?');
    expect(fresh.report.stale).toBeUndefined();
    expect(fresh.tools.every((x) => x.result.stale === undefined)).toBe(true);
    expect(fresh.tools.find((x) => x.tool === 'triage:analysis')!.result.events).toBe(now);
    expect((fresh.report.summary as Record<string, number>).monthly_spend_usd).toBe(api.summary.monthly_spend_usd);
    expect(fresh.report.content as string).not.toContain('Figures as of');

    // the next precompute replaces the snapshot; at its generation the turn reads the cache (current, not stale)
    expect(await t.app.precompute.run('gen')).toMatchObject({ outcome: 'ok' });
    expect(t.app.precompute.snapshot('gen')!.stats.events).toBe(now);
    const after = await turn(sup, 'Reduce latency by 3x');
    expect(after.report.stale).toBeUndefined();
  }, 120_000);

  it('a snapshot older than the bound is not used: the turn computes current figures', async () => {
    const qc = new MemoryQueryCache({ ttlMs: 300_000, maxEntries: 100 });
    const analysis = createAnalysisService({ store: t.app.store, catalog: () => t.app.catalog(), cache: qc });
    const p = createAnalysisPrecompute(
      { analysis, store: t.app.store, cache: qc },
      {
        enabled: true,
        debounceMs: 600_000,
        maxWaitMs: 600_000,
        ttlMs: 86_400_000,
        goals: ['balanced'],
        startupWorkspaces: 0,
        staleMaxMs: 400,
      },
    );
    expect(await p.run('gen')).toMatchObject({ outcome: 'ok' });
    await qc.invalidate('gen');
    const sup = createSupervisor({ analysis, llm: t.app.llm, catalog: () => t.app.catalog() });
    await new Promise((r) => setTimeout(r, 500));
    const before = queries.count();
    const r = await turn(sup, 'Reduce my costs');
    expect(r.report.stale).toBeUndefined();
    expect(queries.count()).toBeGreaterThan(before);
    // within the bound, the same setup answers from the snapshot
    expect(await p.run('gen')).toMatchObject({ outcome: 'ok' });
    await qc.invalidate('gen');
    const n = queries.count();
    const quick = await turn(sup, 'Where does my money go?');
    expect(quick.report.stale).toBeDefined();
    expect(queries.count()).toBe(n); // no analysis query
    await p.close();
    await qc.close();
  }, 120_000);
});

describe('NETRA_PRECOMPUTE_STALE_MAX_MS=0', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ precompute: { debounceMs: 600_000, maxWaitMs: 600_000, staleMaxMs: 0 } });
    t.app.precompute.start();
    await t.app.generate({ preset: 'chat-support', events: 2000, days: 7, seed: 5, workspace: 'ws0', end: END });
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('keeps no snapshot: a turn after new events computes current figures', async () => {
    expect(await t.app.precompute.run('ws0')).toMatchObject({ outcome: 'ok' });
    expect(t.app.precompute.snapshot('ws0')).toBeNull();
    await t.app.generate({ preset: 'chat-support', events: 200, days: 1, seed: 6, workspace: 'ws0', end: END });
    const now = (await t.app.store.workspaces()).find((w) => w.workspace === 'ws0')!.events;
    const queries = countStoreQueries(t.app.store);
    const sup = createSupervisor({ analysis: t.app.analysis, llm: t.app.llm, catalog: () => t.app.catalog() });
    const r = await turn(sup, 'Reduce my costs', 'ws0');
    expect(r.report.stale).toBeUndefined();
    expect(r.tools.every((x) => x.result.stale === undefined)).toBe(true);
    expect(r.tools.find((x) => x.tool === 'triage:analysis')!.result.events).toBe(now);
    expect(queries.count()).toBeGreaterThan(0);
    expect(r.report.content as string).not.toContain('Figures as of');
  }, 120_000);
});
