/**
 * Schema pieces every route description shares: the error envelope of src/errors.ts, workspace and time-window query
 * parameters, the error responses by status, and the strict query check (an unknown query parameter is a 400 naming it,
 * with the parameter meant when it is close, instead of being silently ignored).
 */
import { z } from 'zod';
import { ErrorCodes, NetraError } from '../../errors.js';
import { didYouMean } from '../../workload/did-you-mean.js';
import { WORKSPACE_NAME } from '../params.js';

const CODES = Object.values(ErrorCodes).map((c) => c.code) as [string, ...string[]];

/** `{ error: { code, message, field?, details? } }`: every error of the REST API (src/server/errors.ts). */
export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(CODES).describe('stable error code (docs/OPERATIONS.md, "Error codes")'),
      message: z.string().describe('what went wrong and what to do, for a person'),
      field: z.string().optional().describe('the request field at fault: a query parameter, a body path, `(body)`, a header'),
      details: z.unknown().optional().describe('per-field or per-row errors when there are several'),
    }),
  })
  .meta({ id: 'Error' });

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input (`field` names it)',
  401: 'no credential, or an invalid one',
  403: 'the credential lacks the permission or the workspace',
  404: 'no such resource (or not one of yours)',
  409: 'a conflict with the current state',
  413: 'body too large',
  415: 'a content type the route does not read',
  429: 'rate limited (Retry-After)',
  503: 'a dependency is unavailable or the server is saturated (Retry-After)',
};

/** The error responses of a route, all in the one envelope. */
export function errors(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorEnvelope } } }> = {};
  for (const s of statuses) out[s] = { description: ERROR_TEXT[s] ?? 'error', content: { 'application/json': { schema: ErrorEnvelope } } };
  return out;
}
/** What any authenticated route may answer besides its own errors. */
export const AUTH_ERRORS = [401, 403, 429, 503] as const;

/** Route schema key: the request body may be absent (@fastify/swagger marks every described body required). */
export const OPTIONAL_BODY = 'x-body-optional';

/** One route's description: its parts, responses by status (2xx given, errors by status in the one envelope). */
export function route(d: {
  summary: string;
  tags: string[];
  description?: string;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: unknown;
  optionalBody?: boolean;
  ok: Record<number, unknown>;
  errors: readonly number[];
  /** `[]`: the route takes no credential */
  security?: [];
}) {
  return {
    summary: d.summary,
    tags: d.tags,
    ...(d.description ? { description: d.description } : {}),
    ...(d.params ? { params: d.params } : {}),
    querystring: d.querystring ?? NoQuery,
    ...(d.body !== undefined ? { body: d.body } : {}),
    ...(d.optionalBody ? { [OPTIONAL_BODY]: true } : {}),
    ...(d.security ? { security: d.security } : {}),
    response: { ...d.ok, ...errors(...d.errors) },
  };
}

/** A JSON response with a description. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
/** A response without a body (204). */
export const noContent = (description: string) => z.undefined().describe(description);

export const WorkspaceName = z.string().regex(WORKSPACE_NAME).describe('a workspace name (default: NETRA_WORKSPACE)');
export const TimeParam = z.string().describe('ISO 8601 time or epoch milliseconds').meta({ example: '2026-11-01T00:00:00Z' });
/** ?workspace= */
export const WorkspaceQuery = { workspace: WorkspaceName.optional() };
/** ?workspace=&from=&to= (from inclusive, to exclusive; default window: the workspace's events) */
export const WindowQuery = {
  ...WorkspaceQuery,
  from: TimeParam.optional().describe('window start, inclusive: ISO 8601 or epoch ms'),
  to: TimeParam.optional().describe('window end, exclusive: ISO 8601 or epoch ms'),
};
export const WorkspaceParams = z.object({ workspace: WorkspaceName });
export const IdParams = z.object({ id: z.string().describe('the id') });
/** A query string with no parameters (any parameter is refused by the routes that check strictly). */
export const NoQuery = z.object({});
export const EpochMs = z.number().describe('epoch milliseconds');

/** Names people reach for that are spelled differently here. */
const SYNONYMS: Readonly<Record<string, string>> = {
  dimension: 'by',
  group_by: 'by',
  groupby: 'by',
  group: 'by',
  rank_by: 'metric',
  measure: 'metric',
  interval: 'granularity',
  bucket: 'granularity',
  limit: 'top',
  filters: 'filter',
  where: 'filter',
  start: 'from',
  since: 'from',
  end: 'to',
  until: 'to',
  ws: 'workspace',
};

/**
 * Refuses a query parameter the route's schema does not name: 400 NETRA_E_VALIDATION with `field` = the parameter and
 * the one meant when it is a known synonym or a near spelling. The values themselves are checked by the handler.
 */
export function checkQueryKeys(schema: z.ZodObject, query: unknown): void {
  if (!query || typeof query !== 'object') return;
  const known = Object.keys(schema.shape);
  for (const key of Object.keys(query)) {
    if (known.includes(key)) continue;
    const synonym = SYNONYMS[key.toLowerCase()];
    const hint = synonym && known.includes(synonym) ? ` (did you mean ${synonym}?)` : didYouMean(key, known);
    throw new NetraError(
      'VALIDATION',
      `unknown query parameter '${key.slice(0, 60)}'${hint}; this route takes ${known.join(', ') || 'no parameters'}`,
      { field: key.slice(0, 60) },
    );
  }
}
