/**
 * The routing rule a switch question asks about (pure, src/agents/answer-switch.ts): which calls move, which stay.
 */
import { describe, expect, it } from 'vitest';
import { switchRule } from '../src/agents/answer-switch.js';
import { planQuestion } from '../src/agents/question-plan.js';

const known = {
  apps: ['code-chat', 'docs-qa'],
  models: ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'text-embedding-3-small'],
  tasks: [],
  providers: ['openai', 'anthropic'],
  environments: ['production'],
};
const stats = {
  by_model: [
    { model: 'gpt-4o', provider: 'openai' },
    { model: 'claude-sonnet-4-5', provider: 'anthropic' },
    { model: 'text-embedding-3-small', provider: 'openai' },
  ],
} as Parameters<typeof switchRule>[1];
const modes = (m: string) =>
  m.startsWith('text-embedding') ? ['embedding'] : m.startsWith('gpt') || m.startsWith('claude') ? ['chat'] : null;
const rule = (q: string) => switchRule(planQuestion(q, known, Date.UTC(2026, 11, 7)), stats, modes);

describe('switch rule', () => {
  it("moves an app's chat calls and leaves its embedding calls where they are", () => {
    const r = rule('What would switching code-chat to gpt-4o-mini save?');
    expect(r.policy.routing).toEqual([
      { match: { app: ['code-chat'], model: ['gpt-4o', 'claude-sonnet-4-5'] }, target_model: 'gpt-4o-mini' },
    ]);
    expect(r.kept).toEqual(['text-embedding-3-small']);
  });

  it("a provider's calls by its model family; one the workspace never called moves nothing", () => {
    expect(rule('What if we moved our Claude calls to gpt-4o-mini?').policy.routing![0]!.match).toEqual({ model: ['claude-sonnet-4-5'] });
    expect(rule('What if we moved our Gemini calls to gpt-4o-mini?').policy.routing![0]!.match).toEqual({ model: ['google/(no calls)'] });
  });

  it('moves nothing when every selected model does something else than the target', () => {
    const r = rule('Move text-embedding-3-small to gpt-4o-mini');
    expect(r.policy.routing![0]!.match).toEqual({ model: ['gpt-4o-mini/(no movable calls)'] });
    expect(r.kept).toEqual(['text-embedding-3-small']);
  });

  it('names the filters a routing rule cannot select on', () => {
    expect(rule('Move production from gpt-4o to gpt-4o-mini').unmatched).toEqual(['environment = production']);
  });
});
