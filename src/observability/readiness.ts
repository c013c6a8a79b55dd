/**
 * Readiness from cached probes. Each dependency is probed in the background every `intervalMs` (and on demand when the
 * cached answer is older than that); /health/ready reads the cache and never waits on a dependency, so it answers at
 * once under load or while a dependency black-holes. A probe still pending after `timeoutMs` counts as failed, except
 * within its `graceMs` after the last success (the embedded analytics store queues its probe behind writes: busy is not
 * down). Optional dependencies (Redis unless required) make readiness 'degraded', never unavailable.
 */
/** One dependency's health; `optional` ones (Redis unless required) make readiness degraded, never unavailable. */
export interface DependencyStatus {
  name: string;
  ok: boolean;
  detail?: string;
  latency_ms: number;
  optional?: boolean;
}

/** One timed probe (kept for callers that probe once, outside the cached readiness). */
export async function probe(name: string, fn: () => Promise<void>): Promise<DependencyStatus> {
  const t0 = performance.now();
  try {
    await fn();
    return { name, ok: true, latency_ms: performance.now() - t0 };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, latency_ms: performance.now() - t0 };
  }
}

export interface ProbeSpec {
  name: string;
  check: () => Promise<void>;
  /** false: a failure degrades readiness instead of failing it */
  required: boolean;
  /** how long a pending probe still counts as healthy after the last success (ms) */
  graceMs?: number;
}

interface ProbeState {
  spec: ProbeSpec;
  last: DependencyStatus | null;
  lastOkAt: number;
  pendingSince: number | null;
}

export class ReadinessProbes {
  private readonly states: ProbeState[];
  private timer: NodeJS.Timeout | null = null;
  private lastRound = 0;

  constructor(
    specs: ProbeSpec[],
    private readonly opts: { intervalMs: number; timeoutMs: number },
  ) {
    const now = Date.now();
    this.states = specs.map((spec) => ({ spec, last: null, lastOkAt: now, pendingSince: null }));
  }

  /** Probes every interval in the background (unref'd: never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.round();
    this.timer = setInterval(() => this.round(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The current answer. Waits at most `timeoutMs` for probes started now (the first call, or a stale cache); a probe
   * still pending after that is reported from its state (failed, or within its grace).
   */
  async status(): Promise<DependencyStatus[]> {
    const now = Date.now();
    if (now - this.lastRound >= this.opts.intervalMs) {
      const round = this.round();
      await Promise.race([round, new Promise<void>((res) => setTimeout(res, this.opts.timeoutMs).unref())]);
    }
    return this.states.map((s) => this.view(s, Date.now()));
  }

  private view(s: ProbeState, now: number): DependencyStatus {
    const optional = s.spec.required ? {} : { optional: true };
    if (s.pendingSince !== null && now - s.pendingSince >= this.opts.timeoutMs) {
      const pendingMs = now - s.pendingSince;
      const graced = now - s.lastOkAt < (s.spec.graceMs ?? 0);
      return {
        name: s.spec.name,
        ok: graced,
        detail: graced
          ? `busy: probe pending ${pendingMs} ms (last success ${now - s.lastOkAt} ms ago)`
          : `no answer within ${pendingMs} ms`,
        latency_ms: pendingMs,
        ...optional,
      };
    }
    return { ...(s.last ?? { name: s.spec.name, ok: true, latency_ms: 0, detail: 'not probed yet' }), ...optional };
  }

  /** Starts a probe of every dependency not already being probed; resolves when those finish. */
  private round(): Promise<void> {
    this.lastRound = Date.now();
    return Promise.all(
      this.states
        .filter((s) => s.pendingSince === null)
        .map(async (s) => {
          const t0 = performance.now();
          s.pendingSince = Date.now();
          try {
            await s.spec.check();
            s.last = { name: s.spec.name, ok: true, latency_ms: performance.now() - t0 };
            s.lastOkAt = Date.now();
          } catch (err) {
            s.last = { name: s.spec.name, ok: false, detail: (err as Error).message.slice(0, 200), latency_ms: performance.now() - t0 };
          } finally {
            s.pendingSince = null;
          }
        }),
    ).then(() => undefined);
  }
}
