/**
 * Who is calling: users (create, read, update, deactivate), the embedded default's local owner, password login,
 * access + refresh tokens, and turning an `Authorization: Bearer ...` credential into a Principal.
 */
import { randomBytes } from 'node:crypto';
import type { AccountsRepository, UserRow } from '../db/accounts-repository.js';
import { NetraError } from '../errors.js';
import type { Logger } from '../logger.js';
import { apiKeyMatches, apiKeyPrefix, looksLikeApiKey, sha256 } from './api-keys.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.js';
import type { Principal } from './roles.js';
import type { AccessEpochs } from './access-epochs.js';
import { generateRefreshToken, signAccessToken, verifyAccessToken, type TokenSettings } from './tokens.js';

export interface UserView {
  id: string;
  email: string;
  name: string;
  is_admin: boolean;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

export interface IdentityOptions {
  repo: AccountsRepository;
  log: Logger;
  tokens: TokenSettings;
  refreshTtlSec: number;
  localOwnerEmail: string;
  /** bumped when a user's rights change (open WebSockets re-check) */
  epochs?: AccessEpochs;
  /** an API key verified within this long authenticates from memory while the database cannot be read; 0: never */
  apiKeyCacheTtlMs?: number;
}

interface VerifiedKey {
  principal: Extract<Principal, { kind: 'api_key' }>;
  secretHash: string;
  verifiedAt: number;
}

/** last_used_at is written at most once per key per minute: a write per request would double the cost of ingest. */
const TOUCH_INTERVAL_MS = 60_000;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export class IdentityService {
  private readonly repo: AccountsRepository;
  private localOwner: string | null = null;
  /** API keys verified recently, by prefix: the fallback while the database is unreachable (bounded by its TTL) */
  private readonly verifiedKeys = new Map<string, VerifiedKey>();

  constructor(private readonly o: IdentityOptions) {
    this.repo = o.repo;
    // a revocation in this process (or announced by another) evicts the key at once
    o.epochs?.onChange((subject) => {
      if (subject.startsWith('key:')) this.verifiedKeys.delete(subject.slice(4));
    });
  }

  get tokenSettings(): TokenSettings {
    return this.o.tokens;
  }

  /** The local owner's user id (after ensureLocalOwner). */
  localOwnerId(): string {
    if (!this.localOwner) throw new NetraError('INTERNAL', 'the local owner is not set up yet');
    return this.localOwner;
  }

  /** First start: creates the local owner (an admin) with a random password nobody sees; tokens come from `netra token`. */
  async ensureLocalOwner(): Promise<string> {
    const email = normalizeEmail(this.o.localOwnerEmail);
    let user = await this.repo.userByEmail(email);
    if (!user) {
      const passwordHash = await hashPassword(randomBytes(32).toString('base64url'));
      user =
        (await this.repo.insertUser({ email, name: 'Local owner', passwordHash, isAdmin: true })) ?? (await this.repo.userByEmail(email));
      if (!user) throw new NetraError('INTERNAL', 'could not create the local owner');
      this.o.log.info({ user: user.id, email }, 'created the local owner; get an access token with `netra token`');
    }
    this.localOwner = user.id;
    return user.id;
  }

  // ── users ──
  async createUser(input: { email?: unknown; password?: unknown; name?: unknown; is_admin?: unknown }): Promise<UserView> {
    const email = parseEmail(input.email);
    const password = input.password === undefined ? null : checkPasswordPolicy(input.password);
    const row = await this.repo.insertUser({
      email,
      name: parseName(input.name),
      isAdmin: parseBool(input.is_admin, 'is_admin') ?? false,
      passwordHash: password === null ? null : await hashPassword(password),
    });
    if (!row) throw new NetraError('CONFLICT', `a user with e-mail ${email} already exists`, { field: 'email' });
    return userView(row);
  }

  async getUser(id: string): Promise<UserView> {
    return userView(await this.userOr404(id));
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.repo.listUsers()).map(userView);
  }

  async updateUser(id: string, patch: { name?: unknown; password?: unknown; is_admin?: unknown; active?: unknown }): Promise<UserView> {
    const current = await this.userOr404(id);
    const set: Parameters<AccountsRepository['updateUser']>[1] = {};
    if (patch.name !== undefined) set.name = parseName(patch.name);
    if (patch.password !== undefined) set.passwordHash = await hashPassword(checkPasswordPolicy(patch.password));
    const isAdmin = parseBool(patch.is_admin, 'is_admin');
    if (isAdmin !== undefined) set.isAdmin = isAdmin;
    const active = parseBool(patch.active, 'active');
    if (active !== undefined) set.active = active;
    if (current.id === this.localOwner && (set.active === false || set.isAdmin === false)) {
      throw new NetraError('CONFLICT', 'the local owner cannot be deactivated or lose admin rights', {
        field: set.active === false ? 'active' : 'is_admin',
      });
    }
    const row = (await this.repo.updateUser(id, set))!;
    // a new password or deactivation ends every session
    if (set.passwordHash !== undefined || set.active === false) await this.repo.revokeRefreshTokensOf(id);
    if (set.passwordHash !== undefined || set.active !== undefined || set.isAdmin !== undefined) {
      this.o.epochs?.changed({ kind: 'user', userId: id, reason: set.active === false ? 'user deactivated' : 'user account changed' });
    }
    return userView(row);
  }

  deactivateUser(id: string): Promise<UserView> {
    return this.updateUser(id, { active: false });
  }

  // ── sessions ──
  async login(email: unknown, password: unknown): Promise<TokenPair> {
    if (typeof email !== 'string' || typeof password !== 'string' || password.length > 1024) {
      throw new NetraError('VALIDATION', 'body must be { email, password }', { field: typeof email !== 'string' ? 'email' : 'password' });
    }
    const user = await this.repo.userByEmail(normalizeEmail(email));
    const ok = await verifyPassword(user?.passwordHash, password);
    if (!user || !ok || !user.active) {
      this.o.log.info({ user: user?.id ?? null }, 'login refused');
      throw new NetraError('UNAUTHENTICATED', 'e-mail or password is incorrect');
    }
    this.o.log.info({ user: user.id }, 'login');
    return this.issuePair(user.id);
  }

  /** Rotates a refresh token. Presenting an already-used token revokes every session of its user (it was stolen or replayed). */
  async refresh(token: unknown): Promise<TokenPair> {
    if (typeof token !== 'string' || token.length > 200)
      throw new NetraError('VALIDATION', 'refresh_token is required', { field: 'refresh_token' });
    const row = await this.repo.refreshTokenByHash(sha256(token));
    if (!row) throw new NetraError('UNAUTHENTICATED', 'refresh token is not valid');
    if (row.revokedAt || !(await this.repo.revokeRefreshToken(row.id))) {
      await this.repo.revokeRefreshTokensOf(row.userId);
      this.o.log.warn({ user: row.userId }, 'refresh token reused; all sessions of the user revoked');
      throw new NetraError('UNAUTHENTICATED', 'refresh token was already used; sign in again');
    }
    if (row.expiresAt.getTime() <= Date.now()) throw new NetraError('UNAUTHENTICATED', 'refresh token has expired; sign in again');
    const user = await this.repo.userById(row.userId);
    if (!user?.active) throw new NetraError('UNAUTHENTICATED', 'refresh token is not valid');
    return this.issuePair(user.id);
  }

  async logout(token: unknown): Promise<void> {
    if (typeof token !== 'string' || token.length > 200)
      throw new NetraError('VALIDATION', 'refresh_token is required', { field: 'refresh_token' });
    const row = await this.repo.refreshTokenByHash(sha256(token));
    if (row) await this.repo.revokeRefreshToken(row.id);
  }

  issueAccessToken(userId: string, opts: { workspace?: string } = {}): Promise<string> {
    return signAccessToken(this.o.tokens, { userId, workspace: opts.workspace });
  }

  private async issuePair(userId: string): Promise<TokenPair> {
    const refresh = generateRefreshToken();
    await this.repo.insertRefreshToken(userId, sha256(refresh), new Date(Date.now() + this.o.refreshTtlSec * 1000));
    return {
      access_token: await this.issueAccessToken(userId),
      token_type: 'Bearer',
      expires_in: this.o.tokens.accessTtlSec,
      refresh_token: refresh,
      refresh_expires_in: this.o.refreshTtlSec,
    };
  }

  /** A bearer credential (API key `nk_...` or access JWT) → the principal, or null when it is not valid. */
  async authenticate(credential: string): Promise<Principal | null> {
    if (looksLikeApiKey(credential)) return this.authenticateApiKey(credential);
    const claims = await verifyAccessToken(this.o.tokens, credential);
    if (!claims) return null;
    const user = await this.repo.userById(claims.userId);
    if (!user?.active) return null;
    return {
      kind: 'user',
      userId: user.id,
      email: user.email,
      isAdmin: user.isAdmin,
      ...(claims.workspace ? { workspace: claims.workspace } : {}),
    };
  }

  private async authenticateApiKey(key: string): Promise<Principal | null> {
    const prefix = apiKeyPrefix(key);
    if (!prefix) return null;
    let row: Awaited<ReturnType<AccountsRepository['apiKeyByPrefix']>>;
    try {
      row = await this.repo.apiKeyByPrefix(prefix);
    } catch (err) {
      // the database cannot be read: a key verified within the TTL keeps working (ingestion goes on), others wait
      const cached = this.verifiedKeys.get(prefix);
      const ttl = this.o.apiKeyCacheTtlMs ?? 0;
      if (cached && Date.now() - cached.verifiedAt < ttl && apiKeyMatches(key, cached.secretHash)) {
        this.o.log.warn(
          { key: prefix, err: (err as Error).message.slice(0, 200) },
          'api key authenticated from the verified-key cache (database unreachable)',
        );
        return cached.principal;
      }
      throw err;
    }
    if (!row || row.revoked_at || !apiKeyMatches(key, row.secret_hash)) {
      this.verifiedKeys.delete(prefix);
      return null;
    }
    const now = Date.now();
    if (!row.last_used_at || now - row.last_used_at.getTime() > TOUCH_INTERVAL_MS) {
      // not awaited: recording use must never hold a request (the database may be slow or gone)
      void this.repo
        .touchApiKey(row.id, new Date(now))
        .catch((err) => this.o.log.warn({ err: (err as Error).message, key: row.prefix }, 'could not record api key use'));
    }
    const principal = {
      kind: 'api_key' as const,
      keyId: row.id,
      prefix: row.prefix,
      workspace: row.workspace,
      workspaceId: row.workspace_id,
      scope: row.scope,
    };
    if ((this.o.apiKeyCacheTtlMs ?? 0) > 0) {
      if (this.verifiedKeys.size >= 10_000) this.verifiedKeys.delete(this.verifiedKeys.keys().next().value!);
      this.verifiedKeys.set(prefix, { principal, secretHash: row.secret_hash, verifiedAt: now });
    }
    return principal;
  }

  private async userOr404(id: string): Promise<UserRow> {
    const u = await this.repo.userById(id);
    if (!u) throw new NetraError('NOT_FOUND', `no user ${id}`, { field: 'user_id' });
    return u;
  }
}

export function userView(u: UserRow): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    is_admin: u.isAdmin,
    active: u.active,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

function normalizeEmail(e: string): string {
  return e.trim().toLowerCase();
}

function parseEmail(v: unknown): string {
  if (typeof v !== 'string' || v.length > 254 || !EMAIL.test(v.trim()))
    throw new NetraError('VALIDATION', 'email must be an e-mail address', { field: 'email' });
  return normalizeEmail(v);
}

function parseName(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string' || v.length > 200)
    throw new NetraError('VALIDATION', 'name must be a string of at most 200 characters', { field: 'name' });
  return v.trim();
}

function parseBool(v: unknown, field: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new NetraError('VALIDATION', `${field} must be true or false`, { field });
  return v;
}
