/**
 * The per-provider resilience stack, built with cockatiel: retry (exponential backoff with jitter, Retry-After honoured)
 * around a circuit breaker (consecutive failures, half-open probe) around a per-attempt timeout (cooperative: the
 * attempt's AbortSignal fires). Only transient failures are retried and counted by the breaker: 429, 5xx, network errors,
 * timeouts. 400/401/403 and malformed replies fail at once. A caller's abort stops everything, including the wait
 * between retries, and is never counted as a provider failure.
 */
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { LlmProviderError, abortError } from './provider-error.js';
import type { BreakerStateName } from './types.js';

export interface ResilienceOptions {
  /** retries after the first attempt; default 2 */
  maxRetries: number;
  /** first backoff delay; default 500 ms */
  baseDelayMs: number;
  /** cap on any delay, Retry-After included; default 15,000 ms */
  maxDelayMs: number;
  /** growth per retry; default 1.5 */
  backoffExponent: number;
  /** fraction of the delay randomised away: delay ∈ [d·(1−jitter), d]; default 0.5 */
  jitter: number;
  /** per attempt; default 30,000 ms */
  timeoutMs: number;
  /** consecutive failures that open a provider's breaker; default 5 */
  breakerThreshold: number;
  /** how long the breaker stays open before one half-open probe; default 30,000 ms */
  halfOpenAfterMs: number;
  /** jitter source (tests pass a fixed one); default Math.random */
  random: () => number;
}

export const RESILIENCE_DEFAULTS: Omit<ResilienceOptions, 'random'> = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  backoffExponent: 1.5,
  jitter: 0.5,
  timeoutMs: 30_000,
  breakerThreshold: 5,
  halfOpenAfterMs: 30_000,
};

/** The un-jittered delay before retry n (1-based): min(max, base · exponent^(n−1)). */
export function backoffCeilingMs(
  o: Pick<ResilienceOptions, 'baseDelayMs' | 'maxDelayMs' | 'backoffExponent'>,
  retryNumber: number,
): number {
  return Math.min(o.maxDelayMs, o.baseDelayMs * o.backoffExponent ** (retryNumber - 1));
}

/** Exponential backoff with jitter; a Retry-After on the failure replaces the computed delay. */
class LlmBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(private readonly o: ResilienceOptions) {}

  next(ctx: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return this.at(ctx, 1);
  }

  private at(ctx: IRetryBackoffContext<unknown>, n: number): IBackoff<IRetryBackoffContext<unknown>> {
    const err = 'error' in ctx.result ? ctx.result.error : undefined;
    let duration: number;
    if (err instanceof LlmProviderError && err.retryAfterMs !== undefined) {
      duration = Math.min(this.o.maxDelayMs, err.retryAfterMs);
    } else {
      const ceiling = backoffCeilingMs(this.o, n);
      const j = Math.min(1, Math.max(0, this.o.jitter));
      duration = ceiling * (1 - j * this.o.random());
    }
    return { duration, next: (c) => this.at(c, n + 1) };
  }
}

function isTransient(err: unknown, o: ResilienceOptions): boolean {
  if (!(err instanceof LlmProviderError) || !err.retryable) return false;
  // a server that asks for a longer pause than we are willing to wait: go to the next provider instead
  return err.retryAfterMs === undefined || err.retryAfterMs <= o.maxDelayMs;
}

export interface AttemptHooks {
  onRetry?(info: { attempt: number; delayMs: number; error: unknown }): void;
}

/** retry ∘ breaker ∘ timeout for one provider. */
export class ProviderResilience {
  readonly breaker: CircuitBreakerPolicy;
  private readonly timeout: TimeoutPolicy;

  constructor(
    readonly provider: string,
    private readonly o: ResilienceOptions,
  ) {
    this.breaker = circuitBreaker(
      handleWhen((e) => e instanceof LlmProviderError && e.retryable),
      {
        halfOpenAfter: o.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(o.breakerThreshold),
      },
    );
    this.timeout = timeout(o.timeoutMs, { strategy: TimeoutStrategy.Cooperative, abortOnReturn: true });
  }

  /**
   * Runs attempt() under the stack. attempt receives a signal that fires on the per-attempt timeout or the caller's
   * abort; a failure caused by the timeout becomes a retryable 'timeout' error. Rejects with the caller's abort error
   * as soon as the caller aborts (also during a backoff wait), with BrokenCircuitError while the breaker is open.
   */
  async execute<T>(
    attempt: (signal: AbortSignal) => Promise<T>,
    callerSignal: AbortSignal | undefined,
    hooks: AttemptHooks = {},
  ): Promise<T> {
    if (callerSignal?.aborted) throw abortError(callerSignal);
    // one retry policy per call, so its onRetry events belong to this call only (the breaker is shared)
    const retryPolicy: RetryPolicy = retry(
      handleWhen((e) => isTransient(e, this.o)),
      { maxAttempts: this.o.maxRetries, backoff: new LlmBackoff(this.o) },
    );
    const listener = retryPolicy.onRetry((e) =>
      hooks.onRetry?.({ attempt: e.attempt, delayMs: e.delay, error: 'error' in e ? e.error : undefined }),
    );
    const run = retryPolicy.execute(
      () =>
        this.breaker.execute(() =>
          this.timeout.execute(async (_ctx, signal) => {
            if (callerSignal?.aborted) throw abortError(callerSignal);
            try {
              return await attempt(signal);
            } catch (err) {
              if (callerSignal?.aborted) throw abortError(callerSignal);
              if (signal.aborted) throw new LlmProviderError(this.provider, 'timeout', `no answer within ${this.o.timeoutMs} ms`);
              throw err;
            }
          }, callerSignal),
        ),
      callerSignal,
    );
    try {
      return await raceAbort(run, callerSignal);
    } finally {
      listener.dispose();
    }
  }

  state(): BreakerStateName {
    switch (this.breaker.state) {
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half_open';
      case CircuitState.Isolated:
        return 'isolated';
      default:
        return 'closed';
    }
  }
}

/** Settles with p, or rejects with the abort error as soon as the signal fires (p's later outcome is ignored). */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
