/**
 * The accounts tables and services on both relational engines: PGlite always, PostgreSQL when DATABASE_URL is set
 * (CI sets it). Migration 0001_accounts applies; constraints, cascades, orphan adoption and key/secret storage hold.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../src/accounts/secret-box.js';
import { IdentityService } from '../src/accounts/identity.js';
import { WorkspaceAccess } from '../src/accounts/workspace-access.js';
import { AccountsRepository } from '../src/db/accounts-repository.js';
import type { DbHandle } from '../src/db/client.js';
import { Repository } from '../src/db/repository.js';
import { createLogger } from '../src/logger.js';
import { testDatabases } from './helpers/databases.js';

if (!process.env.DATABASE_URL)
  describe.skip('accounts on PostgreSQL (DATABASE_URL is not set; CI sets it)', () => {
    it('skipped', () => {});
  });

for (const target of testDatabases()) {
  describe(`accounts repository on ${target.name}`, () => {
    let handle: DbHandle;
    let repo: AccountsRepository;
    let identity: IdentityService;
    let access: WorkspaceAccess;
    const log = createLogger('silent');
    beforeAll(async () => {
      handle = await target.open();
      repo = new AccountsRepository(handle.db);
      identity = new IdentityService({
        repo,
        log,
        tokens: { secret: new TextEncoder().encode('s'.repeat(40)), issuer: 'netra', audience: 'netra-api', accessTtlSec: 60 },
        refreshTtlSec: 3600,
        localOwnerEmail: 'local@netra',
      });
      access = new WorkspaceAccess(repo, new SecretBox(Buffer.alloc(32, 7)), log);
    });
    afterAll(async () => {
      await handle?.close();
      await target.drop();
    });

    it('creates the local owner once and adopts workspaces that have no member', async () => {
      await new Repository(handle.db).ensureWorkspace('legacy');
      const id = await identity.ensureLocalOwner();
      expect(await identity.ensureLocalOwner()).toBe(id);
      expect(await repo.adoptOrphanWorkspaces(id)).toBe(1);
      expect(await repo.adoptOrphanWorkspaces(id)).toBe(0);
      expect(await repo.roleIn('legacy', id)).toBe('owner');
      expect(await identity.getUser(id)).toMatchObject({ email: 'local@netra', is_admin: true, active: true });
    });

    it('enforces unique e-mails, valid roles and scopes, and cascades a deleted workspace', async () => {
      const u = await identity.createUser({ email: 'db@example.com' });
      await expect(identity.createUser({ email: 'DB@example.com' })).rejects.toMatchObject({ code: 'NETRA_E_CONFLICT' });
      await access.createWorkspace('casc', u.id);
      await expect(access.createWorkspace('casc', u.id)).rejects.toMatchObject({ code: 'NETRA_E_CONFLICT' });
      await expect(handle.db.execute(sql`update memberships set role = 'god'`)).rejects.toThrow();
      const key = await access.createApiKey('casc', { scope: 'admin' }, u.id);
      await access.setProviderSecret('casc', 'openai', 'sk-0123456789abcdef', u.id);
      expect(await access.providerSecret('casc', 'openai')).toBe('sk-0123456789abcdef');
      expect(await identity.authenticate(key.key)).toMatchObject({ kind: 'api_key', workspace: 'casc', scope: 'admin' });
      await new Repository(handle.db).deleteWorkspace('casc');
      expect(await repo.apiKeyByPrefix(key.prefix)).toBeNull();
      expect(await identity.authenticate(key.key)).toBeNull();
      expect(await access.providerSecret('casc', 'openai')).toBeNull();
      expect(await repo.membershipsOf(u.id)).toEqual([]);
    });

    it('rotates refresh tokens atomically: of two concurrent refreshes with one token, one wins', async () => {
      await identity.createUser({ email: 'rot@example.com', password: 'rotation password 1' });
      const pair = await identity.login('rot@example.com', 'rotation password 1');
      const results = await Promise.allSettled([identity.refresh(pair.refresh_token), identity.refresh(pair.refresh_token)]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    });
  });
}
