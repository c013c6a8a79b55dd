/**
 * Background jobs: generation runs as a persisted job with progress and a manifest; cancel stops it between
 * batches and keeps (and counts) what was stored; jobs a previous process left unfinished read "interrupted by a restart";
 * closing the app records running jobs as cancelled; file imports stop on their signal; input errors name the field;
 * viewers read but cannot start or cancel; another workspace cannot see a job.
 * Ownership and heartbeat: runners stamp their instance id on their rows and keep them alive with a heartbeat; on a shared
 * PostgreSQL, one process's start-up leaves another live process's jobs alone, and the periodic sweep marks the jobs of a
 * process that stopped heartbeating; on PGlite a restart still marks every unfinished job.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { sharedPostgres } from './helpers/databases.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { configFromEnv, parseConfig } from '../src/config.js';
import { openDatabase, type DbHandle } from '../src/db/client.js';
import { Repository } from '../src/db/repository.js';
import { createLogger } from '../src/logger.js';
import {
  INTERRUPTED_BY_RESTART,
  interruptedNoHeartbeat,
  JobCancelledError,
  JobRunner,
  type JobRunnerOptions,
  type JobSpec,
} from '../src/jobs/job-runner.js';
import { startTestApp, type TestApp } from './helpers/app.js';

type JobBody = {
  id: string;
  status: string;
  progress: number;
  accepted: number;
  duplicates: number;
  errors: Array<{ message: string }>;
  result: { manifest?: { events: number; preset: string }; stored?: number; note?: string } | null;
  finished_at: string | null;
};

/** Polls until `done(job)` holds; bounded (vi.waitFor fails the test at the timeout). */
async function pollJob(
  app: App,
  headers: Record<string, string>,
  ws: string,
  id: string,
  done: (j: JobBody) => boolean,
  seen?: number[],
): Promise<JobBody> {
  return vi.waitFor(
    async () => {
      const res = await app.server.inject({ url: `/api/v1/jobs/${id}?workspace=${ws}`, headers });
      expect(res.statusCode).toBe(200);
      const j = res.json() as JobBody;
      seen?.push(j.progress);
      if (!done(j)) throw new Error(`job ${id} is ${j.status} at ${j.progress}`);
      return j;
    },
    { timeout: 60_000, interval: 20 },
  );
}

const storedEvents = async (app: App, ws: string) => (await app.store.stats({ workspace: ws })).events;

describe('jobs', () => {
  let t: TestApp;
  let owner: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.accounts.access.createWorkspace('jobs-a', t.app.accounts.identity.localOwnerId());
    owner = await t.auth();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const post = (payload: unknown, headers = owner) =>
    t.app.server.inject({ method: 'POST', url: '/api/v1/jobs', headers, payload: payload as object });

  it('runs a generation in the background: progress rises to 1, counts match the store, the manifest is in the result', async () => {
    const res = await post({ kind: 'generate', workspace: 'jobs-a', preset: 'chat-support', events: 30_000, days: 2, seed: 11 });
    expect(res.statusCode).toBe(202);
    const { id, status } = res.json() as { id: string; status: string };
    expect(['queued', 'running']).toContain(status);
    const seen: number[] = [];
    const j = await pollJob(t.app, owner, 'jobs-a', id, (x) => x.status !== 'queued' && x.status !== 'running', seen);
    expect(j.status).toBe('completed');
    expect(j.progress).toBe(1);
    expect(seen.every((p, i) => i === 0 || p >= seen[i - 1]!)).toBe(true); // never goes backwards
    expect(j.result?.manifest?.events).toBe(30_000);
    expect(j.result?.manifest?.preset).toBe('chat-support');
    expect(j.accepted).toBe(30_000);
    expect(j.finished_at).not.toBeNull();
    expect(await storedEvents(t.app, 'jobs-a')).toBe(30_000);
    const list = (await t.app.server.inject({ url: '/api/v1/jobs?workspace=jobs-a', headers: owner })).json() as { jobs: JobBody[] };
    expect(list.jobs.map((x) => x.id)).toContain(id);
    // a finished job cannot be cancelled
    const again = await t.app.server.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}?workspace=jobs-a`, headers: owner });
    expect(again.statusCode).toBe(409);
  }, 60_000);

  it('cancels a running generation between batches, keeping and counting what was stored', async () => {
    const ws = 'jobs-cancel';
    await t.app.accounts.access.createWorkspace(ws, t.app.accounts.identity.localOwnerId());
    const requested = 3_000_000;
    const res = await post({ kind: 'generate', workspace: ws, preset: 'rag-assistant', events: requested, days: 3, seed: 5 });
    expect(res.statusCode).toBe(202);
    const { id } = res.json() as { id: string };
    const running = await pollJob(t.app, owner, ws, id, (x) => x.status === 'running' && x.progress > 0);
    expect(running.progress).toBeLessThan(1);
    const del = await t.app.server.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}?workspace=${ws}`, headers: owner });
    expect(del.statusCode).toBe(202);
    expect(del.json().cancel_requested).toBe(true);
    const j = await pollJob(t.app, owner, ws, id, (x) => x.status !== 'running');
    expect(j.status).toBe('cancelled');
    const stored = await storedEvents(t.app, ws);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(requested);
    expect(j.accepted).toBe(stored);
    expect(j.result?.stored).toBe(stored);
    expect(j.result?.note).toContain(`${stored} events stored before the cancel are kept`);
    expect(j.errors[0]?.message).toBe('cancelled by request');
    expect(j.progress).toBeLessThan(1);
  }, 90_000);

  it('stops a file import on its signal after the batch in flight, recording the job cancelled with what was stored', async () => {
    const ws = 'jobs-import';
    const file = join(t.dir, 'events.jsonl');
    const T0 = Date.UTC(2026, 9, 1);
    const lines = Array.from({ length: 10_000 }, (_, i) =>
      JSON.stringify({ event_id: `imp-${i}`, timestamp: T0 + i * 1000, model: 'gpt-4o-mini', prompt_tokens: 10, completion_tokens: 5 }),
    );
    writeFileSync(file, lines.join('\n') + '\n');
    const ac = new AbortController();
    const err = await t.app
      .importFile(file, { format: 'jsonl', workspace: ws, batchSize: 1_000, signal: ac.signal }, () => ac.abort())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCancelledError);
    const [job] = await t.app.repo.listJobs(ws);
    expect(job?.kind).toBe('import');
    expect(job?.status).toBe('cancelled');
    expect(job?.accepted).toBe(1_000); // the first batch: aborted from its progress report, the second is never stored
    expect(await storedEvents(t.app, ws)).toBe(1_000);
  }, 60_000);

  it('names the field in validation errors, and refuses imports by path over HTTP', async () => {
    const base = { kind: 'generate', workspace: 'jobs-a', preset: 'chat-support', events: 10 };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ ...base, events: 0 }, 'events', /at least 1/],
      [{ ...base, events: 10_000_001 }, 'events', /at most 10000000/],
      [{ ...base, events: 'many' }, 'events', /whole number/],
      [{ ...base, events: undefined }, 'events', /whole number/],
      [{ ...base, preset: 'nope' }, 'preset', /chat-support/],
      [{ ...base, days: 1.5 }, 'days', /whole number/],
      [{ ...base, seed: -1 }, 'seed', /0 or more/],
      [{ ...base, colour: 'red' }, 'colour', /unknown field/],
      [{ ...base, kind: 'explode' }, 'kind', /'generate'/],
      [{ ...base, workspace: 'bad name!' }, 'workspace', /workspace must be/],
    ];
    for (const [payload, field, message] of cases) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.field, JSON.stringify(payload)).toBe(field);
      expect(res.json().error.message, JSON.stringify(payload)).toMatch(message);
    }
    const imp = await post({ kind: 'import', workspace: 'jobs-a', path: '/etc/passwd', format: 'jsonl' });
    expect(imp.statusCode).toBe(400);
    expect(imp.json().error.field).toBe('kind');
    expect(imp.json().error.message).toMatch(/does not read files on its own disk.*netra import/);
    expect((await t.app.repo.listJobs('jobs-a')).some((j) => j.kind === 'import')).toBe(false);
  });

  it('lets a viewer read jobs but not start or cancel one; another workspace cannot see them', async () => {
    const { identity, access } = t.app.accounts;
    const viewer = await identity.createUser({ email: 'jobs-viewer@example.com', password: 'correct horse battery staple' });
    const outsider = await identity.createUser({ email: 'jobs-outsider@example.com', password: 'correct horse battery staple' });
    await access.setMember('jobs-a', viewer.id, 'viewer');
    await access.createWorkspace('jobs-b', outsider.id);
    const asViewer = { authorization: `Bearer ${await identity.issueAccessToken(viewer.id)}` };
    const asOutsider = { authorization: `Bearer ${await identity.issueAccessToken(outsider.id)}` };
    const job = await t.app.repo.createJob({ workspace: 'jobs-a', kind: 'generate', source: 'chat-support', status: 'queued' });

    const before = (await t.app.repo.listJobs('jobs-a')).length;
    expect((await post({ kind: 'generate', workspace: 'jobs-a', preset: 'chat-support', events: 10 }, asViewer)).statusCode).toBe(403);
    expect((await t.app.repo.listJobs('jobs-a')).length).toBe(before);
    expect((await t.app.server.inject({ url: `/api/v1/jobs/${job.id}?workspace=jobs-a`, headers: asViewer })).json().status).toBe('queued');
    expect(
      (await t.app.server.inject({ method: 'DELETE', url: `/api/v1/jobs/${job.id}?workspace=jobs-a`, headers: asViewer })).statusCode,
    ).toBe(403);

    // the outsider: no access to jobs-a, and its own workspace does not hold the job
    expect((await t.app.server.inject({ url: `/api/v1/jobs/${job.id}?workspace=jobs-a`, headers: asOutsider })).statusCode).toBe(403);
    expect((await t.app.server.inject({ url: '/api/v1/jobs?workspace=jobs-a', headers: asOutsider })).statusCode).toBe(403);
    expect((await t.app.server.inject({ url: `/api/v1/jobs/${job.id}?workspace=jobs-b`, headers: asOutsider })).statusCode).toBe(404);
    expect(
      (await t.app.server.inject({ method: 'DELETE', url: `/api/v1/jobs/${job.id}?workspace=jobs-b`, headers: asOutsider })).statusCode,
    ).toBe(404);
    expect((await t.app.server.inject({ url: '/api/v1/jobs?workspace=jobs-b', headers: asOutsider })).json().jobs).toEqual([]);
    expect((await t.app.repo.getJob('jobs-a', job.id))?.status).toBe('queued');
  });
});

describe('jobs across a restart', () => {
  it('marks jobs left queued or running as failed "interrupted by a restart", and records jobs running at close as cancelled', async () => {
    const t = await startTestApp();
    let reopened: App | null = null;
    try {
      const ws = 'restart-ws';
      const owner = await t.auth();
      await t.app.accounts.access.createWorkspace(ws, t.app.accounts.identity.localOwnerId());
      const orphanRunning = await t.app.repo.createJob({
        workspace: ws,
        kind: 'import',
        source: 'big.jsonl',
        format: 'jsonl',
        status: 'running',
      });
      const orphanQueued = await t.app.repo.createJob({ workspace: ws, kind: 'generate', source: 'chat-support', status: 'queued' });
      const finished = await t.app.repo.createJob({ workspace: ws, kind: 'generate', source: 'chat-support', status: 'completed' });
      // a real job running when the app closes
      const res = await t.app.server.inject({
        method: 'POST',
        url: '/api/v1/jobs',
        headers: owner,
        payload: { kind: 'generate', workspace: ws, preset: 'coding-assistant', events: 3_000_000, seed: 2 },
      });
      expect(res.statusCode).toBe(202);
      const liveId = (res.json() as { id: string }).id;
      await pollJob(t.app, owner, ws, liveId, (x) => x.status === 'running' && x.progress > 0);
      await t.app.close();

      reopened = await createApp(parseConfig({ dataDir: t.dir, port: 0, seedDemo: false, logLevel: 'warn' }), {
        logDestination: { write: () => undefined } as never,
      });
      for (const id of [orphanRunning.id, orphanQueued.id]) {
        const j = await reopened.repo.getJob(ws, id);
        expect(j?.status).toBe('failed');
        expect(j?.errors).toEqual([{ message: INTERRUPTED_BY_RESTART }]);
        expect(j?.finishedAt).not.toBeNull();
      }
      expect((await reopened.repo.getJob(ws, finished.id))?.status).toBe('completed');
      const live = await reopened.repo.getJob(ws, liveId);
      expect(live?.status).toBe('cancelled');
      expect(live?.errors).toEqual([{ message: 'the server shut down' }]);
      const stored = await storedEvents(reopened, ws);
      expect(stored).toBeGreaterThan(0);
      expect(live?.accepted).toBe(stored);
      // and over HTTP after the restart
      const token = {
        authorization: `Bearer ${await reopened.accounts.identity.issueAccessToken(reopened.accounts.identity.localOwnerId())}`,
      };
      const view = (
        await reopened.server.inject({ url: `/api/v1/jobs/${orphanRunning.id}?workspace=${ws}`, headers: token })
      ).json() as JobBody;
      expect(view.status).toBe('failed');
      expect(view.errors[0]?.message).toBe('interrupted by a restart');
    } finally {
      await reopened?.close();
      await t.app.close();
      rmSync(t.dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// ── ownership and heartbeat ─────────────────────────────────────────────────────────────────────────────────────────────

const quiet = createLogger('silent');

/** A runner over `db` with short intervals (tests); `opts` overrides. */
function runner(db: DbHandle, opts: Partial<JobRunnerOptions> = {}): JobRunner {
  return new JobRunner({
    repo: new Repository(db.db),
    dbKind: db.kind,
    concurrency: 1,
    progressIntervalMs: 0,
    heartbeatIntervalMs: 50,
    staleAfterMs: 300,
    log: quiet,
    ...opts,
  });
}

/** A job that reports progress every 20 ms (each report writes the row) until `release` settles or it is aborted. */
function heldJob(workspace: string, release: Promise<void>): JobSpec<number> {
  let released = false;
  void release.then(() => {
    released = true;
  });
  return {
    workspace,
    kind: 'generate',
    source: 'held',
    async work(ctx) {
      let n = 0;
      while (!released) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        ctx.progress(0.5, { accepted: ++n });
        await Promise.race([release, new Promise((r) => setTimeout(r, 20))]);
      }
      return n;
    },
    summarize: (n) => ({ accepted: n }),
  };
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

const row = async (repo: Repository, ws: string, id: string) => {
  const j = await repo.getJob(ws, id);
  if (!j) throw new Error(`job ${id} not found`);
  return j;
};

describe('jobs config: heartbeat and staleness', () => {
  it('reads NETRA_JOBS_HEARTBEAT_MS and NETRA_JOBS_STALE_AFTER_MS, defaults 10 s / 60 s, and refuses a staleness under two heartbeats', () => {
    expect(configFromEnv({}).jobs).toMatchObject({ heartbeatIntervalMs: 10_000, staleAfterMs: 60_000 });
    expect(configFromEnv({ NETRA_JOBS_HEARTBEAT_MS: '500', NETRA_JOBS_STALE_AFTER_MS: '2000' }).jobs).toMatchObject({
      heartbeatIntervalMs: 500,
      staleAfterMs: 2000,
    });
    const bad = (() => {
      try {
        configFromEnv({ NETRA_JOBS_HEARTBEAT_MS: '10000', NETRA_JOBS_STALE_AFTER_MS: '15000' });
      } catch (e) {
        return e;
      }
    })() as { field?: string; message: string };
    expect(bad?.field).toBe('jobs.staleAfterMs');
    expect(bad.message).toMatch(/at least twice.*NETRA_JOBS_HEARTBEAT_MS/);
    const zero = (() => {
      try {
        configFromEnv({ NETRA_JOBS_HEARTBEAT_MS: '0' });
      } catch (e) {
        return e;
      }
    })() as { field?: string };
    expect(zero?.field).toBe('jobs.heartbeatIntervalMs');
  });
});

describe('jobs ownership on PGlite (one process per data directory)', () => {
  it('stamps the owner and refreshes the heartbeat of running and queued jobs; a restart marks every unfinished job, fresh heartbeat or not', async () => {
    const db = await openDatabase(parseConfig({}), undefined, { pgliteDir: 'memory://' });
    const repo = new Repository(db.db);
    const a = runner(db);
    const b = runner(db);
    try {
      await a.recover();
      const release = gate();
      const first = await a.submit(heldJob('own-lite', release.promise));
      const second = await a.submit(heldJob('own-lite', release.promise)); // waits queued (concurrency 1)
      await vi.waitFor(async () => expect((await row(repo, 'own-lite', first.job.id)).status).toBe('running'), {
        timeout: 10_000,
        interval: 20,
      });
      for (const j of [first.job, second.job]) {
        const r = await row(repo, 'own-lite', j.id);
        expect(r.owner).toBe(a.owner);
        expect(r.heartbeatAt).not.toBeNull();
      }
      // the heartbeat keeps both rows (running and queued) younger than the staleness; the runner's own sweeps leave them
      await vi.waitFor(
        async () => {
          for (const j of [first.job, second.job]) {
            const r = await row(repo, 'own-lite', j.id);
            expect(r.heartbeatAt!.getTime() - r.createdAt.getTime()).toBeGreaterThan(300);
          }
        },
        { timeout: 10_000, interval: 25 },
      );
      expect(await b.sweep()).toBe(0); // another runner's sweep too: the heartbeat is fresh
      expect((await row(repo, 'own-lite', first.job.id)).status).toBe('running');
      expect((await row(repo, 'own-lite', second.job.id)).status).toBe('queued');

      // a start-up over this data directory: PGlite is opened by one process, so every unfinished row is orphaned
      const done = await repo.createJob({ workspace: 'own-lite', kind: 'generate', source: 'x', status: 'completed' });
      expect(await b.recover()).toBe(2);
      for (const j of [first.job, second.job]) {
        const r = await row(repo, 'own-lite', j.id);
        expect(r.status).toBe('failed');
        expect(r.errors).toEqual([{ message: INTERRUPTED_BY_RESTART }]);
      }
      expect((await row(repo, 'own-lite', done.id)).status).toBe('completed');
      // the first job's runner notices at its next progress write and stops; the failed row is not overwritten
      await expect(first.done).rejects.toBeInstanceOf(JobCancelledError);
      await expect(second.done).rejects.toBeInstanceOf(JobCancelledError); // its claim of the queued row fails
      for (const j of [first.job, second.job]) expect((await row(repo, 'own-lite', j.id)).status).toBe('failed');
    } finally {
      await a.close();
      await b.close();
      await db.close();
    }
  }, 30_000);
});

const pgUrl = process.env.DATABASE_URL;

describe.skipIf(!pgUrl)(`jobs ownership on a shared PostgreSQL${pgUrl ? '' : ' (skipped: DATABASE_URL is not set)'}`, () => {
  const shared = sharedPostgres(pgUrl!, 'jobs');
  /** another process's view of the same database: its own pool, its own Repository */
  const openProcessDb = shared.open;

  beforeAll(async () => {
    await shared.create();
  }, 30_000);
  afterAll(async () => {
    await shared.drop();
  }, 30_000);

  it("a second process's start-up and sweeps leave a live process's running and queued jobs alone", async () => {
    const dbA = await openProcessDb();
    const dbB = await openProcessDb();
    const repoB = new Repository(dbB.db);
    const a = runner(dbA, { staleAfterMs: 600 });
    const b = runner(dbB, { staleAfterMs: 600 });
    expect(a.owner).not.toBe(b.owner);
    const release = gate();
    try {
      await a.recover();
      const running = await a.submit(heldJob('own-pg-live', release.promise));
      const queued = await a.submit(heldJob('own-pg-live', release.promise));
      await vi.waitFor(async () => expect((await row(repoB, 'own-pg-live', running.job.id)).status).toBe('running'), {
        timeout: 10_000,
        interval: 20,
      });

      expect(await b.recover()).toBe(0); // B starts while A runs
      // A's heartbeat keeps both rows alive past the staleness, while B's timer sweeps every 50 ms
      await vi.waitFor(
        async () => {
          for (const j of [running.job, queued.job]) {
            const r = await row(repoB, 'own-pg-live', j.id);
            expect(r.heartbeatAt!.getTime() - r.createdAt.getTime()).toBeGreaterThan(900);
          }
        },
        { timeout: 10_000, interval: 25 },
      );
      expect(await b.sweep()).toBe(0);
      const r1 = await row(repoB, 'own-pg-live', running.job.id);
      const r2 = await row(repoB, 'own-pg-live', queued.job.id);
      expect([r1.status, r1.owner]).toEqual(['running', a.owner]);
      expect([r2.status, r2.owner]).toEqual(['queued', a.owner]);

      release.open();
      expect(await running.done).toBeGreaterThan(0);
      await queued.done;
      expect((await row(repoB, 'own-pg-live', running.job.id)).status).toBe('completed');
      expect((await row(repoB, 'own-pg-live', queued.job.id)).status).toBe('completed');
    } finally {
      release.open();
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('marks the jobs of a process that stopped heartbeating as interrupted, with the reason, and never its own', async () => {
    const dbB = await openProcessDb();
    const dbC = await openProcessDb();
    const repoB = new Repository(dbB.db);
    const b = runner(dbB, { heartbeatIntervalMs: 50, staleAfterMs: 300 });
    // C is alive but its heartbeat is far apart: to B it looks like a process that stopped
    const c = runner(dbC, { heartbeatIntervalMs: 60_000, staleAfterMs: 120_000 });
    const release = gate();
    try {
      const ws = 'own-pg-stale';
      // rows of crashed processes: a heartbeat an hour old; no owner and no heartbeat, last updated an hour ago
      const crashed = await repoB.createJob({
        workspace: ws,
        kind: 'import',
        source: 'a.jsonl',
        status: 'running',
        owner: 'gone-host:1:deadbeef',
      });
      const legacy = await repoB.createJob({ workspace: ws, kind: 'import', source: 'b.jsonl', status: 'queued' });
      // B's own row with an old heartbeat (say its database was unreachable for a while): B never fails its own jobs
      const mine = await repoB.createJob({ workspace: ws, kind: 'import', source: 'c.jsonl', status: 'running', owner: b.owner });
      await dbB.db.execute(sql`update import_jobs set heartbeat_at = now() - interval '1 hour' where id in (${crashed.id}, ${mine.id})`);
      await dbB.db.execute(sql`update import_jobs set updated_at = now() - interval '1 hour' where id = ${legacy.id}`);

      expect(await b.recover()).toBe(2); // the start-up sweep: both crashed rows at once
      const reason = interruptedNoHeartbeat(300);
      expect(reason).toBe('interrupted: the process running it stopped (no heartbeat for 0.3 s)');
      for (const id of [crashed.id, legacy.id]) {
        const r = await row(repoB, ws, id);
        expect(r.status).toBe('failed');
        expect(r.errors).toEqual([{ message: reason }]);
        expect(r.finishedAt).not.toBeNull();
      }

      const held = await c.submit(heldJob(ws, release.promise));
      await vi.waitFor(async () => expect((await row(repoB, ws, held.job.id)).status).toBe('running'), { timeout: 10_000, interval: 20 });
      // C misses its heartbeats: B's periodic sweep (no restart) marks its job; C's work stops at its next progress write
      const err = await held.done.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobCancelledError);
      expect((err as JobCancelledError).reason).toBe('cancelled by another process');
      const r = await row(repoB, ws, held.job.id);
      expect(r.status).toBe('failed'); // C's "cancelled" record does not overwrite it
      expect(r.errors).toEqual([{ message: reason }]);
      expect(r.owner).toBe(c.owner);
      expect(r.accepted).toBeGreaterThan(0); // C's progress writes landed while it was alive

      expect((await row(repoB, ws, mine.id)).status).toBe('running');
      expect(await b.sweep()).toBe(0);
    } finally {
      release.open();
      await b.close();
      await c.close();
    }
  }, 30_000);
});
