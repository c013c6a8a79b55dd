/**
 * The per-run context the supervisor and its agents share: ordered emission that stops dead on abort, awaiting
 * any promise against the run's AbortSignal (so a slow query cannot delay a stop), and tool calls that stream
 * `tool_executing` / `tool_completed` around the call.
 */
import type { RunEventDraft, RunEventType } from './types.js';

/** Thrown inside a run when its signal aborts; the supervisor turns it into `{ status: 'cancelled' }`. */
export class RunCancelled extends Error {
  constructor() {
    super('run cancelled');
    this.name = 'RunCancelled';
  }
}

export class RunContext {
  private readonly aborted: Promise<never>;

  constructor(
    private readonly emitFn: (e: RunEventDraft) => Promise<void>,
    readonly signal: AbortSignal,
  ) {
    this.aborted = new Promise<never>((_, reject) => {
      const fire = () => reject(new RunCancelled());
      if (signal.aborted) fire();
      else signal.addEventListener('abort', fire, { once: true });
    });
    this.aborted.catch(() => undefined); // observed by guard(); never an unhandled rejection
  }

  /** Throws RunCancelled when the run was stopped. Call between steps and inside loops. */
  check(): void {
    if (this.signal.aborted) throw new RunCancelled();
  }

  /** Resolves with `p`, or rejects with RunCancelled as soon as the signal aborts (whichever comes first). */
  async guard<T>(p: Promise<T>): Promise<T> {
    this.check();
    p.catch(() => undefined); // a late rejection of an abandoned call is not unhandled
    return Promise.race([p, this.aborted]);
  }

  /** Emits one event (awaiting its persistence); nothing is emitted once the signal has aborted. */
  async emit(type: RunEventType, payload: Record<string, unknown>): Promise<void> {
    this.check();
    await this.guard(this.emitFn({ type, payload }));
  }

  /** A tool call: `tool_executing {tool, args}`, the call, then `tool_completed {tool, result}` with a summary. */
  async tool<T>(
    agent: string,
    tool: string,
    args: Record<string, unknown>,
    call: () => Promise<T>,
    summarize: (r: T) => Record<string, unknown>,
  ): Promise<T> {
    await this.emit('tool_executing', { agent, tool, args });
    const t0 = performance.now();
    const result = await this.guard(call());
    await this.emit('tool_completed', { agent, tool, duration_ms: Math.round(performance.now() - t0), result: summarize(result) });
    return result;
  }
}
