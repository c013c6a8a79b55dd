/**
 * Accounts over HTTP: sign-in (password, refresh, logout, loopback auto sign-in), /me, users (admins), workspaces and
 * members, API keys (shown once), provider secrets (write-only; listed masked). Who may call what: ../auth-rules.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Accounts } from '../../accounts/index.js';
import type { Principal } from '../../accounts/roles.js';
import type { Config } from '../../config.js';
import { NetraError } from '../../errors.js';
import { isLoopbackIp } from '../auth.js';
import { parseWorkspace } from '../params.js';
import { ACCOUNT_ROUTES as R } from '../schemas/accounts.js';

export interface AccountsRouteDeps {
  config: Config;
  accounts: Accounts;
}

/** Account bodies are small; a tight limit keeps password hashing and JSON parsing cheap. */
const BODY_LIMIT = 64 * 1024;

export function accountsRoutes(app: FastifyInstance, deps: AccountsRouteDeps): void {
  const { identity, access } = deps.accounts;
  const opts = { bodyLimit: BODY_LIMIT };
  const body = (req: FastifyRequest): Record<string, unknown> => {
    const b = req.body ?? {};
    if (typeof b !== 'object' || Array.isArray(b)) throw new NetraError('VALIDATION', 'body must be a JSON object', { field: '(body)' });
    return b as Record<string, unknown>;
  };
  const who = (req: FastifyRequest): Principal => req.principal!;
  const userIdOf = (req: FastifyRequest) => {
    const p = who(req);
    return p.kind === 'user' ? p.userId : null;
  };
  const ws = (req: FastifyRequest) => req.authorizedWorkspace!;
  const param = (req: FastifyRequest, name: string) => (req.params as Record<string, string>)[name]!;

  // ── sessions ──
  app.post('/api/v1/auth/login', { ...opts, schema: R.login }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const b = body(req);
    return identity.login(b.email, b.password);
  });
  app.post('/api/v1/auth/refresh', { ...opts, schema: R.refresh }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return identity.refresh(body(req).refresh_token);
  });
  app.post('/api/v1/auth/logout', { ...opts, schema: R.logout }, async (req, reply) => {
    await identity.logout(body(req).refresh_token);
    return reply.status(204).send();
  });

  /** The local UI signs in as the local owner without a password, only when server, client and Host are all loopback. */
  app.post('/api/v1/auth/local', { ...opts, schema: R.local }, async (req, reply) => {
    reply.header('cache-control', 'no-store'); // a bearer token: never in a browser or proxy cache
    if (!localSignInAllowed(req, deps.config)) {
      throw new NetraError(
        'FORBIDDEN',
        'automatic sign-in works only on a server listening on loopback, from the same machine; sign in with a password or `netra token`',
      );
    }
    const token = await identity.issueAccessToken(identity.localOwnerId());
    return { access_token: token, token_type: 'Bearer', expires_in: deps.config.auth.accessTokenTtlSec };
  });

  app.get('/api/v1/me', { schema: R.me }, async (req) => {
    const p = who(req);
    if (p.kind === 'api_key') return { kind: 'api_key', prefix: p.prefix, workspace: p.workspace, scope: p.scope };
    const user = await identity.getUser(p.userId);
    const workspaces = [...(await access.visible(p))].map(([workspace, role]) => ({ workspace, role }));
    return { kind: 'user', user, workspaces, ...(p.workspace ? { token_workspace: p.workspace } : {}) };
  });

  // ── users (instance admins) ──
  app.get('/api/v1/users', { schema: R.listUsers }, async () => ({ users: await identity.listUsers() }));
  app.post('/api/v1/users', { ...opts, schema: R.createUser }, async (req, reply) =>
    reply.status(201).send(await identity.createUser(body(req))),
  );
  app.get('/api/v1/users/:user_id', { schema: R.getUser }, async (req) => identity.getUser(param(req, 'user_id')));
  app.patch('/api/v1/users/:user_id', { ...opts, schema: R.updateUser }, async (req) =>
    identity.updateUser(param(req, 'user_id'), body(req)),
  );
  app.delete('/api/v1/users/:user_id', { schema: R.deactivateUser }, async (req) => identity.deactivateUser(param(req, 'user_id')));

  // ── workspaces and members ──
  app.post('/api/v1/workspaces', { ...opts, schema: R.createWorkspace }, async (req, reply) => {
    const name = parseWorkspace(body(req).name, '');
    return reply.status(201).send({ ...(await access.createWorkspace(name, userIdOf(req))), role: 'owner' });
  });
  app.get('/api/v1/workspaces/:workspace/members', { schema: R.members }, async (req) => ({
    workspace: ws(req),
    members: await access.members(ws(req)),
  }));
  app.put('/api/v1/workspaces/:workspace/members/:user_id', { ...opts, schema: R.setMember }, async (req) =>
    access.setMember(ws(req), param(req, 'user_id'), body(req).role),
  );
  app.delete('/api/v1/workspaces/:workspace/members/:user_id', { schema: R.removeMember }, async (req, reply) => {
    await access.removeMember(ws(req), param(req, 'user_id'));
    return reply.status(204).send();
  });

  // ── API keys ──
  app.post('/api/v1/workspaces/:workspace/api-keys', { ...opts, schema: R.createApiKey }, async (req, reply) => {
    const b = body(req);
    const created = await access.createApiKey(ws(req), { scope: b.scope, name: b.name }, userIdOf(req));
    return reply.status(201).header('cache-control', 'no-store').send(created);
  });
  app.get('/api/v1/workspaces/:workspace/api-keys', { schema: R.apiKeys }, async (req) => ({
    workspace: ws(req),
    api_keys: await access.apiKeys(ws(req)),
  }));
  app.delete('/api/v1/api-keys/:prefix', { schema: R.revokeApiKey }, async (req, reply) => {
    await access.revokeApiKey(param(req, 'prefix'));
    return reply.status(204).send();
  });

  // ── provider secrets: write-only ──
  app.put('/api/v1/workspaces/:workspace/provider-secrets/:provider', { ...opts, schema: R.setSecret }, async (req) =>
    access.setProviderSecret(ws(req), param(req, 'provider'), body(req).value, userIdOf(req), body(req).base_url),
  );
  app.get('/api/v1/workspaces/:workspace/provider-secrets', { schema: R.secrets }, async (req) => ({
    workspace: ws(req),
    provider_secrets: await access.providerSecrets(ws(req)),
  }));
  app.delete('/api/v1/workspaces/:workspace/provider-secrets/:provider', { schema: R.deleteSecret }, async (req, reply) => {
    await access.deleteProviderSecret(ws(req), param(req, 'provider'));
    return reply.status(204).send();
  });
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Server bound to loopback, client on loopback, a loopback Host (no DNS rebinding), no proxy in between, same-origin. */
export function localSignInAllowed(req: FastifyRequest, config: Config): boolean {
  if (!config.auth.localAutoSignIn || config.security.trustProxy) return false;
  if (!LOOPBACK_HOSTS.has(config.host) && !config.host.startsWith('127.')) return false;
  if (!isLoopbackIp(req.socket.remoteAddress ?? req.ip)) return false;
  if (req.headers['x-forwarded-for'] || req.headers.forwarded || req.headers['x-real-ip']) return false;
  const host = hostname(req.headers.host);
  if (!host || !LOOPBACK_HOSTS.has(host)) return false;
  const origin = req.headers.origin;
  if (origin !== undefined && !LOOPBACK_HOSTS.has(hostname(safeUrlHost(origin)) ?? '')) return false;
  return true;
}

function hostname(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  return hostHeader.split(':')[0]!.toLowerCase();
}

function safeUrlHost(u: string): string | undefined {
  try {
    return new URL(u).host;
  } catch {
    return undefined;
  }
}
