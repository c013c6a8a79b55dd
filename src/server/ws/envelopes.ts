/**
 * The chat WebSocket protocol's envelopes (docs/PROTOCOL.md): client → server `{ type, payload?, request_id? }` and
 * server → client `{ type, payload, event_id?, run_id?, thread_id?, ts }`, each client payload validated with zod.
 * Hot path (bench/ws.ts): a hand-written check accepts the exact shape of a valid `ping` / `pong` (zod stays the judge of
 * everything else and the source of every error message), the pong frame is written from a template, and the ISO time is
 * formatted once per millisecond.
 */
import { z } from 'zod';
import { ErrorCodes, type ErrorCode, type ErrorKind } from '../../errors.js';
import { GOALS } from '../../optimize/ranking.js';

export const MAX_CONTENT_CHARS = 10_000;

const id = z.string().min(1).max(100);
const content = z.string().trim().min(1, 'must not be empty').max(MAX_CONTENT_CHARS, `must be at most ${MAX_CONTENT_CHARS} characters`);
const title = z.string().trim().max(200, 'must be at most 200 characters');
const none = z.object({}).strict().optional();

/** Payload schema of every client → server message type. */
export const CLIENT_PAYLOADS = {
  ping: z.object({}).passthrough().optional(),
  pong: z.object({}).passthrough().optional(),
  user_message: z.object({ content, thread_id: id.optional(), goal: z.enum(GOALS).optional() }).strict(),
  start_agent: z.object({ request: content, thread_id: id.optional(), goal: z.enum(GOALS).optional() }).strict(),
  stop_agent: z.object({ run_id: id }).strict(),
  create_thread: z.object({ title: title.optional() }).strict().optional(),
  rename_thread: z.object({ thread_id: id, title: title.min(1, 'must not be empty') }).strict(),
  delete_thread: z.object({ thread_id: id }).strict(),
  switch_thread: z.object({ thread_id: id }).strict(),
  list_threads: none,
  get_thread_history: z.object({ thread_id: id }).strict(),
  resume: z.object({ thread_id: id, after_event_id: z.number().int().min(0), run_id: id.optional() }).strict(),
} as const;

export type ClientType = keyof typeof CLIENT_PAYLOADS;
export const CLIENT_TYPES = Object.keys(CLIENT_PAYLOADS) as ClientType[];

const Envelope = z
  .object({
    type: z.string().min(1).max(64),
    payload: z.unknown().optional(),
    request_id: z.string().max(128).optional(),
  })
  .strict();

export interface ClientMessage {
  type: ClientType;
  payload: Record<string, unknown>;
  request_id?: string;
}

export interface ServerEnvelope {
  type: string;
  payload: Record<string, unknown>;
  event_id?: number;
  run_id?: string;
  thread_id?: string;
  request_id?: string;
  ts: string;
}

/** The registry kinds (src/errors.ts) the gateway sends in `error` envelopes. */
export const WS_ERRORS = {
  BAD_JSON: 'WS_BAD_JSON',
  INVALID: 'VALIDATION',
  UNKNOWN_TYPE: 'WS_UNKNOWN_TYPE',
  TOO_LARGE: 'WS_FRAME_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  INTERNAL: 'INTERNAL',
} as const satisfies Record<string, ErrorKind>;

/** An error sent in an `error` envelope: a registry code, the offending field, and the request it answers. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  constructor(
    kindOrCode: ErrorKind | ErrorCode,
    message: string,
    readonly field?: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.code = kindOrCode.startsWith('NETRA_E_') ? (kindOrCode as ErrorCode) : ErrorCodes[kindOrCode as ErrorKind].code;
  }
}

/** Parses one text frame into a validated client message; throws ProtocolError with the offending field. */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError(WS_ERRORS.BAD_JSON, 'the frame is not valid JSON');
  }
  const fast = fastHeartbeatMessage(raw);
  if (fast) return fast;
  return validateClientMessage(raw);
}

/** Validates a parsed frame with zod (every type, every error message). */
export function validateClientMessage(raw: unknown): ClientMessage {
  const requestId =
    raw && typeof raw === 'object' && typeof (raw as { request_id?: unknown }).request_id === 'string'
      ? (raw as { request_id: string }).request_id.slice(0, 128)
      : undefined;
  const env = Envelope.safeParse(raw);
  if (!env.success) {
    const issue = env.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || '(message)';
    throw new ProtocolError(
      WS_ERRORS.INVALID,
      `expected { type, payload?, request_id? }: ${field}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message}`,
      field,
      requestId,
    );
  }
  const type = env.data.type;
  if (!Object.hasOwn(CLIENT_PAYLOADS, type)) {
    throw new ProtocolError(
      WS_ERRORS.UNKNOWN_TYPE,
      `unknown message type '${type.slice(0, 64)}'; known: ${CLIENT_TYPES.join(', ')}`,
      'type',
      requestId,
    );
  }
  const schema = CLIENT_PAYLOADS[type as ClientType] as z.ZodType<Record<string, unknown> | undefined>;
  const p = schema.safeParse(env.data.payload);
  if (!p.success) {
    const issue = p.error.issues[0]!;
    const sub = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
    const field = sub ? `payload.${sub}` : 'payload';
    throw new ProtocolError(
      WS_ERRORS.INVALID,
      `${field}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message}`,
      field,
      requestId,
    );
  }
  return {
    type: type as ClientType,
    payload: p.data ?? {},
    ...(env.data.request_id !== undefined ? { request_id: env.data.request_id } : {}),
  };
}

/**
 * The result zod gives for a valid `ping` / `pong` whose only fields are `type`, an optional string `request_id` (at most 128
 * characters) and an optional empty `payload` object; null for anything else, which then goes through zod. Same result as
 * validateClientMessage for every frame it accepts (test/chat-ws-envelopes.test.ts checks both on valid and invalid frames).
 */
export function fastHeartbeatMessage(raw: unknown): ClientMessage | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const o = raw as Record<string, unknown>;
  const type = o.type;
  if (type !== 'ping' && type !== 'pong') return null;
  let n = 1;
  const requestId = o.request_id;
  if (requestId !== undefined) {
    if (typeof requestId !== 'string' || requestId.length > 128) return null;
    n++;
  }
  const payload = o.payload;
  if (payload !== undefined) {
    if (
      payload === null ||
      typeof payload !== 'object' ||
      Object.getPrototypeOf(payload) !== Object.prototype ||
      Object.keys(payload).length !== 0
    )
      return null;
    n++;
  }
  // no other own key (JSON.parse makes only own, enumerable, string keys; `__proto__` included)
  if (
    Object.keys(o).length !== n ||
    !Object.hasOwn(o, 'type') ||
    (requestId !== undefined && !Object.hasOwn(o, 'request_id')) ||
    (payload !== undefined && !Object.hasOwn(o, 'payload'))
  )
    return null;
  return requestId !== undefined ? { type, payload: {}, request_id: requestId } : { type, payload: {} };
}

let isoMs = -1;
let isoText = '';
/** `new Date().toISOString()`, formatted at most once per millisecond. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export function envelope(
  type: string,
  payload: Record<string, unknown>,
  extra: Partial<Omit<ServerEnvelope, 'type' | 'payload' | 'ts'>> = {},
): ServerEnvelope {
  return { type, payload, ...extra, ts: isoNow() };
}

/** The text of `envelope('pong', { server_time: time }, rid)` with ts = time, byte for byte, without building the object. */
export function pongFrame(requestId: string | undefined, time: string): string {
  const rid = requestId !== undefined ? `,"request_id":${JSON.stringify(requestId)}` : '';
  return `{"type":"pong","payload":{"server_time":${JSON.stringify(time)}}${rid},"ts":${JSON.stringify(time)}}`;
}
