/**
 * A local HTTP server speaking the OpenAI and Anthropic APIs (the parts the gateway proxies), standing in for the remote
 * providers. The model name picks the behaviour: `error-400|401|429|500` answer that error in the provider's shape
 * (429 with retry-after and rate-limit headers), `cut` streams two chunks then drops the connection, `slow` never
 * answers (until the server closes). Every request is kept (method, path, headers, body) for assertions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | null;
  raw: string;
}

export interface FakeProvider {
  url: string;
  /** OpenAI-style base URL (ends in /v1) */
  openaiBase: string;
  seen: SeenRequest[];
  /** requests held open (model `slow`) that the client side has not closed yet */
  held(): number;
  close(): Promise<void>;
}

const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 } };
const WORDS = ['Hello', ' from', ' the', ' fake', ' upstream'];

function lastUserText(body: Record<string, unknown>): string {
  const msgs = Array.isArray(body.messages) ? (body.messages as { role: string; content: unknown }[]) : [];
  const m = [...msgs].reverse().find((x) => x.role === 'user');
  return typeof m?.content === 'string' ? m.content : 'ok';
}

function openAiError(res: ServerResponse, status: number): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': 'req_fake' };
  if (status === 429)
    Object.assign(headers, { 'retry-after': '7', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-limit-requests': '100' });
  const type =
    status === 401
      ? 'authentication_error'
      : status === 429
        ? 'rate_limit_error'
        : status === 500
          ? 'server_error'
          : 'invalid_request_error';
  res.writeHead(status, headers).end(
    JSON.stringify({
      error: {
        message: `fake ${status}`,
        type,
        param: status === 400 ? 'model' : null,
        code: status === 429 ? 'rate_limit_exceeded' : null,
      },
    }),
  );
}

function anthropicError(res: ServerResponse, status: number): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': 'req_fake' };
  if (status === 429) Object.assign(headers, { 'retry-after': '7', 'anthropic-ratelimit-requests-remaining': '0' });
  const type =
    status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : status === 500 ? 'api_error' : 'invalid_request_error';
  res.writeHead(status, headers).end(JSON.stringify({ type: 'error', error: { type, message: `fake ${status}` } }));
}

const sse = (res: ServerResponse, data: unknown, event?: string) =>
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

/** Writes the chunks, then drops the connection once they are on the wire (a provider failing mid-stream). */
function cutAfter(res: ServerResponse, chunks: string[]): void {
  chunks.forEach((c, i) => res.write(c, i === chunks.length - 1 ? () => setImmediate(() => res.socket?.destroy()) : undefined));
}

function chat(body: Record<string, unknown>, res: ServerResponse): void {
  const model = String(body.model);
  const servedModel = model === 'gpt-4o-mini' ? 'gpt-4o-mini-2024-07-18' : model;
  const tools = Array.isArray(body.tools) && body.tools.length > 0;
  if (body.stream !== true) {
    const message = tools
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        }
      : { role: 'assistant', content: `echo: ${lastUserText(body)}` };
    res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining-requests': '99', 'openai-processing-ms': '5' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: servedModel,
        choices: [{ index: 0, message, finish_reason: tools ? 'tool_calls' : 'stop' }],
        usage: USAGE,
      }),
    );
    return;
  }
  const withUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = { id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: servedModel };
  const extra = withUsage ? { usage: null } : {};
  const chunk = (w: string, i: number) => ({
    ...base,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: w } : { content: w }, finish_reason: null }],
    ...extra,
  });
  if (model === 'cut')
    return cutAfter(res, [`data: ${JSON.stringify(chunk(WORDS[0]!, 0))}\n\n`, `data: ${JSON.stringify(chunk(WORDS[1]!, 1))}\n\n`]);
  WORDS.forEach((w, i) => sse(res, chunk(w, i)));
  sse(res, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...extra });
  if (withUsage) sse(res, { ...base, choices: [], usage: USAGE });
  sse(res, '[DONE]');
  res.end();
}

function messages(body: Record<string, unknown>, res: ServerResponse): void {
  const model = String(body.model);
  const usage = { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 3, cache_creation_input_tokens: 0 };
  const tools = Array.isArray(body.tools) && body.tools.length > 0;
  if (body.stream !== true) {
    const content = tools
      ? [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }]
      : [{ type: 'text', text: `echo: ${lastUserText(body)}` }];
    res.writeHead(200, { 'content-type': 'application/json', 'anthropic-ratelimit-requests-remaining': '99' });
    res.end(
      JSON.stringify({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: tools ? 'tool_use' : 'end_turn',
        stop_sequence: null,
        usage,
      }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  sse(
    res,
    {
      type: 'message_start',
      message: {
        id: 'msg_2',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 3, cache_creation_input_tokens: 0 },
      },
    },
    'message_start',
  );
  sse(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
  const delta = (w: string) =>
    `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } })}\n\n`;
  if (model === 'cut') return cutAfter(res, [delta(WORDS[0]!), delta(WORDS[1]!)]);
  WORDS.forEach((w) => res.write(delta(w)));
  sse(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
  sse(
    res,
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } },
    'message_delta',
  );
  sse(res, { type: 'message_stop' }, 'message_stop');
  res.end();
}

export async function startFakeProvider(opts: { keep?: boolean } = {}): Promise<FakeProvider> {
  const seen: SeenRequest[] = [];
  const held = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | null = null;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      const path = (req.url ?? '').split('?')[0]!;
      if (opts.keep !== false) seen.push({ method: req.method ?? '', path, headers: req.headers, body, raw });
      const anthropic = path.startsWith('/v1/messages');
      const authed = anthropic ? typeof req.headers['x-api-key'] === 'string' : /^Bearer sk-/.test(String(req.headers.authorization ?? ''));
      if (!authed) return anthropic ? anthropicError(res, 401) : openAiError(res, 401);
      const model = String(body?.model ?? '');
      const m = /^error-(\d{3})$/.exec(model);
      if (m) return anthropic ? anthropicError(res, Number(m[1])) : openAiError(res, Number(m[1]));
      if (model === 'slow') {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      if (req.method === 'GET' && path === '/v1/models') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1, owned_by: 'fake' }] }));
        return;
      }
      switch (path) {
        case '/v1/chat/completions':
          return chat(body ?? {}, res);
        case '/v1/completions':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(
            JSON.stringify({
              id: 'cmpl-1',
              object: 'text_completion',
              created: 1,
              model,
              choices: [{ index: 0, text: ' completed', finish_reason: 'length' }],
              usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
            }),
          );
        case '/v1/embeddings': {
          const inputs = Array.isArray(body?.input) ? body.input : [body?.input];
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(
            JSON.stringify({
              object: 'list',
              model,
              data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.1, 0.2, 0.3] })),
              usage: { prompt_tokens: 8, total_tokens: 8 },
            }),
          );
        }
        case '/v1/responses':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(
            JSON.stringify({
              id: 'resp_1',
              object: 'response',
              created_at: 1,
              model,
              status: 'completed',
              output: [
                {
                  type: 'message',
                  id: 'msg_1',
                  role: 'assistant',
                  status: 'completed',
                  content: [{ type: 'output_text', text: 'responded', annotations: [] }],
                },
              ],
              usage: {
                input_tokens: 9,
                output_tokens: 1,
                total_tokens: 10,
                input_tokens_details: { cached_tokens: 0 },
                output_tokens_details: { reasoning_tokens: 0 },
              },
            }),
          );
        case '/v1/messages':
          return messages(body ?? {}, res);
        case '/v1/messages/count_tokens':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ input_tokens: 10 }));
        default:
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    openaiBase: `${url}/v1`,
    seen,
    held: () => held.size,
    async close() {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
