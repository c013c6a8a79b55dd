/**
 * Ingestion endpoints. All of them end in the one ingest path (deps.ingest):
 * - POST /api/v1/events: JSON array or { events: [...] } (≤ maxEventsPerRequest, ≤ maxBodyBytes), or application/x-ndjson streams;
 * - POST /v1/traces: OTLP/HTTP JSON spans with GenAI semantic-convention attributes;
 * - POST /api/v1/logs/openai: OpenAI chat-completion responses with request metadata.
 * Status: 200 when every event was accepted (or was already stored), 207 when some were rejected, 400 when none was valid.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { errorBody, NetraError } from '../../errors.js';
import { parseJsonBody } from '../../ingest/json-body.js';
import { parseNdjsonBatches } from '../../ingest/ndjson.js';
import { parseOtlpTraces } from '../../ingest/otlp.js';
import { parseOpenAiLogs } from '../../ingest/openai-log.js';
import type { IngestItem } from '../../ingest/types.js';
import type { IngestSummary } from '../../ingest/pipeline.js';
import type { ServerDeps } from '../deps.js';
import { parseWorkspace } from '../params.js';

export function ingestRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { maxEventsPerRequest, maxBodyBytes, maxNdjsonBodyBytes } = deps.config.ingest;

  // NDJSON bodies stay streams: parsed line by line, stored batch by batch, never buffered whole.
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl', 'application/ndjson'], { bodyLimit: maxNdjsonBodyBytes }, (_req, payload, done) => done(null, payload));

  const workspaceOf = (req: FastifyRequest) => parseWorkspace((req.query as Record<string, unknown>).workspace ?? req.headers['x-netra-workspace'], deps.config.defaultWorkspace);

  const respond = (reply: FastifyReply, r: IngestSummary, extra: Record<string, unknown> = {}) => {
    const body = { accepted: r.accepted, rejected: r.rejected, duplicates: r.duplicates, errors: r.errors, errors_total: r.errors_total ?? r.errors.length, ...extra };
    if (r.rejected === 0) return reply.status(200).send(body);
    if (r.accepted + r.duplicates > 0) return reply.status(207).send(body);
    return reply.status(400).send({ ...body, ...errorBody('NO_VALID_EVENTS', `none of the ${r.rejected} events was valid; see errors`) });
  };

  const checkCount = (n: number) => {
    if (n > maxEventsPerRequest) {
      throw new NetraError('TOO_MANY_EVENTS', `${n} events in one request; the limit is ${maxEventsPerRequest}. Split the batch or send application/x-ndjson.`, { field: 'events' });
    }
    if (n === 0) throw new NetraError('VALIDATION', 'no events in the request body', { field: 'events' });
  };

  app.post('/api/v1/events', { bodyLimit: maxBodyBytes }, async (req, reply) => {
    const workspace = workspaceOf(req);
    if (isNdjson(req)) {
      const r = await deps.ingest(workspace, limitedNdjson(req.body as Readable, maxNdjsonBodyBytes));
      return respond(reply, r);
    }
    const parsed = parseJsonBody(req.body);
    if (!parsed.ok) throw new NetraError('VALIDATION', parsed.message, { field: '(body)' });
    checkCount(parsed.items.length);
    return respond(reply, await deps.ingest(workspace, parsed.items));
  });

  app.post('/v1/traces', { bodyLimit: maxBodyBytes }, async (req, reply) => {
    const workspace = workspaceOf(req);
    const parsed = parseOtlpTraces(req.body);
    if (!parsed.ok) throw new NetraError('VALIDATION', parsed.message, { field: '(body)' });
    checkCount(Math.max(parsed.items.length, 1));
    if (parsed.items.length === 0) return reply.status(200).send({ accepted: 0, rejected: 0, duplicates: 0, errors: [], errors_total: 0, skipped_spans: parsed.skipped });
    return respond(reply, await deps.ingest(workspace, parsed.items), { skipped_spans: parsed.skipped });
  });

  app.post('/api/v1/logs/openai', { bodyLimit: maxBodyBytes }, async (req, reply) => {
    const workspace = workspaceOf(req);
    const parsed = parseOpenAiLogs(req.body);
    if (!parsed.ok) throw new NetraError('VALIDATION', parsed.message, { field: '(body)' });
    checkCount(parsed.items.length);
    return respond(reply, await deps.ingest(workspace, parsed.items));
  });
}

function isNdjson(req: FastifyRequest): boolean {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return ct === 'application/x-ndjson' || ct === 'application/jsonl' || ct === 'application/ndjson';
}

/** NDJSON items from a request stream, one array per chunk, refusing bodies above the limit (the rows before it are kept). */
async function* limitedNdjson(stream: Readable, limit: number): AsyncGenerator<IngestItem[]> {
  let bytes = 0;
  let over = false;
  async function* counted() {
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      if (bytes > limit) { over = true; stream.destroy(); return; }
      yield chunk as Buffer;
    }
  }
  let lastLine = 0;
  for await (const items of parseNdjsonBatches(counted())) {
    const last = items[items.length - 1];
    if (last?.line !== undefined) lastLine = last.line;
    yield items;
  }
  if (over) yield [{ line: lastLine + 1, errors: [{ field: '(body)', message: `body exceeds ${limit} bytes; the rest of the stream was not read` }] }];
}
