/**
 * The endpoints the gateway serves, in the two API families it speaks, and the error bodies each family's SDKs parse.
 * Errors the gateway raises itself (bad JSON, missing key, unknown provider, body too large) are shaped like the
 * provider's own, so an SDK raises its usual exception with a message that names the field.
 */
import type { Operation } from '../workload/event.js';

export type ApiFamily = 'openai' | 'anthropic';

export interface GatewayEndpoint {
  family: ApiFamily;
  method: 'GET' | 'POST';
  /** the path clients call on Netra (and, for Anthropic, on the upstream) */
  path: string;
  /** what a call is recorded as; null: not an LLM call (model list, token count), forwarded but not recorded */
  operation: Operation | null;
  /** request/response shape the recorder reads */
  shape: 'chat' | 'completion' | 'embedding' | 'responses' | 'messages' | 'none';
}

export const GATEWAY_ENDPOINTS: readonly GatewayEndpoint[] = [
  { family: 'openai', method: 'POST', path: '/v1/chat/completions', operation: 'chat', shape: 'chat' },
  { family: 'openai', method: 'POST', path: '/v1/completions', operation: 'completion', shape: 'completion' },
  { family: 'openai', method: 'POST', path: '/v1/embeddings', operation: 'embedding', shape: 'embedding' },
  { family: 'openai', method: 'POST', path: '/v1/responses', operation: 'chat', shape: 'responses' },
  { family: 'openai', method: 'GET', path: '/v1/models', operation: null, shape: 'none' },
  { family: 'anthropic', method: 'POST', path: '/v1/messages', operation: 'chat', shape: 'messages' },
  { family: 'anthropic', method: 'POST', path: '/v1/messages/count_tokens', operation: null, shape: 'none' },
];

/** The upstream path under a provider's base URL: OpenAI-style bases end in /v1, Anthropic's does not. */
export function upstreamPath(ep: GatewayEndpoint): string {
  return ep.family === 'openai' ? ep.path.slice(3) : ep.path;
}

export type GatewayErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'too_large'
  | 'upstream'
  | 'timeout'
  | 'internal';

const STATUS: Record<GatewayErrorKind, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  too_large: 413,
  upstream: 502,
  timeout: 504,
  internal: 500,
};
const OPENAI_TYPE: Record<GatewayErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  too_large: 'invalid_request_error',
  upstream: 'api_error',
  timeout: 'api_error',
  internal: 'api_error',
};
const ANTHROPIC_TYPE: Record<GatewayErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  upstream: 'api_error',
  timeout: 'api_error',
  internal: 'api_error',
};

/** An error the gateway raises itself (never one the upstream returned: those pass through unchanged). */
export class GatewayError extends Error {
  constructor(
    readonly kind: GatewayErrorKind,
    message: string,
    readonly field: string | null,
    readonly code: string,
  ) {
    super(message);
  }
  get status(): number {
    return STATUS[this.kind];
  }
}

/** The error body in the caller's API shape: OpenAI `{error:{message,type,param,code}}`, Anthropic `{type:"error",error:{type,message}}`. */
export function errorBody(family: ApiFamily, err: GatewayError): string {
  if (family === 'anthropic') return JSON.stringify({ type: 'error', error: { type: ANTHROPIC_TYPE[err.kind], message: err.message } });
  return JSON.stringify({ error: { message: err.message, type: OPENAI_TYPE[err.kind], param: err.field, code: err.code } });
}
