/**
 * A local HTTP server (node:http, 127.0.0.1, port 0) that speaks the OpenAI chat-completions protocol
 * (POST /chat/completions, plain and SSE) and the Anthropic Messages API (POST /v1/messages, plain and SSE), driven by
 * a script of replies: ok, an HTTP status with headers/body, a hang, or a stream that stalls after its first delta. Records every request with its arrival time,
 * so tests assert retries, backoff gaps and breaker behaviour from the server's side.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeReply =
  | { kind: 'ok'; text?: string; usage?: { prompt: number; completion: number } }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'hang' }
  /** an OpenAI stream that sends one delta and then nothing more */
  | { kind: 'stall'; text: string };

export interface RecordedRequest {
  at: number;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export interface FakeLlmServer {
  url: string;
  requests: RecordedRequest[];
  /** replies used in order, one per request; when empty, `otherwise` answers */
  queue(...replies: FakeReply[]): void;
  otherwise: FakeReply;
  /** resolves when the server has received n requests in total */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_TEXT = 'Hello from the fake server.';

export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  const pending: FakeReply[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const state: FakeLlmServer = {
    url: '',
    requests: [],
    queue: (...r) => void pending.push(...r),
    otherwise: { kind: 'ok' },
    received: (n) =>
      new Promise<void>((resolve) => {
        if (state.requests.length >= n) resolve();
        else waiters.push({ n, resolve });
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // recorded as {}
      }
      state.requests.push({ at: performance.now(), path: req.url ?? '', headers: req.headers, body });
      for (const w of waiters.filter((x) => state.requests.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      reply(req, res, body, pending.shift() ?? state.otherwise);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

function reply(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, r: FakeReply): void {
  if (r.kind === 'hang') return;
  if (r.kind === 'stall') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: r.text } }] })}\n\n`);
    return;
  }
  if (r.kind === 'status') {
    res.writeHead(r.status, { 'content-type': 'application/json', ...(r.headers ?? {}) });
    res.end(r.body ?? JSON.stringify({ error: { message: `status ${r.status}` } }));
    return;
  }
  const text = r.text ?? DEFAULT_TEXT;
  const usage = r.usage ?? { prompt: 11, completion: 7 };
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const anthropic = (req.url ?? '').endsWith('/v1/messages');
  const pieces = text.match(/\S+\s*|\s+/g) ?? [];
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        anthropic
          ? {
              id: 'msg_1',
              type: 'message',
              role: 'assistant',
              model,
              content: [{ type: 'text', text }],
              stop_reason: 'end_turn',
              usage: { input_tokens: usage.prompt, output_tokens: usage.completion },
            }
          : {
              id: 'cmpl_1',
              object: 'chat.completion',
              model,
              choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
              usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion },
            },
      ),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (anthropic) {
    const ev = (name: string, data: unknown): void => void res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    ev('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        usage: { input_tokens: usage.prompt, output_tokens: 1 },
      },
    });
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    ev('ping', { type: 'ping' });
    for (const p of pieces) ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } });
    ev('content_block_stop', { type: 'content_block_stop', index: 0 });
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: usage.completion } });
    ev('message_stop', { type: 'message_stop' });
  } else {
    res.write(': keep-alive comment\n\n');
    for (const p of pieces) res.write(`data: ${JSON.stringify({ id: 'c1', model, choices: [{ index: 0, delta: { content: p } }] })}\n\n`);
    res.write(
      `data: ${JSON.stringify({ id: 'c1', model, choices: [], usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion } })}\n\n`,
    );
    res.write('data: [DONE]\n\n');
  }
  res.end();
}
