/**
 * An event's prompt as a chain of block hashes: what a provider's prompt cache keys on. Pure, no I/O.
 *
 * Providers cache prompts by prefix, in fixed-size token blocks: OpenAI caches the longest previously seen prefix of
 * at least 1,024 tokens in 128-token increments; vLLM / Mooncake key KV-cache blocks by a hash of the block and of
 * everything before it. A chain `[h0, h1, ...]` with a `block_size` says: the prompt's first `block_size` tokens are
 * block h0, the next ones h1, and so on. Two prompts share a cached prefix of k blocks when their chains agree on
 * the first k hashes (the simulation in optimize/prompt-cache-simulation.ts walks the chains as a trie, so it does not
 * matter whether a client's hashes already cover the whole prefix, like Mooncake's, or only their own block).
 *
 * Chains come from two places:
 * - given on the event (`prefix_block_hashes` + `prefix_block_size`): integers are kept, strings are hashed to 53 bits;
 * - derived from the prompt text at ingest: tokenized with the estimator's encoding (token-estimate.ts), cut into
 *   TEXT_BLOCK_TOKENS-token blocks, only whole blocks (a cache never holds a partial block), each hash chained over
 *   the one before so that a stored hash identifies the whole prefix up to it. A prompt with fewer than
 *   TEXT_MIN_TOKENS tokens gets no chain: no provider caches prompts that short.
 *
 * Hashes are non-negative integers below 2^53, so they travel as plain JS numbers (DOUBLE[] in DuckDB,
 * Array(Float64) in ClickHouse) without BigInt; a collision needs two different blocks under the same parent prefix
 * of one (app, model) (about 1 in 2^53 per pair).
 */
import { encodeTokens } from './token-estimate.js';

/** Longest chain an event may carry (4,096 blocks of 128 tokens: 524,288 tokens, beyond any context window today). */
export const MAX_PREFIX_BLOCKS = 4096;
/** Largest block a given chain may declare (tokens). */
export const MAX_PREFIX_BLOCK_SIZE = 1_000_000;
/** Block size of chains derived from text: OpenAI's cache increment, the finest granularity of the major providers. */
export const TEXT_BLOCK_TOKENS = 128;
/** Below this many tokens no provider caches a prompt (OpenAI, Anthropic Sonnet/Opus, Gemini Flash: 1,024). */
export const TEXT_MIN_TOKENS = 1024;
/** Text beyond this many characters is not tokenized for the chain (bounded ingest time per event). */
export const TEXT_MAX_CHARS = 400_000;

const MAX_53 = 2 ** 53;

/** 53-bit hash of 32-bit words, seeded (cyrb53's mixing, two 32-bit lanes). */
function mix53(seed: number, words: ArrayLike<number>, from: number, to: number): number {
  let h1 = 0xdeadbeef ^ (seed >>> 0);
  let h2 = 0x41c6ce57 ^ Math.floor(seed / 4294967296);
  for (let i = from; i < to; i++) {
    const w = words[i]! >>> 0;
    h1 = Math.imul(h1 ^ w, 2654435761);
    h2 = Math.imul(h2 ^ w, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** 53-bit hash of a string (a client's hex or opaque block id). */
export function hashString53(s: string): number {
  const words = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) words[i] = s.charCodeAt(i);
  return mix53(s.length, words, 0, words.length);
}

/** A given block hash as stored: safe non-negative integers kept, strings hashed. */
export function blockHashValue(v: string | number): number {
  if (typeof v === 'number') return v;
  return hashString53(v);
}

export function isBlockHash(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < MAX_53;
}

export interface BlockChain {
  hashes: number[];
  block_size: number;
}

/**
 * The chain of a prompt text, or null when it is shorter than TEXT_MIN_TOKENS (the byte length bounds the token count
 * from above, so short texts are never tokenized).
 */
export function textBlockChain(text: string, model?: string): BlockChain | null {
  // a UTF-16 unit is at most 3 UTF-8 bytes and a token at least one byte
  if (text.length * 3 < TEXT_MIN_TOKENS || Buffer.byteLength(text, 'utf8') < TEXT_MIN_TOKENS) return null;
  const tokens = encodeTokens(text.length > TEXT_MAX_CHARS ? text.slice(0, TEXT_MAX_CHARS) : text, model);
  if (tokens.length < TEXT_MIN_TOKENS) return null;
  const n = Math.min(MAX_PREFIX_BLOCKS, Math.floor(tokens.length / TEXT_BLOCK_TOKENS));
  const hashes = new Array<number>(n);
  let prev = 0;
  for (let b = 0; b < n; b++) {
    prev = mix53(prev, tokens, b * TEXT_BLOCK_TOKENS, (b + 1) * TEXT_BLOCK_TOKENS);
    hashes[b] = prev;
  }
  return { hashes, block_size: TEXT_BLOCK_TOKENS };
}
