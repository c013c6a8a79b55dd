/** Schemas of sign-in, users, workspaces and members, API keys and provider secrets (routes/accounts.ts). */
import { z } from 'zod';
import { API_KEY_SCOPES, ROLES } from '../../accounts/roles.js';
import { AUTH_ERRORS, json, noContent, route, WorkspaceName, WorkspaceParams } from './common.js';

export const LoginBody = z.object({ email: z.string(), password: z.string() });
export const RefreshBody = z.object({ refresh_token: z.string() });
export const TokenPair = z
  .looseObject({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().describe('seconds'),
    refresh_token: z.string(),
    refresh_expires_in: z.number().describe('seconds'),
  })
  .meta({ id: 'TokenPair' });
export const AccessToken = z.looseObject({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number() });

export const User = z
  .looseObject({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    is_admin: z.boolean(),
    active: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'User' });
export const Me = z.union([
  z.looseObject({
    kind: z.literal('user'),
    user: User,
    workspaces: z.array(z.object({ workspace: z.string(), role: z.enum(ROLES) })),
    token_workspace: z.string().optional().describe('the one workspace the token is limited to'),
  }),
  z.looseObject({ kind: z.literal('api_key'), prefix: z.string(), workspace: z.string(), scope: z.enum(API_KEY_SCOPES) }),
]);
export const UsersResponse = z.looseObject({ users: z.array(User) });
export const CreateUserBody = z.object({
  email: z.string(),
  password: z.string().optional().describe('none: the user cannot sign in with a password'),
  name: z.string().optional(),
  is_admin: z.boolean().optional(),
});
export const UpdateUserBody = z.object({
  name: z.string().optional(),
  password: z.string().optional(),
  is_admin: z.boolean().optional(),
  active: z.boolean().optional(),
});
export const UserParams = z.object({ user_id: z.string() });

export const CreateWorkspaceBody = z.object({ name: WorkspaceName });
export const CreatedWorkspace = z.looseObject({ name: z.string(), created_at: z.string(), role: z.literal('owner') });
export const MembersResponse = z.looseObject({
  workspace: z.string(),
  members: z.array(
    z.looseObject({
      user_id: z.string(),
      email: z.string(),
      name: z.string(),
      role: z.enum(ROLES),
      active: z.boolean(),
      created_at: z.string(),
    }),
  ),
});
export const MemberParams = z.object({ workspace: WorkspaceName, user_id: z.string() });
export const SetMemberBody = z.object({ role: z.enum(ROLES) });
export const MemberRole = z.looseObject({ user_id: z.string(), role: z.enum(ROLES) });

const ApiKey = z.looseObject({
  prefix: z.string(),
  workspace: z.string(),
  scope: z.enum(API_KEY_SCOPES),
  name: z.string(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export const CreateApiKeyBody = z.object({ scope: z.enum(API_KEY_SCOPES), name: z.string().max(100).optional() });
export const CreatedApiKey = ApiKey.extend({ key: z.string().describe('the key itself: shown only in this answer') });
export const ApiKeysResponse = z.looseObject({ workspace: z.string(), api_keys: z.array(ApiKey) });
export const ApiKeyParams = z.object({ prefix: z.string().describe('the 12 hex characters after the key type') });

const ProviderSecret = z.looseObject({
  provider: z.string(),
  hint: z.string().nullable().describe('the last 4 characters of a long key; the value is never returned'),
  base_url: z.string().nullable(),
  updated_at: z.string(),
});
export { ProviderSecret };
export const ProviderSecretParams = z.object({ workspace: WorkspaceName, provider: z.string() });
export const SetProviderSecretBody = z.object({
  value: z.string().min(1).max(4096).describe('the provider API key (write-only)'),
  base_url: z.string().optional().describe("the provider's API base URL for this workspace (LLM gateway)"),
});
export const ProviderSecretsResponse = z.looseObject({ workspace: z.string(), provider_secrets: z.array(ProviderSecret) });

// ── the routes' descriptions ──
const PUBLIC_ERRORS = [400, 401, 429, 503];
const ADMIN_ERRORS = [400, 404, ...AUTH_ERRORS];
const sessions = ['sessions'];
const users = ['users'];
const workspaces = ['workspaces'];
const keys = ['api keys'];
const secrets = ['provider secrets'];

export const ACCOUNT_ROUTES = {
  login: route({
    summary: 'Signs in with email and password',
    tags: sessions,
    body: LoginBody,
    ok: { 200: json(TokenPair, 'access and refresh tokens') },
    errors: PUBLIC_ERRORS,
    security: [],
  }),
  refresh: route({
    summary: 'Exchanges a refresh token for new tokens',
    tags: sessions,
    body: RefreshBody,
    ok: { 200: json(TokenPair, 'new tokens') },
    errors: PUBLIC_ERRORS,
    security: [],
  }),
  logout: route({
    summary: 'Revokes a refresh token',
    tags: sessions,
    body: RefreshBody,
    ok: { 204: noContent('signed out') },
    errors: PUBLIC_ERRORS,
    security: [],
  }),
  local: route({
    summary: 'Signs the local UI in as the local owner (server, client and Host on loopback only)',
    tags: sessions,
    ok: { 200: json(AccessToken, 'an access token') },
    errors: [403, 429],
    security: [],
  }),
  me: route({
    summary: 'Who the credential is: a user with their workspaces, or an API key',
    tags: sessions,
    ok: { 200: json(Me, 'the caller') },
    errors: AUTH_ERRORS,
  }),
  listUsers: route({
    summary: 'Every user (instance admins)',
    tags: users,
    ok: { 200: json(UsersResponse, 'the users') },
    errors: ADMIN_ERRORS,
  }),
  createUser: route({
    summary: 'Creates a user (instance admins)',
    tags: users,
    body: CreateUserBody,
    ok: { 201: json(User, 'the user') },
    errors: [409, ...ADMIN_ERRORS],
  }),
  getUser: route({ summary: 'One user', tags: users, params: UserParams, ok: { 200: json(User, 'the user') }, errors: ADMIN_ERRORS }),
  updateUser: route({
    summary: "Changes a user's name, password, admin flag or active state",
    tags: users,
    params: UserParams,
    body: UpdateUserBody,
    ok: { 200: json(User, 'the user') },
    errors: ADMIN_ERRORS,
  }),
  deactivateUser: route({
    summary: 'Deactivates a user (their tokens stop working)',
    tags: users,
    params: UserParams,
    ok: { 200: json(User, 'the deactivated user') },
    errors: ADMIN_ERRORS,
  }),
  createWorkspace: route({
    summary: 'Creates a workspace owned by the caller',
    tags: workspaces,
    body: CreateWorkspaceBody,
    ok: { 201: json(CreatedWorkspace, 'the workspace') },
    errors: [409, ...ADMIN_ERRORS],
  }),
  members: route({
    summary: "A workspace's members and roles",
    tags: workspaces,
    params: WorkspaceParams,
    ok: { 200: json(MembersResponse, 'the members') },
    errors: ADMIN_ERRORS,
  }),
  setMember: route({
    summary: "Adds a member or changes a member's role",
    tags: workspaces,
    params: MemberParams,
    body: SetMemberBody,
    ok: { 200: json(MemberRole, 'the role') },
    errors: [409, ...ADMIN_ERRORS],
  }),
  removeMember: route({
    summary: 'Removes a member (a workspace keeps at least one owner)',
    tags: workspaces,
    params: MemberParams,
    ok: { 204: noContent('removed') },
    errors: [409, ...ADMIN_ERRORS],
  }),
  createApiKey: route({
    summary: 'Creates an API key; the key is shown only in this answer',
    tags: keys,
    params: WorkspaceParams,
    body: CreateApiKeyBody,
    ok: { 201: json(CreatedApiKey, 'the key and its record') },
    errors: ADMIN_ERRORS,
  }),
  apiKeys: route({
    summary: "A workspace's API keys (never the keys themselves)",
    tags: keys,
    params: WorkspaceParams,
    ok: { 200: json(ApiKeysResponse, 'the keys') },
    errors: ADMIN_ERRORS,
  }),
  revokeApiKey: route({
    summary: 'Revokes an API key',
    tags: keys,
    params: ApiKeyParams,
    ok: { 204: noContent('revoked') },
    errors: ADMIN_ERRORS,
  }),
  setSecret: route({
    summary: "Stores a provider's API key for the workspace (write-only)",
    tags: secrets,
    params: ProviderSecretParams,
    body: SetProviderSecretBody,
    ok: { 200: json(ProviderSecret, 'the masked record') },
    errors: ADMIN_ERRORS,
  }),
  secrets: route({
    summary: "A workspace's provider secrets, masked",
    tags: secrets,
    params: WorkspaceParams,
    ok: { 200: json(ProviderSecretsResponse, 'the masked records') },
    errors: ADMIN_ERRORS,
  }),
  deleteSecret: route({
    summary: 'Deletes a provider secret',
    tags: secrets,
    params: ProviderSecretParams,
    ok: { 204: noContent('deleted') },
    errors: ADMIN_ERRORS,
  }),
};
