/**
 * Deleting events: DELETE /api/v1/events by ids (query or JSON body) or by filter (app, model, time range), owners only
 * (members, viewers and read/ingest keys refused 403), an empty filter refused 400; cached figures and the precompute of
 * the workspace follow the deletion; `netra events delete` does the same from the command line.
 */
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const ev = (id: string, extra: Record<string, unknown> = {}) => ({
  event_id: id,
  timestamp: T0,
  model: 'gpt-4o-mini',
  prompt_tokens: 100,
  completion_tokens: 10,
  app: 'chat',
  ...extra,
});

describe('DELETE /api/v1/events', () => {
  let t: TestApp;
  let owner: { authorization: string };
  let member: { authorization: string };
  let viewer: { authorization: string };
  const ids = async (ws: string) => (await t.app.store.listEvents({ workspace: ws })).map((e) => e.event_id).sort();

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.auth();
    const { identity, access } = t.app.accounts;
    const m = await identity.createUser({ email: 'member@example.com' });
    const v = await identity.createUser({ email: 'viewer@example.com' });
    await t.app.ingest('del', [{ index: 0, raw: ev('seed') }]);
    await access.setMember('del', m.id, 'member');
    await access.setMember('del', v.id, 'viewer');
    member = { authorization: `Bearer ${await identity.issueAccessToken(m.id)}` };
    viewer = { authorization: `Bearer ${await identity.issueAccessToken(v.id)}` };
    const events = [
      ev('a1'),
      ev('a2'),
      ev('a3', { model: 'gpt-4o' }),
      ev('b1', { app: 'batch' }),
      ev('b2', { app: 'batch', timestamp: T0 + 3_600_000 }),
      ev('c1', { app: 'batch', timestamp: T0 + 7_200_000 }),
    ];
    const r = await t.app.server.inject({ method: 'POST', url: '/api/v1/events?workspace=del', headers: owner, payload: events });
    expect(r.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses members, viewers and non-admin keys; refuses an empty filter', async () => {
    for (const h of [member, viewer]) {
      const r = await t.app.server.inject({ method: 'DELETE', url: '/api/v1/events?workspace=del&ids=a1', headers: h });
      expect(r.statusCode).toBe(403);
    }
    const key = await t.app.accounts.access.createApiKey('del', { scope: 'read' }, null);
    expect(
      (
        await t.app.server.inject({
          method: 'DELETE',
          url: '/api/v1/events?workspace=del&ids=a1',
          headers: { authorization: `Bearer ${key.key}` },
        })
      ).statusCode,
    ).toBe(403);
    const empty = await t.app.server.inject({ method: 'DELETE', url: '/api/v1/events?workspace=del', headers: owner });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.field).toBe('filter');
    expect(await ids('del')).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'seed']);
  });

  it('deletes by ids; cached figures follow and the precompute is told', async () => {
    t.app.precompute.start();
    const before = (await t.app.server.inject({ url: '/api/v1/analysis?workspace=del', headers: owner })).json();
    const r = await t.app.server.inject({ method: 'DELETE', url: '/api/v1/events?workspace=del&ids=a1,a2,nope', headers: owner });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ workspace: 'del', deleted: 2 });
    expect(await ids('del')).toEqual(['a3', 'b1', 'b2', 'c1', 'seed']);
    const after = (await t.app.server.inject({ url: '/api/v1/analysis?workspace=del', headers: owner })).json();
    expect(JSON.stringify(after)).not.toBe(JSON.stringify(before));
    expect(t.app.precompute.status().pending).toContain('del');
  });

  it('deletes by filter from a JSON body: app and time range together', async () => {
    const r = await t.app.server.inject({
      method: 'DELETE',
      url: '/api/v1/events?workspace=del',
      headers: owner,
      payload: { app: 'batch', from: T0 + 1, to: T0 + 7_200_000 },
    });
    expect(r.json()).toEqual({ workspace: 'del', deleted: 1 });
    expect(await ids('del')).toEqual(['a3', 'b1', 'c1', 'seed']);
    const byModel = await t.app.server.inject({ method: 'DELETE', url: '/api/v1/events?workspace=del&model=gpt-4o', headers: owner });
    expect(byModel.json().deleted).toBe(1);
    expect(await ids('del')).toEqual(['b1', 'c1', 'seed']);
  });

  it('a deleted id may be sent again and is stored as new', async () => {
    const r = await t.app.server.inject({ method: 'POST', url: '/api/v1/events?workspace=del', headers: owner, payload: [ev('a1')] });
    expect(r.json()).toMatchObject({ accepted: 1, duplicates: 0 });
  });
});

describe('netra events delete', () => {
  it('deletes by id and by filter on the data directory, and exits 2 on an empty filter', async () => {
    const t = await startTestApp();
    await t.app.ingest(
      'clidel',
      [ev('x1'), ev('x2'), ev('x3', { app: 'other' })].map((raw, index) => ({ index, raw })),
    );
    const dir = t.dir;
    await t.app.close();
    const run = promisify(execFile);
    // a port nothing listens on: the CLI finds no server and opens the data directory itself
    const srv = createServer();
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    const port = String((srv.address() as AddressInfo).port);
    await new Promise<void>((res) => srv.close(() => res()));
    const netra = async (...args: string[]) => {
      try {
        const r = await run(process.execPath, [resolve(__dirname, '../bin/netra.js'), ...args], {
          env: { ...process.env, NETRA_DATA_DIR: dir, NETRA_PORT: port, DATABASE_URL: '', REDIS_URL: '', NETRA_LOG_LEVEL: 'warn' },
        });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    expect(await netra('events', 'delete', '--workspace', 'clidel', '--ids', 'x1')).toMatchObject({
      code: 0,
      stdout: 'deleted 1 events from clidel\n',
    });
    expect(await netra('events', 'delete', '--workspace', 'clidel', '--app', 'other', '--json')).toMatchObject({ code: 0 });
    const empty = await netra('events', 'delete', '--workspace', 'clidel');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/at least one of ids, app, model, from, to/);
    const again = await startTestApp({ dataDir: dir });
    expect((await again.app.store.listEvents({ workspace: 'clidel' })).map((e) => e.event_id)).toEqual(['x2']);
    await again.close();
  }, 180_000); // four processes open the data directory in turn: slow on a loaded machine
});
