/**
 * A local HTTP server speaking the OpenAI chat-completions API the way api.openai.com does: the response model is the
 * dated snapshot of the requested one, usage is in every non-streamed answer, and a streamed answer carries usage only
 * when the request asks for it (`stream_options.include_usage`), as the real API does.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpenAiApiServer {
  url: string;
  close(): Promise<void>;
}

export const ANSWER = 'Paris is the capital of France.';
export const USAGE = { prompt_tokens: 23, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 16 } };
const SNAPSHOT: Record<string, string> = { 'gpt-4o-mini': 'gpt-4o-mini-2024-07-18', 'gpt-4o': 'gpt-4o-2024-08-06' };

export async function startOpenAiApiServer(): Promise<OpenAiApiServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        model?: string;
        stream?: boolean;
        stream_options?: { include_usage?: boolean };
      };
      const model = SNAPSHOT[body.model ?? ''] ?? body.model ?? 'unknown';
      const usage = { ...USAGE, total_tokens: USAGE.prompt_tokens + USAGE.completion_tokens };
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1_767_225_600,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
            usage,
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: Record<string, unknown>, finish: string | null) =>
        res.write(
          `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1_767_225_600, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
        );
      chunk({ role: 'assistant', content: '' }, null);
      for (const piece of ANSWER.match(/\S+\s*/g) ?? []) chunk({ content: piece }, null);
      chunk({}, 'stop');
      if (body.stream_options?.include_usage)
        res.write(
          `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1_767_225_600, model, choices: [], usage })}\n\n`,
        );
      res.write('data: [DONE]\n\n');
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
