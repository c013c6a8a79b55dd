/**
 * The chat WebSocket at /ws (docs/PROTOCOL.md). Authentication by `Authorization: Bearer <token>` or the
 * subprotocol `jwt.<token>` (echoed), never the query string; failures close 1008. The workspace is ?workspace= (default the
 * token's own, then NETRA_WORKSPACE) and needs read access; running agents and changing threads need `simulate`.
 * Run events reach the socket only after they are persisted (RunService.follow), so `resume` loses and repeats nothing.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { boundWorkspace } from '../../accounts/roles.js';
import { parseWorkspace } from '../params.js';
import type { ServerDeps } from '../deps.js';
import { ConnectionRegistry } from './connection-registry.js';
import { WsConnection, type AuthResult, type ConnectionContext } from './connection.js';
import { decodeJwt } from 'jose';
import { looksLikeApiKey } from '../../accounts/api-keys.js';

/** Frames above this size are refused by the ws library itself (close 1009); up to it we answer with an error envelope. */
const HARD_FRAME_FACTOR = 4;

export async function registerWebSocketGateway(app: FastifyInstance, deps: ServerDeps): Promise<ConnectionRegistry | null> {
  const chat = deps.chat;
  if (!chat) return null;
  const cfg = deps.config.ws;
  const registry = new ConnectionRegistry({
    maxConnectionsPerUser: cfg.maxConnectionsPerUser,
    heartbeatIntervalMs: cfg.heartbeatIntervalMs,
    idleTimeoutMs: cfg.idleTimeoutMs,
  });
  deps.observability?.metrics.setWsConnections(() => registry.count());
  deps.observability?.setWebSocketFigures(() => ({ connections: registry.count(), buffered_bytes: registry.bufferedBytes() }));
  // connections by credential subject: an announced change re-checks (and closes) that subject's sockets at once
  const bySubject = new Map<string, Set<WsConnection>>();
  const offChange = deps.accounts.epochs.onChange((subject) => {
    for (const c of bySubject.get(subject) ?? []) void c.recheck().catch(() => undefined);
  });
  app.addHook('onClose', async () => {
    offChange();
  });
  await app.register(websocket, {
    options: {
      maxPayload: cfg.maxFrameBytes * HARD_FRAME_FACTOR,
      // echo the `jwt.<token>` subprotocol a browser offered (it cannot set headers); no other subprotocol is spoken
      handleProtocols: (protocols: Set<string>) => [...protocols].find((p) => p.startsWith('jwt.')) ?? false,
    },
    preClose: async () => {
      registry.closeAll();
    },
  });

  app.route({
    method: 'GET',
    url: '/ws',
    // the WebSocket protocol is described in docs/PROTOCOL.md, not in the REST API's OpenAPI document
    schema: { hide: true },
    // a plain HTTP GET (no upgrade) learns where the protocol is described
    handler: async () => ({ websocket: '/ws', auth: 'Authorization: Bearer <token> or subprotocol jwt.<token>', docs: 'docs/PROTOCOL.md' }),
    wsHandler: (socket: WebSocket, req: FastifyRequest) => {
      const ctx: ConnectionContext = {
        chat,
        registry,
        epochs: deps.accounts.epochs,
        config: cfg,
        log: deps.log,
        observability: deps.observability,
      };
      const conn = new WsConnection(socket, randomUUID(), ctx);
      const token = tokenOf(req);
      const q = (req.query ?? {}) as Record<string, unknown>;
      const auth = authenticate(token, q.workspace);
      conn.open(auth);
      void auth.then(
        (a) => {
          if (typeof a === 'string') return;
          const subject = conn.credentialSubject;
          let set = bySubject.get(subject);
          if (!set) bySubject.set(subject, (set = new Set()));
          set.add(conn);
          socket.on('close', () => {
            set.delete(conn);
            if (set.size === 0 && bySubject.get(subject) === set) bySubject.delete(subject);
          });
        },
        () => undefined,
      );
    },
  });
  return registry;

  /**
   * The principal, the workspace and what it may do there; a string is the reason to close 1008. The result carries
   * `recheck`, the same decision re-taken from current data (revocation, deactivation, membership, expiry).
   */
  async function authenticate(token: string | null, requested: unknown): Promise<AuthResult> {
    if (!token) return 'authentication required: send Authorization: Bearer <token> or subprotocol jwt.<token>';
    const principal = await deps.accounts.identity.authenticate(token);
    if (!principal) return 'the access token or API key is not valid (expired, revoked, or its user deactivated)';
    const bound = boundWorkspace(principal);
    let workspace: string;
    try {
      workspace = parseWorkspace(requested === undefined || requested === '' ? bound : requested, deps.config.defaultWorkspace);
    } catch (err) {
      return (err as Error).message;
    }
    if (bound && bound !== workspace) return `this credential is limited to workspace ${bound}`;
    if (!(await deps.accounts.access.can(principal, workspace, 'read'))) return `no read access to workspace ${workspace}`;
    return {
      principal,
      workspace,
      canRun: await deps.accounts.access.can(principal, workspace, 'simulate'),
      expiresAt: expiryOf(token),
      recheck: () => authenticate(token, workspace),
    };
  }
}

/** An access token's expiry (epoch ms; it was verified before), null for API keys (they do not expire, they are revoked). */
function expiryOf(token: string): number | null {
  if (looksLikeApiKey(token)) return null;
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** The bearer token of the upgrade request: the Authorization header, else a `jwt.<token>` subprotocol. Never the query. */
export function tokenOf(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m) return m[1]!;
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    for (const p of protocols.split(',').map((s) => s.trim())) if (p.startsWith('jwt.') && p.length > 4) return p.slice(4);
  }
  return null;
}
