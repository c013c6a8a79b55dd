/**
 * The OpenAPI document (GET /openapi.json) and its page (GET /docs): valid OpenAPI 3.x, every REST route Fastify knows
 * described with its request parts and a 2xx response (a new route without a description fails here), and the answers
 * of the read routes on a real workspace match the response schemas their routes declare.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { registeredRoutes } from '../src/server/auth.js';
import { describedRoutes } from '../src/server/openapi.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/** Not REST API: the WebSocket upgrade, the UI's static files, the documentation itself, CORS preflight. */
const NOT_API = (method: string, url: string) =>
  method === 'OPTIONS' || url === '/ws' || url === '/' || url.startsWith('/ui/') || url === '/openapi.json' || url.startsWith('/docs');
/** POST routes that take no body (everything else that is POST, PUT or PATCH must describe one). */
const NO_BODY = new Set(['POST /api/v1/auth/local', 'POST /api/v1/workspaces/:workspace/reprice']);
const END = Date.UTC(2026, 10, 20);

type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

describe('OpenAPI', () => {
  let t: TestApp;
  let auth: { authorization: string };
  let spec: { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, Operation>> };
  const inject = (o: InjectOptions) => t.app.server.inject({ ...o, headers: { ...auth, ...o.headers } });

  beforeAll(async () => {
    t = await startTestApp();
    auth = await t.auth();
    await t.app.generate({ preset: 'chat-support', events: 400, days: 2, seed: 5, workspace: 'doc', end: END });
    const r = await t.app.server.inject({ url: '/openapi.json' }); // public: no credential
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    spec = r.json();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('is a valid OpenAPI 3.x document (checked against the official schema)', async () => {
    expect(spec.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(spec.info.title).toBe('Netra API');
    const v = new Validator();
    const res = await v.validate(structuredClone(spec) as Record<string, unknown>);
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
  });

  it('describes every REST route: path and query parameters, the body where one is taken, a 2xx response with its schema', () => {
    const routes = registeredRoutes(t.app.server).filter((r) => !NOT_API(r.method, r.url));
    expect(routes.length).toBeGreaterThan(60);
    const schemas = new Map(describedRoutes(t.app.server).map((r) => [`${r.method} ${r.url}`, r.schema]));
    const problems: string[] = [];
    for (const { method, url } of routes) {
      const key = `${method} ${url}`;
      const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = spec.paths[path]?.[method.toLowerCase()];
      if (!op) {
        problems.push(`${key}: not in the document`);
        continue;
      }
      const schema = schemas.get(key);
      // the query: described (an empty object when the route takes none) so clients know what is read
      if (!schema?.querystring) problems.push(`${key}: no querystring schema`);
      for (const p of url.match(/:([A-Za-z0-9_]+)/g) ?? []) {
        if (!op.parameters?.some((x) => x.in === 'path' && x.name === p.slice(1))) problems.push(`${key}: path parameter ${p} missing`);
      }
      const takesBody = ['POST', 'PUT', 'PATCH'].includes(method) && !NO_BODY.has(key);
      if (takesBody && !Object.values(op.requestBody?.content ?? {}).some((c) => c.schema)) problems.push(`${key}: no request body`);
      if (!takesBody && op.requestBody && method !== 'DELETE') problems.push(`${key}: a body described on a route that takes none`);
      const ok = Object.entries(op.responses).filter(([s]) => /^2\d\d$/.test(s));
      if (ok.length === 0) problems.push(`${key}: no 2xx response`);
      for (const [status, r] of ok) {
        if (status !== '204' && !Object.values(r.content ?? {}).some((c) => c.schema)) problems.push(`${key}: ${status} has no schema`);
      }
      const errors = Object.keys(op.responses).filter((s) => /^[45]\d\d$/.test(s));
      if (errors.length === 0 && !url.startsWith('/health') && url !== '/metrics') problems.push(`${key}: no error response`);
    }
    expect(problems).toEqual([]);
  });

  it('describes errors with the one envelope of src/errors.ts', () => {
    const envelope = (spec as unknown as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } }).components
      .schemas.Error;
    expect(Object.keys(envelope?.properties ?? {})).toEqual(['error']);
    const op = spec.paths['/api/v1/breakdown']!.get!;
    expect(op.responses['400']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
    // OTLP answers in the request's encoding
    const otlp = spec.paths['/v1/traces']!.post!;
    expect(Object.keys(otlp.requestBody!.content).sort()).toEqual(['application/json', 'application/x-protobuf']);
    expect(Object.keys(otlp.responses['200']!.content!).sort()).toEqual(['application/json', 'application/x-protobuf']);
    // ingest takes JSON and NDJSON streams
    expect(Object.keys(spec.paths['/api/v1/events']!.post!.requestBody!.content).sort()).toEqual([
      'application/json',
      'application/x-ndjson',
    ]);
  });

  it('serves a browsable page at /docs from this server (no CDN) that loads the same document', async () => {
    const page = await t.app.server.inject({ url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src.startsWith('/docs/')).toBe(true); // same origin
      const r = await t.app.server.inject({ url: src });
      expect(r.statusCode, src).toBe(200);
      expect(r.headers['content-type'], src).toMatch(/javascript/);
    }
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(page.headers['content-security-policy'])).not.toContain('upgrade-insecure-requests');
    const docJson = await t.app.server.inject({ url: '/docs/json' });
    expect(docJson.json()).toEqual(spec);
  });

  it("answers the read routes with what their response schemas say (a route's answer that drifts from its schema fails here)", async () => {
    const ownerId = t.app.accounts.identity.localOwnerId();
    const samples: Record<string, string> = {
      'GET /health/live': '/health/live',
      'GET /health/ready': '/health/ready',
      'GET /api/v1/stats': '/api/v1/stats?workspace=doc',
      'GET /api/v1/models/unpriced': '/api/v1/models/unpriced?workspace=doc',
      'GET /api/v1/workspaces': '/api/v1/workspaces',
      'GET /api/v1/events': '/api/v1/events?workspace=doc&limit=5',
      'GET /api/v1/catalog': '/api/v1/catalog',
      'GET /api/v1/analysis': '/api/v1/analysis?workspace=doc&goal=cost',
      'GET /api/v1/breakdown': '/api/v1/breakdown?workspace=doc&by=app&granularity=day&top=2&metric=calls',
      'GET /api/v1/policy': '/api/v1/policy?workspace=doc',
      'GET /api/v1/me': '/api/v1/me',
      'GET /api/v1/users': '/api/v1/users',
      'GET /api/v1/users/:user_id': `/api/v1/users/${ownerId}`,
      'GET /api/v1/workspaces/:workspace/members': '/api/v1/workspaces/doc/members',
      'GET /api/v1/workspaces/:workspace/api-keys': '/api/v1/workspaces/doc/api-keys',
      'GET /api/v1/workspaces/:workspace/provider-secrets': '/api/v1/workspaces/doc/provider-secrets',
      'GET /api/v1/workspaces/:workspace/price-overrides': '/api/v1/workspaces/doc/price-overrides',
      'GET /api/v1/workspaces/:workspace/gateway-policy': '/api/v1/workspaces/doc/gateway-policy',
      'GET /api/v1/system/performance': '/api/v1/system/performance',
      'GET /api/v1/jobs': '/api/v1/jobs?workspace=doc',
      'GET /api/v1/threads': '/api/v1/threads?workspace=doc',
    };
    const schemas = new Map(describedRoutes(t.app.server).map((r) => [`${r.method} ${r.url}`, r.schema]));
    const drift: string[] = [];
    for (const [key, url] of Object.entries(samples)) {
      const res = await inject({ url });
      expect(res.statusCode, `${key}: ${res.body.slice(0, 200)}`).toBe(200);
      const response = schemas.get(key)?.response as Record<number, { content: Record<string, { schema: z.ZodType }> }> | undefined;
      const zod = response?.[200]?.content['application/json']?.schema;
      expect(zod, key).toBeDefined();
      const r = zod!.safeParse(res.json());
      if (!r.success) drift.push(`${key}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    expect(drift).toEqual([]);
  });
});
