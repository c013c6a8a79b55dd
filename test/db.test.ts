import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { DbHandle } from '../src/db/client.js';
import { Repository } from '../src/db/repository.js';
import { pgPoolOptions } from '../src/db/client.js';
import { parseConfig } from '../src/config.js';
import { testDatabases } from './helpers/databases.js';

for (const target of testDatabases()) {
  describe(`relational repository on ${target.name}`, () => {
    let handle: DbHandle;
    let repo: Repository;
    beforeAll(async () => {
      handle = await target.open();
      repo = new Repository(handle.db);
    });
    afterAll(async () => {
      await handle?.close();
      await target.drop();
    });

    it('migrates and answers ping', async () => {
      await handle.ping();
      const r = await handle.db.execute(sql`select count(*)::int as n from workspaces`);
      expect(r).toBeDefined();
    });

    it('creates a workspace once', async () => {
      const a = await repo.ensureWorkspace('acme');
      const b = await repo.ensureWorkspace('acme');
      expect(a.created).toBe(true);
      expect(b.created).toBe(false);
      expect(b.workspace.id).toBe(a.workspace.id);
      expect((await repo.listWorkspaces()).map((w) => w.name)).toContain('acme');
    });

    it('keeps price overrides per workspace and upserts them', async () => {
      await repo.upsertPriceOverride({
        workspace: 'acme',
        model: 'gpt-4o',
        input: 1e-6,
        output: null,
        cached_input: null,
        cache_write: null,
      });
      await repo.upsertPriceOverride({
        workspace: 'acme',
        model: 'gpt-4o',
        input: 2e-6,
        output: 8e-6,
        cached_input: null,
        cache_write: null,
      });
      await repo.upsertPriceOverride({
        workspace: 'other',
        model: 'gpt-4o',
        input: 9e-6,
        output: 9e-6,
        cached_input: null,
        cache_write: null,
      });
      const acme = await repo.listPriceOverrides('acme');
      expect(acme).toEqual([{ workspace: 'acme', model: 'gpt-4o', input: 2e-6, output: 8e-6, cached_input: null, cache_write: null }]);
      expect((await repo.listPriceOverrides('other'))[0]!.input).toBe(9e-6);
      expect(await repo.deletePriceOverride('acme', 'gpt-4o')).toBe(true);
      expect(await repo.listPriceOverrides('acme')).toEqual([]);
      expect((await repo.listPriceOverrides('other')).length).toBe(1);
    });

    it('persists jobs with progress and scopes them to their workspace', async () => {
      const job = await repo.createJob({ workspace: 'acme', kind: 'import', source: 'trace.csv', format: 'azure-trace' });
      await repo.updateJob(job.id, {
        accepted: 10,
        rejected: 2,
        progress: 1,
        status: 'completed',
        errors: [{ line: 3, field: 'x', message: 'bad' }],
        finished: true,
      });
      const got = await repo.getJob('acme', job.id);
      expect(got).toMatchObject({ status: 'completed', accepted: 10, rejected: 2, progress: 1, source: 'trace.csv' });
      expect(got!.finishedAt).toBeInstanceOf(Date);
      expect(await repo.getJob('other', job.id)).toBeNull();
      expect((await repo.listJobs('acme')).map((j) => j.id)).toContain(job.id);
    });
  });
}

describe('postgres pool options', () => {
  it('uses the configured defaults: 20 + 30 overflow, 5 s pool wait, 30 s statement timeout, 30 min recycle', () => {
    const c = parseConfig({});
    const o = pgPoolOptions('postgres://x@localhost/db', c.pg);
    expect(o.max).toBe(50);
    expect(o.connectionTimeoutMillis).toBe(5_000);
    expect(o.statement_timeout).toBe(30_000);
    expect(o.maxLifetimeSeconds).toBe(1800);
  });
});
