/**
 * Roles, API key scopes and the permissions they grant. Pure: the one table every authorization decision reads.
 *
 *   viewer = read; member = read + ingest + simulate; owner = + manage (overrides, reprice, members, keys, provider secrets).
 *   API keys: `ingest` may only ingest, `read` may only read, `admin` may do everything in its workspace, `gateway` may only
 *   send LLM calls through the gateway (a virtual key).
 */
import { API_KEY_SCOPES, ROLES, type ApiKeyScope, type Role } from '../db/schema.js';

export { API_KEY_SCOPES, ROLES, type ApiKeyScope, type Role };

/** `gateway`: send LLM calls through the gateway (src/gateway), which records them into the workspace */
export const PERMISSIONS = ['read', 'ingest', 'simulate', 'manage', 'gateway'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  member: ['read', 'ingest', 'simulate', 'gateway'],
  owner: ['read', 'ingest', 'simulate', 'manage', 'gateway'],
};

const SCOPE_PERMISSIONS: Record<ApiKeyScope, readonly Permission[]> = {
  ingest: ['ingest'],
  read: ['read'],
  admin: ['read', 'ingest', 'simulate', 'manage', 'gateway'],
  gateway: ['gateway'],
};

export function roleAllows(role: Role | null | undefined, p: Permission): boolean {
  return role ? ROLE_PERMISSIONS[role].includes(p) : false;
}

export function scopeAllows(scope: ApiKeyScope, p: Permission): boolean {
  return SCOPE_PERMISSIONS[scope].includes(p);
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export function isScope(v: unknown): v is ApiKeyScope {
  return typeof v === 'string' && (API_KEY_SCOPES as readonly string[]).includes(v);
}

/** Who is calling: a signed-in user (JWT) or a workspace API key. */
export type Principal =
  | {
      kind: 'user';
      userId: string;
      email: string;
      isAdmin: boolean;
      /** set when the access token was issued for one workspace only (`netra token --workspace`) */
      workspace?: string;
    }
  | {
      kind: 'api_key';
      keyId: string;
      prefix: string;
      workspace: string;
      workspaceId: string;
      scope: ApiKeyScope;
    };

/** The workspace a principal is confined to, if any. */
export function boundWorkspace(p: Principal): string | undefined {
  return p.workspace;
}

/** A short, secret-free label for logs and rate-limit keys. */
export function principalLabel(p: Principal): string {
  return p.kind === 'user' ? `user:${p.userId}` : `key:${p.prefix}`;
}
