/**
 * Recognises a dependency that cannot be reached (PostgreSQL refused, reset, timed out or shutting down; a pool that
 * could not connect in time) anywhere in an error's cause chain (drizzle wraps driver errors in "Failed query: ...").
 * Such a failure is the server's dependency, not the request: it answers 503 NETRA_E_UNAVAILABLE with Retry-After.
 */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
/** PostgreSQL SQLSTATEs: connection exceptions (08xxx), admin/crash shutdown, cannot connect now, query canceled by timeout */
const PG_CODES = /^(08\d{3}|57P01|57P02|57P03|57014)$/;
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Connection terminated due to connection timeout|connect ECONNREFUSED|Client has encountered a connection error/i;

export function isDependencyUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NET_CODES.has(code) || PG_CODES.test(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && MESSAGES.test(message)) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isDependencyUnavailable(x))) return true;
  }
  return false;
}
