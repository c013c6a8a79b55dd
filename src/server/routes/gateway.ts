/**
 * The LLM gateway's endpoints (OpenAI- and Anthropic-compatible, see src/gateway): registered in their own context so
 * bodies arrive as raw bytes (forwarded byte for byte when nothing changes them), without the security headers meant
 * for the API and UI, and with errors shaped like the provider's. The gateway authenticates each call itself
 * (virtual key or x-netra-key), so the route table marks these routes `gateway`.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { errorBody, GATEWAY_ENDPOINTS, GatewayError, type GatewayEndpoint } from '../../gateway/endpoints.js';
import type { Gateway } from '../../gateway/index.js';
import { route } from '../schemas/common.js';
import { GatewayBody, GatewayErrorBody, GatewayQuery, GatewayResponse, GatewayStream } from '../schemas/ingest.js';

export interface GatewayRouteDeps {
  gateway: Gateway;
  maxBodyBytes: number;
}

/** The description of one endpoint: the provider's API, forwarded (the schemas describe; bytes pass through untouched). */
function describe(ep: GatewayEndpoint) {
  const provider = ep.family === 'openai' ? 'OpenAI' : 'Anthropic';
  const err = (description: string) => ({ description, content: { 'application/json': { schema: GatewayErrorBody } } });
  return route({
    summary: `${provider}-compatible ${ep.method} ${ep.path}: forwarded to the provider${ep.operation ? ', and recorded as an event' : ''}`,
    description:
      'Authenticated with a Netra API key (Authorization: Bearer, or x-netra-key beside the provider key); see docs/GATEWAY.md. ' +
      "Requests and answers are the provider's own; errors the gateway raises itself come in the provider's error shape.",
    tags: ['gateway'],
    querystring: GatewayQuery,
    ...(ep.method === 'POST' ? { body: GatewayBody } : {}),
    ok: {
      200: {
        description: "the provider's answer",
        content: {
          'application/json': { schema: GatewayResponse },
          ...(ep.operation ? { 'text/event-stream': { schema: GatewayStream } } : {}),
        },
      },
      400: err('invalid request'),
      401: err('no or an unknown Netra key'),
      403: err('the key may not use the gateway'),
      413: err('body over NETRA_GATEWAY_MAX_BODY_BYTES'),
      502: err('the provider could not be reached'),
    },
    errors: [],
  });
}

export async function gatewayRoutes(app: FastifyInstance, deps: GatewayRouteDeps): Promise<void> {
  const byUrl = new Map(GATEWAY_ENDPOINTS.map((e) => [`${e.method} ${e.path}`, e]));
  await app.register(async (gw) => {
    gw.removeAllContentTypeParsers();
    gw.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes }, (_req, body, done) => done(null, body));
    gw.setErrorHandler((err: FastifyError, req, reply) => {
      const ep: GatewayEndpoint | undefined = byUrl.get(`${req.method} ${req.routeOptions.url ?? ''}`);
      const family = ep?.family ?? 'openai';
      const e =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? new GatewayError(
              'too_large',
              `request body exceeds ${deps.maxBodyBytes} bytes (NETRA_GATEWAY_MAX_BODY_BYTES)`,
              '(body)',
              'netra_body_too_large',
            )
          : err.code === 'NETRA_E_RATE_LIMITED' || (err as { status?: number }).status === 429
            ? new GatewayError('invalid_request', err.message, null, 'netra_rate_limited')
            : new GatewayError(
                typeof err.statusCode === 'number' && err.statusCode < 500 ? 'invalid_request' : 'internal',
                err.message,
                null,
                'netra_request',
              );
      void reply.status(e.status).header('content-type', 'application/json').header('x-netra-error', e.code).send(errorBody(family, e));
    });
    for (const ep of GATEWAY_ENDPOINTS) {
      gw.route({
        method: ep.method,
        url: ep.path,
        helmet: false,
        schema: describe(ep),
        handler: async (req, reply) => {
          reply.hijack();
          const q = req.url.indexOf('?');
          await deps.gateway.proxy.handle(ep, req.raw, reply.raw, req.body as Buffer | undefined, q >= 0 ? req.url.slice(q) : '');
        },
      });
    }
  });
}
