/**
 * Token counts for text when the provider reported none (a gateway call whose upstream sent no usage, an event with text
 * but no counts). A real BPE tokenizer (gpt-tokenizer): o200k_base for current OpenAI models, cl100k_base for the GPT-4 /
 * GPT-3.5 generation; other providers' tokenizers are not public, so o200k_base stands in for them (an estimate).
 * Each encoding is loaded on first use (≈ 0.2 s of CPU each): processes that never estimate (CLI commands) never pay it.
 */
import { createRequire } from 'node:module';

type Count = (text: string) => number;
const load = createRequire(import.meta.url);
let o200k: Count | null = null;
let cl100k: Count | null = null;

const CL100K_MODELS = /^(?:openai\/)?(?:gpt-4(?!o|\.1|\.5)|gpt-3\.5|text-embedding-(?:3|ada)|text-davinci|davinci|babbage)/i;

/** Number of tokens `text` encodes to for `model` (default: o200k_base). Pure and deterministic. */
export function estimateTokens(text: string, model?: string): number {
  if (text.length === 0) return 0;
  if (model !== undefined && CL100K_MODELS.test(model)) {
    cl100k ??= (load('gpt-tokenizer/encoding/cl100k_base') as { countTokens: Count }).countTokens;
    return cl100k(text);
  }
  o200k ??= (load('gpt-tokenizer/encoding/o200k_base') as { countTokens: Count }).countTokens;
  return o200k(text);
}
