/**
 * OTLP/HTTP trace receiver: POST /v1/traces as the OpenTelemetry exporters send it.
 *
 * - Bodies: `application/x-protobuf` (ExportTraceServiceRequest, the SDKs' default) or `application/json` (OTLP/JSON),
 *   optionally `Content-Encoding: gzip`. The body as received and the inflated body are both bounded by
 *   NETRA_OTLP_MAX_BODY_BYTES: inflating stops at the limit (a gzip bomb costs the limit, not its expansion).
 * - Answers in the request's encoding: an ExportTraceServiceResponse (protobuf, or JSON with `partialSuccess` plus
 *   Netra's own counts) with HTTP 200, also when some spans were rejected (partial success, per the OTLP spec); errors
 *   as google.rpc.Status for protobuf requests. 400 = the payload cannot be decoded (not retryable), 413 = too large,
 *   415 = neither protobuf nor JSON, 503 + Retry-After = saturated (retryable): too many exports at once, or the
 *   server's memory budget for request bodies (shared with the other ingest routes) cannot hold this one's worst case.
 * The route lives in its own Fastify context so its body parsers and error encoding touch no other route.
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { NetraError } from '../../errors.js';
import { decodeTraceRequest, encodeStatus, encodeTraceResponse, GRPC_CODE } from '../../ingest/otlp-proto.js';
import type { ServerDeps } from '../deps.js';
import { OTLP_JSON_EXPANSION, OTLP_PROTOBUF_EXPANSION } from '../memory-budget.js';
import { parseWorkspace } from '../params.js';
import { IngestQuery, OtlpBody, otlpError, OtlpOk } from '../schemas/ingest.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const PROTOBUF = 'application/x-protobuf';

export function otlpRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const limits = deps.config.otlp;
  const budget = deps.bodyBudget;
  const reservations = new WeakMap<FastifyRequest, () => void>();

  /**
   * Holds the export's worst-case memory (its body size × the decode expansion) from the server's body budget
   * (server/memory-budget.ts); refused with a retryable 503 + Retry-After when the budget is spent. Released when the
   * response is done or the client left.
   */
  const hold = (req: FastifyRequest, reply: FastifyReply, bodyBytes: number) => {
    if (!budget || reservations.has(req)) return;
    const bytes = Math.min(budget.limitBytes, bodyBytes * (isProtobuf(req) ? OTLP_PROTOBUF_EXPANSION : OTLP_JSON_EXPANSION));
    const release = budget.tryAcquire(bytes);
    if (!release) {
      throw new NetraError(
        'OVERLOADED',
        `the server is holding its memory budget for request bodies (${Math.round(budget.limitBytes / 1048576)} MiB) in other ingest requests; retry later`,
        { field: '(body)' },
      );
    }
    reservations.set(req, release);
    reply.raw.once('close', release); // the client went away before the response
  };
  /**
   * Before the body is read when its size is declared (an uncompressed body with Content-Length). The OTel exporters
   * stream their bodies (chunked, often gzip), so most exports are held once inflated, at their real size: the read
   * itself is bounded by NETRA_OTLP_MAX_BODY_BYTES. Holding the limit for every body of unknown size instead would let
   * one export at a time through.
   */
  const reserve = async (req: FastifyRequest, reply: FastifyReply) => {
    const encoded = !['', 'identity', undefined].includes(req.headers['content-encoding']?.trim().toLowerCase());
    const declared = Number(req.headers['content-length']);
    if (!encoded && Number.isFinite(declared) && declared > 0) hold(req, reply, Math.min(declared, limits.maxBodyBytes));
  };
  const done = async (req: FastifyRequest) => {
    reservations.get(req)?.();
  };
  // the receiver inflates the body itself (bounded, with OTLP's own error answers): the server-wide inflation skips it
  const config: Record<string, unknown> = { ownContentEncoding: true };
  const routeOptions: RouteShorthandOptions = { config, onRequest: reserve, onResponse: done };
  void app.register(async (otlp) => {
    otlp.removeAllContentTypeParsers();
    otlp.addContentTypeParser([PROTOBUF, 'application/json'], { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes }, (_req, body, done) =>
      done(null, body),
    );

    otlp.setErrorHandler((err: FastifyError | NetraError | Error, req, reply) => {
      const { status, code, message } = describe(err, req, limits.maxBodyBytes);
      if (status === 429 || status === 503) reply.header('retry-after', String(limits.retryAfterSec));
      if (status >= 500 && status !== 503) req.log.error({ err }, 'OTLP export failed');
      if (isProtobuf(req))
        return reply
          .status(status)
          .type(PROTOBUF)
          .send(Buffer.from(encodeStatus(grpcCodeFor(status), message)));
      return reply
        .status(status)
        .send({ error: { code, message, ...(err instanceof NetraError && err.field ? { field: err.field } : {}) } });
    });

    const schema = {
      summary: 'OTLP/HTTP trace export (protobuf or JSON, gzip allowed), as the OpenTelemetry exporters send it',
      description: 'LLM spans become events (dialects: docs/EVENTS.md); other spans are counted by kind. Partial success is a 200.',
      tags: ['ingest'],
      querystring: IngestQuery,
      body: OtlpBody,
      response: {
        200: OtlpOk,
        400: otlpError('the payload cannot be decoded (not retryable)'),
        401: otlpError('no credential, or an invalid one'),
        403: otlpError('no ingest permission on the workspace'),
        413: otlpError('body (or its inflated size) over NETRA_OTLP_MAX_BODY_BYTES'),
        415: otlpError('neither application/x-protobuf nor application/json'),
        429: otlpError('rate limited (Retry-After; retryable)'),
        503: otlpError('saturated (Retry-After; retryable)'),
      },
    };
    otlp.post('/v1/traces', { ...routeOptions, schema }, async (req, reply) => {
      const workspace =
        req.authorizedWorkspace ??
        parseWorkspace((req.query as Record<string, unknown>).workspace ?? req.headers['x-netra-workspace'], deps.config.defaultWorkspace);
      if (!Buffer.isBuffer(req.body))
        throw new NetraError('VALIDATION', 'empty body: send an OTLP ExportTraceServiceRequest', { field: '(body)' });
      const raw = await decompress(req, req.body, limits.maxBodyBytes);
      hold(req, reply, raw.length);
      let body: unknown;
      if (isProtobuf(req)) {
        const decoded = decodeTraceRequest(raw);
        if (!decoded.ok) throw new NetraError('VALIDATION', decoded.message, { field: '(body)' });
        body = decoded.body;
      } else {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw new NetraError('VALIDATION', `malformed OTLP/JSON body: ${(err as Error).message}`, { field: '(body)' });
        }
      }
      const r = await deps.otlp.export(workspace, body);
      const partial = r.rejected_spans > 0 ? { rejectedSpans: r.rejected_spans, errorMessage: r.error_message } : null;
      if (isProtobuf(req))
        return reply
          .status(200)
          .type(PROTOBUF)
          .send(Buffer.from(encodeTraceResponse(partial)));
      return reply.status(200).send({
        ...(partial ? { partialSuccess: partial } : {}),
        accepted: r.accepted,
        rejected: r.rejected,
        duplicates: r.duplicates,
        errors: r.errors,
        errors_total: r.errors_total,
        spans: r.spans,
        skipped_spans: r.skipped_spans,
        skipped_by_kind: r.skipped_by_kind,
      });
    });
  });
}

function isProtobuf(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF;
}

async function decompress(req: FastifyRequest, body: Buffer, limit: number): Promise<Buffer> {
  const enc = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip' && enc !== 'deflate')
    throw new NetraError('UNSUPPORTED_MEDIA', `unsupported Content-Encoding ${enc.slice(0, 40)}; use gzip or none`, {
      field: 'content-encoding',
    });
  try {
    return await (enc === 'gzip' ? gunzipAsync : inflateAsync)(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new NetraError(
        'BODY_TOO_LARGE',
        `the ${enc} body inflates past ${limit} bytes (NETRA_OTLP_MAX_BODY_BYTES); send smaller batches`,
        { field: '(body)' },
      );
    }
    throw new NetraError('VALIDATION', `the body is not valid ${enc}: ${(err as Error).message}`, { field: '(body)' });
  }
}

function describe(
  err: FastifyError | NetraError | Error,
  req: FastifyRequest,
  maxBodyBytes: number,
): { status: number; code: string; message: string } {
  if (err instanceof NetraError) return { status: err.status, code: err.code, message: err.message };
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return {
      status: 413,
      code: 'NETRA_E_BODY_TOO_LARGE',
      message: `request body exceeds ${maxBodyBytes} bytes (NETRA_OTLP_MAX_BODY_BYTES); send smaller batches`,
    };
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      code: 'NETRA_E_UNSUPPORTED_MEDIA_TYPE',
      message: `unsupported content type ${String(req.headers['content-type'] ?? '(none)').slice(0, 80)}; OTLP/HTTP takes application/x-protobuf or application/json`,
    };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, code: 'NETRA_E_REQUEST', message: fe.message };
  return { status: 500, code: 'NETRA_E_INTERNAL', message: 'internal error; see the server log for the request id' };
}

function grpcCodeFor(status: number): number {
  if (status === 401) return GRPC_CODE.UNAUTHENTICATED;
  if (status === 403) return GRPC_CODE.PERMISSION_DENIED;
  if (status === 413) return GRPC_CODE.RESOURCE_EXHAUSTED;
  if (status === 429 || status === 503) return GRPC_CODE.UNAVAILABLE;
  if (status >= 500) return GRPC_CODE.INTERNAL;
  return GRPC_CODE.INVALID_ARGUMENT;
}
