/**
 * Typed errors with stable codes. Mapped once to HTTP status (server/error-handler.ts)
 * and, later, to the WebSocket error envelope.
 */
export const ErrorCodes = {
  VALIDATION: { code: 'NETRA_E_VALIDATION', status: 400 },
  NO_VALID_EVENTS: { code: 'NETRA_E_NO_VALID_EVENTS', status: 400 },
  BODY_TOO_LARGE: { code: 'NETRA_E_BODY_TOO_LARGE', status: 413 },
  TOO_MANY_EVENTS: { code: 'NETRA_E_TOO_MANY_EVENTS', status: 413 },
  UNSUPPORTED_MEDIA: { code: 'NETRA_E_UNSUPPORTED_MEDIA_TYPE', status: 415 },
  NOT_FOUND: { code: 'NETRA_E_NOT_FOUND', status: 404 },
  // accounts and security (issue 3)
  UNAUTHENTICATED: { code: 'NETRA_E_UNAUTHENTICATED', status: 401 },
  FORBIDDEN: { code: 'NETRA_E_FORBIDDEN', status: 403 },
  CONFLICT: { code: 'NETRA_E_CONFLICT', status: 409 },
  RATE_LIMITED: { code: 'NETRA_E_RATE_LIMITED', status: 429 },
  UNKNOWN_MODEL: { code: 'NETRA_E_UNKNOWN_MODEL', status: 400 },
  CONFIG: { code: 'NETRA_E_CONFIG', status: 500 },
  STORE: { code: 'NETRA_E_STORE', status: 503 },
  /** too much work in flight (e.g. concurrent OTLP exports); retryable, with a delay */
  OVERLOADED: { code: 'NETRA_E_OVERLOADED', status: 503 },
  INTERNAL: { code: 'NETRA_E_INTERNAL', status: 500 },
  // LLM layer (issue 5, src/llm)
  LLM_UNAVAILABLE: { code: 'NETRA_E_LLM_UNAVAILABLE', status: 502 },
  LLM_INVALID_OUTPUT: { code: 'NETRA_E_LLM_INVALID_OUTPUT', status: 502 },
} as const;

export type ErrorKind = keyof typeof ErrorCodes;

export interface FieldError {
  /** Row index in the request (0-based) or line number in a file (1-based), when the error is about one row. */
  index?: number;
  line?: number;
  field: string;
  message: string;
}

export class NetraError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field?: string;
  readonly details?: unknown;

  constructor(kind: ErrorKind, message: string, opts: { field?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NetraError';
    this.code = ErrorCodes[kind].code;
    this.status = ErrorCodes[kind].status;
    this.field = opts.field;
    this.details = opts.details;
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}
