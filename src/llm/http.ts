/**
 * HTTP plumbing shared by the remote providers: one POST with global fetch that turns every failure into a classified
 * LlmProviderError (key redacted), and a Server-Sent Events reader (`event:` / `data:` lines, blank-line separated).
 */
import { LlmProviderError, abortError, failureOfStatus, parseRetryAfter, redact } from './provider-error.js';

export type FetchFn = typeof fetch;

export interface PostOptions {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal?: AbortSignal;
  /** secrets to scrub from any error text (the API key) */
  secrets: readonly (string | undefined)[];
  fetch?: FetchFn;
}

const MAX_ERROR_BODY = 300;

/** POSTs JSON; resolves with a 2xx response, rejects with an LlmProviderError (or the abort reason if the signal fired). */
export async function postJson(o: PostOptions): Promise<Response> {
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...o.headers },
      body: JSON.stringify(o.body),
      signal: o.signal,
    });
  } catch (err) {
    if (o.signal?.aborted) throw abortError(o.signal);
    throw new LlmProviderError(o.provider, 'network', redact(describeNetworkError(err), o.secrets));
  }
  if (res.ok) return res;
  let text = '';
  try {
    text = (await res.text()).slice(0, MAX_ERROR_BODY);
  } catch {
    // the body is only used for the message
  }
  const message = `HTTP ${res.status}${text ? `: ${oneLine(text)}` : ''}`;
  throw new LlmProviderError(o.provider, failureOfStatus(res.status), redact(message, o.secrets), {
    httpStatus: res.status,
    retryAfterMs: parseRetryAfter(res.headers),
  });
}

/** Reads a JSON body; a body that is not JSON is a protocol error. */
export async function readJson(provider: string, res: Response, signal?: AbortSignal): Promise<unknown> {
  try {
    return await res.json();
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw new LlmProviderError(provider, 'protocol', `unreadable JSON reply (${(err as Error).message})`);
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `network error: ${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** Parses an SSE body into events. Comment lines (`:`) are skipped; multi-line data is joined with '\n'. */
export async function* readSse(provider: string, res: Response, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  if (!res.body) throw new LlmProviderError(provider, 'protocol', 'streaming reply without a body');
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let buf = '';
  let event: string | undefined;
  let data: string[] = [];
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) throw abortError(signal);
        throw new LlmProviderError(provider, 'network', `stream interrupted: ${(err as Error).message}`);
      }
      if (chunk.done) break;
      buf += decoder.decode(chunk.value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') {
          if (data.length > 0) yield { event, data: data.join('\n') };
          event = undefined;
          data = [];
        } else if (!line.startsWith(':')) {
          // a line starting with ':' is an SSE comment
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(value);
          else if (field === 'event') event = value;
        }
      }
    }
    if (data.length > 0) yield { event, data: data.join('\n') };
  } finally {
    reader.releaseLock();
    // stop the download when the consumer leaves early
    await res.body.cancel().catch(() => undefined);
  }
}

export function parseJsonData(provider: string, data: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(data);
    if (v && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new LlmProviderError(provider, 'protocol', 'unreadable stream event');
}
