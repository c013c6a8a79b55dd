/**
 * The dataset admin pipeline end to end: the real app (composition root wiring of the DatasetAdmin adapter,
 * owner check, cache invalidation) behind a real `/ws` socket. The owner lists datasets, asks to delete one, is asked to
 * confirm, confirms with "yes" in the same thread (approval read from thread state), and the events are gone from the
 * stats API; a member of the workspace is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSocket } from './helpers/chat-socket.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const socket = (base: string, token: string) => chatSocket(base, token, 'acme');

describe('dataset admin through the chat', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ ws: { maxConnectionsPerUser: 5 } });
    base = (await t.app.listen()).replace(/^http/, 'ws');
    const at = Date.UTC(2026, 10, 1);
    const events = (app: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        event_id: `${app}-${i}`,
        timestamp: at + i * 60_000,
        app,
        model: 'gpt-4o-mini',
        prompt_tokens: 1_000,
        completion_tokens: 100,
      }));
    await t.app.ingest(
      'acme',
      [...events('ticket-router', 30), ...events('faq-bot', 20)].map((raw, i) => ({ raw, index: i })),
    );
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lists, asks before deleting, deletes on "yes" in the same thread, and the stats API agrees', async () => {
    const owner = await socket(base, await t.token());
    const listed = await owner.turn('list my datasets');
    const listReport = listed.find((e) => e.type === 'final_report')!;
    expect(listReport.payload.content).toEqual(expect.stringContaining('ticket-router'));
    expect(listReport.payload.content).toEqual(expect.stringContaining('faq-bot'));

    const asked = await owner.turn('delete the ticket-router dataset');
    const threadId = asked.find((e) => e.thread_id)!.thread_id!;
    const askReport = asked.find((e) => e.type === 'final_report')!;
    expect(askReport.payload.approval_required).toBe(true);
    expect((await t.app.store.stats({ workspace: 'acme' })).events).toBe(50); // nothing deleted yet

    const confirmed = await owner.turn('yes', threadId);
    expect(confirmed.some((e) => e.type === 'tool_completed')).toBe(true);
    const stats = (await (await t.app.server.inject({ url: '/api/v1/stats?workspace=acme', headers: await t.auth() })).json()) as {
      events: number;
    };
    expect(stats.events).toBe(20);
    const datasets = await t.app.store.datasets('acme');
    expect(datasets.map((d) => d.app)).toEqual(['faq-bot']);

    const again = await owner.turn('yes', threadId);
    expect(again.find((e) => e.type === 'final_report')?.payload.content).toEqual(expect.stringMatching(/nothing to confirm/i));
    owner.ws.close();
  }, 120_000);

  it('a member may list but not delete', async () => {
    const { accounts } = t.app;
    const member = await accounts.identity.createUser({ email: 'member@example.com', password: 'correct horse battery staple' });
    await accounts.access.setMember('acme', member.id, 'member');
    const token = await accounts.identity.issueAccessToken(member.id, {});
    const s = await socket(base, token);
    const listed = await s.turn('list my datasets');
    expect(listed.some((e) => e.type === 'final_report')).toBe(true);
    const refused = await s.turn('delete the faq-bot dataset');
    const err = refused.find((e) => e.type === 'agent_error');
    expect(err?.payload.code).toBe('NETRA_E_FORBIDDEN');
    expect((await t.app.store.stats({ workspace: 'acme' })).events).toBe(20);
    s.ws.close();
  }, 120_000);
});
