/**
 * What the recorder and the policy need from a request body, for each endpoint shape: model, stream flag, max_tokens,
 * temperature, the OpenAI `user`, and the prompt as text with its cacheable prefix (leading system messages, the
 * Anthropic `system`, the Responses `instructions`), in the same `role: content` form the ingest path derives.
 */
import type { GatewayEndpoint } from './endpoints.js';

export interface RequestInfo {
  model: string | null;
  stream: boolean;
  /** the client asked for the final usage chunk itself (stream_options.include_usage) */
  clientWantsUsage: boolean;
  /** the field holding the output cap in this shape, and its value */
  maxTokensField: 'max_tokens' | 'max_completion_tokens' | 'max_output_tokens';
  maxTokens: number | null;
  temperature: number | null;
  user: string | null;
  promptText: string;
  prefixText: string | null;
}

type Json = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Text of a message content: a string, or the text parts of an array of blocks (images, audio and files are skipped). */
export function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  const parts: string[] = [];
  for (const b of c) {
    if (typeof b === 'string') parts.push(b);
    else if (b && typeof b === 'object') {
      const o = b as Json;
      if (typeof o.text === 'string') parts.push(o.text);
      else if (typeof o.content === 'string')
        parts.push(o.content); // tool results
      else if (Array.isArray(o.content)) parts.push(contentText(o.content));
      else if (o.type === 'tool_use' || o.type === 'function_call') parts.push(JSON.stringify(o.input ?? o.arguments ?? ''));
    }
  }
  return parts.join('\n');
}

function messageLines(messages: unknown): { lines: string[]; systemCount: number } {
  const lines: string[] = [];
  let systemCount = 0;
  let leading = true;
  if (!Array.isArray(messages)) return { lines, systemCount };
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    const o = m as Json;
    const role = typeof o.role === 'string' ? o.role : typeof o.type === 'string' ? o.type : 'user';
    let text = contentText(o.content);
    if (Array.isArray(o.tool_calls)) text += (text ? '\n' : '') + JSON.stringify(o.tool_calls);
    lines.push(`${role}: ${text}`);
    if (leading && (role === 'system' || role === 'developer')) systemCount++;
    else leading = false;
  }
  return { lines, systemCount };
}

export function requestInfo(ep: GatewayEndpoint, body: Json): RequestInfo {
  const model = typeof body.model === 'string' ? body.model : null;
  const stream = body.stream === true;
  const so = body.stream_options as Json | undefined;
  const info: RequestInfo = {
    model,
    stream,
    clientWantsUsage: !!(so && typeof so === 'object' && so.include_usage === true),
    maxTokensField: 'max_tokens',
    maxTokens: num(body.max_tokens),
    temperature: num(body.temperature),
    user: typeof body.user === 'string' ? body.user : null,
    promptText: '',
    prefixText: null,
  };
  switch (ep.shape) {
    case 'chat': {
      if (body.max_completion_tokens !== undefined) {
        info.maxTokensField = 'max_completion_tokens';
        info.maxTokens = num(body.max_completion_tokens);
      }
      const { lines, systemCount } = messageLines(body.messages);
      info.promptText = lines.join('\n');
      info.prefixText = systemCount > 0 ? lines.slice(0, systemCount).join('\n') : null;
      break;
    }
    case 'messages': {
      const system = contentText(body.system);
      const { lines } = messageLines(body.messages);
      if (system) lines.unshift(`system: ${system}`);
      info.promptText = lines.join('\n');
      info.prefixText = system ? `system: ${system}` : null;
      break;
    }
    case 'responses': {
      info.maxTokensField = 'max_output_tokens';
      info.maxTokens = num(body.max_output_tokens);
      const lines = typeof body.input === 'string' ? [`user: ${body.input}`] : messageLines(body.input).lines;
      const instructions = typeof body.instructions === 'string' ? body.instructions : '';
      if (instructions) lines.unshift(`system: ${instructions}`);
      info.promptText = lines.join('\n');
      info.prefixText = instructions ? `system: ${instructions}` : null;
      break;
    }
    case 'completion':
      info.promptText =
        typeof body.prompt === 'string'
          ? body.prompt
          : Array.isArray(body.prompt)
            ? body.prompt.filter((p) => typeof p === 'string').join('\n')
            : '';
      break;
    case 'embedding':
      info.promptText =
        typeof body.input === 'string'
          ? body.input
          : Array.isArray(body.input)
            ? body.input.filter((p) => typeof p === 'string').join('\n')
            : '';
      break;
    default:
      break;
  }
  return info;
}
