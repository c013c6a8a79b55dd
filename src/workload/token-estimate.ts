/**
 * Token counts for text when the provider reported none (a gateway call whose upstream sent no usage, an event with text
 * but no counts). A real BPE tokenizer (gpt-tokenizer): o200k_base for current OpenAI models, cl100k_base for the GPT-4 /
 * GPT-3.5 generation; other providers' tokenizers are not public, so o200k_base stands in for them (an estimate).
 */
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

const CL100K_MODELS = /^(?:openai\/)?(?:gpt-4(?!o|\.1|\.5)|gpt-3\.5|text-embedding-(?:3|ada)|text-davinci|davinci|babbage)/i;

/** Number of tokens `text` encodes to for `model` (default: o200k_base). Pure and deterministic. */
export function estimateTokens(text: string, model?: string): number {
  if (text.length === 0) return 0;
  return model !== undefined && CL100K_MODELS.test(model) ? countCl100k(text) : countO200k(text);
}
