// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * One chat WebSocket connection: queues frames until authentication resolves, then validates each frame (size, rate,
 * JSON, envelope, payload) and dispatches it. Every problem is answered with an `error` envelope, never a crash; a
 * connection that keeps abusing the protocol is closed 1008 (1009 for repeated oversize frames).
 */
import type { WebSocket } from 'ws';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Principal } from '../../accounts/roles.js';
import type { Observability } from '../../observability/observability.js';
import type { ConversationScope } from '../../chat/conversations-repository.js';
import type { RunEvent } from '../../chat/run-service.js';
import { NetraError, wsCloseCode } from '../../errors.js';
import { isDependencyUnavailable } from '../unavailable.js';
import type { AccessEpochs } from '../../accounts/access-epochs.js';
import type { ChatDeps } from '../deps.js';
import { messageView, runView, threadView } from '../routes/chat.js';
import type { ConnectionRegistry } from './connection-registry.js';
import {
  envelope,
  isoNow,
  parseClientMessage,
  pongFrame,
  ProtocolError,
  WS_ERRORS,
  type ClientMessage,
  type ServerEnvelope,
} from './envelopes.js';

export interface ConnectionContext {
  chat: ChatDeps;
  /** per-credential rights versions: a moved epoch means re-check before the next message that reads or acts */
  epochs: AccessEpochs;
  registry: ConnectionRegistry;
  config: Config['ws'];
  log: Logger;
  observability?: Observability;
}

/**
 * The outcome of authenticating the upgrade request, or a string: the reason to close 1008. `recheck` repeats the same
 * decision later (same credential, same workspace) from current data; `expiresAt` is the credential's expiry (epoch ms).
 */
export type AuthResult =
  | { principal: Principal; workspace: string; canRun: boolean; expiresAt: number | null; recheck: () => Promise<AuthResult> }
  | string;
type Granted = Exclude<AuthResult, string>;

/** Thrown inside dispatch when the connection lost its rights: it is already closed, nothing more is sent. */
class AccessLost extends Error {}

const MAX_OVERSIZE_FRAMES = 3;

export class WsConnection {
  private scope: ConversationScope | null = null;
  private canRun = false;
  private pending: { data: Buffer; isBinary: boolean }[] | null = [];
  private closed = false;
  private violations = 0;
  private oversize = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private currentThread: string | null = null;
  /** the last granted decision, its subject (`user:<id>` / `key:<prefix>`), the epoch and time it was taken at */
  private grant: Granted | null = null;
  private subject = '';
  private grantEpoch = 0;
  private grantedAt = 0;
  private rechecking: Promise<void> | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** runs this connection streams: run id → stop streaming */
  private readonly follows = new Map<string, () => void>();

  constructor(
    private readonly socket: WebSocket,
    readonly id: string,
    private readonly ctx: ConnectionContext,
  ) {
    this.tokens = ctx.config.messagesPerSecond * 2;
    // listeners first, synchronously: frames sent right after the handshake are queued, not lost
    socket.on('message', (data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean) => this.onFrame(toBuffer(data), isBinary));
    socket.on('pong', () => ctx.registry.touch(this.id));
    socket.on('close', () => this.cleanup());
    socket.on('error', (err: Error) => ctx.log.debug({ err: err.message, connection: this.id }, 'websocket error'));
  }

  /** Completes the handshake once authentication has resolved: registers the connection or closes it 1008. */
  open(auth: Promise<AuthResult>): void {
    auth
      .then((a) => {
        if (this.closed) return;
        if (typeof a === 'string') return this.close(wsCloseCode('UNAUTHENTICATED'), a);
        const ownerId = a.principal.kind === 'user' ? a.principal.userId : `key:${a.principal.prefix}`;
        this.subject = a.principal.kind === 'user' ? `user:${a.principal.userId}` : `key:${a.principal.prefix}`;
        this.grant = a;
        this.grantEpoch = this.ctx.epochs.epoch(this.subject);
        this.grantedAt = Date.now();
        this.armExpiry(a.expiresAt);
        if (!this.ctx.registry.add({ id: this.id, ownerId, socket: this.socket, lastSeen: Date.now() })) {
          return this.close(
            wsCloseCode('RATE_LIMITED'),
            `too many connections for this user (at most ${this.ctx.config.maxConnectionsPerUser})`,
          );
        }
        this.scope = { workspace: a.workspace, userId: ownerId };
        this.canRun = a.canRun;
        const c = this.ctx.config;
        this.send(
          envelope('connection_established', {
            connection_id: this.id,
            server_time: isoNow(),
            workspace: a.workspace,
            can_run: a.canRun,
            limits: {
              max_frame_bytes: c.maxFrameBytes,
              messages_per_second: c.messagesPerSecond,
              max_connections_per_user: c.maxConnectionsPerUser,
              heartbeat_interval_ms: c.heartbeatIntervalMs,
              idle_timeout_ms: c.idleTimeoutMs,
            },
          }),
        );
        const queued = this.pending ?? [];
        this.pending = null;
        for (const f of queued) this.onFrame(f.data, f.isBinary);
      })
      .catch((err: unknown) => {
        this.ctx.log.warn({ err: (err as Error).message }, 'websocket authentication failed');
        this.close(wsCloseCode('INTERNAL'), 'authentication failed');
      });
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    if (this.pending) {
      if (this.pending.length < 100) this.pending.push({ data, isBinary });
      return;
    }
    this.ctx.registry.touch(this.id);
    if (data.length > this.ctx.config.maxFrameBytes) {
      this.ctx.observability?.metrics.observeWsMessage('in', 'invalid');
      this.sendError(
        new ProtocolError(WS_ERRORS.TOO_LARGE, `frame of ${data.length} bytes is over the limit of ${this.ctx.config.maxFrameBytes}`),
      );
      if (++this.oversize >= MAX_OVERSIZE_FRAMES) this.close(wsCloseCode('WS_FRAME_TOO_LARGE'), 'repeated oversize frames');
      return;
    }
    if (!this.takeToken()) {
      this.ctx.observability?.metrics.observeWsMessage('in', 'rate_limited');
      return this.violation(
        new ProtocolError(WS_ERRORS.RATE_LIMITED, `more than ${this.ctx.config.messagesPerSecond} messages per second; slow down`),
      );
    }
    let msg: ClientMessage;
    try {
      if (isBinary) throw new ProtocolError(WS_ERRORS.INVALID, 'send JSON text frames, not binary');
      msg = parseClientMessage(data.toString('utf8'));
    } catch (err) {
      this.ctx.observability?.metrics.observeWsMessage('in', 'invalid');
      return this.violation(err instanceof ProtocolError ? err : new ProtocolError(WS_ERRORS.INVALID, 'malformed frame'));
    }
    this.ctx.observability?.metrics.observeWsMessage('in', msg.type);
    // heartbeats are answered synchronously (no promise per frame); everything else goes through dispatch
    if (msg.type === 'ping') return this.sendText('pong', pongFrame(msg.request_id, isoNow()));
    if (msg.type === 'pong') return;
    this.checkedDispatch(msg).catch((err: unknown) => {
      if (!(err instanceof AccessLost)) this.sendError(toProtocolError(err, msg.request_id));
    });
  }

  /** Every message that reads or acts runs with current rights: expiry checked, re-checked when the epoch moved. */
  private async checkedDispatch(msg: ClientMessage): Promise<void> {
    const now = Date.now();
    if (this.grant?.expiresAt != null && now >= this.grant.expiresAt) {
      this.close(1008, 'access token expired; sign in again');
      throw new AccessLost();
    }
    if (this.ctx.epochs.epoch(this.subject) !== this.grantEpoch || now - this.grantedAt >= this.ctx.config.recheckIntervalMs)
      await this.recheck();
    if (this.closed) throw new AccessLost();
    return this.dispatch(msg);
  }

  /**
   * Re-takes the access decision from current data (one at a time; concurrent callers share it): closes 1008 with the
   * reason when read access is gone, otherwise updates what the connection may do (a demoted member can no longer act).
   */
  recheck(): Promise<void> {
    if (this.closed || !this.grant) return Promise.resolve();
    this.rechecking ??= (async () => {
      const epoch = this.ctx.epochs.epoch(this.subject);
      try {
        const a = await this.grant!.recheck();
        if (this.closed) return;
        if (typeof a === 'string') {
          this.ctx.log.info({ connection: this.id, subject: this.subject, reason: a }, 'websocket closed: access revoked');
          return this.close(1008, `access revoked: ${a}`);
        }
        this.grant = a;
        this.canRun = a.canRun;
        this.grantEpoch = epoch;
        this.grantedAt = Date.now();
        this.armExpiry(a.expiresAt);
      } catch (err) {
        // the rights cannot be read now (database down): refuse rather than act on a stale decision
        this.ctx.log.warn({ connection: this.id, err: (err as Error).message }, 'websocket rights re-check failed');
        throw new NetraError('UNAVAILABLE', 'rights could not be checked right now; try again shortly');
      } finally {
        this.rechecking = null;
      }
    })();
    return this.rechecking;
  }

  /** The subject whose rights this connection holds (`user:<id>` or `key:<prefix>`), '' before authentication. */
  get credentialSubject(): string {
    return this.subject;
  }

  private armExpiry(expiresAt: number | null): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (expiresAt === null) return;
    // closes an idle connection at expiry too; messages check the expiry themselves
    this.expiryTimer = setTimeout(
      () => this.close(1008, 'access token expired; sign in again'),
      Math.min(Math.max(0, expiresAt - Date.now()), 2_147_000_000),
    );
    this.expiryTimer.unref();
  }

  private violation(err: ProtocolError): void {
    this.sendError(err);
    if (++this.violations > this.ctx.config.maxViolations) this.close(wsCloseCode('RATE_LIMITED'), 'too many protocol errors');
  }

  private takeToken(): boolean {
    const rate = this.ctx.config.messagesPerSecond;
    const now = Date.now();
    this.tokens = Math.min(rate * 2, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private async dispatch(m: ClientMessage): Promise<void> {
    const scope = this.scope!;
    const { conversations, runs } = this.ctx.chat;
    const rid = m.request_id !== undefined ? { request_id: m.request_id } : {};
    const p = m.payload;
    switch (m.type) {
      case 'ping': // answered in onFrame
      case 'pong':
        return;
      case 'list_threads':
        return this.send(envelope('thread_list', { threads: (await conversations.listThreads(scope)).map(threadView) }, rid));
      case 'create_thread': {
        this.requireRun(m);
        const t = await conversations.createThread(scope, (p.title as string | undefined) ?? '');
        if (!t) throw new NetraError('NOT_FOUND', `workspace ${scope.workspace} does not exist`, { field: 'workspace' });
        this.currentThread = t.id;
        return this.send(envelope('thread_created', { thread: threadView(t) }, { ...rid, thread_id: t.id }));
      }
      case 'rename_thread': {
        this.requireRun(m);
        const t = await conversations.renameThread(scope, p.thread_id as string, p.title as string);
        if (!t) throw threadNotFound(p.thread_id as string);
        return this.send(envelope('thread_renamed', { thread: threadView(t) }, { ...rid, thread_id: t.id }));
      }
      case 'delete_thread': {
        this.requireRun(m);
        const id = p.thread_id as string;
        for (const r of await conversations.listRuns(scope, id)) if (runs.isActive(r.id)) await runs.stop(scope, r.id);
        if (!(await conversations.deleteThread(scope, id))) throw threadNotFound(id);
        if (this.currentThread === id) this.currentThread = null;
        return this.send(envelope('thread_deleted', { thread_id: id }, { ...rid, thread_id: id }));
      }
      case 'switch_thread':
      case 'get_thread_history': {
        const id = p.thread_id as string;
        const t = await conversations.getThread(scope, id);
        if (!t) throw threadNotFound(id);
        const messages = (await conversations.listMessages(scope, id)) ?? [];
        const threadRuns = await conversations.listRuns(scope, id);
        if (m.type === 'switch_thread') this.currentThread = id;
        return this.send(
          envelope(
            m.type === 'switch_thread' ? 'thread_switched' : 'thread_history',
            {
              thread: threadView(t),
              messages: messages.map(messageView),
              runs: threadRuns.map(runView),
            },
            { ...rid, thread_id: id },
          ),
        );
      }
      case 'user_message':
      case 'start_agent': {
        this.requireRun(m);
        const text = (m.type === 'user_message' ? p.content : p.request) as string;
        let threadId = (p.thread_id as string | undefined) ?? this.currentThread ?? undefined;
        if (threadId === undefined) {
          const t = await conversations.createThread(scope, text.slice(0, 80));
          if (!t) throw new NetraError('NOT_FOUND', `workspace ${scope.workspace} does not exist`, { field: 'workspace' });
          threadId = t.id;
          this.send(envelope('thread_created', { thread: threadView(t) }, { ...rid, thread_id: t.id }));
        }
        const { run } = await runs.start(scope, { thread_id: threadId, request: text, goal: p.goal as never });
        this.currentThread = threadId;
        this.send(
          envelope(
            'run_accepted',
            { run_id: run.id, thread_id: threadId, status: run.status },
            { ...rid, run_id: run.id, thread_id: threadId },
          ),
        );
        return this.stream(run.id, 0);
      }
      case 'stop_agent': {
        const runId = p.run_id as string;
        const stopped = await runs.stop(scope, runId);
        if (!stopped) throw new NetraError('NOT_FOUND', `no running run ${runId.slice(0, 40)} of yours`, { field: 'payload.run_id' });
        if (!this.follows.has(runId)) {
          this.send(
            envelope(
              'agent_stopped',
              { reason: 'stopped by the user', status: stopped.status },
              { ...rid, run_id: runId, thread_id: stopped.threadId },
            ),
          );
        }
        return;
      }
      case 'resume': {
        const threadId = p.thread_id as string;
        const threadRuns = await conversations.listRuns(scope, threadId);
        const run = p.run_id !== undefined ? threadRuns.find((r) => r.id === p.run_id) : threadRuns.at(-1);
        if (!run)
          throw new NetraError('NOT_FOUND', `no run to resume in thread ${threadId.slice(0, 40)}`, {
            field: p.run_id !== undefined ? 'payload.run_id' : 'payload.thread_id',
          });
        this.currentThread = threadId;
        return this.stream(run.id, p.after_event_id as number);
      }
    }
  }

  /** Streams the run's events after `after` (persisted, then live) to this socket, each once. */
  private async stream(runId: string, after: number): Promise<void> {
    this.follows.get(runId)?.();
    const f = await this.ctx.chat.runs.follow(this.scope!, runId, after, (e: RunEvent) => {
      this.send(envelope(e.type, e.payload, { event_id: e.event_id, run_id: e.run_id, thread_id: e.thread_id }), e.ts);
    });
    if (this.closed) return f.close();
    this.follows.set(runId, f.close);
    void f.ended.then(() => {
      if (this.follows.get(runId) === f.close) this.follows.delete(runId);
    });
  }

  private requireRun(m: ClientMessage): void {
    if (!this.canRun)
      throw new NetraError('FORBIDDEN', `${m.type} needs member access to workspace ${this.scope!.workspace} (read-only here)`);
  }

  private send(e: ServerEnvelope, ts?: string): void {
    if (this.closed || this.socket.readyState !== 1) return;
    this.ctx.observability?.metrics.observeWsMessage('out', e.type);
    this.socket.send(JSON.stringify(ts ? { ...e, ts } : e));
  }

  /** Sends an envelope already serialized (`text` is the JSON of an envelope of type `type`). */
  private sendText(type: string, text: string): void {
    if (this.closed || this.socket.readyState !== 1) return;
    this.ctx.observability?.metrics.observeWsMessage('out', type);
    this.socket.send(text);
  }

  private sendError(err: ProtocolError): void {
    this.send(
      envelope(
        'error',
        {
          code: err.code,
          message: err.message,
          ...(err.field ? { field: err.field } : {}),
          request_id: err.requestId ?? null,
        },
        err.requestId !== undefined ? { request_id: err.requestId } : {},
      ),
    );
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    try {
      this.socket.close(code, reason.slice(0, 120));
    } catch {
      /* already closing */
    }
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = null;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    for (const stop of this.follows.values()) stop();
    this.follows.clear();
    this.ctx.registry.remove(this.id);
  }
}

function threadNotFound(id: string): NetraError {
  return new NetraError('NOT_FOUND', `no thread ${id.slice(0, 40)} of yours in this workspace`, { field: 'payload.thread_id' });
}

function toProtocolError(err: unknown, requestId: string | undefined): ProtocolError {
  if (err instanceof ProtocolError) return err;
  if (isDependencyUnavailable(err) || (err instanceof NetraError && isDependencyUnavailable(err.cause ?? null))) {
    return new ProtocolError('NETRA_E_UNAVAILABLE', 'the database cannot be reached right now; retry shortly', undefined, requestId);
  }
  if (err instanceof NetraError)
    return new ProtocolError(
      err.code,
      err.status >= 500 && err.code === 'NETRA_E_STORE' ? 'the store could not answer; retry shortly' : err.message,
      err.field,
      requestId,
    );
  return new ProtocolError(WS_ERRORS.INTERNAL, 'internal error', undefined, requestId);
}

function toBuffer(data: Buffer | Buffer[] | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
