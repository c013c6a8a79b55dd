/**
 * Relational repository for accounts: users, workspace memberships, API keys, refresh tokens and encrypted provider secrets.
 * Secrets never pass through here in clear: API keys and refresh tokens arrive hashed, provider keys arrive sealed.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { apiKeys, memberships, providerSecrets, refreshTokens, users, workspaces, type ApiKeyScope, type Role } from './schema.js';

export type UserRow = typeof users.$inferSelect;
export interface MemberRow {
  user_id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  created_at: Date;
}
export interface ApiKeyRow {
  id: string;
  workspace_id: string;
  workspace: string;
  prefix: string;
  secret_hash: string;
  scope: ApiKeyScope;
  name: string;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
export type ProviderSecretRow = typeof providerSecrets.$inferSelect;

export class AccountsRepository {
  constructor(private readonly db: Database) {}

  // ── users ──
  async insertUser(u: { email: string; name: string; passwordHash: string | null; isAdmin: boolean }): Promise<UserRow | null> {
    const rows = await this.db.insert(users).values(u).onConflictDoNothing().returning();
    return rows[0] ?? null;
  }

  async userById(id: string): Promise<UserRow | null> {
    if (!isUuid(id)) return null;
    return (await this.db.select().from(users).where(eq(users.id, id)).limit(1))[0] ?? null;
  }

  async userByEmail(email: string): Promise<UserRow | null> {
    return (await this.db.select().from(users).where(eq(users.email, email)).limit(1))[0] ?? null;
  }

  async listUsers(): Promise<UserRow[]> {
    return this.db.select().from(users).orderBy(asc(users.email));
  }

  async updateUser(id: string, patch: Partial<Pick<UserRow, 'name' | 'passwordHash' | 'isAdmin' | 'active'>>): Promise<UserRow | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db
      .update(users)
      .set({ ...patch, updatedAt: new Date() })
      .where(eq(users.id, id))
      .returning();
    return rows[0] ?? null;
  }

  // ── workspaces and memberships ──
  async workspaceByName(name: string): Promise<{ id: string; name: string } | null> {
    return (
      (await this.db.select({ id: workspaces.id, name: workspaces.name }).from(workspaces).where(eq(workspaces.name, name)).limit(1))[0] ??
      null
    );
  }

  /** Creates the workspace with `ownerId` as owner; null when the name is taken. */
  async createWorkspaceWithOwner(name: string, ownerId: string | null): Promise<{ id: string; name: string; createdAt: Date } | null> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.insert(workspaces).values({ name }).onConflictDoNothing().returning();
      const ws = rows[0];
      if (!ws) return null;
      if (ownerId) await tx.insert(memberships).values({ workspaceId: ws.id, userId: ownerId, role: 'owner' });
      return ws;
    });
  }

  /** Makes `userId` the owner of every workspace that has no member at all (data directories from before accounts). */
  async adoptOrphanWorkspaces(userId: string): Promise<number> {
    const rows = await this.db.execute<{ workspace_id: string }>(sql`
      insert into memberships (workspace_id, user_id, role)
      select w.id, ${userId}, 'owner' from workspaces w
      where not exists (select 1 from memberships m where m.workspace_id = w.id)
      on conflict do nothing
      returning workspace_id`);
    return rowsOf(rows).length;
  }

  async roleIn(workspace: string, userId: string): Promise<Role | null> {
    const rows = await this.db
      .select({ role: memberships.role })
      .from(memberships)
      .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
      .where(and(eq(workspaces.name, workspace), eq(memberships.userId, userId)))
      .limit(1);
    return rows[0]?.role ?? null;
  }

  async membershipsOf(userId: string): Promise<{ workspace: string; role: Role }[]> {
    return this.db
      .select({ workspace: workspaces.name, role: memberships.role })
      .from(memberships)
      .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
      .where(eq(memberships.userId, userId))
      .orderBy(asc(workspaces.name));
  }

  async members(workspaceId: string): Promise<MemberRow[]> {
    return this.db
      .select({
        user_id: users.id,
        email: users.email,
        name: users.name,
        role: memberships.role,
        active: users.active,
        created_at: memberships.createdAt,
      })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.workspaceId, workspaceId))
      .orderBy(asc(users.email));
  }

  async setMember(workspaceId: string, userId: string, role: Role): Promise<void> {
    await this.db
      .insert(memberships)
      .values({ workspaceId, userId, role })
      .onConflictDoUpdate({ target: [memberships.workspaceId, memberships.userId], set: { role } });
  }

  async removeMember(workspaceId: string, userId: string): Promise<boolean> {
    const rows = await this.db
      .delete(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
      .returning({ u: memberships.userId });
    return rows.length > 0;
  }

  async ownerCount(workspaceId: string): Promise<number> {
    const rows = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.role, 'owner'), eq(users.active, true)));
    return Number(rows[0]?.n ?? 0);
  }

  // ── API keys ──
  async insertApiKey(k: {
    workspaceId: string;
    prefix: string;
    secretHash: string;
    scope: ApiKeyScope;
    name: string;
    createdBy: string | null;
  }): Promise<ApiKeyRow> {
    await this.db.insert(apiKeys).values(k);
    const row = await this.apiKeyByPrefix(k.prefix);
    if (!row) throw new Error(`api key ${k.prefix} vanished after insert`);
    return row;
  }

  async apiKeyByPrefix(prefix: string): Promise<ApiKeyRow | null> {
    return (await this.apiKeyQuery().where(eq(apiKeys.prefix, prefix)).limit(1))[0] ?? null;
  }

  async apiKeysOf(workspaceId: string): Promise<ApiKeyRow[]> {
    return this.apiKeyQuery().where(eq(apiKeys.workspaceId, workspaceId)).orderBy(asc(apiKeys.createdAt));
  }

  async revokeApiKey(prefix: string): Promise<boolean> {
    const rows = await this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.prefix, prefix), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    return rows.length > 0;
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    await this.db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
  }

  private apiKeyQuery() {
    return this.db
      .select({
        id: apiKeys.id,
        workspace_id: apiKeys.workspaceId,
        workspace: workspaces.name,
        prefix: apiKeys.prefix,
        secret_hash: apiKeys.secretHash,
        scope: apiKeys.scope,
        name: apiKeys.name,
        created_by: apiKeys.createdBy,
        created_at: apiKeys.createdAt,
        last_used_at: apiKeys.lastUsedAt,
        revoked_at: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId));
  }

  // ── refresh tokens ──
  async insertRefreshToken(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.insert(refreshTokens).values({ userId, tokenHash, expiresAt });
  }

  async refreshTokenByHash(tokenHash: string): Promise<RefreshTokenRow | null> {
    return (await this.db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).limit(1))[0] ?? null;
  }

  /** Revokes one token; false when it was already revoked (a concurrent refresh won the race). */
  async revokeRefreshToken(id: string): Promise<boolean> {
    const rows = await this.db
      .update(refreshTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.revokedAt)))
      .returning({ id: refreshTokens.id });
    return rows.length > 0;
  }

  async revokeRefreshTokensOf(userId: string): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
  }

  // ── provider secrets (sealed) ──
  async upsertProviderSecret(s: {
    workspaceId: string;
    provider: string;
    ciphertext: string;
    hint: string | null;
    baseUrl?: string | null;
    createdBy: string | null;
  }): Promise<void> {
    const now = new Date();
    await this.db
      .insert(providerSecrets)
      .values({ ...s, updatedAt: now })
      .onConflictDoUpdate({
        target: [providerSecrets.workspaceId, providerSecrets.provider],
        set: { ciphertext: s.ciphertext, hint: s.hint, baseUrl: s.baseUrl ?? null, createdBy: s.createdBy, updatedAt: now },
      });
  }

  async providerSecret(workspaceId: string, provider: string): Promise<ProviderSecretRow | null> {
    return (
      (
        await this.db
          .select()
          .from(providerSecrets)
          .where(and(eq(providerSecrets.workspaceId, workspaceId), eq(providerSecrets.provider, provider)))
          .limit(1)
      )[0] ?? null
    );
  }

  async providerSecretsOf(workspaceId: string): Promise<ProviderSecretRow[]> {
    return this.db
      .select()
      .from(providerSecrets)
      .where(eq(providerSecrets.workspaceId, workspaceId))
      .orderBy(asc(providerSecrets.provider));
  }

  async deleteProviderSecret(workspaceId: string, provider: string): Promise<boolean> {
    const rows = await this.db
      .delete(providerSecrets)
      .where(and(eq(providerSecrets.workspaceId, workspaceId), eq(providerSecrets.provider, provider)))
      .returning({ p: providerSecrets.provider });
    return rows.length > 0;
  }
}

/** node-postgres returns { rows }, PGlite returns { rows } too; be tolerant of an array. */
function rowsOf<T>(r: unknown): T[] {
  return Array.isArray(r) ? (r as T[]) : ((r as { rows?: T[] }).rows ?? []);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID.test(s);
}
