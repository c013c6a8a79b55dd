/**
 * Any OpenAI-compatible endpoint (OpenAI, Azure OpenAI behind a proxy, vLLM, Ollama, LiteLLM, OpenRouter, ...):
 * POST {baseUrl}/chat/completions with `Authorization: Bearer <key>`, plain or `stream: true` (SSE `data:` lines ending
 * with `data: [DONE]`; usage arrives in the last chunk when the server honours `stream_options.include_usage`).
 * One attempt per call: retries, timeouts, breaker and fallback live in the client.
 */
import { postJson, readJson, readSse, parseJsonData, type FetchFn } from './http.js';
import { LlmProviderError } from './provider-error.js';
import { estimateTokens, type LlmProvider, type LlmRequest, type LlmResult, type LlmStreamChunk, type LlmUsage } from './types.js';

export interface OpenAiCompatibleConfig {
  type: 'openai-compatible';
  /** e.g. https://api.openai.com/v1 (the path up to, not including, /chat/completions) */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** provider name for breakers, metrics and fallback reports; default 'openai-compatible' */
  name?: string;
  /** extra headers (e.g. OpenRouter's HTTP-Referer); never put secrets other than apiKey here */
  headers?: Record<string, string>;
}

export class OpenAiCompatibleProvider implements LlmProvider {
  readonly name: string;
  readonly model: string;
  private readonly url: string;

  constructor(
    private readonly cfg: OpenAiCompatibleConfig,
    private readonly defaults: { maxTokens: number; temperature: number },
    private readonly fetchFn?: FetchFn,
  ) {
    this.name = cfg.name ?? 'openai-compatible';
    this.model = cfg.model;
    this.url = `${cfg.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  private body(req: LlmRequest, stream: boolean): Record<string, unknown> {
    const messages = [...(req.system ? [{ role: 'system', content: req.system }] : []), ...req.messages];
    return {
      model: this.model,
      messages,
      max_tokens: req.maxTokens ?? this.defaults.maxTokens,
      temperature: req.temperature ?? this.defaults.temperature,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
  }

  private post(req: LlmRequest, stream: boolean): Promise<Response> {
    return postJson({
      provider: this.name,
      url: this.url,
      headers: {
        ...(this.cfg.headers ?? {}),
        ...(this.cfg.apiKey ? { authorization: `Bearer ${this.cfg.apiKey}` } : {}),
        ...(stream ? { accept: 'text/event-stream' } : {}),
      },
      body: this.body(req, stream),
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
      choices?: Array<{ message?: { content?: string | null } }>;
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    const text = json.choices?.[0]?.message?.content;
    if (typeof text !== 'string') throw new LlmProviderError(this.name, 'protocol', 'reply without choices[0].message.content');
    return {
      text,
      usage: usageOf(json.usage, req, text),
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
    let usage: LlmResult['usage'] | undefined;
    for await (const ev of readSse(this.name, res, req.signal)) {
      if (ev.data.trim() === '[DONE]') break;
      const json = parseJsonData(this.name, ev.data) as {
        model?: string;
        error?: { message?: string };
        choices?: Array<{ delta?: { content?: string | null } }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
      };
      if (json.error) throw new LlmProviderError(this.name, 'server', `stream error: ${json.error.message ?? 'unknown'}`);
      if (json.model) model = json.model;
      if (json.usage) usage = usageOf(json.usage, req, text);
      const delta = json.choices?.[0]?.delta?.content;
      if (typeof delta === 'string' && delta.length > 0) {
        text += delta;
        yield { type: 'delta', text: delta };
      }
    }
    yield {
      type: 'done',
      usage: usage ?? usageOf(undefined, req, text),
      model,
      provider: this.name,
      latency_ms: performance.now() - started,
    };
  }
}

/** The reported usage, or an estimate (4 characters per token) where the server left it out. */
export function usageOf(u: { prompt_tokens?: number; completion_tokens?: number } | undefined, req: LlmRequest, text: string): LlmUsage {
  const promptChars = (req.system ?? '') + req.messages.map((m) => m.content).join('\n');
  return {
    prompt_tokens: typeof u?.prompt_tokens === 'number' ? u.prompt_tokens : estimateTokens(promptChars),
    completion_tokens: typeof u?.completion_tokens === 'number' ? u.completion_tokens : estimateTokens(text),
  };
}
