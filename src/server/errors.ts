/**
 * Maps every error to the one JSON error body (codes and statuses from the registry in src/errors.ts) `{ error: { code, message, field?, details? } }` and an HTTP status.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, NetraError } from '../errors.js';
import { isDependencyUnavailable } from './unavailable.js';

function unavailable(req: FastifyRequest, reply: FastifyReply, err: Error) {
  req.log.warn({ err: err.message.slice(0, 300) }, 'dependency unavailable; answered 503');
  reply.header('retry-after', 5);
  return reply
    .status(503)
    .send(
      errorBody('UNAVAILABLE', `a dependency of the server (the database) cannot be reached right now; retry shortly (request ${req.id})`),
    );
}

export function installErrorHandler(app: FastifyInstance, limits: { maxBodyBytes: number }): void {
  app.setErrorHandler((err: FastifyError | NetraError | Error, req, reply) => {
    if (err instanceof NetraError) {
      if (err.status < 500) {
        // the client's mistake: one line at info, no stack
        req.log.info({ code: err.code, field: err.field }, err.message.slice(0, 200));
        return reply.status(err.status).send({ error: err.toJSON() });
      }
      if (err.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', 5);
      if (isDependencyUnavailable(err.cause ?? null) || (err.code === 'NETRA_E_STORE' && isDependencyUnavailable(err)))
        return unavailable(req, reply, err);
      req.log.error({ err }, 'request failed');
      // a store's or an unexpected error's text may quote SQL, parameters or stored event text: the log has it, the body not
      if (err.code === 'NETRA_E_STORE' || err.code === 'NETRA_E_INTERNAL') {
        return reply.status(err.status).send({
          error: {
            code: err.code,
            message: `the ${err.code === 'NETRA_E_STORE' ? 'store' : 'server'} could not answer; retry shortly (request ${req.id}; the server log has the details)`,
          },
        });
      }
      return reply.status(err.status).send({ error: err.toJSON() });
    }
    if (isDependencyUnavailable(err)) return unavailable(req, reply, err);
    const fe = err as FastifyError;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .status(413)
        .send(
          errorBody(
            'BODY_TOO_LARGE',
            `request body exceeds ${limits.maxBodyBytes} bytes; split it into smaller requests or send application/x-ndjson`,
            '(body)',
          ),
        );
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply
        .status(415)
        .send(
          errorBody(
            'UNSUPPORTED_MEDIA',
            `unsupported content type ${req.headers['content-type'] ?? '(none)'}; use application/json or application/x-ndjson`,
            'content-type',
          ),
        );
    }
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return reply.status(400).send(errorBody('VALIDATION', `malformed JSON body: ${err.message}`, '(body)'));
    }
    if (fe.validation) {
      const v = fe.validation[0];
      const field = v?.instancePath
        ? v.instancePath.replace(/^\//, '').replaceAll('/', '.')
        : String((v?.params as { missingProperty?: string })?.missingProperty ?? '');
      return reply.status(400).send(errorBody('VALIDATION', fe.message, `${fe.validationContext ?? 'request'}${field ? `.${field}` : ''}`));
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody('REQUEST', fe.message));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error; see the server log for the request id'));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });
}
