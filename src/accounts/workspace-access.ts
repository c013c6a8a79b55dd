/**
 * What a principal may do in a workspace, and the workspace-owned resources: memberships, API keys and encrypted provider
 * secrets. Every decision goes through `can()`, which reads roles and scopes from roles.ts.
 */
import type { AccountsRepository, ApiKeyRow } from '../db/accounts-repository.js';
import { NetraError } from '../errors.js';
import type { Logger } from '../logger.js';
import { generateApiKey } from './api-keys.js';
import { isRole, isScope, roleAllows, scopeAllows, type ApiKeyScope, type Permission, type Principal, type Role } from './roles.js';
import type { SecretBox } from './secret-box.js';
import type { AccessEpochs } from './access-epochs.js';

export interface ApiKeyView {
  prefix: string;
  workspace: string;
  scope: ApiKeyScope;
  name: string;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
export interface ProviderSecretView {
  provider: string;
  hint: string | null;
  base_url: string | null;
  updated_at: string;
}

const PROVIDER = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export class WorkspaceAccess {
  constructor(
    private readonly repo: AccountsRepository,
    private readonly box: SecretBox,
    private readonly log: Logger,
    private readonly epochs?: AccessEpochs,
  ) {}

  /** The principal's role in a workspace (API keys: none; see `can`). */
  async roleOf(p: Principal, workspace: string): Promise<Role | null> {
    if (p.kind !== 'user' || (p.workspace && p.workspace !== workspace)) return null;
    return this.repo.roleIn(workspace, p.userId);
  }

  async can(p: Principal, workspace: string, permission: Permission): Promise<boolean> {
    if (p.kind === 'api_key') return p.workspace === workspace && scopeAllows(p.scope, permission);
    return roleAllows(await this.roleOf(p, workspace), permission);
  }

  async exists(workspace: string): Promise<boolean> {
    return (await this.repo.workspaceByName(workspace)) !== null;
  }

  /** Workspaces the principal can see, with its role (API keys: their own workspace, role by scope). */
  async visible(p: Principal): Promise<Map<string, Role>> {
    if (p.kind === 'api_key') return new Map([[p.workspace, p.scope === 'admin' ? 'owner' : 'viewer']]);
    const list = await this.repo.membershipsOf(p.userId);
    return new Map(list.filter((m) => !p.workspace || m.workspace === p.workspace).map((m) => [m.workspace, m.role]));
  }

  /** Creates a workspace owned by `ownerId` (null: nobody yet). */
  async createWorkspace(name: string, ownerId: string | null): Promise<{ name: string; created_at: string }> {
    const ws = await this.repo.createWorkspaceWithOwner(name, ownerId);
    if (!ws) throw new NetraError('CONFLICT', `workspace ${name} already exists`, { field: 'name' });
    return { name: ws.name, created_at: ws.createdAt.toISOString() };
  }

  /** Makes `userId` an owner of an existing workspace (used for workspaces the app creates itself: CLI, demo seeding). */
  async addOwner(workspace: string, userId: string): Promise<void> {
    const ws = await this.workspaceOr404(workspace);
    await this.repo.setMember(ws.id, userId, 'owner');
  }

  // ── members ──
  async members(workspace: string) {
    const ws = await this.workspaceOr404(workspace);
    return (await this.repo.members(ws.id)).map((m) => ({ ...m, created_at: m.created_at.toISOString() }));
  }

  async setMember(workspace: string, userId: string, role: unknown): Promise<{ user_id: string; role: Role }> {
    if (!isRole(role)) throw new NetraError('VALIDATION', 'role must be owner, member or viewer', { field: 'role' });
    const ws = await this.workspaceOr404(workspace);
    const user = await this.repo.userById(userId);
    if (!user?.active) throw new NetraError('NOT_FOUND', `no active user ${userId}`, { field: 'user_id' });
    const current = await this.repo.roleIn(workspace, userId);
    if (current === 'owner' && role !== 'owner' && (await this.repo.ownerCount(ws.id)) <= 1) {
      throw new NetraError('CONFLICT', 'a workspace keeps at least one owner; make someone else owner first', { field: 'role' });
    }
    await this.repo.setMember(ws.id, userId, role);
    if (current !== role) this.epochs?.changed({ kind: 'user', userId, reason: `role in workspace ${workspace} changed to ${role}` });
    return { user_id: userId, role };
  }

  async removeMember(workspace: string, userId: string): Promise<void> {
    const ws = await this.workspaceOr404(workspace);
    if ((await this.repo.roleIn(workspace, userId)) === 'owner' && (await this.repo.ownerCount(ws.id)) <= 1) {
      throw new NetraError('CONFLICT', 'a workspace keeps at least one owner; make someone else owner first', { field: 'user_id' });
    }
    if (!(await this.repo.removeMember(ws.id, userId)))
      throw new NetraError('NOT_FOUND', `user ${userId} is not a member of ${workspace}`, { field: 'user_id' });
    this.epochs?.changed({ kind: 'user', userId, reason: `removed from workspace ${workspace}` });
  }

  // ── API keys ──
  /** Creates a key; the returned `key` is the only time it is ever shown. */
  async createApiKey(
    workspace: string,
    input: { scope: unknown; name?: unknown },
    createdBy: string | null,
  ): Promise<ApiKeyView & { key: string }> {
    if (!isScope(input.scope)) throw new NetraError('VALIDATION', 'scope must be ingest, read or admin', { field: 'scope' });
    if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length > 100)) {
      throw new NetraError('VALIDATION', 'name must be a string of at most 100 characters', { field: 'name' });
    }
    const ws = await this.workspaceOr404(workspace);
    const k = generateApiKey();
    const row = await this.repo.insertApiKey({
      workspaceId: ws.id,
      prefix: k.prefix,
      secretHash: k.hash,
      scope: input.scope,
      name: (input.name as string | undefined) ?? '',
      createdBy,
    });
    this.log.info({ workspace, key: k.prefix, scope: input.scope }, 'api key created');
    return { key: k.key, ...apiKeyView(row) };
  }

  async apiKeys(workspace: string): Promise<ApiKeyView[]> {
    const ws = await this.workspaceOr404(workspace);
    return (await this.repo.apiKeysOf(ws.id)).map(apiKeyView);
  }

  /** The workspace a key prefix belongs to (for authorizing its revocation), or null. */
  async apiKeyWorkspace(prefix: string): Promise<string | null> {
    return (await this.repo.apiKeyByPrefix(prefix))?.workspace ?? null;
  }

  async revokeApiKey(prefix: string): Promise<void> {
    if (!(await this.repo.revokeApiKey(prefix)))
      throw new NetraError('NOT_FOUND', `no active api key with prefix ${prefix}`, { field: 'prefix' });
    this.epochs?.changed({ kind: 'api_key', prefix, reason: 'API key revoked' });
    this.log.info({ key: prefix }, 'api key revoked');
  }

  // ── provider secrets ──
  /** `baseUrl`: the provider's API base URL for this workspace (used by the LLM gateway); omitted = the configured one. */
  async setProviderSecret(
    workspace: string,
    provider: string,
    value: unknown,
    by: string | null,
    baseUrl?: unknown,
  ): Promise<ProviderSecretView> {
    checkProvider(provider);
    if (typeof value !== 'string' || value.length === 0 || value.length > 4096) {
      throw new NetraError('VALIDATION', 'value must be the provider API key (1-4096 characters)', { field: 'value' });
    }
    const base = parseBaseUrl(baseUrl);
    const ws = await this.workspaceOr404(workspace);
    const hint = value.length >= 16 ? `****${value.slice(-4)}` : null;
    await this.repo.upsertProviderSecret({
      workspaceId: ws.id,
      provider,
      ciphertext: this.box.seal(value, aad(ws.id, provider)),
      hint,
      baseUrl: base,
      createdBy: by,
    });
    this.log.info({ workspace, provider }, 'provider secret stored');
    return { provider, hint, base_url: base, updated_at: new Date().toISOString() };
  }

  async providerSecrets(workspace: string): Promise<ProviderSecretView[]> {
    const ws = await this.workspaceOr404(workspace);
    return (await this.repo.providerSecretsOf(ws.id)).map((r) => ({
      provider: r.provider,
      hint: r.hint,
      base_url: r.baseUrl ?? null,
      updated_at: r.updatedAt.toISOString(),
    }));
  }

  async deleteProviderSecret(workspace: string, provider: string): Promise<void> {
    checkProvider(provider);
    const ws = await this.workspaceOr404(workspace);
    if (!(await this.repo.deleteProviderSecret(ws.id, provider)))
      throw new NetraError('NOT_FOUND', `no ${provider} secret in ${workspace}`, { field: 'provider' });
  }

  /** The decrypted provider key, for server-side use only (LLM calls); never send it to a client or a log. */
  async providerSecret(workspace: string, provider: string): Promise<string | null> {
    const ws = await this.repo.workspaceByName(workspace);
    if (!ws) return null;
    const row = await this.repo.providerSecret(ws.id, provider);
    return row ? this.box.open(row.ciphertext, aad(ws.id, provider)) : null;
  }

  /** The decrypted provider key and the workspace's base URL for it, for the gateway's upstream calls (never returned). */
  async providerCredential(workspace: string, provider: string): Promise<{ key: string; baseUrl: string | null } | null> {
    const ws = await this.repo.workspaceByName(workspace);
    if (!ws) return null;
    const row = await this.repo.providerSecret(ws.id, provider);
    return row ? { key: this.box.open(row.ciphertext, aad(ws.id, provider)), baseUrl: row.baseUrl ?? null } : null;
  }

  private async workspaceOr404(name: string) {
    const ws = await this.repo.workspaceByName(name);
    if (!ws) throw new NetraError('NOT_FOUND', `workspace ${name} does not exist`, { field: 'workspace' });
    return ws;
  }
}

function apiKeyView(r: ApiKeyRow): ApiKeyView {
  return {
    prefix: r.prefix,
    workspace: r.workspace,
    scope: r.scope,
    name: r.name,
    created_by: r.created_by,
    created_at: r.created_at.toISOString(),
    last_used_at: r.last_used_at?.toISOString() ?? null,
    revoked_at: r.revoked_at?.toISOString() ?? null,
  };
}

function checkProvider(p: string): void {
  if (!PROVIDER.test(p))
    throw new NetraError('VALIDATION', 'provider must be 1-63 lowercase letters, digits, "_", "-", "."', { field: 'provider' });
}

function parseBaseUrl(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  let u: URL | null = null;
  try {
    u = typeof v === 'string' && v.length <= 2048 ? new URL(v) : null;
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) {
    throw new NetraError('VALIDATION', 'base_url must be an http(s) URL without credentials (at most 2048 characters)', {
      field: 'base_url',
    });
  }
  return u.toString().replace(/\/+$/, '');
}

function aad(workspaceId: string, provider: string): string {
  return `provider-secret:${workspaceId}:${provider}`;
}
