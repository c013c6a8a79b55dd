/**
 * The dataset admin pipeline and approvals from thread state, through the supervisor over the real app (store, query
 * cache, accounts' role lookup as the owner check): list, delete (approval first, executed only on a confirmation of
 * the thread's previous report, owners only), reprice, refusals of what cannot be done exactly, "nothing to confirm",
 * a large synthetic generation confirmed from thread state, and the two-turn conversation through the run service.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor, type DatasetAdmin } from '../src/agents/index.js';
import type { RunEventDraft, RunExecutor, RunRequest } from '../src/agents/types.js';
import { PRESETS } from '../src/corpus/presets.js';
import { RunService } from '../src/chat/run-service.js';
import { createDatasetAdmin, ownerCheck } from '../src/services/dataset-admin.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const END = Date.UTC(2026, 10, 20);
/** a user id that is not a member of any workspace */
const STRANGER = randomUUID();

let t: TestApp;
let sup: RunExecutor;
let owner: string;
let datasets: DatasetAdmin;

const request = (text: string, o: Partial<RunRequest> = {}): RunRequest => ({
  run_id: 'r1',
  thread_id: 't1',
  workspace: 'ds',
  user_id: owner,
  request: text,
  history: [],
  ...o,
});

async function runOnce(req: RunRequest, s = sup) {
  const events: RunEventDraft[] = [];
  const result = await s.execute(
    req,
    async (e) => {
      events.push(e);
    },
    new AbortController().signal,
  );
  const report = events.find((e) => e.type === 'final_report')?.payload;
  return { events, result, types: events.map((e) => e.type), report };
}

const tools = (events: RunEventDraft[]) => events.filter((e) => e.type === 'tool_executing').map((e) => e.payload.tool);

beforeAll(async () => {
  t = await startTestApp();
  owner = t.app.accounts.identity.localOwnerId();
  await t.app.generate({ preset: 'chat-support', events: 1500, days: 3, seed: 5, workspace: 'ds', end: END });
  await t.app.generate({ preset: 'rag-assistant', events: 1500, days: 3, seed: 6, workspace: 'ds', end: END });
  await t.app.generate({ preset: 'rag-assistant', events: 500, days: 3, seed: 7, workspace: 'ds-other', end: END });
  datasets = createDatasetAdmin({
    store: t.app.store,
    reprice: (ws) => t.app.reprice(ws),
    changes: t.app.changes,
    isOwner: ownerCheck(t.app.accounts.access),
  });
  sup = createSupervisor({
    analysis: t.app.analysis,
    llm: t.app.llm,
    generate: (r) => t.app.generate(r),
    catalog: () => t.app.catalog(),
    datasets,
  });
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('dataset admin: list', () => {
  it('"list my datasets" streams the store call and answers with a table of every app', async () => {
    const { types, events, result, report } = await runOnce(request('List my datasets'));
    expect(result.status).toBe('completed');
    expect(types).toEqual([
      'agent_started',
      'agent_thinking',
      'sub_agent_update',
      'tool_executing',
      'tool_completed',
      'partial_result',
      'sub_agent_update',
      'final_report',
      'agent_completed',
    ]);
    expect(events[1]!.payload).toMatchObject({ pipeline: 'dataset_admin', action: 'list' });
    const stored = await t.app.store.datasets('ds');
    // the apps of the two presets generated into ds, each a dataset
    const presetApps = [...PRESETS['chat-support']!.apps, ...PRESETS['rag-assistant']!.apps].map((a) => a.app);
    expect(stored.map((d) => d.app)).toEqual([...stored.map((d) => d.app)].sort());
    expect(stored.every((d) => presetApps.includes(d.app))).toBe(true);
    expect(stored.map((d) => d.app)).toEqual(expect.arrayContaining(['docs-qa', 'support-bot', 'ticket-router']));
    expect(stored.reduce((n, d) => n + d.events, 0)).toBe(3000);
    expect(report!.datasets).toEqual(stored);
    expect(events[4]!.payload.result).toEqual({ datasets: stored.length, events: 3000 });
    for (const d of stored) expect(result.content).toContain(`| ${d.app} | ${d.events.toLocaleString('en-US')} |`);
    expect(result.content).toContain(`Workspace ds has ${stored.length} datasets with 3,000 events`);
    // the same question in other words
    expect((await runOnce(request('What data do I have?'))).report!.datasets).toEqual(stored);
  });

  it('an empty workspace is told it has no datasets', async () => {
    const { result, report } = await runOnce(request('show my datasets', { workspace: 'nothing-here' }));
    expect(report!.datasets).toEqual([]);
    expect(result.content).toContain('has no datasets yet');
  });
});

describe('dataset admin: delete needs approval from thread state', () => {
  it('asks first, deletes nothing; a confirmation of that report deletes exactly that dataset and invalidates the cache', async () => {
    const before = await t.app.store.datasets('ds');
    const docs = before.find((d) => d.app === 'docs-qa')!;
    const statsBefore = await t.app.analysis.stats({ workspace: 'ds' }); // cached from here on
    const ask = await runOnce(request('Delete the docs-qa dataset'));
    expect(ask.result.status).toBe('completed');
    expect(ask.report).toMatchObject({
      approval_required: true,
      action: 'delete_dataset',
      app: 'docs-qa',
      events: docs.events,
      workspace: 'ds',
    });
    expect(ask.result.content).toContain(`removes ${docs.events.toLocaleString('en-US')} events`);
    expect(tools(ask.events)).toEqual(['datasets']);
    expect(await t.app.store.datasets('ds')).toEqual(before);

    // another request in between does not confirm anything (its report replaces the pending one in the thread)
    const other = await runOnce(request('Confirm', { previous_report: (await runOnce(request('List my datasets'))).report }));
    expect(other.report).toMatchObject({ nothing_to_confirm: true });
    expect(await t.app.store.datasets('ds')).toEqual(before);

    const ok = await runOnce(request('yes, go ahead', { previous_report: ask.report }));
    expect(ok.result.status).toBe('completed');
    expect(ok.events[1]!.payload).toMatchObject({ decision: 'confirmed', pending: { action: 'delete_dataset', app: 'docs-qa' } });
    expect(tools(ok.events)).toEqual(['delete_dataset']);
    expect(ok.report).toMatchObject({ action: 'delete_dataset', app: 'docs-qa', deleted: docs.events });
    expect(ok.result.content).toBe(`Deleted dataset docs-qa: ${docs.events.toLocaleString('en-US')} events removed from workspace ds.`);
    expect((await t.app.store.datasets('ds')).map((d) => d.app)).toEqual(before.map((d) => d.app).filter((a) => a !== 'docs-qa'));
    // the analysis API no longer serves the cached figures, and the other workspace keeps its docs-qa
    expect((await t.app.analysis.stats({ workspace: 'ds' })).events).toBe(statsBefore.events - docs.events);
    expect((await t.app.store.datasets('ds-other')).map((d) => d.app)).toContain('docs-qa');

    // the executed report asks nothing: confirming again does nothing
    const again = await runOnce(request('confirm', { previous_report: ok.report }));
    expect(again.report).toMatchObject({ nothing_to_confirm: true });
    expect(tools(again.events)).toEqual([]);
  });

  it('a bare "confirm" with no pending action answers that there is nothing to confirm', async () => {
    const { types, result, report } = await runOnce(request('confirm'));
    expect(result.status).toBe('completed');
    expect(types).toEqual(['agent_started', 'agent_thinking', 'final_report', 'agent_completed']);
    expect(report).toMatchObject({ nothing_to_confirm: true });
    expect(result.content).toMatch(/^There is nothing to confirm/);
  });

  it('an approval issued for another workspace, or a malformed one, is not executed', async () => {
    const before = await t.app.store.datasets('ds');
    for (const previous_report of [
      { approval_required: true, action: 'delete_dataset', app: 'support-bot', events: 10, workspace: 'ds-other' },
      { approval_required: true, action: 'delete_dataset', app: '', events: 10, workspace: 'ds' },
      { approval_required: false, action: 'delete_dataset', app: 'support-bot', events: 10, workspace: 'ds' },
    ]) {
      expect((await runOnce(request('Yes please', { previous_report }))).report).toMatchObject({ nothing_to_confirm: true });
    }
    expect(await t.app.store.datasets('ds')).toEqual(before);
  });

  it('"cancel" drops the pending deletion', async () => {
    const ask = await runOnce(request('remove the ticket-router dataset'));
    expect(ask.report).toMatchObject({ approval_required: true, app: 'ticket-router' });
    const no = await runOnce(request('cancel', { previous_report: ask.report }));
    expect(no.result.content).toMatch(/^Cancelled: nothing was changed \(the pending action was deleting dataset ticket-router/);
    expect(tools(no.events)).toEqual([]);
    expect((await t.app.store.datasets('ds')).map((d) => d.app)).toContain('ticket-router');
    // a two-letter "no" answers the approval (it is not refused as a too-short request); without a pending action it is
    const no2 = await runOnce(request('no', { previous_report: ask.report }));
    expect(no2.result.content).toMatch(/^Cancelled: nothing was changed/);
    const bare = await runOnce(request('no'));
    expect(bare.result.status).toBe('failed');
    expect(bare.result.content).toMatch(/too short/);
  });

  it('only an owner may delete: asking and confirming as a non-owner end with agent_error NETRA_E_FORBIDDEN', async () => {
    const before = await t.app.store.datasets('ds');
    const ask = await runOnce(request('Delete the support-bot dataset', { user_id: STRANGER }));
    expect(ask.result.status).toBe('failed');
    expect(ask.events.at(-1)).toMatchObject({
      type: 'agent_error',
      payload: { code: 'NETRA_E_FORBIDDEN', message: expect.stringContaining('Only an owner of workspace ds') },
    });
    expect(ask.report).toBeUndefined();
    // an approval asked by the owner cannot be confirmed by someone else
    const ownerAsk = await runOnce(request('Delete the support-bot dataset'));
    const confirm = await runOnce(request('confirm', { user_id: STRANGER, previous_report: ownerAsk.report }));
    expect(confirm.result.status).toBe('failed');
    expect(confirm.events.at(-1)).toMatchObject({ type: 'agent_error', payload: { code: 'NETRA_E_FORBIDDEN' } });
    // runs started with an API key carry key:<prefix> as user id: never an owner here
    const byKey = await runOnce(request('confirm', { user_id: 'key:nk_abc123', previous_report: ownerAsk.report }));
    expect(byKey.events.at(-1)).toMatchObject({ type: 'agent_error', payload: { code: 'NETRA_E_FORBIDDEN' } });
    expect(await t.app.store.datasets('ds')).toEqual(before);
  });

  it('refuses what it cannot do exactly: a time filter, no name, a preset name', async () => {
    const before = await t.app.store.datasets('ds');
    const old = await runOnce(request('delete support-bot events older than 30 days'));
    expect(old.report!.approval_required).toBeUndefined();
    expect(old.result.content).toMatch(/^I can only delete a whole dataset/);
    const vague = await runOnce(request('delete my data'));
    expect(vague.report!.approval_required).toBeUndefined();
    expect(vague.result.content).toContain('Which dataset should I delete?');
    expect(vague.result.content).toContain('support-bot (');
    const preset = await runOnce(request('delete the chat-support dataset'));
    expect(preset.result.content).toMatch(
      /^chat-support is a synthetic-workload preset, not a dataset: its events are stored under the apps support-bot, ticket-router, reply-drafter/,
    );
    expect(await t.app.store.datasets('ds')).toEqual(before);
  });
});

describe('dataset admin: reprice', () => {
  it('"reprice my events" recomputes catalog costs and reports spend before and after (owners only)', async () => {
    const { result, report, events } = await runOnce(request('Reprice my events'));
    expect(result.status).toBe('completed');
    expect(events[1]!.payload).toMatchObject({ pipeline: 'dataset_admin', action: 'reprice' });
    expect(tools(events)).toEqual(['reprice']);
    const r = report!.reprice as { updated: number; spend_before_usd: number; spend_after_usd: number };
    expect(r.updated).toBeGreaterThan(0);
    expect(r.updated).toBeLessThanOrEqual((await t.app.store.stats({ workspace: 'ds' })).events);
    expect(r.spend_after_usd).toBe((await t.app.analysis.stats({ workspace: 'ds' })).spend_usd);
    expect(result.content).toContain(`Repriced ${r.updated.toLocaleString('en-US')} catalog-priced events of workspace ds`);
    const denied = await runOnce(request('recompute costs with the new prices', { user_id: STRANGER }));
    expect(denied.events.at(-1)).toMatchObject({ type: 'agent_error', payload: { code: 'NETRA_E_FORBIDDEN' } });
  });

  it('without a DatasetAdmin the pipeline answers with an error', async () => {
    const bare = createSupervisor({ analysis: t.app.analysis, llm: t.app.llm, catalog: () => t.app.catalog() });
    const { result, events } = await runOnce(request('list my datasets'), bare);
    expect(result.status).toBe('failed');
    expect(events.at(-1)).toMatchObject({
      type: 'agent_error',
      payload: { code: 'NETRA_E_CONFIG', message: 'dataset administration is not available in this deployment' },
    });
  });
});

describe('synthetic data approval from thread state', () => {
  it('a confirmation generates exactly the preset, events and days of the pending approval', async () => {
    const ask = await runOnce(request('Generate 50,001 synthetic events for a coding assistant over 2 days', { workspace: 'big' }));
    expect(ask.report).toMatchObject({
      approval_required: true,
      action: 'generate_synthetic',
      preset: 'coding-assistant',
      events: 50_001,
      days: 2,
      workspace: 'big',
    });
    const target = ask.report!.target as string;
    expect(target).toMatch(/^synthetic-coding-assistant-/);
    expect((await t.app.analysis.stats({ workspace: target })).events).toBe(0);
    const ok = await runOnce(request('Do it', { workspace: 'big', previous_report: ask.report }));
    expect(ok.result.status).toBe('completed');
    expect(ok.events.find((e) => e.type === 'tool_executing')!.payload).toMatchObject({
      tool: 'generate',
      args: { preset: 'coding-assistant', events: 50_001, days: 2, workspace: target },
    });
    // the events went to the new workspace, never into the one being looked at
    expect((await t.app.analysis.stats({ workspace: target })).events).toBe(50_001);
    expect((await t.app.analysis.stats({ workspace: 'big' })).events).toBe(0);
    expect(ok.result.content).toContain('Generated 50,001 synthetic events with the coding-assistant preset over 2 days');
  }, 120_000);
});

describe('approval across two runs of a thread (run service: previous_report from the persisted final_report)', () => {
  it('"delete the ticket-router dataset" then "yes" in the same thread deletes it; a third "yes" finds nothing to confirm', async () => {
    const runs = new RunService({ repo: t.app.conversations, executor: sup });
    const scope = { workspace: 'ds', userId: owner };
    const thread = (await t.app.conversations.createThread(scope, 'cleanup'))!;
    const events = (await t.app.store.datasets('ds')).find((d) => d.app === 'ticket-router')!.events;
    const turn = async (request: string) => {
      const { done } = await runs.start(scope, { thread_id: thread.id, request });
      const run = (await done)!;
      const messages = (await t.app.conversations.listMessages(scope, thread.id))!;
      return { status: run.status, answer: messages.at(-1)!.content };
    };
    const ask = await turn('delete the ticket-router dataset');
    expect(ask.status).toBe('completed');
    expect(ask.answer).toContain(`removes ${events.toLocaleString('en-US')} events`);
    expect((await t.app.store.datasets('ds')).map((d) => d.app)).toContain('ticket-router');
    const yes = await turn('yes');
    expect(yes).toEqual({
      status: 'completed',
      answer: `Deleted dataset ticket-router: ${events.toLocaleString('en-US')} events removed from workspace ds.`,
    });
    expect((await t.app.store.datasets('ds')).map((d) => d.app)).not.toContain('ticket-router');
    expect((await turn('yes')).answer).toMatch(/^There is nothing to confirm/);
  });
});
