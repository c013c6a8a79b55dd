/**
 * The authorization rule of every route, in one table keyed by `METHOD url-pattern`. A route without a rule is refused
 * (fail closed) and fails the authorization matrix test (test/auth-matrix.test.ts), so a new route cannot ship unguarded.
 *
 * access:
 *   public        anyone (health, sign-in)
 *   authenticated any valid credential: a user token or an API key of any scope
 *   reader        users, and API keys with `read` or `admin` scope (data that is not one workspace's: catalog, workspace list)
 *   user          a signed-in user whose token is not bound to one workspace (create workspaces)
 *   admin         an instance administrator (manage users, system figures)
 *   workspace     `permission` in the workspace named by `from` (see roles.ts for who has which permission)
 *   gateway       the LLM gateway authenticates each call itself (virtual key or x-netra-key, src/gateway/credentials.ts)
 *                 and answers in the provider's error shape; not rate limited here (the upstream's limits pass through)
 */
import type { Permission } from '../accounts/roles.js';

/** Where a route names its workspace: ?workspace= (default NETRA_WORKSPACE), also the X-Netra-Workspace header for ingest,
 *  the JSON body's `workspace` (then ?workspace=), the :workspace path parameter, or the workspace of the API key :prefix. */
export type WorkspaceSource = 'query' | 'ingest' | 'body' | 'param' | 'api-key-prefix';

export type RouteRule =
  | { access: 'public'; rateLimit?: boolean }
  | { access: 'gateway' }
  | { access: 'authenticated' | 'reader' | 'user' | 'admin' }
  | {
      access: 'workspace';
      permission: Permission;
      from: WorkspaceSource;
      /** an instance admin ingesting into a workspace that does not exist creates it (and owns it) */
      adminCreates?: boolean;
    };

const read = (from: WorkspaceSource): RouteRule => ({ access: 'workspace', permission: 'read', from });
const manage = (from: WorkspaceSource): RouteRule => ({ access: 'workspace', permission: 'manage', from });
const chat: RouteRule = { access: 'workspace', permission: 'simulate', from: 'query' };
const ingest: RouteRule = { access: 'workspace', permission: 'ingest', from: 'ingest', adminCreates: true };

export const ROUTE_RULES: Readonly<Record<string, RouteRule>> = {
  // health and metrics: public, never rate limited (probes and scrapers)
  'GET /health/live': { access: 'public', rateLimit: false },
  'GET /health/ready': { access: 'public', rateLimit: false },
  'GET /metrics': { access: 'public', rateLimit: false },
  'OPTIONS *': { access: 'public' }, // CORS preflight

  // the web UI's static files (routes/web.ts): public; everything they fetch carries the signed-in user's token
  'GET /': { access: 'public' },
  'GET /ui/:file': { access: 'public' },

  // the API's description (server/openapi.ts): the OpenAPI document and its browsable page with the page's own files;
  // public like the UI files: it describes the routes, each route still asks for its credential
  'GET /openapi.json': { access: 'public' },
  'GET /docs': { access: 'public' },
  'GET /docs/json': { access: 'public' },
  'GET /docs/yaml': { access: 'public' },
  'GET /docs/static/index.html': { access: 'public' },
  'GET /docs/static/swagger-initializer.js': { access: 'public' },
  'GET /docs/static/*': { access: 'public' },

  // ingestion
  'POST /api/v1/events': ingest,
  'POST /v1/traces': ingest,
  'POST /api/v1/logs/openai': ingest,

  // the LLM gateway (src/gateway): OpenAI- and Anthropic-compatible endpoints
  'POST /v1/chat/completions': { access: 'gateway' },
  'POST /v1/completions': { access: 'gateway' },
  'POST /v1/embeddings': { access: 'gateway' },
  'POST /v1/responses': { access: 'gateway' },
  'GET /v1/models': { access: 'gateway' },
  'POST /v1/messages': { access: 'gateway' },
  'POST /v1/messages/count_tokens': { access: 'gateway' },
  // its policy: viewers read it, owners (and admin keys) change it
  'GET /api/v1/workspaces/:workspace/gateway-policy': read('param'),
  'PUT /api/v1/workspaces/:workspace/gateway-policy': manage('param'),
  'GET /api/v1/workspaces/:workspace/gateway-savings': read('param'),
  // its settings (the time zone of its calendar): viewers read, owners change
  'GET /api/v1/workspaces/:workspace/settings': read('param'),
  'PUT /api/v1/workspaces/:workspace/settings': manage('param'),

  // reads and analysis
  'GET /api/v1/stats': read('query'),
  'GET /api/v1/events': read('query'),
  'DELETE /api/v1/events': manage('query'),
  'GET /api/v1/models/unpriced': read('query'),
  'GET /api/v1/analysis': read('query'),
  'GET /api/v1/policy': read('query'),
  'GET /api/v1/breakdown': read('query'),
  'POST /api/v1/simulations': { access: 'workspace', permission: 'simulate', from: 'body' },
  'GET /api/v1/catalog': { access: 'reader' },
  'GET /api/v1/workspaces': { access: 'reader' }, // lists only the caller's workspaces
  'POST /api/v1/workspaces': { access: 'user' },

  // background jobs: viewers read; members (and ingest/admin keys) start a generation, which writes events, and cancel
  'GET /api/v1/jobs': read('query'),
  'GET /api/v1/jobs/:id': read('query'),
  'POST /api/v1/jobs': { access: 'workspace', permission: 'ingest', from: 'body' },
  'DELETE /api/v1/jobs/:id': { access: 'workspace', permission: 'ingest', from: 'query' },

  // conversations and agent runs: each caller sees only its own threads; viewers read them, members (and admin
  // keys) create threads and run agents (the `simulate` permission: reads the data, writes nothing to it)
  'GET /api/v1/threads': read('query'),
  'POST /api/v1/threads': chat,
  'GET /api/v1/threads/:id': read('query'),
  'PATCH /api/v1/threads/:id': chat,
  'DELETE /api/v1/threads/:id': chat,
  'GET /api/v1/threads/:id/messages': read('query'),
  'POST /api/v1/runs': chat,
  'GET /api/v1/runs/:id': read('query'),
  // the chat WebSocket authenticates itself (header or jwt.<token> subprotocol; close 1008), see src/server/ws/gateway.ts;
  // a plain GET answers where the protocol is described
  'GET /ws': { access: 'public' },

  // prices
  'GET /api/v1/workspaces/:workspace/price-overrides': read('param'),
  'PUT /api/v1/workspaces/:workspace/price-overrides/:model': manage('param'),
  'DELETE /api/v1/workspaces/:workspace/price-overrides/:model': manage('param'),
  'POST /api/v1/workspaces/:workspace/reprice': manage('param'),

  // members, API keys, provider secrets
  'GET /api/v1/workspaces/:workspace/members': read('param'),
  'PUT /api/v1/workspaces/:workspace/members/:user_id': manage('param'),
  'DELETE /api/v1/workspaces/:workspace/members/:user_id': manage('param'),
  'GET /api/v1/workspaces/:workspace/api-keys': manage('param'),
  'POST /api/v1/workspaces/:workspace/api-keys': manage('param'),
  'DELETE /api/v1/api-keys/:prefix': manage('api-key-prefix'),
  'GET /api/v1/workspaces/:workspace/provider-secrets': manage('param'),
  'PUT /api/v1/workspaces/:workspace/provider-secrets/:provider': manage('param'),
  'DELETE /api/v1/workspaces/:workspace/provider-secrets/:provider': manage('param'),

  // sessions
  'POST /api/v1/auth/login': { access: 'public' },
  'POST /api/v1/auth/refresh': { access: 'public' },
  'POST /api/v1/auth/logout': { access: 'public' },
  'POST /api/v1/auth/local': { access: 'public' }, // answers only on loopback; see routes/accounts.ts
  'GET /api/v1/me': { access: 'authenticated' },

  // users and the instance
  'GET /api/v1/users': { access: 'admin' },
  'POST /api/v1/users': { access: 'admin' },
  'GET /api/v1/users/:user_id': { access: 'admin' },
  'PATCH /api/v1/users/:user_id': { access: 'admin' },
  'DELETE /api/v1/users/:user_id': { access: 'admin' },
  'GET /api/v1/system/performance': { access: 'admin' },
};

export function ruleFor(method: string, url: string): RouteRule | undefined {
  return ROUTE_RULES[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}
