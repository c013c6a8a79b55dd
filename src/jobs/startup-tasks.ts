/**
 * The startup task scheduler: background maintenance that starts `delayMs` after boot (60 s), runs one task at a
 * time, gives each attempt `timeoutMs` (90 s; the task's AbortSignal fires and the attempt counts as failed), and
 * retries a failed task after `retryBackoffMs` (5 min) up to `maxAttempts`. A task whose last attempt failed makes
 * health 'degraded'. Nothing here can block or crash start-up: start() only arms a timer, failures are logged.
 * Every timer is unref'd and tracked; close() clears them all and aborts a running attempt.
 *
 * Events (for tests and logs): 'task-start' (name, attempt), 'task-success' (name, attempt, result),
 * 'task-failure' (name, attempt, error, { timedOut, retryAt }), 'idle' (nothing running or queued).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';

export interface StartupTask {
  name: string;
  /** The work; `signal` aborts on timeout and on close. The resolved value (JSON) is kept as the task's result. */
  run(signal: AbortSignal): Promise<unknown>;
}

export type StartupTaskState = 'pending' | 'running' | 'succeeded' | 'failed';

export interface StartupTaskStatus {
  name: string;
  state: StartupTaskState;
  attempts: number;
  last_error: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  /** when the next attempt is due (a retry, or the first run) */
  next_attempt_at: string | null;
  result: unknown;
}

export interface StartupSchedulerOptions {
  delayMs: number;
  timeoutMs: number;
  retryBackoffMs: number;
  maxAttempts: number;
  log?: Logger;
}

export class StartupTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`startup task '${name}' timed out after ${ms} ms`);
    this.name = 'StartupTimeoutError';
  }
}

export class StartupTaskScheduler extends EventEmitter {
  private readonly tasks: readonly StartupTask[];
  private readonly states = new Map<string, StartupTaskStatus>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly queue: StartupTask[] = [];
  private running: { task: StartupTask; controller: AbortController; done: Promise<void> } | null = null;
  private started = false;
  private closed = false;

  constructor(
    tasks: readonly StartupTask[],
    private readonly opts: StartupSchedulerOptions,
  ) {
    super();
    this.tasks = tasks;
    for (const t of tasks) {
      this.states.set(t.name, {
        name: t.name,
        state: 'pending',
        attempts: 0,
        last_error: null,
        last_started_at: null,
        last_finished_at: null,
        next_attempt_at: null,
        result: null,
      });
    }
  }

  /** Arms the first run `delayMs` from now. Returns at once. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const at = new Date(Date.now() + this.opts.delayMs).toISOString();
    for (const s of this.states.values()) s.next_attempt_at = at;
    this.after(this.opts.delayMs, () => this.enqueue(...this.tasks));
  }

  status(): StartupTaskStatus[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  /** True while some task's last attempt failed. */
  degraded(): boolean {
    return [...this.states.values()].some((s) => s.state === 'failed');
  }

  /** Timers armed by the scheduler and not yet fired or cleared (delay, timeouts, retries). */
  activeTimers(): number {
    return this.timers.size;
  }

  /** Clears every timer and aborts a running attempt; resolves once that attempt has settled. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    const r = this.running;
    if (r) {
      r.controller.abort(new Error('the app is closing'));
      await r.done;
    }
  }

  private after(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private enqueue(...tasks: StartupTask[]): void {
    this.queue.push(...tasks);
    if (!this.running) this.next();
  }

  private next(): void {
    const task = this.queue.shift();
    if (!task || this.closed) {
      if (!this.running) this.emit('idle');
      return;
    }
    const controller = new AbortController();
    const done = this.attempt(task, controller).finally(() => {
      this.running = null;
      this.next();
    });
    this.running = { task, controller, done };
  }

  private async attempt(task: StartupTask, controller: AbortController): Promise<void> {
    const s = this.states.get(task.name)!;
    s.attempts++;
    s.state = 'running';
    s.next_attempt_at = null;
    s.last_started_at = new Date().toISOString();
    const attempt = s.attempts;
    this.emit('task-start', task.name, attempt);
    const t0 = performance.now();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () =>
          reject(controller.signal.reason instanceof Error ? controller.signal.reason : new Error(String(controller.signal.reason)));
        if (controller.signal.aborted) onAbort();
        else controller.signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => {});
      timer = setTimeout(() => {
        this.timers.delete(timer!);
        timedOut = true;
        controller.abort(new StartupTimeoutError(task.name, this.opts.timeoutMs));
      }, this.opts.timeoutMs);
      timer.unref();
      this.timers.add(timer);
      // a task that ignores its signal is left behind: its promise is no longer awaited
      const result = await Promise.race([Promise.resolve().then(() => task.run(controller.signal)), aborted]);
      s.state = 'succeeded';
      s.last_error = null;
      s.result = result ?? null;
      s.last_finished_at = new Date().toISOString();
      this.opts.log?.info({ task: task.name, attempt, ms: Math.round(performance.now() - t0), result }, 'startup task done');
      this.emit('task-success', task.name, attempt, result);
    } catch (err) {
      s.state = 'failed';
      s.last_error = (err as Error).message ?? String(err);
      s.last_finished_at = new Date().toISOString();
      let retryAt: string | null = null;
      if (!this.closed && s.attempts < this.opts.maxAttempts) {
        retryAt = new Date(Date.now() + this.opts.retryBackoffMs).toISOString();
        s.next_attempt_at = retryAt;
        this.after(this.opts.retryBackoffMs, () => this.enqueue(task));
      }
      if (!this.closed) {
        this.opts.log?.warn(
          { task: task.name, attempt, err: s.last_error, timed_out: timedOut, retry_at: retryAt },
          'startup task failed; health is degraded until it succeeds',
        );
      }
      this.emit('task-failure', task.name, attempt, err, { timedOut, retryAt });
    } finally {
      if (timer) {
        clearTimeout(timer);
        this.timers.delete(timer);
      }
    }
  }
}
