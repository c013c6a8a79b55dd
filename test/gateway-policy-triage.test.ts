/**
 * Which chat messages are about the gateway policy (pure triage): questions about what the applied policy saved, and
 * requests to put it in shadow, enforce or off; what-if questions and ordinary advice stay with the analysis pipeline.
 */
import { describe, expect, it } from 'vitest';
import { triage } from '../src/agents/triage.js';

const CASES: [string, string | null][] = [
  ['did the change work?', 'savings'],
  ['how much did the policy save?', 'savings'],
  ['Has the gateway policy paid off?', 'savings'],
  ['realized vs predicted savings', 'savings'],
  ['apply the recommended policy in shadow', 'shadow'],
  ['Put the policy in shadow mode', 'shadow'],
  ['switch the gateway policy to enforce', 'enforce'],
  ['enforce it in the gateway', 'enforce'],
  ['turn the gateway policy off', 'off'],
  ['How much would routing save?', null],
  ['what policy would save the most?', null],
  ['which changes have the biggest savings', null],
  ['How do I set up LiteLLM with the recommended policy?', null],
  ['Reduce my costs', null],
  ['delete the faq-bot dataset', null],
];

describe('gateway policy triage', () => {
  it.each(CASES)('%s → %s', (text, action) => {
    const t = triage(text);
    expect(t.gateway_action ?? null).toBe(action);
    expect(t.admin === 'gateway_policy').toBe(action !== null);
  });
});
