/**
 * The built-in deterministic model: the default provider and the end of every fallback chain. No network, no
 * randomness: the same request always gives the same text. It reads a structured payload from the last user message
 * (build it with payloadMessage()) and writes its prose with builtin-prose.ts; anything else gets a deterministic
 * free-form answer that says it comes from the built-in model. When JSON is requested it answers with the payload's
 * `draft` (the agents' deterministic result), or `{}` when there is none.
 */
import { abortError } from './provider-error.js';
import { renderFreeForm, renderReport, type ReportPayload } from './builtin-prose.js';
import { estimateTokens, type ChatMessage, type LlmProvider, type LlmRequest, type LlmResult, type LlmStreamChunk } from './types.js';

export const BUILTIN_MODEL = 'netra-builtin-1';

export type BuiltinPayload = ReportPayload;

/** The user message carrying a payload: JSON text, readable by remote models too. */
export function payloadMessage(payload: BuiltinPayload): ChatMessage {
  return { role: 'user', content: JSON.stringify(payload) };
}

/** The payload in a message, when its content is the JSON of one with a known kind. */
export function parsePayload(content: string): BuiltinPayload | undefined {
  const t = content.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t) as { kind?: unknown };
    if (v && typeof v === 'object' && v.kind === 'report') return v as BuiltinPayload;
  } catch {
    // not a payload
  }
  return undefined;
}

/** The text the built-in model answers to a request (pure). */
export function builtinAnswer(req: Pick<LlmRequest, 'messages' | 'responseFormat'>): string {
  // the payload is the last user message that holds one (a repair turn appended after it does not hide it)
  let payload: BuiltinPayload | undefined;
  for (let i = req.messages.length - 1; i >= 0 && !payload; i--) {
    const m = req.messages[i]!;
    if (m.role === 'user') payload = parsePayload(m.content);
  }
  if (req.responseFormat === 'json') return JSON.stringify(payload?.draft ?? {});
  if (payload) return renderReport(payload);
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  return renderFreeForm(lastUser?.content ?? '');
}

export class BuiltinProvider implements LlmProvider {
  readonly name: string;
  readonly model = BUILTIN_MODEL;

  constructor(opts: { name?: string } = {}) {
    this.name = opts.name ?? 'builtin';
  }

  async complete(req: LlmRequest): Promise<LlmResult> {
    if (req.signal?.aborted) throw abortError(req.signal);
    const started = performance.now();
    const text = builtinAnswer(req);
    return { text, usage: usageFor(req, text), model: this.model, provider: this.name, latency_ms: performance.now() - started };
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmStreamChunk> {
    const started = performance.now();
    const text = builtinAnswer(req);
    // word-sized deltas (every character kept), so a UI shows progress the way it would with a remote model
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      if (req.signal?.aborted) throw abortError(req.signal);
      yield { type: 'delta', text: piece };
    }
    yield { type: 'done', usage: usageFor(req, text), model: this.model, provider: this.name, latency_ms: performance.now() - started };
  }
}

function usageFor(req: LlmRequest, text: string): LlmResult['usage'] {
  const prompt = (req.system ?? '') + req.messages.map((m) => m.content).join('\n');
  return { prompt_tokens: estimateTokens(prompt), completion_tokens: estimateTokens(text) };
}
