/**
 * Token counts for calls whose usage was not reported (streamed calls of most instrumentations, logs without usage).
 * Pure: the BPE tables ship inside the `gpt-tokenizer` package (MIT), nothing is downloaded.
 *
 * - OpenAI models are counted with their own encoding: o200k_base (gpt-4o, gpt-4.1, gpt-5, o1/o3/o4, chatgpt-4o) or
 *   cl100k_base (gpt-4, gpt-3.5, text-embedding-3, ada-002). Exact for the text; the few tokens the chat format adds per
 *   message are approximated by the `role: ` prefix of each line of the prompt text.
 * - Every other model (Claude, Gemini, Llama, Mistral, ...) has no tokenizer we can run here: counted with o200k_base
 *   as an approximation (their tokenizers are of a similar size; counts on English text differ by roughly ±20%).
 * Text beyond 200,000 characters is counted on its first 200,000 characters and scaled by length, so one huge
 * prompt costs a bounded time.
 */
import { createRequire } from 'node:module';

const MAX_EXACT_CHARS = 200_000;

// Each encoding is loaded on first use (≈ 0.2 s of CPU each): processes that never estimate (CLI commands) never pay it.
interface EncodeOptions {
  disallowedSpecial: Set<string>;
}
type Count = (text: string, o?: EncodeOptions) => number;
type Encode = (text: string, o?: EncodeOptions) => number[];
interface Encoding {
  countTokens: Count;
  encode: Encode;
}
const load = createRequire(import.meta.url);
let o200k: Encoding | null = null;
let cl100k: Encoding | null = null;
const cl100kEnc = (): Encoding => (cl100k ??= load('gpt-tokenizer/encoding/cl100k_base') as Encoding);
const o200kEnc = (): Encoding => (o200k ??= load('gpt-tokenizer/encoding/o200k_base') as Encoding);
// Prompt text is data: a literal '<|endoftext|>' in it is ordinary text, not a special token (the library throws by default).
const PLAIN: EncodeOptions = { disallowedSpecial: new Set() };
const countCl100k = (t: string): number => sumPieces(t, (p) => cl100kEnc().countTokens(p, PLAIN));
const countO200k = (t: string): number => sumPieces(t, (p) => o200kEnc().countTokens(p, PLAIN));

/**
 * BPE's merges inside one pre-token grow with the square of its length: 200,000 characters with no space (one
 * pre-token) took 30 s of CPU, enough for one hostile prompt to stall ingestion. Runs of non-space characters longer
 * than MAX_RUN_CHARS are tokenized in pieces of that size; a cut moves a count by a token or two, on text no model
 * tokenizes well anyway.
 */
const MAX_RUN_CHARS = 1000;
const LONG_RUN = /\S{1001,}/g;

function pieces(text: string): string[] {
  if (text.length <= MAX_RUN_CHARS || !/\S{1001}/.test(text)) return [text];
  const out: string[] = [];
  let at = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    for (let i = 0; i < m[0].length; i += MAX_RUN_CHARS) out.push(m[0].slice(i, i + MAX_RUN_CHARS));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

function sumPieces(text: string, count: (piece: string) => number): number {
  let n = 0;
  for (const p of pieces(text)) n += count(p);
  return n;
}

/** Which encoding a model id uses: cl100k_base for the older OpenAI families, o200k_base otherwise. */
export function encodingFor(model?: string): 'cl100k_base' | 'o200k_base' {
  const m = (model ?? '').toLowerCase().replace(/^.*\//, '');
  if (/^(gpt-4(?!o|\.\d)|gpt-3\.5|text-embedding-3|text-embedding-ada-002|davinci-002|babbage-002)/.test(m)) return 'cl100k_base';
  return 'o200k_base';
}

/** Whether the count for this model is exact (an OpenAI model) or an approximation. */
export function isExactTokenizer(model?: string): boolean {
  const m = (model ?? '').toLowerCase().replace(/^.*\//, '');
  return /^(gpt-|o\d|chatgpt-|text-embedding-|davinci-|babbage-)/.test(m);
}

export function estimateTokens(text: string, model?: string): number {
  if (text.length === 0) return 0;
  const count = encodingFor(model) === 'cl100k_base' ? countCl100k : countO200k;
  if (text.length <= MAX_EXACT_CHARS) return count(text);
  return Math.ceil((count(text.slice(0, MAX_EXACT_CHARS)) * text.length) / MAX_EXACT_CHARS);
}

/** The token ids of a text in the model's encoding (same choice as estimateTokens; prefix-blocks.ts cuts them into blocks). */
export function encodeTokens(text: string, model?: string): number[] {
  if (text.length === 0) return [];
  const enc = encodingFor(model) === 'cl100k_base' ? cl100kEnc() : o200kEnc();
  const parts = pieces(text);
  return parts.length === 1 ? enc.encode(text, PLAIN) : parts.flatMap((p) => enc.encode(p, PLAIN));
}

const RECURRING_MAX = 4096;
const recurring = new Map<string, number>();

/**
 * The count of a text that recurs verbatim across calls (a system prompt, a shared preamble), remembered by the text's
 * sha-256 and the encoding: the gateway and ingestion count every call's prefix, and tokenizing the same few kilobytes
 * again on each call was about a sixth of the gateway's CPU. Bounded: the memo starts over at RECURRING_MAX entries.
 */
export function estimateRecurringTokens(textSha256: string, text: string, model?: string): number {
  const key = `${encodingFor(model)}:${textSha256}`;
  let n = recurring.get(key);
  if (n === undefined) {
    n = estimateTokens(text, model);
    if (recurring.size >= RECURRING_MAX) recurring.clear();
    recurring.set(key, n);
  }
  return n;
}
