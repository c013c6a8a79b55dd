/**
 * Conversations over REST: threads CRUD private to each caller, messages, starting a run without a socket and
 * reading its status and numbered events; validation answers 400 with the field. Runs use a small scripted executor (a test
 * double of the agents' RunExecutor contract), and one run goes through the real supervisor the app wires by default.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import type { RunEventDraft, RunExecutor, RunRequest, RunResult } from '../src/agents/types.js';
import { startTestApp, type TestApp } from './helpers/app.js';

class ScriptedExecutor implements RunExecutor {
  async execute(req: RunRequest, emit: (e: RunEventDraft) => Promise<void>): Promise<RunResult> {
    await emit({ type: 'agent_started', payload: { request: req.request } });
    for (const tool of ['stats', 'analysis']) {
      await emit({ type: 'tool_executing', payload: { tool } });
      await new Promise<void>((res) => setImmediate(res));
      await emit({ type: 'tool_completed', payload: { tool } });
    }
    await emit({ type: 'final_report', payload: { summary: `report for ${req.request}`, history: req.history.length } });
    await emit({ type: 'agent_completed', payload: {} });
    return { content: `report for ${req.request}`, status: 'completed' };
  }
}

describe('conversations REST API', () => {
  let app: App;
  let dir: string;
  const auth: Record<string, { authorization: string }> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netra-chat-rest-'));
    const sink = new Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    app = await createApp(parseConfig({ dataDir: dir, port: 0, seedDemo: false }), {
      logDestination: sink,
      runExecutor: new ScriptedExecutor(),
    });
    const { identity, access } = app.accounts;
    const owner = await identity.createUser({ email: 'owner@example.com', password: 'correct horse battery staple' });
    const member = await identity.createUser({ email: 'member@example.com', password: 'correct horse battery staple' });
    const viewer = await identity.createUser({ email: 'viewer@example.com', password: 'correct horse battery staple' });
    await access.createWorkspace('acme', owner.id);
    await access.setMember('acme', member.id, 'member');
    await access.setMember('acme', viewer.id, 'viewer');
    for (const [name, u] of Object.entries({ owner, member, viewer }))
      auth[name] = { authorization: `Bearer ${await identity.issueAccessToken(u.id)}` };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = (who: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    app.server.inject({ method, url, headers: auth[who], ...(payload === undefined ? {} : { payload: payload as object }) });

  it('creates, lists, reads, renames and deletes threads, each private to its owner', async () => {
    const created = await call('owner', 'POST', '/api/v1/threads?workspace=acme', { title: 'Q3 costs' });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect(created.json().title).toBe('Q3 costs');
    await call('member', 'POST', '/api/v1/threads?workspace=acme', { title: 'member thread' });
    expect((await call('owner', 'GET', '/api/v1/threads?workspace=acme')).json().threads.map((t: { title: string }) => t.title)).toEqual([
      'Q3 costs',
    ]);
    expect((await call('member', 'GET', '/api/v1/threads?workspace=acme')).json().threads.map((t: { title: string }) => t.title)).toEqual([
      'member thread',
    ]);
    expect((await call('member', 'GET', `/api/v1/threads/${id}?workspace=acme`)).statusCode).toBe(404);
    expect((await call('member', 'DELETE', `/api/v1/threads/${id}?workspace=acme`)).statusCode).toBe(404);
    const got = await call('owner', 'GET', `/api/v1/threads/${id}?workspace=acme`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id, title: 'Q3 costs', runs: [] });
    const renamed = await call('owner', 'PATCH', `/api/v1/threads/${id}?workspace=acme`, { title: 'Q4 costs' });
    expect(renamed.json().title).toBe('Q4 costs');
    expect((await call('owner', 'DELETE', `/api/v1/threads/${id}?workspace=acme`)).statusCode).toBe(204);
    expect((await call('owner', 'GET', `/api/v1/threads/${id}?workspace=acme`)).statusCode).toBe(404);
    expect((await call('owner', 'GET', '/api/v1/threads/not-a-uuid?workspace=acme')).statusCode).toBe(404);
  });

  it('validates bodies and answers 400 with the field', async () => {
    const id = (await call('owner', 'POST', '/api/v1/threads?workspace=acme', {})).json().id as string;
    const cases: [string, string, unknown, string][] = [
      ['PATCH', `/api/v1/threads/${id}?workspace=acme`, { title: '' }, 'title'],
      ['PATCH', `/api/v1/threads/${id}?workspace=acme`, { title: 'x', extra: 1 }, 'extra'],
      ['POST', '/api/v1/threads?workspace=acme', { title: 'x'.repeat(201) }, 'title'],
      ['POST', '/api/v1/runs?workspace=acme', { request: '' }, 'request'],
      ['POST', '/api/v1/runs?workspace=acme', { request: 'x'.repeat(10_001) }, 'request'],
      ['POST', '/api/v1/runs?workspace=acme', { request: 'hello', goal: 'cheap' }, 'goal'],
      ['POST', '/api/v1/runs?workspace=acme', {}, 'request'],
    ];
    for (const [method, url, body, field] of cases) {
      const r = await call('owner', method as 'POST', url, body);
      expect([r.statusCode, r.json().error.field]).toEqual([400, field]);
    }
    expect((await call('owner', 'GET', `/api/v1/runs/${id}?workspace=acme&after=-1`)).statusCode).toBe(400);
  });

  it('starts a run without a socket (202), then reports its status, numbered events and the stored answer', async () => {
    const started = await call('member', 'POST', '/api/v1/runs?workspace=acme', { request: 'Where does my money go?', goal: 'cost' });
    expect(started.statusCode).toBe(202);
    const { id, thread_id } = started.json() as { id: string; thread_id: string };
    expect(started.json().status).toBe('queued');
    await app.runs.whenDone(id);
    const run = (await call('member', 'GET', `/api/v1/runs/${id}?workspace=acme`)).json();
    expect(run).toMatchObject({ id, thread_id, status: 'completed', goal: 'cost', request: 'Where does my money go?', error: null });
    expect(Date.parse(run.finished_at)).toBeGreaterThanOrEqual(Date.parse(run.started_at));
    expect(run.events.map((e: { type: string }) => e.type)).toEqual([
      'agent_started',
      'tool_executing',
      'tool_completed',
      'tool_executing',
      'tool_completed',
      'final_report',
      'agent_completed',
    ]);
    expect(run.events.map((e: { event_id: number }) => e.event_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(
      (await call('member', 'GET', `/api/v1/runs/${id}?workspace=acme&after=5`)).json().events.map((e: { event_id: number }) => e.event_id),
    ).toEqual([6, 7]);
    const msgs = (await call('member', 'GET', `/api/v1/threads/${thread_id}/messages?workspace=acme`)).json().messages;
    expect(msgs.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
      ['user', 'Where does my money go?'],
      ['assistant', 'report for Where does my money go?'],
    ]);
    expect(
      (await call('member', 'GET', `/api/v1/threads/${thread_id}?workspace=acme`)).json().runs.map((r: { id: string }) => r.id),
    ).toEqual([id]);
    // a second run in the same thread sees the history; someone else cannot read it or run in the thread
    const second = (await call('member', 'POST', '/api/v1/runs?workspace=acme', { request: 'and latency?', thread_id })).json();
    await app.runs.whenDone(second.id);
    const report = (await call('member', 'GET', `/api/v1/runs/${second.id}?workspace=acme`))
      .json()
      .events.find((e: { type: string }) => e.type === 'final_report');
    expect(report.payload.history).toBe(2);
    expect((await call('owner', 'GET', `/api/v1/runs/${id}?workspace=acme`)).statusCode).toBe(404);
    expect((await call('owner', 'POST', '/api/v1/runs?workspace=acme', { request: 'mine now', thread_id })).statusCode).toBe(404);
    expect((await call('viewer', 'POST', '/api/v1/runs?workspace=acme', { request: 'viewers only read' })).statusCode).toBe(403);
  });
});

describe('a REST run through the default supervisor', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.generate({ preset: 'chat-support', events: 2000, days: 3, seed: 3, workspace: 'sup', end: Date.UTC(2026, 10, 1) });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('completes with contiguous events ending in agent_completed and stores the answer', async () => {
    const headers = await t.auth();
    const started = await t.app.server.inject({
      method: 'POST',
      url: '/api/v1/runs?workspace=sup',
      headers,
      payload: { request: 'Where does my money go?' },
    });
    expect(started.statusCode).toBe(202);
    const { id, thread_id } = started.json();
    await t.app.runs.whenDone(id);
    const run = (await t.app.server.inject({ url: `/api/v1/runs/${id}?workspace=sup`, headers })).json();
    expect(run.status).toBe('completed');
    expect(run.events.map((e: { event_id: number }) => e.event_id)).toEqual(run.events.map((_: unknown, i: number) => i + 1));
    expect(run.events.map((e: { type: string }) => e.type)).toContain('final_report');
    expect(run.events.at(-1).type).toBe('agent_completed');
    const msgs = (await t.app.server.inject({ url: `/api/v1/threads/${thread_id}/messages?workspace=sup`, headers })).json().messages;
    expect(msgs.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(msgs[1].content.length).toBeGreaterThan(20);
  }, 30_000);
});
