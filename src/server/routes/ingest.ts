/**
 * Ingestion endpoints. All of them end in the one ingest path (deps.ingest):
 * - POST /api/v1/events: JSON array or { events: [...] } (≤ maxEventsPerRequest, ≤ maxBodyBytes), or application/x-ndjson streams;
 * - POST /api/v1/logs/openai: OpenAI chat-completion responses with request metadata.
 * (OTLP/HTTP, POST /v1/traces, is in routes/otlp.ts.)
 * Status: 200 when every event was accepted (or was already stored), 207 when some were rejected, 400 when none was valid.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { errorBody, NetraError } from '../../errors.js';
import { parseJsonBody } from '../../ingest/json-body.js';
import { parseNdjsonBatches } from '../../ingest/ndjson.js';
import { parseOpenAiLogs } from '../../ingest/openai-log.js';
import type { IngestItem } from '../../ingest/types.js';
import type { IngestSummary } from '../../ingest/pipeline.js';
import type { ServerDeps } from '../deps.js';
import { parseWorkspace } from '../params.js';
import { JSON_EXPANSION } from '../memory-budget.js';
import { errors, json } from '../schemas/common.js';
import { EventsIngestBody, IngestQuery, IngestRejected, IngestSummary as IngestSummarySchema, OpenAiLogsBody } from '../schemas/ingest.js';

/** 200 all stored (or already stored), 207 some rejected, 400 none valid; the rest in the error envelope. */
const INGEST_RESPONSES = {
  200: json(IngestSummarySchema, 'every event accepted or already stored'),
  207: json(IngestSummarySchema, 'some events rejected (`errors` names each row and field); the valid ones are stored'),
  400: json(IngestRejected, 'no valid event (or a malformed body: then only the error envelope)'),
  ...errors(401, 403, 413, 415, 429, 503),
};

export function ingestRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { maxEventsPerRequest, maxBodyBytes, maxNdjsonBodyBytes, maxBatchBytes } = deps.config.ingest;
  const budget = deps.bodyBudget;

  /**
   * Reserves the request's worst-case memory before its body is read (see server/memory-budget.ts); refused at once with
   * 503 + Retry-After when the server's budget is spent. Released when the response is done or the client left.
   */
  const reserve = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!budget) return;
    // a compressed body inflates up to the body limit: only an identity body's declared length bounds it
    const encoded = !['', 'identity', undefined].includes(req.headers['content-encoding']?.trim().toLowerCase());
    const declared = encoded ? maxBodyBytes : Number(req.headers['content-length']);
    const bytes = isNdjson(req)
      ? 2 * maxBatchBytes + (1 << 20)
      : JSON_EXPANSION * (Number.isFinite(declared) && declared > 0 ? Math.min(declared, maxBodyBytes) : maxBodyBytes);
    const release = budget.tryAcquire(bytes);
    if (!release) {
      reply.header('retry-after', 2);
      throw new NetraError(
        'OVERLOADED',
        `the server is holding its memory budget for request bodies (${Math.round(budget.limitBytes / 1048576)} MiB) in other ingest requests; retry in a few seconds`,
        { field: '(body)' },
      );
    }
    reservations.set(req, release);
    reply.raw.once('close', release); // the client went away before the response
  };
  const reservations = new WeakMap<FastifyRequest, () => void>();
  const done = async (req: FastifyRequest) => {
    reservations.get(req)?.();
  };
  // the body is read by the route's own parsers (streams for NDJSON): the schemas describe it, nothing re-validates it
  const limited = (bodyLimit: number, schema: Record<string, unknown>) => ({ bodyLimit, onRequest: reserve, onResponse: done, schema });

  // NDJSON bodies stay streams: parsed line by line, stored batch by batch, never buffered whole.
  app.addContentTypeParser(
    ['application/x-ndjson', 'application/jsonl', 'application/ndjson'],
    { bodyLimit: maxNdjsonBodyBytes },
    (_req, payload, done) => done(null, payload),
  );

  const workspaceOf = (req: FastifyRequest) =>
    parseWorkspace((req.query as Record<string, unknown>).workspace ?? req.headers['x-netra-workspace'], deps.config.defaultWorkspace);

  const respond = (reply: FastifyReply, r: IngestSummary, extra: Record<string, unknown> = {}) => {
    const body = {
      accepted: r.accepted,
      rejected: r.rejected,
      duplicates: r.duplicates,
      errors: r.errors,
      errors_total: r.errors_total ?? r.errors.length,
      ...extra,
    };
    if (r.rejected === 0) return reply.status(200).send(body);
    if (r.accepted + r.duplicates > 0) return reply.status(207).send(body);
    return reply.status(400).send({ ...body, ...errorBody('NO_VALID_EVENTS', `none of the ${r.rejected} events was valid; see errors`) });
  };

  const checkCount = (n: number) => {
    if (n > maxEventsPerRequest) {
      throw new NetraError(
        'TOO_MANY_EVENTS',
        `${n} events in one request; the limit is ${maxEventsPerRequest}. Split the batch or send application/x-ndjson.`,
        { field: 'events' },
      );
    }
    if (n === 0) throw new NetraError('VALIDATION', 'no events in the request body', { field: 'events' });
  };

  const eventsSchema = {
    summary: 'Sends events: a JSON array or { events }, or an NDJSON stream of any length',
    description: 'One event per LLM call (fields: docs/EVENTS.md). Re-sent events (same event_id) are not stored twice.',
    tags: ['ingest'],
    querystring: IngestQuery,
    body: EventsIngestBody,
    response: INGEST_RESPONSES,
  };
  // The events route reads JSON bodies as bytes: the ingest worker threads parse them (deps.ingestJsonBody); a body
  // they hand back is parsed here by the server's own JSON parser, so the answer is the same whichever thread parsed it.
  const serverJson = app.getDefaultJsonParser('remove', 'remove');
  const parseJson = (req: FastifyRequest, body: Buffer) =>
    new Promise<unknown>((resolve, reject) => {
      const text = body.toString('utf8');
      // an empty body is no body (as the server's JSON parser, src/server/http.ts, has it)
      if (text.trim() === '') resolve(undefined);
      else serverJson(req, text, (err, value) => (err ? reject(err) : resolve(value)));
    });
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/api/v1/events', limited(maxBodyBytes, eventsSchema), async (req, reply) => {
      const workspace = workspaceOf(req);
      if (isNdjson(req)) {
        const r = await deps.ingest(workspace, limitedNdjson(req.body as Readable, maxNdjsonBodyBytes));
        return respond(reply, r);
      }
      // no body at all (no content type) arrives as undefined
      const body = Buffer.isBuffer(req.body) ? req.body : null;
      const encoded = body ? await deps.ingestJsonBody?.(workspace, body, maxEventsPerRequest) : null;
      if (encoded) return respond(reply, encoded);
      const parsed = parseJsonBody(body ? await parseJson(req, body) : req.body);
      if (!parsed.ok) throw new NetraError('VALIDATION', parsed.message, { field: '(body)' });
      checkCount(parsed.items.length);
      return respond(reply, await deps.ingest(workspace, parsed.items));
    });
  });

  const logsSchema = {
    summary: 'Sends OpenAI chat-completion logs (request, response, metadata)',
    tags: ['ingest'],
    querystring: IngestQuery,
    body: OpenAiLogsBody,
    response: INGEST_RESPONSES,
  };
  app.post('/api/v1/logs/openai', limited(maxBodyBytes, logsSchema), async (req, reply) => {
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
      if (bytes > limit) {
        over = true;
        stream.destroy();
        return;
      }
      yield chunk as Buffer;
    }
  }
  let lastLine = 0;
  for await (const items of parseNdjsonBatches(counted())) {
    const last = items[items.length - 1];
    if (last?.line !== undefined) lastLine = last.line;
    yield items;
  }
  if (over)
    yield [
      { line: lastLine + 1, errors: [{ field: '(body)', message: `body exceeds ${limit} bytes; the rest of the stream was not read` }] },
    ];
}
