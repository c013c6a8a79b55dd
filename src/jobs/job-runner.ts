// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * Runs imports and generations as persisted background jobs (rows of `import_jobs`): queued → running → completed | failed |
 * cancelled. At most `concurrency` jobs run at once in a process (FIFO queue); each has an AbortController that the work
 * checks between batches. Progress and counts are written to the row, throttled to one write per `progressIntervalMs`.
 *
 * - Cancel: a queued job is cancelled at once; a running one is aborted and recorded `cancelled` with the counts of what it
 *   stored before stopping (kept, not rolled back). A job row that no runner of this process holds (left by another process
 *   sharing the database) is marked cancelled in the row; its runner sees that on its next progress write and stops.
 * - Ownership: each runner has an instance id (`owner`), stamped on its rows at submit; one unref'd timer refreshes the
 *   heartbeat (database clock) of its queued and running rows every `heartbeatIntervalMs`.
 * - Restart and crashes: with a database several processes share (PostgreSQL), `recover()` and the same sweep on every
 *   heartbeat tick mark as failed only queued/running rows of other owners whose heartbeat is older than `staleAfterMs`
 *   ("interrupted: the process running it stopped (no heartbeat for N s)"); a live process's jobs are left alone. With a
 *   database only this process opens (PGlite), every unfinished row at start-up is orphaned: `recover()` marks them all,
 *   "interrupted by a restart" (the tick's sweep runs there too; it can only find rows no runner created).
 * - Close: the timer stops; queued and running jobs are cancelled and recorded before close() resolves.
 */
import { NetraError } from '../errors.js';
import { HeartbeatTimer, newOwnerId } from '../heartbeat-timer.js';
import type { Logger } from '../logger.js';
import type { JobRow, Repository } from '../db/repository.js';
import type { JobStatus } from '../db/schema.js';

export const INTERRUPTED_BY_RESTART = 'interrupted by a restart';

/** The reason recorded on a job whose owner stopped heartbeating. */
export function interruptedNoHeartbeat(staleAfterMs: number): string {
  return `interrupted: the process running it stopped (no heartbeat for ${Number((staleAfterMs / 1000).toFixed(3))} s)`;
}

export interface JobCounts {
  accepted: number;
  rejected: number;
  duplicates: number;
}

export interface JobContext {
  signal: AbortSignal;
  /** fraction done (0..1) and the counts of what is stored so far; cheap to call often (writes are throttled) */
  progress(fraction: number, counts?: Partial<JobCounts>): void;
}

/** What a finished job records. */
export interface JobOutcome extends Partial<JobCounts> {
  errors?: unknown[];
  result?: Record<string, unknown>;
}

export interface JobSpec<T> {
  workspace: string;
  kind: string;
  source: string;
  format?: string;
  /** aborts the job like a cancel (e.g. the CLI's Ctrl-C) */
  signal?: AbortSignal;
  work(ctx: JobContext): Promise<T>;
  summarize(result: T): JobOutcome;
}

export interface SubmittedJob<T> {
  job: JobRow;
  /** the work's result; rejects when the job fails or is cancelled */
  done: Promise<T>;
}

type JobRepo = Pick<Repository, 'createJob' | 'updateJob' | 'getJob' | 'failUnfinishedJobs' | 'heartbeatJobs' | 'failStaleJobs'>;

export interface JobRunnerOptions {
  repo: JobRepo;
  /** the relational database's kind (`DbHandle.kind`): 'pglite' is opened by this process alone */
  dbKind: 'pglite' | 'postgres';
  concurrency: number;
  progressIntervalMs: number;
  /** heartbeat of this runner's queued and running rows, and the stale sweep, run this often */
  heartbeatIntervalMs: number;
  /** another owner's unfinished row whose heartbeat is older than this is marked failed */
  staleAfterMs: number;
  log: Logger;
  /** this runner's instance id; default `<host>:<pid>:<random>` (unique per process life) */
  owner?: string;
}

/** The error a cancelled job's `done` rejects with. */
export class JobCancelledError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JobCancelledError';
  }
}

interface Entry {
  id: string;
  workspace: string;
  controller: AbortController;
  counts: JobCounts;
  status: 'queued' | 'running';
  start(): void;
  /** settles when the job's final status is written */
  finished: Promise<void>;
}

const FINISHED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
const UNFINISHED: readonly JobStatus[] = ['queued', 'running'];

export class JobRunner {
  /** this runner's instance id, stamped on the rows of the jobs it holds */
  readonly owner: string;
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private running = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly heartbeat: HeartbeatTimer;

  constructor(private readonly opts: JobRunnerOptions) {
    this.owner = opts.owner ?? newOwnerId();
    this.heartbeat = new HeartbeatTimer(opts.heartbeatIntervalMs, () => this.tick());
  }

  /**
   * Call once at start, before any submit; starts the heartbeat timer. PGlite: marks every job left queued or running as
   * failed, "interrupted by a restart" (no other process can hold one). PostgreSQL: marks only other owners' jobs whose
   * heartbeat is stale (see `sweep()`); a live process's jobs are left alone.
   */
  async recover(): Promise<number> {
    try {
      if (this.opts.dbKind === 'pglite') {
        const n = await this.opts.repo.failUnfinishedJobs(INTERRUPTED_BY_RESTART);
        if (n > 0) this.opts.log.warn({ jobs: n }, 'jobs left unfinished by a previous process marked failed');
        return n;
      }
      return await this.sweep();
    } finally {
      this.heartbeat.start(); // after the start-up sweep, so the first tick does not race it
    }
  }

  /**
   * Marks as failed the queued/running jobs of other owners whose heartbeat is older than `staleAfterMs` (their process
   * stopped without recording them); returns how many. Runs on every heartbeat tick.
   */
  async sweep(): Promise<number> {
    const stale = await this.opts.repo.failStaleJobs({
      staleAfterMs: this.opts.staleAfterMs,
      exceptOwner: this.owner,
      message: interruptedNoHeartbeat(this.opts.staleAfterMs),
    });
    if (stale.length > 0) {
      const owners = [...new Set(stale.map((j) => j.owner ?? '(none)'))];
      this.opts.log.warn(
        { jobs: stale.length, ids: stale.slice(0, 20).map((j) => j.id), owners, staleAfterMs: this.opts.staleAfterMs },
        'jobs whose process stopped heartbeating marked failed',
      );
    }
    return stale.length;
  }

  /** Records the job as queued (owned by this runner) and starts it when a slot is free; returns at once. */
  async submit<T>(spec: JobSpec<T>): Promise<SubmittedJob<T>> {
    if (this.closed) throw new NetraError('STORE', 'the server is shutting down; no new jobs are accepted');
    this.heartbeat.start();
    const job = await this.opts.repo.createJob({
      workspace: spec.workspace,
      kind: spec.kind,
      source: spec.source,
      format: spec.format,
      status: 'queued',
      owner: this.owner,
    });
    if (this.closed) {
      // close() began while the row was being written: it will not wait for this job, so never start it
      await this.opts.repo.updateJob(job.id, { status: 'cancelled', errors: [{ message: 'the server shut down' }], finished: true });
      throw new NetraError('STORE', 'the server is shutting down; no new jobs are accepted');
    }
    const log = this.opts.log.child({ job: job.id, kind: spec.kind, workspace: spec.workspace });
    const controller = new AbortController();
    if (spec.signal) {
      if (spec.signal.aborted) controller.abort(cancelReason(spec.signal.reason));
      else spec.signal.addEventListener('abort', () => controller.abort(cancelReason(spec.signal!.reason)), { once: true });
    }
    let started!: () => void;
    const startGate = new Promise<void>((res) => {
      started = res;
    });
    let doneResolve!: (v: T) => void;
    let doneReject!: (e: unknown) => void;
    const done = new Promise<T>((res, rej) => {
      doneResolve = res;
      doneReject = rej;
    });
    done.catch(() => undefined); // background submissions may never be awaited

    const entry: Entry = {
      id: job.id,
      workspace: spec.workspace,
      controller,
      counts: { accepted: 0, rejected: 0, duplicates: 0 },
      status: 'queued',
      start: started,
      finished: Promise.resolve(),
    };
    entry.finished = (async () => {
      await startGate;
      if (controller.signal.aborted) {
        // cancelled while queued
        await this.record(
          job.id,
          {
            status: 'cancelled',
            errors: [{ message: reasonText(controller.signal.reason) }],
            result: { stored: 0, note: 'cancelled before it started; nothing was stored' },
          },
          log,
        );
        doneReject(new JobCancelledError(reasonText(controller.signal.reason)));
        return;
      }
      entry.status = 'running';
      const writer = new ProgressWriter(this.opts.repo, job.id, entry, this.opts.progressIntervalMs, log);
      try {
        const claimed = await this.opts.repo.updateJob(job.id, { status: 'running' }, { whileStatus: ['queued'] });
        if (!claimed && !controller.signal.aborted) controller.abort(new JobCancelledError('cancelled by another process'));
        const r = await spec.work({ signal: controller.signal, progress: (p, c) => writer.report(p, c) });
        await writer.settle();
        const o = spec.summarize(r);
        await this.record(job.id, { ...o, errors: o.errors ?? [], status: 'completed', progress: 1 }, log);
        doneResolve(r);
      } catch (err) {
        await writer.settle();
        if (controller.signal.aborted) {
          const why = reasonText(controller.signal.reason);
          const c = entry.counts;
          await this.record(
            job.id,
            {
              status: 'cancelled',
              ...c,
              errors: [{ message: why }],
              result: { stored: c.accepted, note: `cancelled (${why}); the ${c.accepted} events stored before the cancel are kept` },
            },
            log,
          );
          doneReject(new JobCancelledError(why));
        } else {
          // a refused input (a NetraError below 500) is the caller's to fix and is reported to it: its stack only at debug
          if (err instanceof NetraError && err.status < 500) {
            log.info({ code: err.code, reason: err.message }, 'job failed');
            log.debug({ err }, 'job failed');
          } else log.warn({ err }, 'job failed');
          await this.record(
            job.id,
            { status: 'failed', ...entry.counts, errors: [{ message: (err as Error).message ?? String(err) }] },
            log,
          );
          doneReject(err);
        }
      }
    })().finally(() => {
      this.entries.delete(job.id);
      if (entry.status === 'running') this.running--;
      this.pump();
    });

    this.entries.set(job.id, entry);
    this.queue.push(entry);
    this.pump();
    return { job, done };
  }

  /** Submits and waits for the result (the CLI's import and generate). */
  async run<T>(spec: JobSpec<T>): Promise<T> {
    return (await this.submit(spec)).done;
  }

  /**
   * Cancels a job of `workspace`. Returns the row as it stands (a running job is `running` until its work stops between
   * batches); null when there is no such job; throws NETRA_E_CONFLICT when it has already finished.
   */
  async cancel(workspace: string, id: string, reason = 'cancelled by request'): Promise<JobRow | null> {
    const entry = this.entries.get(id);
    if (entry && entry.workspace === workspace) {
      if (!entry.controller.signal.aborted) entry.controller.abort(new JobCancelledError(reason));
      if (entry.status === 'queued') this.dropQueued(entry);
      return this.opts.repo.getJob(workspace, id);
    }
    const row = await this.opts.repo.getJob(workspace, id);
    if (!row) return null;
    if (FINISHED.includes(row.status))
      throw new NetraError('CONFLICT', `job ${id} has already finished (${row.status}); nothing to cancel`, { field: 'id' });
    // not this process's job (another process sharing the database runs it): mark it; its runner stops at its next progress write
    const changed = await this.opts.repo.updateJob(
      id,
      { status: 'cancelled', errors: [{ message: reason }], finished: true },
      { whileStatus: UNFINISHED },
    );
    const now = await this.opts.repo.getJob(workspace, id);
    if (!changed && now && now.status !== 'cancelled')
      throw new NetraError('CONFLICT', `job ${id} has already finished (${now.status}); nothing to cancel`, { field: 'id' });
    return now;
  }

  /** Resolves when no job is queued or running (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    if (this.entries.size === 0) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  /** Refuses new jobs, stops the heartbeat timer, cancels queued and running jobs and waits until each has recorded its status. */
  async close(): Promise<void> {
    this.closed = true;
    const ticking = this.heartbeat.stop();
    const all = [...this.entries.values()];
    for (const e of all) {
      if (!e.controller.signal.aborted) e.controller.abort(new JobCancelledError('the server shut down'));
      if (e.status === 'queued') this.dropQueued(e);
    }
    await Promise.all(all.map((e) => e.finished.catch(() => undefined)));
    await ticking; // never rejects; the database may be closed after close() resolves
  }

  private async tick(): Promise<void> {
    try {
      // rows are created with a first heartbeat, so with no job held there is nothing to refresh
      if (this.entries.size > 0) await this.opts.repo.heartbeatJobs(this.owner);
    } catch (err) {
      this.opts.log.warn({ err }, 'job heartbeat failed');
    }
    try {
      await this.sweep();
    } catch (err) {
      this.opts.log.warn({ err }, 'stale job sweep failed');
    }
  }

  private dropQueued(e: Entry): void {
    const i = this.queue.indexOf(e);
    if (i >= 0) this.queue.splice(i, 1);
    e.start(); // runs the cancelled-while-queued branch
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running++;
      next.status = 'running';
      next.start();
    }
    if (this.entries.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Writes a final status; only over an unfinished row, so a cancel recorded elsewhere is not overwritten by 'completed'. */
  private async record(id: string, patch: Parameters<JobRepo['updateJob']>[1], log: Logger): Promise<void> {
    try {
      // a cancel marked by another process is completed with the counts; any other finished row is left as it is
      const over: readonly JobStatus[] = patch.status === 'cancelled' ? [...UNFINISHED, 'cancelled'] : UNFINISHED;
      const ok = await this.opts.repo.updateJob(id, { ...patch, finished: true }, { whileStatus: over });
      if (!ok) log.info({ status: patch.status }, 'job row already finished elsewhere; final status not written');
      else log.info({ status: patch.status, accepted: patch.accepted }, 'job finished');
    } catch (err) {
      log.error({ err }, 'could not record the job status');
    }
  }
}

/** Throttled, serialised progress writes; a write that finds the row no longer running aborts the job. */
class ProgressWriter {
  private lastWrite = 0;
  private inFlight: Promise<void> | null = null;
  private pending: { p: number } | null = null;

  constructor(
    private readonly repo: JobRepo,
    private readonly id: string,
    private readonly entry: Entry,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  report(fraction: number, counts?: Partial<JobCounts>): void {
    Object.assign(this.entry.counts, counts);
    this.pending = { p: Math.min(1, Math.max(0, fraction)) };
    if (this.inFlight || Date.now() - this.lastWrite < this.intervalMs) return;
    this.flush();
  }

  private flush(): void {
    const next = this.pending;
    if (!next) return;
    this.pending = null;
    this.lastWrite = Date.now();
    this.inFlight = this.repo
      .updateJob(this.id, { progress: next.p, ...this.entry.counts }, { whileStatus: ['running'] })
      .then((stillRunning) => {
        if (!stillRunning && !this.entry.controller.signal.aborted) {
          this.entry.controller.abort(new JobCancelledError('cancelled by another process'));
        }
      })
      .catch((err) => this.log.warn({ err }, 'job progress update failed'))
      .finally(() => {
        this.inFlight = null;
      });
  }

  /** Waits for the write in flight (the final status must land after it). */
  async settle(): Promise<void> {
    if (this.inFlight) await this.inFlight;
  }
}

function cancelReason(r: unknown): JobCancelledError {
  return r instanceof JobCancelledError
    ? r
    : new JobCancelledError(r instanceof Error && r.name !== 'AbortError' ? r.message : 'cancelled');
}

function reasonText(r: unknown): string {
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'cancelled';
}
