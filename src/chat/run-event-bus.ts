/**
 * The run-event bus: how a run's numbered events and its end reach the clients following it, and how a
 * stop request reaches the process executing the run.
 *
 * - `LocalRunEventBus`: one process (the default). Delivery is a synchronous call of the run's handlers.
 * - `RedisRunEventBus` (with REDIS_URL): several processes share PostgreSQL and Redis. Publishing delivers to this
 *   process's handlers at once AND publishes on the Redis channel `<prefix>runs:<run id>`; a process following a run that
 *   executes elsewhere subscribes to that channel (reference-counted, one SUBSCRIBE per run however many sockets follow it).
 *   Stop requests, and notices that a workspace's data changed, travel on `<prefix>runs:control`, which every process
 *   subscribes to at start.
 *   Each message carries the publishing instance's id, so a process ignores its own messages coming back from Redis.
 *
 * The bus carries no history: events are persisted before they are published (src/chat/run-service.ts), so a follower that
 * subscribes first and then reads the persisted events misses nothing and de-duplicates by event id. When Redis is down,
 * live delivery across processes stops (logged, at most once a minute); following from the database (resume) still works.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisClientOptions, withTimeout } from '../cache/redis-query-cache.js';
import type { Logger } from '../logger.js';
import { parseAccessChange, type AccessChange } from '../accounts/access-epochs.js';

/** A persisted, numbered run event as clients receive it. */
export interface RunEvent {
  event_id: number;
  run_id: string;
  thread_id: string;
  type: string;
  payload: Record<string, unknown>;
  ts: string;
}

export type BusMessage = { kind: 'event'; event: RunEvent } | { kind: 'end'; status: string };

/** Asks the process executing `run_id` to stop it; it checks that the run belongs to `workspace` and `user_id`. */
export interface StopRequest {
  run_id: string;
  workspace: string;
  user_id: string;
}

export type BusHandler = (m: BusMessage) => void;

/** A workspace's data changed in some process (src/services/workspace-changes.ts); other processes drop what they keep in memory of it. */
export interface WorkspaceChangeNotice {
  workspace: string;
  reason: string;
}

export interface RunEventBus {
  /** true when runs may execute in other processes (followers of a run not running here subscribe across processes) */
  readonly shared: boolean;
  /** Delivers to this process's handlers of the run, and to other processes' when shared. Never throws. */
  publish(runId: string, m: BusMessage): void;
  /**
   * Adds a handler for the run's messages. `remote`: the run executes in another process, so resolve only once messages
   * published elsewhere will be received. Returns the unsubscribe function.
   */
  subscribe(runId: string, handler: BusHandler, remote: boolean): Promise<() => void>;
  /** Sends a stop request to every process (the one executing the run acts on it). */
  requestStop(req: StopRequest): Promise<void>;
  /** The handler of stop requests (RunService registers one). */
  onStopRequest(handler: (req: StopRequest) => void): void;
  /** Announces a change of a credential's rights to the other processes (their open sockets re-check). */
  publishAccessChange(c: AccessChange): void;
  /** The handler of rights changes announced by other processes. */
  onAccessChange(handler: (c: AccessChange) => void): void;
  /** Tells the other processes that a workspace's data changed (nothing to do when not shared). Never throws. */
  announceChange(notice: WorkspaceChangeNotice): void;
  /** The handler of changes announced by other processes. */
  onWorkspaceChange(handler: (notice: WorkspaceChangeNotice) => void): void;
  close(): Promise<void>;
}

/** Handlers per run, shared by both implementations. */
class Handlers {
  private readonly byRun = new Map<string, Set<BusHandler>>();

  add(runId: string, h: BusHandler): () => boolean {
    let set = this.byRun.get(runId);
    if (!set) this.byRun.set(runId, (set = new Set()));
    set.add(h);
    return () => {
      set.delete(h);
      if (set.size > 0) return false;
      this.byRun.delete(runId);
      return true; // the last handler of the run left
    };
  }

  deliver(runId: string, m: BusMessage): void {
    const set = this.byRun.get(runId);
    if (!set) return;
    for (const h of [...set]) h(m);
  }
}

export class LocalRunEventBus implements RunEventBus {
  readonly shared = false;
  private readonly handlers = new Handlers();
  private stopHandler: ((req: StopRequest) => void) | null = null;

  publish(runId: string, m: BusMessage): void {
    this.handlers.deliver(runId, m);
  }

  async subscribe(runId: string, handler: BusHandler): Promise<() => void> {
    const remove = this.handlers.add(runId, handler);
    return () => {
      remove();
    };
  }

  async requestStop(req: StopRequest): Promise<void> {
    this.stopHandler?.(req);
  }

  onStopRequest(handler: (req: StopRequest) => void): void {
    this.stopHandler = handler;
  }

  publishAccessChange(): void {
    /* one process: the change was applied locally */
  }

  onAccessChange(): void {
    /* nothing arrives from other processes */
  }
  announceChange(): void {} // one process: its own changes are handled where they happen

  onWorkspaceChange(): void {}

  async close(): Promise<void> {}
}

export interface RedisRunEventBusOptions {
  url: string;
  /** key/channel prefix (NETRA_REDIS_PREFIX, default `netra:`) */
  prefix: string;
  /** how long a subscription may take before following falls back to the database alone */
  subscribeTimeoutMs?: number;
  log?: Logger;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

interface Wire {
  i: string;
  m?: BusMessage;
  stop?: StopRequest;
  access?: AccessChange;
  changed?: WorkspaceChangeNotice;
}

export class RedisRunEventBus implements RunEventBus {
  readonly shared = true;
  /** this process's id on the bus */
  readonly instance = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Handlers();
  /** runs this process subscribed to on Redis → followers that asked for it */
  private readonly remoteRefs = new Map<string, { count: number; ready: Promise<void> }>();
  private stopHandler: ((req: StopRequest) => void) | null = null;
  private accessHandler: ((c: AccessChange) => void) | null = null;
  private changeHandler: ((notice: WorkspaceChangeNotice) => void) | null = null;
  private readonly controlChannel: string;
  private readonly accessChannel: string;
  private lastErrorLog = 0;
  private closed = false;

  constructor(private readonly opts: RedisRunEventBusOptions) {
    this.controlChannel = `${opts.prefix}runs:control`;
    this.accessChannel = `${opts.prefix}access`;
    const connectMs = opts.connectTimeoutMs ?? 2_000;
    const commandMs = opts.commandTimeoutMs ?? 1_000;
    this.pub = new Redis(opts.url, redisClientOptions(connectMs, commandMs));
    // queues SUBSCRIBE while reconnecting; ioredis re-subscribes after a reconnect (no command timeout: a subscriber waits)
    this.sub = new Redis(opts.url, { ...redisClientOptions(connectMs, commandMs, true), commandTimeout: undefined });
    for (const r of [this.pub, this.sub]) r.on('error', (err: Error) => this.warn(err));
    this.sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
  }

  /** Connects both connections and subscribes to stop requests; a failure is logged and the bus runs degraded. */
  async connect(): Promise<void> {
    try {
      const ms = this.opts.connectTimeoutMs ?? 2_000;
      await withTimeout(Promise.all([this.pub.connect(), this.sub.connect()]), ms, 'redis connect');
      await withTimeout(this.sub.subscribe(this.controlChannel, this.accessChannel), ms, 'redis SUBSCRIBE');
    } catch (err) {
      this.warn(err as Error);
    }
  }

  private channel(runId: string): string {
    return `${this.opts.prefix}runs:${runId}`;
  }

  publish(runId: string, m: BusMessage): void {
    this.handlers.deliver(runId, m);
    if (this.closed) return;
    this.pub.publish(this.channel(runId), JSON.stringify({ i: this.instance, m } satisfies Wire)).catch((err: Error) => this.warn(err));
  }

  async subscribe(runId: string, handler: BusHandler, remote: boolean): Promise<() => void> {
    const remove = this.handlers.add(runId, handler);
    if (!remote || this.closed)
      return () => {
        remove();
      };
    let ref = this.remoteRefs.get(runId);
    if (!ref) {
      const ready = this.sub.subscribe(this.channel(runId)).then(() => undefined);
      ref = { count: 0, ready };
      this.remoteRefs.set(runId, ref);
    }
    ref.count++;
    const timeoutMs = this.opts.subscribeTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ref.ready,
        new Promise<void>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`redis SUBSCRIBE took over ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      this.warn(err as Error); // live events from other processes may be missed; the persisted ones are still read
    } finally {
      clearTimeout(timer);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      remove();
      const r = this.remoteRefs.get(runId);
      if (r && --r.count <= 0) {
        this.remoteRefs.delete(runId);
        if (!this.closed) this.sub.unsubscribe(this.channel(runId)).catch((err: Error) => this.warn(err));
      }
    };
  }

  async requestStop(req: StopRequest): Promise<void> {
    this.stopHandler?.(req); // this process may be the one executing it
    await this.pub.publish(this.controlChannel, JSON.stringify({ i: this.instance, stop: req } satisfies Wire));
  }

  onStopRequest(handler: (req: StopRequest) => void): void {
    this.stopHandler = handler;
  }

  publishAccessChange(c: AccessChange): void {
    if (this.closed) return;
    this.pub
      .publish(this.accessChannel, JSON.stringify({ i: this.instance, access: c } satisfies Wire))
      .catch((err: Error) => this.warn(err));
  }

  onAccessChange(handler: (c: AccessChange) => void): void {
    this.accessHandler = handler;
  }

  announceChange(notice: WorkspaceChangeNotice): void {
    if (this.closed) return;
    this.pub
      .publish(this.controlChannel, JSON.stringify({ i: this.instance, changed: notice } satisfies Wire))
      .catch((err: Error) => this.warn(err));
  }

  onWorkspaceChange(handler: (notice: WorkspaceChangeNotice) => void): void {
    this.changeHandler = handler;
  }

  /** Redis channels this process is subscribed to for runs executing elsewhere (tests, metrics). */
  get remoteSubscriptions(): number {
    return this.remoteRefs.size;
  }

  private onMessage(channel: string, text: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(text) as Wire;
    } catch {
      return;
    }
    if (wire.i === this.instance) return; // our own, already delivered locally
    if (channel === this.accessChannel) {
      const c = parseAccessChange(wire.access);
      if (c) this.accessHandler?.(c);
      return;
    }
    if (channel === this.controlChannel) {
      if (wire.stop) this.stopHandler?.(wire.stop);
      if (wire.changed && typeof wire.changed.workspace === 'string') this.changeHandler?.(wire.changed);
      return;
    }
    const runId = channel.slice(`${this.opts.prefix}runs:`.length);
    if (wire.m) this.handlers.deliver(runId, wire.m);
  }

  private warn(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 60_000) return;
    this.lastErrorLog = now;
    this.opts.log?.warn({ err: err.message }, 'redis run-event bus unavailable; run events reach other processes only through resume');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.remoteRefs.clear();
    await Promise.all(
      [this.pub, this.sub].map(async (r) => {
        try {
          await r.quit();
        } catch {
          r.disconnect();
        }
      }),
    );
  }
}
