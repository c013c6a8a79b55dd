/**
 * The PostgreSQL connection pool (pg.Pool) with what pg-pool lacks: validate-before-use (a `SELECT 1` on checkout of a
 * connection idle for longer than `prePingIdleMs`, bounded by `prePingTimeoutMs`; a failed ping destroys the
 * connection and checks out another), statistics for metrics (total, idle, waiting, in use, saturation), a warning
 * when saturation passes the threshold (once, re-armed when it fell to 3/4 of the threshold), and leak tracking (`checkedOut()`, `assertNoLeaks()`).
 * Sizes and timeouts come from config (pgPoolOptions in client.ts): pool size + overflow = max, pool timeout,
 * recycle (maxLifetimeSeconds), statement / idle / idle-in-transaction timeouts.
 */
import pg from 'pg';
import { NetraError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface PgPoolStats {
  /** connections open (idle + in use) */
  total: number;
  idle: number;
  /** checkouts waiting for a free connection */
  waiting: number;
  in_use: number;
  max: number;
  /** in_use / max */
  saturation: number;
  checkouts: number;
  /** checkouts that failed because no connection was free within the pool timeout */
  timeouts: number;
  pre_pings: number;
  /** connections found dead by the pre-ping and replaced */
  pre_ping_failures: number;
}

export interface PgPoolExtras {
  /** a connection idle for longer than this is pinged before use; 0 pings every checkout */
  prePingIdleMs: number;
  prePingTimeoutMs: number;
  /** warn when in_use / max passes this (0..1) */
  saturationWarnRatio: number;
  prePing: boolean;
}

/** after a saturation warning, the next one needs saturation to have fallen to this fraction of the threshold first */
const REARM_FRACTION = 0.75;

interface Checkout {
  since: number;
  stack?: string;
}

/** pg.Pool whose connect() validates connections and keeps statistics. pool.query() goes through connect() too. */
export class NetraPgPool extends pg.Pool {
  private readonly extras: PgPoolExtras;
  private readonly logger?: Logger;
  private readonly lastReleased = new WeakMap<pg.PoolClient, number>();
  private readonly out = new Map<pg.PoolClient, Checkout>();
  private counters = { checkouts: 0, timeouts: 0, pre_pings: 0, pre_ping_failures: 0 };
  private saturated = false;
  /** record where each checkout came from (tests; costs a stack trace per checkout) */
  traceCheckouts = false;

  constructor(options: pg.PoolConfig, extras: PgPoolExtras, log?: Logger) {
    super(options);
    this.extras = extras;
    this.logger = log;
    this.on('release', (_err: Error | undefined, client: pg.PoolClient) => {
      this.out.delete(client);
      this.lastReleased.set(client, performance.now());
      // re-arm the warning once saturation fell well below the threshold (no log flapping at the boundary);
      // the releasing client still counts as in use while this event runs
      if (this.saturated && (this.inUse() - 1) / this.maxSize() <= this.extras.saturationWarnRatio * REARM_FRACTION) this.saturated = false;
    });
    this.on('remove', (client: pg.PoolClient) => {
      this.out.delete(client);
    });
  }

  override connect(): Promise<pg.PoolClient>;
  // biome-ignore lint/suspicious/noExplicitAny: the signature pg.Pool declares
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: any) => void) => void): void;
  override connect(
    // biome-ignore lint/suspicious/noExplicitAny: the signature pg.Pool declares
    callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: any) => void) => void,
    // biome-ignore lint/suspicious/noConfusingVoidType: the signature pg.Pool declares
  ): Promise<pg.PoolClient> | void {
    const p = this.checkout();
    if (!callback) return p;
    p.then(
      (c) => callback(undefined, c, c.release),
      (err: Error) => callback(err, undefined, () => {}),
    );
  }

  private maxSize(): number {
    return this.options.max ?? 10;
  }

  private inUse(): number {
    return this.totalCount - this.idleCount;
  }

  private async checkout(): Promise<pg.PoolClient> {
    const deadline = performance.now() + (this.options.connectionTimeoutMillis || 30_000);
    // a dead connection is replaced; bounded so a broken server cannot make this spin
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await super.connect();
      } catch (err) {
        const msg = (err as Error).message ?? '';
        if (/timeout exceeded when trying to connect/.test(msg)) {
          this.counters.timeouts++;
          throw new NetraError(
            'STORE',
            `PostgreSQL pool exhausted: no connection free within ${this.options.connectionTimeoutMillis} ms (max ${this.maxSize()}, ${this.waitingCount} waiting)`,
            { cause: err },
          );
        }
        throw err;
      }
      if (this.extras.prePing && attempt <= this.maxSize() && performance.now() < deadline && this.needsPing(client)) {
        this.counters.pre_pings++;
        try {
          await ping(client, this.extras.prePingTimeoutMs);
        } catch (err) {
          this.counters.pre_ping_failures++;
          this.logger?.warn({ err: (err as Error).message }, 'postgres connection failed its pre-ping; replacing it');
          client.release(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
      }
      this.counters.checkouts++;
      this.out.set(client, { since: Date.now(), ...(this.traceCheckouts ? { stack: new Error('checked out here').stack } : {}) });
      this.checkSaturation();
      return client;
    }
  }

  private needsPing(client: pg.PoolClient): boolean {
    const last = this.lastReleased.get(client);
    return last !== undefined && performance.now() - last >= this.extras.prePingIdleMs;
  }

  private checkSaturation(): void {
    const s = this.stats();
    if (s.saturation > this.extras.saturationWarnRatio && !this.saturated) {
      this.saturated = true;
      this.logger?.warn(
        { pool: s },
        `postgres pool saturation ${(s.saturation * 100).toFixed(0)}% is above ${(this.extras.saturationWarnRatio * 100).toFixed(0)}%: raise NETRA_PG_POOL_SIZE / NETRA_PG_MAX_OVERFLOW or find slow queries`,
      );
    }
  }

  stats(): PgPoolStats {
    const max = this.maxSize();
    const inUse = this.inUse();
    return {
      total: this.totalCount,
      idle: this.idleCount,
      waiting: this.waitingCount,
      in_use: inUse,
      max,
      saturation: inUse / max,
      ...this.counters,
    };
  }

  /** Connections checked out and not yet released. */
  checkedOut(): number {
    return this.out.size;
  }

  /** Throws naming every connection still checked out (with its checkout stack when traceCheckouts is on). */
  assertNoLeaks(): void {
    if (this.out.size === 0 && this.inUse() === 0) return;
    const now = Date.now();
    const lines = [...this.out.values()].map((c, i) => `#${i + 1} checked out ${now - c.since} ms ago${c.stack ? `\n${c.stack}` : ''}`);
    throw new Error(
      `postgres connection leak: ${Math.max(this.out.size, this.inUse())} connection(s) still checked out\n${lines.join('\n')}`,
    );
  }
}

/** `SELECT 1` on the client, failing after timeoutMs (a half-open TCP connection would otherwise hang). */
async function ping(client: pg.PoolClient, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const onError = () => {};
  client.on('error', onError); // an idle connection killed meanwhile reports here; the query below fails too
  try {
    const query = client.query('SELECT 1');
    query.catch(() => {}); // after a timeout the query fails when the connection is destroyed; nobody waits for it then
    await Promise.race([
      query,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`pre-ping timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.removeListener('error', onError);
  }
}
