/**
 * The WebSocket connection registry (the original's state synchronizer): which connections each user has (capped),
 * a heartbeat that pings every connection and drops the ones silent too long, cleanup on close, and the counts /metrics and
 * the memory manager read.
 */
import type { WebSocket } from 'ws';
import { envelope } from './envelopes.js';

export interface RegisteredConnection {
  readonly id: string;
  /** the user id, or `key:<prefix>` for an API key */
  readonly ownerId: string;
  readonly socket: WebSocket;
  /** last time anything (a message, a pong) came from the client */
  lastSeen: number;
}

export interface RegistryOptions {
  maxConnectionsPerUser: number;
  heartbeatIntervalMs: number;
  idleTimeoutMs: number;
  now?: () => number;
}

export class ConnectionRegistry {
  private readonly byId = new Map<string, RegisteredConnection>();
  private readonly byOwner = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  /** connections dropped by the heartbeat for silence */
  droppedIdle = 0;

  constructor(private readonly opts: RegistryOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Registers a connection; false (not registered) when its owner already has the maximum. */
  add(c: RegisteredConnection): boolean {
    const set = this.byOwner.get(c.ownerId) ?? new Set<string>();
    if (set.size >= this.opts.maxConnectionsPerUser) return false;
    set.add(c.id);
    this.byOwner.set(c.ownerId, set);
    this.byId.set(c.id, c);
    this.start();
    return true;
  }

  remove(id: string): void {
    const c = this.byId.get(id);
    if (!c) return;
    this.byId.delete(id);
    const set = this.byOwner.get(c.ownerId);
    set?.delete(id);
    if (set && set.size === 0) this.byOwner.delete(c.ownerId);
    if (this.byId.size === 0) this.stop();
  }

  touch(id: string): void {
    const c = this.byId.get(id);
    if (c) c.lastSeen = this.now();
  }

  count(): number {
    return this.byId.size;
  }

  countFor(ownerId: string): number {
    return this.byOwner.get(ownerId)?.size ?? 0;
  }

  users(): number {
    return this.byOwner.size;
  }

  /** Bytes queued in sockets, not yet sent. */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.byId.values()) n += c.socket.bufferedAmount;
    return n;
  }

  /** One heartbeat: drops connections silent longer than the idle timeout, pings and sends `heartbeat` to the others. */
  tick(): void {
    const now = this.now();
    for (const c of [...this.byId.values()]) {
      if (now - c.lastSeen > this.opts.idleTimeoutMs) {
        this.droppedIdle++;
        c.socket.terminate();
        this.remove(c.id);
        continue;
      }
      if (c.socket.readyState !== 1) continue;
      try {
        c.socket.ping();
        c.socket.send(JSON.stringify(envelope('heartbeat', { server_time: new Date(now).toISOString() })));
      } catch {
        /* closing: the close handler removes it */
      }
    }
  }

  /** Closes every connection (server shutdown). */
  closeAll(code = 1001, reason = 'server shutting down'): void {
    this.stop();
    for (const c of [...this.byId.values()]) {
      try {
        c.socket.close(code, reason);
      } catch {
        /* already closed */
      }
      this.remove(c.id);
    }
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.heartbeatIntervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
