import { describe, expect, it } from 'vitest';
import { changeByGroup, movers } from '../src/agents/answer-change.js';
import type { BreakdownRow } from '../src/optimize/ports/breakdown.js';

const row = (key: string | null, spend: number, events = 10, errors = 0): BreakdownRow => ({
  key,
  bucket_start: null,
  events,
  errors,
  spend_usd: spend,
  prompt_tokens: 0,
  completion_tokens: 0,
  latency_events: 0,
  latency_p50_ms: null,
  latency_p95_ms: null,
  latency_p99_ms: null,
  ttft_p50_ms: null,
  ttft_p95_ms: null,
});

describe('what moved between two periods', () => {
  const now = [row('a', 30), row('b', 5), row('c', 12)];
  const before = [row('a', 10), row('b', 8), row('d', 4)];

  it('pairs each group across the periods; a group absent from one counts 0 for an additive metric', () => {
    const m = movers(now, before, 'spend', +1);
    expect(m.map((r) => [r.key, r.now, r.before, r.delta])).toEqual([
      ['a', 30, 10, 20],
      ['c', 12, 0, 12],
      ['b', 5, 8, -3],
      ['d', 0, 4, -4],
    ]);
    // a fall ranks the largest drop first
    expect(movers(now, before, 'spend', -1)[0]!.key).toBe('d');
  });

  it('names the two groups that made most of the change, with their share of it', () => {
    const c = changeByGroup('spend', 'app', now, before, 47 - 22, ['today', 'yesterday']);
    expect(c.sentence).toBe(
      ' By app, the largest contributions: a (+$20.00, $10.00 → $30.00: 80.0% of the change) and c (+$12.00, $0.00 → $12.00: 48.0% of the change).',
    );
    expect(c.columns).toEqual(['app', 'spend, today', 'spend, yesterday', 'change']);
    expect(c.rows[0]).toEqual(['a', '$30.00', '$10.00', '+$20.00']);
  });

  it('a rate is compared only where both periods have it; groups seen once go last', () => {
    const m = movers([row('a', 1, 10, 2), row('b', 1, 0)], [row('a', 1, 10, 1)], 'error_rate', +1);
    expect(m[0]).toMatchObject({ key: 'a', delta: expect.closeTo(0.1, 9) });
    expect(m[1]).toMatchObject({ key: 'b', delta: null });
  });

  it('says so when no group moved', () => {
    expect(changeByGroup('spend', 'app', [row('a', 5)], [row('a', 5)], 0, ['x', 'y']).sentence).toBe(' No app moved it on its own.');
  });
});
