/**
 * Anthropic Messages API: POST {baseUrl}/v1/messages with `x-api-key` and `anthropic-version`. System prompt is the
 * top-level `system` field (system-role messages are folded into it); streaming is SSE with the events message_start
 * (input usage), content_block_delta (text_delta), message_delta (output usage), message_stop, ping and error.
 * One attempt per call: retries, timeouts, breaker and fallback live in the client.
 */
import { postJson, readJson, readSse, parseJsonData, type FetchFn } from './http.js';
import { usageOf } from './openai-compatible.js';
import { LlmProviderError } from './provider-error.js';
import type { LlmProvider, LlmRequest, LlmResult, LlmStreamChunk } from './types.js';

export interface AnthropicConfig {
  type: 'anthropic';
  apiKey: string;
  model: string;
  /** default https://api.anthropic.com */
  baseUrl?: string;
  /** default 2023-06-01 */
  version?: string;
  /** default 'anthropic' */
  name?: string;
}

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
}

export class AnthropicProvider implements LlmProvider {
  readonly name: string;
  readonly model: string;
  private readonly url: string;

  constructor(
    private readonly cfg: AnthropicConfig,
    private readonly defaults: { maxTokens: number; temperature: number },
    private readonly fetchFn?: FetchFn,
  ) {
    this.name = cfg.name ?? 'anthropic';
    this.model = cfg.model;
    this.url = `${(cfg.baseUrl ?? 'https://api.anthropic.com').replace(/\/+$/, '')}/v1/messages`;
  }

  private post(req: LlmRequest, stream: boolean): Promise<Response> {
    const systemParts = [req.system, ...req.messages.filter((m) => m.role === 'system').map((m) => m.content)].filter(
      (s): s is string => !!s,
    );
    const body: Record<string, unknown> = {
      model: this.model,
      max_tokens: req.maxTokens ?? this.defaults.maxTokens,
      temperature: req.temperature ?? this.defaults.temperature,
      messages: req.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
      ...(systemParts.length > 0 ? { system: systemParts.join('\n\n') } : {}),
      ...(stream ? { stream: true } : {}),
    };
    return postJson({
      provider: this.name,
      url: this.url,
      headers: {
        'x-api-key': this.cfg.apiKey,
        'anthropic-version': this.cfg.version ?? '2023-06-01',
        ...(stream ? { accept: 'text/event-stream' } : {}),
      },
      body,
      signal: req.signal,
      secrets: [this.cfg.apiKey],
      fetch: this.fetchFn,
    });
  }

  async complete(req: LlmRequest): Promise<LlmResult> {
    const started = performance.now();
    const res = await this.post(req, false);
    const json = (await readJson(this.name, res, req.signal)) as {
      model?: string;
      content?: Array<{ type?: string; text?: string }>;
      usage?: AnthropicUsage;
    };
    if (!Array.isArray(json.content)) throw new LlmProviderError(this.name, 'protocol', 'reply without content blocks');
    const text = json.content
      .filter((b) => b.type === 'text' && typeof b.text === 'string')
      .map((b) => b.text)
      .join('');
    return {
      text,
      usage: usageOf({ prompt_tokens: json.usage?.input_tokens, completion_tokens: json.usage?.output_tokens }, req, text),
      model: json.model ?? this.model,
      provider: this.name,
      latency_ms: performance.now() - started,
    };
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmStreamChunk> {
    const started = performance.now();
    const res = await this.post(req, true);
    let text = '';
    let model = this.model;
    let input: number | undefined;
    let output: number | undefined;
    for await (const ev of readSse(this.name, res, req.signal)) {
      const json = parseJsonData(this.name, ev.data);
      const type = (json.type as string | undefined) ?? ev.event;
      if (type === 'message_start') {
        const msg = json.message as { model?: string; usage?: AnthropicUsage } | undefined;
        if (msg?.model) model = msg.model;
        input = msg?.usage?.input_tokens ?? input;
        output = msg?.usage?.output_tokens ?? output;
      } else if (type === 'content_block_delta') {
        const delta = json.delta as { type?: string; text?: string } | undefined;
        if (delta?.type === 'text_delta' && typeof delta.text === 'string' && delta.text.length > 0) {
          text += delta.text;
          yield { type: 'delta', text: delta.text };
        }
      } else if (type === 'message_delta') {
        const u = json.usage as AnthropicUsage | undefined;
        output = u?.output_tokens ?? output;
        input = u?.input_tokens ?? input;
      } else if (type === 'message_stop') {
        break;
      } else if (type === 'error') {
        const e = json.error as { type?: string; message?: string } | undefined;
        const failure = e?.type === 'invalid_request_error' ? 'bad_request' : 'server';
        throw new LlmProviderError(this.name, failure, `stream error: ${e?.type ?? 'error'}: ${e?.message ?? ''}`);
      }
      // ping, content_block_start, content_block_stop: nothing to do
    }
    yield {
      type: 'done',
      usage: usageOf({ prompt_tokens: input, completion_tokens: output }, req, text),
      model,
      provider: this.name,
      latency_ms: performance.now() - started,
    };
  }
}
