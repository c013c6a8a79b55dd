/**
 * One unref'd interval (it never keeps the process alive) that runs an async tick and never overlaps itself: a tick still
 * in flight makes the next one skip. Jobs (src/jobs/job-runner.ts) and chat runs (src/chat/run-service.ts) use it for their
 * heartbeat and stale-owner sweep. The tick must handle its own errors (it is never awaited by the interval).
 * `newOwnerId()` names the process that owns the rows it heartbeats.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** An id for this process as the owner of jobs and runs: host, pid and a random part (a restarted pid is a new owner). */
export const newOwnerId = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
export class HeartbeatTimer {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void>,
  ) {}

  /** Starts the interval (idempotent; never after stop()). */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.inFlight) return;
      this.inFlight = this.tick()
        .catch(() => undefined)
        .finally(() => {
          this.inFlight = null;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Clears the interval at once; the returned promise resolves when a tick in flight has finished (never rejects). */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    return this.inFlight ?? Promise.resolve();
  }
}
