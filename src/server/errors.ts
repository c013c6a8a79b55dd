/**
 * Maps every error to the one JSON error body (codes and statuses from the registry in src/errors.ts) `{ error: { code, message, field?, details? } }` and an HTTP status.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { errorBody, NetraError } from '../errors.js';

export function installErrorHandler(app: FastifyInstance, limits: { maxBodyBytes: number }): void {
  app.setErrorHandler((err: FastifyError | NetraError | Error, req, reply) => {
    if (err instanceof NetraError) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return reply.status(err.status).send({ error: err.toJSON() });
    }
    const fe = err as FastifyError;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send(errorBody('BODY_TOO_LARGE', `request body exceeds ${limits.maxBodyBytes} bytes; split it into smaller requests or send application/x-ndjson`));
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA', `unsupported content type ${req.headers['content-type'] ?? '(none)'}; use application/json or application/x-ndjson`));
    }
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return reply.status(400).send(errorBody('VALIDATION', `malformed JSON body: ${err.message}`, '(body)'));
    }
    if (fe.validation) {
      const v = fe.validation[0];
      const field = v?.instancePath ? v.instancePath.replace(/^\//, '').replaceAll('/', '.') : String((v?.params as { missingProperty?: string })?.missingProperty ?? '');
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
