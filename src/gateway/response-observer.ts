/**
 * Reads what the recorder needs (response model, usage, finish reason, text) from a response as it passes: a JSON body
 * after it ends, or an SSE stream event by event. For OpenAI streams where the gateway added
 * `stream_options.include_usage` on the client's behalf, it also removes what that option adds (the usage-only last
 * chunk and the `"usage":null` of the others), so the client receives the stream it asked for.
 */
import { StringDecoder } from 'node:string_decoder';
import type { GatewayEndpoint } from './endpoints.js';

/** Recorded text is capped (the event schema's limit); the response itself is never cut. */
const MAX_TEXT = 1_000_000;

export interface ResponseFacts {
  model: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number;
  finishReason: string | null;
  text: string;
  /** an error the upstream reported (in the body or as a stream event) */
  errorType: string | null;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : null);

export function emptyFacts(): ResponseFacts {
  return { model: null, promptTokens: null, completionTokens: null, cachedTokens: 0, finishReason: null, text: '', errorType: null };
}

function addText(f: ResponseFacts, t: unknown): void {
  if (typeof t === 'string' && t.length > 0 && f.text.length < MAX_TEXT) f.text = (f.text + t).slice(0, MAX_TEXT);
}

function openAiUsage(f: ResponseFacts, u: Json | null): void {
  if (!u) return;
  // chat/completions/embeddings: prompt_tokens/completion_tokens; responses: input_tokens/output_tokens
  f.promptTokens = int(u.prompt_tokens) ?? int(u.input_tokens) ?? f.promptTokens;
  f.completionTokens = int(u.completion_tokens) ?? int(u.output_tokens) ?? (f.promptTokens !== null ? 0 : f.completionTokens);
  const details = obj(u.prompt_tokens_details) ?? obj(u.input_tokens_details);
  f.cachedTokens = int(details?.cached_tokens) ?? f.cachedTokens;
}

/** Anthropic counts cache reads and writes apart from input_tokens; the event's prompt_tokens is all of the prompt. */
function anthropicUsage(f: ResponseFacts, u: Json | null): void {
  if (!u) return;
  const input = int(u.input_tokens);
  if (input !== null) {
    const read = int(u.cache_read_input_tokens) ?? 0;
    const write = int(u.cache_creation_input_tokens) ?? 0;
    f.promptTokens = input + read + write;
    f.cachedTokens = read;
  }
  f.completionTokens = int(u.output_tokens) ?? f.completionTokens;
}

function responsesOutputText(r: Json): string {
  const out: string[] = [];
  for (const item of Array.isArray(r.output) ? r.output : []) {
    for (const c of Array.isArray(obj(item)?.content) ? (obj(item)!.content as unknown[]) : []) {
      const t = obj(c)?.text;
      if (typeof t === 'string') out.push(t);
    }
  }
  return out.join('');
}

/** Facts from a whole (non-streamed) JSON response body; tolerant of anything the upstream sends. */
export function factsFromBody(ep: GatewayEndpoint, body: Buffer): ResponseFacts {
  const f = emptyFacts();
  let j: Json | null = null;
  try {
    j = obj(JSON.parse(body.toString('utf8')));
  } catch {
    return f;
  }
  if (!j) return f;
  const err = obj(j.error);
  if (err) f.errorType = typeof err.type === 'string' ? err.type : typeof err.code === 'string' ? err.code : 'error';
  if (typeof j.model === 'string') f.model = j.model;
  switch (ep.shape) {
    case 'chat':
    case 'completion': {
      openAiUsage(f, obj(j.usage));
      const c = obj(Array.isArray(j.choices) ? j.choices[0] : null);
      if (c) {
        f.finishReason = typeof c.finish_reason === 'string' ? c.finish_reason : null;
        const m = obj(c.message);
        addText(f, ep.shape === 'chat' ? (m?.content ?? (m?.tool_calls ? JSON.stringify(m.tool_calls) : '')) : c.text);
      }
      break;
    }
    case 'embedding':
      openAiUsage(f, obj(j.usage));
      break;
    case 'responses':
      openAiUsage(f, obj(j.usage));
      f.finishReason = typeof j.status === 'string' ? j.status : null;
      addText(f, responsesOutputText(j));
      break;
    case 'messages':
      anthropicUsage(f, obj(j.usage));
      f.finishReason = typeof j.stop_reason === 'string' ? j.stop_reason : null;
      for (const b of Array.isArray(j.content) ? j.content : []) {
        const o = obj(b);
        if (o?.type === 'text') addText(f, o.text);
        else if (o?.type === 'tool_use') addText(f, JSON.stringify(o.input ?? {}));
      }
      break;
    default:
      break;
  }
  return f;
}

const EVENT_END = /\r?\n\r?\n/;

/** Follows an SSE stream event by event. */
export class StreamObserver {
  readonly facts = emptyFacts();
  /** the stream ended the way the protocol ends it ([DONE], message_stop, response.completed) */
  complete = false;
  private buf = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly ep: GatewayEndpoint,
    private readonly stripUsage: boolean,
  ) {}

  /** Takes a chunk; when stripping, returns the bytes to forward now (whole events), else null (forward the chunk as is). */
  push(chunk: Buffer): Buffer | null {
    this.buf += this.decoder.write(chunk);
    let out = this.stripUsage ? '' : null;
    for (;;) {
      const m = EVENT_END.exec(this.buf);
      if (!m) break;
      const raw = this.buf.slice(0, m.index);
      const sep = m[0];
      this.buf = this.buf.slice(m.index + sep.length);
      const kept = this.onEvent(raw);
      if (out !== null && kept !== null) out += kept + sep;
    }
    return out === null ? null : Buffer.from(out, 'utf8');
  }

  /** What is left of an unterminated last event (forwarded as is when stripping). */
  rest(): Buffer | null {
    const tail = this.buf + this.decoder.end();
    this.buf = '';
    return this.stripUsage && tail ? Buffer.from(tail, 'utf8') : null;
  }

  /** Returns the event text to forward (possibly rewritten), or null to drop it. */
  private onEvent(raw: string): string | null {
    let data = '';
    let name = '';
    for (const line of raw.split(/\r?\n/)) {
      if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line.startsWith('data: ') ? 6 : 5);
      else if (line.startsWith('event:')) name = line.slice(6).trim();
    }
    if (!data) return raw;
    if (data === '[DONE]') {
      this.complete = true;
      return raw;
    }
    let j: Json | null = null;
    try {
      j = obj(JSON.parse(data));
    } catch {
      return raw;
    }
    if (!j) return raw;
    const f = this.facts;
    if (this.ep.family === 'anthropic') {
      this.onAnthropic(name || String(j.type ?? ''), j);
      return raw;
    }
    if (this.ep.shape === 'responses') {
      this.onResponses(j);
      return raw;
    }
    if (typeof j.model === 'string') f.model = j.model;
    const err = obj(j.error);
    if (err) f.errorType = typeof err.type === 'string' ? err.type : 'error';
    const choices = Array.isArray(j.choices) ? j.choices : [];
    const u = obj(j.usage);
    if (u) openAiUsage(f, u);
    const c = obj(choices[0]);
    if (c) {
      if (typeof c.finish_reason === 'string') f.finishReason = c.finish_reason;
      const d = obj(c.delta);
      addText(f, this.ep.shape === 'chat' ? d?.content : c.text);
      if (d?.tool_calls) addText(f, JSON.stringify(d.tool_calls));
    }
    if (!this.stripUsage) return raw;
    if (choices.length === 0 && u) return null; // the usage chunk the client did not ask for
    return raw.replace(/,"usage":null/g, '');
  }

  private onResponses(j: Json): void {
    const f = this.facts;
    const type = String(j.type ?? '');
    if (type === 'response.output_text.delta') addText(f, j.delta);
    const r = obj(j.response);
    if (r) {
      if (typeof r.model === 'string') f.model = r.model;
      if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
        openAiUsage(f, obj(r.usage));
        f.finishReason = typeof r.status === 'string' ? r.status : null;
        this.complete = true;
        if (type === 'response.failed') f.errorType = String(obj(r.error)?.code ?? 'response_failed');
      }
    }
    if (type === 'error') f.errorType = String(j.code ?? 'error');
  }

  private onAnthropic(type: string, j: Json): void {
    const f = this.facts;
    switch (type) {
      case 'message_start': {
        const m = obj(j.message);
        if (typeof m?.model === 'string') f.model = m.model;
        anthropicUsage(f, obj(m?.usage));
        break;
      }
      case 'content_block_delta': {
        const d = obj(j.delta);
        addText(f, d?.type === 'input_json_delta' ? d.partial_json : d?.text);
        break;
      }
      case 'message_delta': {
        const d = obj(j.delta);
        if (typeof d?.stop_reason === 'string') f.finishReason = d.stop_reason;
        const u = obj(j.usage);
        if (u) {
          if (int(u.input_tokens) !== null) anthropicUsage(f, u);
          else f.completionTokens = int(u.output_tokens) ?? f.completionTokens;
        }
        break;
      }
      case 'message_stop':
        this.complete = true;
        break;
      case 'error':
        f.errorType = String(obj(j.error)?.type ?? 'error');
        break;
      default:
        break;
    }
  }
}
