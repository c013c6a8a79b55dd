/**
 * The one error registry: every stable `NETRA_E_*` code with its HTTP status, the WebSocket close code where a
 * connection is closed for it, and what it means. The HTTP error handler (src/server/errors.ts), the WebSocket gateway
 * (src/server/ws/), the chat's run events and the CLI all take their codes from here; docs/OPERATIONS.md ("Error codes")
 * is generated from it (`npm run docs:tables`) and test/docs-tables.test.ts fails when the two differ.
 */
export interface ErrorSpec {
  readonly code: `NETRA_E_${string}`;
  /** HTTP status of a response carrying this code */
  readonly status: number;
  /** WebSocket close code when /ws closes a connection for this reason (1008 policy, 1009 too big, 1011 server error) */
  readonly wsClose?: 1008 | 1009 | 1011;
  /** one line for the docs */
  readonly doc: string;
}

export const ErrorCodes = {
  VALIDATION: { code: 'NETRA_E_VALIDATION', status: 400, doc: 'a request, frame, file row or option is invalid; `field` names it' },
  NO_VALID_EVENTS: {
    code: 'NETRA_E_NO_VALID_EVENTS',
    status: 400,
    doc: 'none of the events of an ingestion request was valid (the per-row errors come with it)',
  },
  REQUEST: { code: 'NETRA_E_REQUEST', status: 400, doc: 'any other refused HTTP request (the status is the one the server chose, 4xx)' },
  BODY_TOO_LARGE: { code: 'NETRA_E_BODY_TOO_LARGE', status: 413, doc: 'request body over `NETRA_INGEST_MAX_BODY_BYTES`' },
  TOO_MANY_EVENTS: { code: 'NETRA_E_TOO_MANY_EVENTS', status: 413, doc: 'more events in one request than `NETRA_INGEST_MAX_EVENTS`' },
  UNSUPPORTED_MEDIA: { code: 'NETRA_E_UNSUPPORTED_MEDIA_TYPE', status: 415, doc: 'a content type the route does not read' },
  NOT_FOUND: { code: 'NETRA_E_NOT_FOUND', status: 404, doc: 'no such route, workspace, thread, run, job or key (or not one of yours)' },
  UNAUTHENTICATED: {
    code: 'NETRA_E_UNAUTHENTICATED',
    status: 401,
    wsClose: 1008,
    doc: 'no credential, or an invalid, expired, revoked or foreign one',
  },
  FORBIDDEN: {
    code: 'NETRA_E_FORBIDDEN',
    status: 403,
    wsClose: 1008,
    doc: 'a valid credential without the permission, or a workspace the caller is not a member of',
  },
  CONFLICT: { code: 'NETRA_E_CONFLICT', status: 409, doc: 'name taken, last owner, or a state that forbids the change' },
  RATE_LIMITED: {
    code: 'NETRA_E_RATE_LIMITED',
    status: 429,
    wsClose: 1008,
    doc: 'a rate limit or connection cap was exceeded (HTTP: `Retry-After`)',
  },
  UNKNOWN_MODEL: {
    code: 'NETRA_E_UNKNOWN_MODEL',
    status: 400,
    doc: 'a model the price catalog does not know (the message suggests the nearest names)',
  },
  CONFIG: { code: 'NETRA_E_CONFIG', status: 500, doc: 'invalid configuration or price catalog; `field` names the setting' },
  STORE: { code: 'NETRA_E_STORE', status: 503, doc: 'a store is unreachable, locked by another process, or its pool is exhausted' },
  INTERNAL: { code: 'NETRA_E_INTERNAL', status: 500, wsClose: 1011, doc: 'an unexpected failure; details only in the server log' },
  UNAVAILABLE: {
    code: 'NETRA_E_UNAVAILABLE',
    status: 503,
    doc: 'a dependency (PostgreSQL) cannot be reached right now; retry after `Retry-After`',
  },
  OVERLOADED: {
    code: 'NETRA_E_OVERLOADED',
    status: 503,
    doc: 'too much work in flight: the memory budget for request bodies (`NETRA_INGEST_MEMORY_BUDGET_BYTES`) is held by other requests, or OTLP exports exceed `NETRA_OTLP_MAX_CONCURRENT_EXPORTS`; retry after `Retry-After`',
  },
  LLM_UNAVAILABLE: { code: 'NETRA_E_LLM_UNAVAILABLE', status: 502, doc: 'every configured LLM provider failed (docs/LLM.md)' },
  LLM_INVALID_OUTPUT: {
    code: 'NETRA_E_LLM_INVALID_OUTPUT',
    status: 502,
    doc: 'an LLM answered with output that does not match the expected structure',
  },
  INTERRUPTED: {
    code: 'NETRA_E_INTERRUPTED',
    status: 500,
    doc: 'a chat run whose process stopped while it executed (`agent_error` event)',
  },
  WS_BAD_JSON: { code: 'NETRA_E_WS_BAD_JSON', status: 400, doc: 'a WebSocket frame that is not JSON' },
  WS_UNKNOWN_TYPE: { code: 'NETRA_E_WS_UNKNOWN_TYPE', status: 400, doc: 'a WebSocket message of a type the protocol does not have' },
  WS_FRAME_TOO_LARGE: {
    code: 'NETRA_E_WS_FRAME_TOO_LARGE',
    status: 413,
    wsClose: 1009,
    doc: 'a WebSocket frame over `NETRA_WS_MAX_FRAME_BYTES` (repeated: closed 1009)',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorKind = keyof typeof ErrorCodes;
export type ErrorCode = (typeof ErrorCodes)[ErrorKind]['code'];

/** The WebSocket close code for a kind that has one (1011 for the rest: the server failed). */
export function wsCloseCode(kind: ErrorKind): 1008 | 1009 | 1011 {
  const spec: ErrorSpec = ErrorCodes[kind];
  return spec.wsClose ?? 1011;
}

export interface FieldError {
  /** Row index in the request (0-based) or line number in a file (1-based), when the error is about one row. */
  index?: number;
  line?: number;
  field: string;
  message: string;
}

export class NetraError extends Error {
  readonly code: ErrorCode;
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

/** The JSON error body of a response for a kind, built without throwing (`{ error: { code, message, field? } }`). */
export function errorBody(
  kind: ErrorKind,
  message: string,
  field?: string,
): { error: { code: ErrorCode; message: string; field?: string } } {
  return { error: { code: ErrorCodes[kind].code, message, ...(field !== undefined ? { field } : {}) } };
}
