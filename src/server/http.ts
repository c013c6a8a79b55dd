/**
 * Builds the Fastify server: error mapping, content types, routes. No listening here (app.ts decides).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServerDeps } from './deps.js';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { NetraError } from '../errors.js';
import { installErrorHandler } from './errors.js';
import { installOpenApi } from './openapi.js';
import { analysisRoutes } from './routes/analysis.js';
import { catalogRoutes } from './routes/catalog.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { otlpRoutes } from './routes/otlp.js';
import { statsRoutes } from './routes/stats.js';
// accounts and security
import { installSecurity } from './auth.js';
import { accountsRoutes } from './routes/accounts.js';
// observability
import { metricsRoutes } from './routes/metrics.js';
import { systemRoutes } from './routes/system.js';
// background jobs
import { jobsRoutes } from './routes/jobs.js';
// conversations and agent runs
import { chatRoutes } from './routes/chat.js';
import { registerWebSocketGateway } from './ws/gateway.js';
// the web UI's static files
import { webRoutes } from './routes/web.js';
import { gatewayRoutes } from './routes/gateway.js';
import { gatewayPolicyRoutes } from './routes/gateway-policy.js';
import { workspaceSettingsRoutes } from './routes/workspace-settings.js';

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.config.ingest.maxBodyBytes,
    // one line per request from our own onResponse hook instead of Fastify's two
    logController: new LogController({ disableRequestLogging: true }),
    // Finish in-flight requests on close; refuse new ones.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // client address from X-Forwarded-For only behind a configured reverse proxy (rate limits per IP)
    trustProxy: deps.config.security.trustProxy,
  });
  installErrorHandler(app, deps.config.ingest);
  // An empty body with content-type: application/json (common on DELETE from HTTP clients) is no body, not bad JSON;
  // everything else goes through Fastify's own parser (prototype-poisoning checks included).
  // prototype-poisoning keys are removed (not the whole body refused): the same rule as NDJSON lines (ingest/safe-json.ts)
  const defaultJson = app.getDefaultJsonParser('remove', 'remove');
  // compressed bodies (OpenTelemetry exporters send gzip): inflated as a stream, so body limits count inflated bytes
  app.addHook('preParsing', async (req, _reply, payload) => {
    const enc = String(req.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (enc === 'identity' || enc === '') return payload;
    if ((req.routeOptions.config as { ownContentEncoding?: boolean } | undefined)?.ownContentEncoding) return payload;
    const make =
      enc === 'gzip' || enc === 'x-gzip' ? createGunzip : enc === 'deflate' ? createInflate : enc === 'br' ? createBrotliDecompress : null;
    if (!make)
      throw new NetraError(
        'UNSUPPORTED_MEDIA',
        `Content-Encoding ${enc.slice(0, 40)} is not supported; send identity, gzip, deflate or br`,
        { field: 'content-encoding' },
      );
    const inflated = payload.pipe(make()) as typeof payload & { receivedEncodedLength?: number };
    inflated.receivedEncodedLength = 0;
    payload.on('data', (d: Buffer) => {
      inflated.receivedEncodedLength! += d.length;
    });
    inflated.on('error', () => undefined); // a corrupt stream fails the parse with its own error
    return inflated;
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) done(null, undefined);
    else defaultJson(req, body as string, done);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode >= 500) req.log.warn({ url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request failed');
    else req.log.debug({ url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    // latency histogram by route pattern (never the raw URL: bounded label values)
    deps.observability?.recordHttp(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime);
  });
  // security headers, CORS, rate limits, authentication and the authorization rule of every route (before any route)
  await installSecurity(app, deps);
  // before the routes: the document collects each route's schemas as it is registered
  await installOpenApi(app);
  healthRoutes(app, deps);
  ingestRoutes(app, deps);
  otlpRoutes(app, deps);
  statsRoutes(app, deps);
  catalogRoutes(app, deps);
  workspaceSettingsRoutes(app, deps);
  analysisRoutes(app, deps);
  accountsRoutes(app, deps);
  metricsRoutes(app, deps);
  systemRoutes(app, deps);
  jobsRoutes(app, deps);
  chatRoutes(app, deps);
  if (deps.gateway) {
    await gatewayRoutes(app, { gateway: deps.gateway, maxBodyBytes: deps.config.gateway.maxBodyBytes });
    gatewayPolicyRoutes(app, deps.gateway, deps.gatewaySavings);
  }
  webRoutes(app);
  await registerWebSocketGateway(app, deps);
  await app.ready();
  return app;
}
