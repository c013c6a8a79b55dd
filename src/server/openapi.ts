/**
 * The OpenAPI document of the REST API, built from the zod schemas each route declares (`schema: { querystring, params,
 * body, response }`), served at GET /openapi.json, with a browsable page (Swagger UI, served from this process: no CDN)
 * at GET /docs.
 *
 * The schemas describe; they do not take over the request path. Handlers keep validating their own input (the ingest,
 * OTLP and gateway routes read raw streams and bytes with their own parsers, and the other routes answer errors that name
 * the field, see errors.ts), so the validator compiler accepts every value as it is, and the serializer is plain
 * JSON.stringify: no field a handler returns is ever stripped or coerced by a response schema. The documents' truth is
 * held by test/openapi.test.ts (every route described; responses of the GET routes checked against their schemas).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OPTIONAL_BODY } from './schemas/common.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/** `body: { content: { '<media type>': { schema: zod } } }`: a request that takes several media types, each described. */
interface ContentMap {
  content: Record<string, { schema: z.ZodType }>;
}
const isContentMap = (v: unknown): v is ContentMap =>
  typeof v === 'object' && v !== null && !(v instanceof z.ZodType) && 'content' in v && typeof v.content === 'object';

/** fastify-type-provider-zod's transform, plus request bodies given per media type (OTLP protobuf/JSON, NDJSON). */
function transform(doc: TransformInput) {
  const schema = doc.schema as Record<string, unknown> | undefined;
  const body = schema?.body;
  if (!schema || !isContentMap(body)) return jsonSchemaTransform(doc);
  const { body: _body, ...rest } = schema;
  const out = jsonSchemaTransform({ ...doc, schema: rest } as TransformInput);
  const content: Record<string, { schema: unknown }> = {};
  for (const [type, { schema: s }] of Object.entries(body.content)) {
    content[type] = { schema: (jsonSchemaTransform({ ...doc, schema: { body: s } } as TransformInput).schema as { body: unknown }).body };
  }
  return { ...out, schema: { ...out.schema, body: { content } } };
}

type OpenApiDoc = ReturnType<typeof jsonSchemaTransformObject>;
function transformObject(doc: Parameters<typeof jsonSchemaTransformObject>[0]): OpenApiDoc {
  const out = jsonSchemaTransformObject(doc);
  for (const item of Object.values((out as { paths?: Record<string, Record<string, unknown>> }).paths ?? {})) {
    for (const op of Object.values(item) as Record<string, unknown>[]) {
      if (!op || typeof op !== 'object' || !(OPTIONAL_BODY in op)) continue;
      delete op[OPTIONAL_BODY];
      if (op.requestBody) (op.requestBody as { required: boolean }).required = false;
    }
  }
  dropUnreferenced(out as { components?: { schemas?: Record<string, unknown> } });
  return out;
}

/**
 * The zod provider lists each registered schema twice (its input and its output form); most are only ever one of the
 * two. Components nothing refers to are dropped, so the document lists what the routes use.
 */
function dropUnreferenced(doc: { components?: { schemas?: Record<string, unknown> } }): void {
  const schemas = doc.components?.schemas;
  if (!schemas) return;
  for (let changed = true; changed; ) {
    changed = false;
    const text = JSON.stringify(doc);
    for (const name of Object.keys(schemas)) {
      if (text.includes(`"#/components/schemas/${name}"`)) continue;
      delete schemas[name];
      changed = true;
    }
  }
}

export interface DescribedRoute {
  method: string;
  url: string;
  /** the route's `schema` option as registered (zod schemas; undefined when it has none) */
  schema: Record<string, unknown> | undefined;
}
const described = new WeakMap<FastifyInstance, DescribedRoute[]>();

/** Every route registered after installOpenApi with its schema (HEAD folded into GET), for test/openapi.test.ts. */
export function describedRoutes(app: FastifyInstance): DescribedRoute[] {
  return described.get(app) ?? [];
}

export async function installOpenApi(app: FastifyInstance): Promise<void> {
  const routes: DescribedRoute[] = [];
  described.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat())
      if (m !== 'HEAD') routes.push({ method: m, url: r.url, schema: r.schema as Record<string, unknown> | undefined });
  });
  // see the file comment: descriptions only, never a second validation or a lossy serialization
  // a JSON-schema part would expect Fastify to validate it, which it no longer does here: refused when the route is
  // registered (describe with zod, validate in the handler) rather than left silently unchecked
  app.setValidatorCompiler(({ schema, method, url, httpPart }) => {
    if (!(schema instanceof z.ZodType))
      throw new Error(
        `${method} ${url}: the ${httpPart} schema is not a zod schema; routes describe their parts with zod and validate in the handler (src/server/openapi.ts)`,
      );
    return () => true;
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Netra API',
        version: VERSION,
        description:
          'Where your LLM money and latency go, and what to change. Errors are `{ error: { code, message, field?, details? } }` ' +
          'with the stable `NETRA_E_*` codes of docs/OPERATIONS.md ("Error codes"); the OTLP receiver and the LLM gateway answer ' +
          "errors in their own protocol's shape. Live updates of a chat run stream over the WebSocket at /ws (docs/PROTOCOL.md).",
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'an access token (`netra token`, POST /api/v1/auth/login) or an API key',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform,
    transformObject,
  });

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // the page's scripts come from this server (helmet's CSP: script-src 'self'); same exception as the web UI's page:
    // upgrade-insecure-requests would send a plain-HTTP LAN server's browser to https:// for every script
    transformStaticCSP: (header: string) =>
      header
        .split(';')
        .filter((d) => d.trim() !== 'upgrade-insecure-requests')
        .join(';'),
    uiConfig: { deepLinking: true, docExpansion: 'list' },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('cache-control', 'no-cache');
    return app.swagger();
  });
}
