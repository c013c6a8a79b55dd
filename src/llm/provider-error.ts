/**
 * Errors of one provider attempt, classified for the resilience policies: what is retried (429, 5xx, network errors,
 * timeouts), what opens the breaker (the same), what is never retried (400/401/403/404 and other 4xx, malformed replies).
 * Messages are redacted: an API key never appears in a message, a detail or a cause.
 */
import { NetraError } from '../errors.js';

export type ProviderFailure =
  | 'rate_limited' // 429
  | 'server' // 5xx or a provider-side stream error event
  | 'network' // connection refused/reset, DNS
  | 'timeout' // the per-attempt timeout fired
  | 'auth' // 401 / 403
  | 'bad_request' // other 4xx
  | 'protocol'; // a reply we cannot parse

const RETRYABLE: ReadonlySet<ProviderFailure> = new Set(['rate_limited', 'server', 'network', 'timeout']);

export class LlmProviderError extends NetraError {
  readonly provider: string;
  readonly failure: ProviderFailure;
  readonly httpStatus?: number;
  /** from Retry-After / retry-after-ms on a 429 or 503, in milliseconds */
  readonly retryAfterMs?: number;

  constructor(provider: string, failure: ProviderFailure, message: string, opts: { httpStatus?: number; retryAfterMs?: number } = {}) {
    super('LLM_UNAVAILABLE', `${provider}: ${message}`, {
      details: { provider, failure, ...(opts.httpStatus === undefined ? {} : { http_status: opts.httpStatus }) },
    });
    this.name = 'LlmProviderError';
    this.provider = provider;
    this.failure = failure;
    this.httpStatus = opts.httpStatus;
    this.retryAfterMs = opts.retryAfterMs;
  }

  /** worth another attempt at the same provider (and counted by its circuit breaker) */
  get retryable(): boolean {
    return RETRYABLE.has(this.failure);
  }
}

export function failureOfStatus(status: number): ProviderFailure {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'server';
  return 'bad_request';
}

/** Retry-After (delta-seconds or HTTP date) or the non-standard retry-after-ms, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const v = headers.get('retry-after');
  if (v === null || v.trim() === '') return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return secs >= 0 ? secs * 1000 : undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Replaces every occurrence of the secrets (and bearer tokens / sk- style keys) in a text. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('****');
  return out.replace(/(bearer\s+)[^\s"']+/gi, '$1****').replace(/\b(sk-[A-Za-z0-9_-]{3})[A-Za-z0-9_-]{6,}/g, '$1****');
}

/** The error a caller's abort produces: the signal's reason when it is an Error, else a DOMException AbortError. */
export function abortError(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new DOMException('The LLM call was aborted', 'AbortError');
}
