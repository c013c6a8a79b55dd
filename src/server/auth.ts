/**
 * Security for every request: security headers (@fastify/helmet), CORS (@fastify/cors), per-IP and per-key rate limits
 * (@fastify/rate-limit), authentication (`Authorization: Bearer <access token | API key>`) and authorization by the rule
 * table in auth-rules.ts. Decisions are taken in hooks before any handler runs; handlers read `req.principal`.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts } from '../accounts/index.js';
import { boundWorkspace, principalLabel, type Principal } from '../accounts/roles.js';
import type { Config } from '../config.js';
import { NetraError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ruleFor, type RouteRule } from './auth-rules.js';
import { parseWorkspace } from './params.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated caller; null on public routes */
    principal: Principal | null;
    /** the workspace the request was authorized for (workspace routes) */
    authorizedWorkspace: string | null;
  }
}

export interface SecurityDeps {
  config: Config;
  log: Logger;
  accounts: Accounts;
}

export interface RouteEntry {
  method: string;
  url: string;
}
const routeLists = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route registered after installSecurity (HEAD routes folded into GET), for the authorization matrix test. */
export function registeredRoutes(app: FastifyInstance): RouteEntry[] {
  return routeLists.get(app) ?? [];
}

const LOOPBACK_IPS = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
export function isLoopbackIp(ip: string | undefined): boolean {
  return ip !== undefined && (LOOPBACK_IPS.has(ip) || ip.startsWith('127.'));
}

export async function installSecurity(app: FastifyInstance, deps: SecurityDeps): Promise<void> {
  const { config, accounts } = deps;
  const sec = config.security;
  const routes: RouteEntry[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
  });

  await app.register(helmet, { global: true });
  await app.register(cors, {
    origin: sec.corsOrigins.length > 0 ? sec.corsOrigins : false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-netra-workspace'],
    maxAge: 600,
  });
  await app.register(rateLimit, { global: false });

  const exempt = (req: FastifyRequest) => sec.rateLimitExemptLoopback && isLoopbackIp(req.ip);
  const ipLimit =
    sec.rateLimitPerIp > 0
      ? app.createRateLimit({
          max: sec.rateLimitPerIp,
          timeWindow: sec.rateLimitWindowMs,
          keyGenerator: (req) => `ip:${req.ip}`,
          allowList: exempt,
        })
      : null;
  const keyLimit =
    sec.rateLimitPerKey > 0
      ? app.createRateLimit({
          max: sec.rateLimitPerKey,
          timeWindow: sec.rateLimitWindowMs,
          keyGenerator: (req) => principalLabel(req.principal!),
          allowList: exempt,
        })
      : null;
  const enforce = async (limiter: typeof ipLimit, req: FastifyRequest, reply: FastifyReply, who: string) => {
    if (!limiter) return;
    const r = await limiter(req);
    if (r.isAllowed || !r.isExceeded) return;
    reply.header('retry-after', r.ttlInSeconds);
    throw new NetraError(
      'RATE_LIMITED',
      `rate limit of ${r.max} requests per ${Math.round(sec.rateLimitWindowMs / 1000)} s exceeded for this ${who}; retry in ${r.ttlInSeconds} s`,
    );
  };

  app.decorateRequest('principal', null);
  app.decorateRequest('authorizedWorkspace', null);

  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url;
    if (url === undefined) return; // no such route: the 404 handler answers
    const rule = ruleFor(req.method, url);
    if (!rule) {
      req.log.error({ method: req.method, route: url }, 'route has no authorization rule; refused');
      throw new NetraError('FORBIDDEN', 'this route has no authorization rule');
    }
    if (rule.access === 'gateway') return; // the gateway authenticates its calls itself
    if (rule.access === 'public') {
      if (rule.rateLimit !== false) await enforce(ipLimit, req, reply, 'client address');
      return;
    }
    await enforce(ipLimit, req, reply, 'client address');
    const credential = bearer(req);
    if (!credential) {
      reply.header('www-authenticate', 'Bearer');
      throw new NetraError('UNAUTHENTICATED', 'sign in: send Authorization: Bearer <access token or API key>');
    }
    const principal = await accounts.identity.authenticate(credential);
    if (!principal) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new NetraError('UNAUTHENTICATED', 'the access token or API key is not valid (expired, revoked, or not issued here)');
    }
    req.principal = principal;
    await enforce(keyLimit, req, reply, principal.kind === 'api_key' ? 'API key' : 'user');
    if (rule.access !== 'workspace') return checkGlobal(rule, principal);
    if (rule.from !== 'body') await authorizeWorkspace(req, rule, principal);
  });

  // Workspaces named in a JSON body are known only after parsing.
  app.addHook('preHandler', async (req) => {
    const url = req.routeOptions.url;
    const rule = url === undefined ? undefined : ruleFor(req.method, url);
    if (rule?.access === 'workspace' && rule.from === 'body') await authorizeWorkspace(req, rule, req.principal!);
  });

  async function authorizeWorkspace(req: FastifyRequest, rule: Extract<RouteRule, { access: 'workspace' }>, p: Principal): Promise<void> {
    const bound = boundWorkspace(p);
    const workspace =
      rule.from === 'api-key-prefix' ? await keyWorkspace(req) : resolveWorkspace(req, rule, bound, config.defaultWorkspace);
    if (bound && bound !== workspace) {
      throw new NetraError('FORBIDDEN', `this ${p.kind === 'api_key' ? 'API key' : 'token'} is limited to workspace ${bound}`, {
        field: 'workspace',
      });
    }
    let allowed = await accounts.access.can(p, workspace, rule.permission);
    if (!allowed && p.kind === 'user' && p.isAdmin && !bound && !(await accounts.access.exists(workspace))) {
      if (!rule.adminCreates) {
        throw new NetraError(
          'NOT_FOUND',
          `workspace ${workspace} does not exist (no events were ever sent to it); create it with POST /api/v1/workspaces`,
          { field: 'workspace' },
        );
      }
      await accounts.access.createWorkspace(workspace, p.userId).catch((err) => {
        if (!(err instanceof NetraError && err.code === 'NETRA_E_CONFLICT')) throw err; // created concurrently: re-check below
      });
      req.log.info({ workspace, user: p.userId }, 'workspace created on first ingest by an admin');
      allowed = await accounts.access.can(p, workspace, rule.permission);
    }
    if (!allowed) {
      // the same answer whether or not the workspace exists: outsiders learn nothing about it
      throw new NetraError('FORBIDDEN', `no ${rule.permission} access to workspace ${workspace}`, { field: 'workspace' });
    }
    req.authorizedWorkspace = workspace;
  }

  async function keyWorkspace(req: FastifyRequest): Promise<string> {
    const prefix = (req.params as { prefix?: string }).prefix ?? '';
    const ws = /^[0-9a-f]{12}$/.test(prefix) ? await accounts.access.apiKeyWorkspace(prefix) : null;
    if (!ws) throw new NetraError('NOT_FOUND', `no api key with prefix ${prefix.slice(0, 20)}`, { field: 'prefix' });
    return ws;
  }
}

function checkGlobal(rule: Exclude<RouteRule, { access: 'workspace' | 'public' | 'gateway' }>, p: Principal): void {
  switch (rule.access) {
    case 'authenticated':
      return;
    case 'reader':
      if (p.kind === 'user' || p.scope !== 'ingest') return;
      throw new NetraError('FORBIDDEN', 'an ingest API key may only send events');
    case 'user':
      if (p.kind === 'user' && !p.workspace) return;
      throw new NetraError('FORBIDDEN', 'this needs a signed-in user (not an API key or a workspace-bound token)');
    case 'admin':
      if (p.kind === 'user' && p.isAdmin && !p.workspace) return;
      throw new NetraError('FORBIDDEN', 'this needs an instance administrator');
  }
}

/** The workspace a request names (query, header or body), defaulting to the credential's own workspace when it has one. */
function resolveWorkspace(
  req: FastifyRequest,
  rule: Extract<RouteRule, { access: 'workspace' }>,
  bound: string | undefined,
  fallback: string,
): string {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const given = (v: unknown) => v !== undefined && v !== '';
  switch (rule.from) {
    case 'param':
      return parseWorkspace((req.params as { workspace?: string }).workspace, fallback);
    case 'ingest': {
      const header = req.headers['x-netra-workspace'];
      if (!given(q.workspace) && !given(header) && bound) q.workspace = bound;
      return parseWorkspace(q.workspace ?? header, fallback);
    }
    case 'body': {
      const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : null;
      if (!given(body?.workspace) && !given(q.workspace) && bound) q.workspace = bound;
      return parseWorkspace(body?.workspace ?? q.workspace, fallback);
    }
    default:
      if (!given(q.workspace) && bound) q.workspace = bound;
      return parseWorkspace(q.workspace, fallback);
  }
}

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? null;
}
