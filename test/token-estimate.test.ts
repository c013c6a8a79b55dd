/**
 * Token estimates: the recurring-text memo gives exactly the tokenizer's count, per encoding, for the same text hash.
 */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/workload/hash.js';
import { encodingFor, estimateRecurringTokens, estimateTokens } from '../src/workload/token-estimate.js';

const SYSTEM = 'You are a careful support assistant for Acme. Answer in two sentences, cite the policy section, never guess. 🚀 déjà vu';

describe('estimateRecurringTokens', () => {
  it('equals the tokenizer count, first and later calls, for each encoding', () => {
    const sha = sha256Hex(SYSTEM);
    for (const model of ['gpt-4o-mini', 'gpt-4', 'claude-sonnet-4-5', undefined]) {
      const exact = estimateTokens(SYSTEM, model);
      expect(exact).toBeGreaterThan(10);
      expect(estimateRecurringTokens(sha, SYSTEM, model)).toBe(exact);
      expect(estimateRecurringTokens(sha, SYSTEM, model)).toBe(exact);
    }
    // the two encodings count this text differently, so a memo keyed by the hash alone would be wrong for one of them
    expect(encodingFor('gpt-4')).toBe('cl100k_base');
    expect(estimateTokens(SYSTEM, 'gpt-4')).not.toBe(estimateTokens(SYSTEM, 'gpt-4o-mini'));
  });

  it('stays exact past the memo bound', () => {
    for (let i = 0; i < 5000; i++) {
      const text = `preamble number ${i} ${'x'.repeat(i % 17)}`;
      expect(estimateRecurringTokens(sha256Hex(text), text, 'gpt-4o')).toBe(estimateTokens(text, 'gpt-4o'));
    }
  });
});

describe('hostile text', () => {
  it('a run of non-space characters is tokenized in 1,000-character pieces; ordinary text is counted whole', async () => {
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    const run = 'x'.repeat(5000);
    expect(estimateTokens(run, 'gpt-4o')).toBe(5 * countTokens('x'.repeat(1000)));
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(400);
    expect(estimateTokens(prose, 'gpt-4o')).toBe(countTokens(prose));
    // 200,000 characters with no space: one BPE pre-token took 30 s whole; in pieces it is a bounded count
    expect(estimateTokens('y'.repeat(200_000), 'gpt-4o')).toBe(200 * countTokens('y'.repeat(1000)));
  });
});
