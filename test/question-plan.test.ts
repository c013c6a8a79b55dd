/**
 * The question plan (pure): metric, dimension, filters, windows (absolute dates, relative words, UTC), granularity,
 * comparisons, top-N, targets, the task of "which model" questions, and names said back when nothing matches.
 */
import { describe, expect, it } from 'vitest';
import { planQuestion, windowOf } from '../src/agents/question-plan.js';
import { isTimeZone, offsetChanges, zonedMidnight, zoneOffsetMs } from '../src/workload/zoned-time.js';

const NOW = Date.UTC(2026, 11, 7, 5, 30); // a Monday
const D = (m: number, d: number, y = 2026) => Date.UTC(y, m - 1, d);
const known = {
  apps: ['code-chat', 'docs-qa', 'support-bot'],
  models: ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5'],
  tasks: ['classification', 'faq', 'short_answer'],
  providers: ['openai'],
  environments: ['production', 'staging'],
};

describe('windows', () => {
  it.each([
    ['Spend per day from Dec 1 to Dec 3', D(12, 1), D(12, 4)],
    ['spend between 2026-11-28 and 2026-12-02', D(11, 28), D(12, 3)],
    ['what happened on December 2nd', D(12, 2), D(12, 3)],
    ['calls on 3 Dec', D(12, 3), D(12, 4)],
    ['spend yesterday', D(12, 6), D(12, 7)],
    ['spend today', D(12, 7), NOW],
    ['spend last week', D(11, 30), D(12, 7)],
    ['spend this week', D(12, 7), NOW],
    ['spend this month', D(12, 1), NOW],
    ['spend last month', D(11, 1), D(12, 1)],
    ['spend in the last 3 days', NOW - 3 * 86_400_000, NOW],
    ['spend over the past 24 hours', NOW - 86_400_000, NOW],
    ['errors in the last two weeks', NOW - 14 * 86_400_000, NOW],
  ])('%s', (q, from, to) => {
    expect(windowOf(q, NOW)).toMatchObject({ from, to });
  });

  it("a date later in the year than now is last year's", () => {
    expect(windowOf('spend on Dec 20', NOW)).toMatchObject({ from: D(12, 20, 2025) });
  });

  it('no window named: null', () => {
    expect(windowOf('Where does my money go?', NOW)).toBeNull();
  });
});

describe("windows in the workspace's time zone", () => {
  const H = 3_600_000;
  // 2026-12-07 05:30 UTC is Monday 00:30 in New York (UTC-5), Monday 14:30 in Tokyo (UTC+9), Sunday 21:30 in Los Angeles
  it.each([
    // New York, winter: local midnight is 05:00 UTC
    ['America/New_York', 'spend yesterday', Date.UTC(2026, 11, 6, 5), Date.UTC(2026, 11, 7, 5)],
    ['America/New_York', 'spend this month', Date.UTC(2026, 11, 1, 5), NOW],
    ['America/New_York', 'spend last week', Date.UTC(2026, 10, 30, 5), Date.UTC(2026, 11, 7, 5)],
    ['America/New_York', 'Spend per day from Dec 1 to Dec 3', Date.UTC(2026, 11, 1, 5), Date.UTC(2026, 11, 4, 5)],
    // Tokyo: midnight is 15:00 UTC the day before
    ['Asia/Tokyo', 'spend yesterday', Date.UTC(2026, 11, 5, 15), Date.UTC(2026, 11, 6, 15)],
    ['Asia/Tokyo', 'spend today', Date.UTC(2026, 11, 6, 15), NOW],
    // Los Angeles: still Sunday, so "this week" started Monday Nov 30 (08:00 UTC) and "yesterday" is Saturday
    ['America/Los_Angeles', 'spend this week', Date.UTC(2026, 10, 30, 8), NOW],
    ['America/Los_Angeles', 'spend yesterday', Date.UTC(2026, 11, 5, 8), Date.UTC(2026, 11, 6, 8)],
    // India: a half-hour offset (UTC+5:30)
    ['Asia/Kolkata', 'calls on 3 Dec', Date.UTC(2026, 11, 2, 18, 30), Date.UTC(2026, 11, 3, 18, 30)],
    ['UTC', 'spend yesterday', D(12, 6), D(12, 7)],
  ])('%s: %s', (tz, q, from, to) => {
    expect(windowOf(q, NOW, tz)).toMatchObject({ from, to });
  });

  it('a day that crosses a DST change is 23 or 25 hours long', () => {
    // Europe/Paris: clocks go forward on 2026-03-29 (02:00 -> 03:00) and back on 2026-10-25 (03:00 -> 02:00)
    const spring = windowOf('spend on 2026-03-29', Date.UTC(2026, 5, 1), 'Europe/Paris')!;
    expect(spring).toMatchObject({ from: Date.UTC(2026, 2, 28, 23), to: Date.UTC(2026, 2, 29, 22) });
    expect(spring.to - spring.from).toBe(23 * H);
    const autumn = windowOf('spend on 2026-10-25', Date.UTC(2026, 11, 1), 'Europe/Paris')!;
    expect(autumn.to - autumn.from).toBe(25 * H);
    expect(offsetChanges(Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1), 'Europe/Paris')).toEqual({
      initial: H,
      changes: [
        { at: Date.UTC(2026, 2, 29, 1), offset: 2 * H },
        { at: Date.UTC(2026, 9, 25, 1), offset: H },
      ],
    });
    expect(zonedMidnight(2026, 6, 1, 'Europe/Paris')).toBe(Date.UTC(2026, 5, 30, 22));
    expect(zoneOffsetMs(Date.UTC(2026, 6, 1), 'Asia/Kathmandu')).toBe(5.75 * H);
  });

  it('the time zone is an IANA name the runtime knows', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});

describe('plans', () => {
  it('"How much did user u-17 spend?" is a spend figure filtered to that user', () => {
    expect(planQuestion('How much did user u-17 spend?', known, NOW)).toMatchObject({
      intent: 'figure',
      metric: 'spend',
      filters: [{ column: 'end_user', value: 'u-17' }],
      dimension: null,
    });
  });

  it('"Top 5 users by spend last week" ranks users over last week', () => {
    expect(planQuestion('Top 5 users by spend last week', known, NOW)).toMatchObject({
      intent: 'figure',
      dimension: 'end_user',
      top: 5,
      window: { from: D(11, 30), to: D(12, 7) },
    });
  });

  it('"p95 latency by model per hour for code-chat" has metric, dimension, granularity and an app filter', () => {
    expect(planQuestion('p95 latency by model per hour for code-chat', known, NOW)).toMatchObject({
      metric: 'latency_p95',
      dimension: 'model',
      granularity: 'hour',
      filters: [{ column: 'app', value: 'code-chat' }],
    });
  });

  it('does not read gpt-4o inside gpt-4o-mini', () => {
    expect(planQuestion('error rate of gpt-4o-mini', known, NOW).filters).toEqual([{ column: 'model', value: 'gpt-4o-mini' }]);
  });

  it('"Compare docs-qa vs code-chat cost" keeps the question\'s order', () => {
    expect(planQuestion('Compare docs-qa vs code-chat cost', known, NOW)).toMatchObject({
      comparison: { kind: 'values', values: ['docs-qa', 'code-chat'] },
      dimension: 'app',
      metric: 'spend',
    });
  });

  it('"Spend this week vs last week" compares two periods', () => {
    expect(planQuestion('Spend this week vs last week', known, NOW).comparison).toMatchObject({
      kind: 'periods',
      previous: { from: D(11, 30), to: D(12, 7) },
    });
    expect(planQuestion('Spend last week vs the week before', known, NOW).comparison).toMatchObject({
      previous: { from: D(11, 23), to: D(11, 30) },
    });
  });

  it('"Why did spend go up yesterday?" compares yesterday with the day before, by app; one app\'s by model', () => {
    expect(planQuestion('Why did spend go up yesterday?', known, NOW)).toMatchObject({
      intent: 'figure',
      metric: 'spend',
      dimension: 'app',
      window: { from: D(12, 6), to: D(12, 7) },
      comparison: { kind: 'periods', previous: { from: D(12, 5), to: D(12, 6) } },
    });
    expect(planQuestion("Why did docs-qa's spend go up yesterday?", known, NOW)).toMatchObject({
      dimension: 'model',
      filters: [{ column: 'app', value: 'docs-qa' }],
    });
    // without a window: the last 7 days against the 7 before
    const p = planQuestion('What drove the increase in spend?', known, NOW);
    expect(p.comparison).toMatchObject({ kind: 'periods', previous: { to: p.window!.from } });
    expect(p.window!.to - p.window!.from).toBe(7 * 86_400_000);
    // the direction the question takes for granted, which the answer checks
    expect(planQuestion('Why did spend go up yesterday?', known, NOW).comparison).toMatchObject({ claimed: 1 });
    expect(planQuestion('Why did our costs drop last week?', known, NOW).comparison).toMatchObject({ claimed: -1 });
    expect(planQuestion('What changed in spend yesterday?', known, NOW).comparison).toMatchObject({ claimed: null });
    expect(planQuestion('Spend this week vs last week', known, NOW).comparison).toMatchObject({ claimed: null });
    // a latency "why" is about where the time goes, not what changed
    expect(planQuestion('Why is latency so high for docs-qa?', known, NOW)).toMatchObject({ intent: 'latency_cause', comparison: null });
  });

  it('a model family names its provider ("Claude models" is anthropic), also one the workspace never called', () => {
    const k = { ...known, providers: ['openai', 'anthropic'] };
    expect(planQuestion('How much did we spend on Claude models last week?', k, NOW).filters).toEqual([
      { column: 'provider', value: 'anthropic' },
    ]);
    expect(planQuestion('GPT spend per day', k, NOW).filters).toEqual([{ column: 'provider', value: 'openai' }]);
    // a model id is a model, not its family
    expect(planQuestion('Spend on gpt-4o yesterday', k, NOW).filters).toEqual([{ column: 'model', value: 'gpt-4o' }]);
    expect(planQuestion('How much did we spend on Gemini?', k, NOW).filters).toEqual([{ column: 'provider', value: 'google' }]);
  });

  it.each([
    ['What would switching code-chat to gpt-4o-mini save?', 'gpt-4o-mini', [{ column: 'app', value: 'code-chat' }]],
    ['What if support-bot used gpt-4o-mini?', 'gpt-4o-mini', [{ column: 'app', value: 'support-bot' }]],
    [
      'Move support-bot from gpt-4o to gpt-4o-mini.',
      'gpt-4o-mini',
      [
        { column: 'app', value: 'support-bot' },
        { column: 'model', value: 'gpt-4o' },
      ],
    ],
    ['Replace gpt-4o with gpt-4o-mini', 'gpt-4o-mini', [{ column: 'model', value: 'gpt-4o' }]],
    ['How much would we save by using gpt-4o-mini for code-chat?', 'gpt-4o-mini', [{ column: 'app', value: 'code-chat' }]],
  ])('"%s" moves calls to %s (a switch)', (q, to, filters) => {
    expect(planQuestion(q, known, NOW)).toMatchObject({ intent: 'switch', switch_to: to, filters });
  });

  it.each(['How much do we spend using gpt-4o?', 'Compare gpt-4o to gpt-4o-mini', 'Spend on gpt-4o vs gpt-4o-mini'])(
    '"%s" is not a switch',
    (q) => {
      expect(planQuestion(q, known, NOW)).toMatchObject({ intent: 'figure', switch_to: null });
    },
  );

  it.each([
    ['Which model should handle classification?', 'task_model'],
    ['Why is latency so high for code-chat?', 'latency_cause'],
    ['What data is missing?', 'missing_data'],
    ['Which jobs could use a batch API?', 'batch'],
    ['Reduce costs but keep quality', 'advice'],
    ['Where does my money go?', 'figure'],
  ])('"%s" → %s', (q, intent) => {
    expect(planQuestion(q, known, NOW).intent).toBe(intent);
  });

  it('"Which model should handle classification?" carries the task', () => {
    expect(planQuestion('Which model should handle classification?', known, NOW).task).toBe('classification');
  });

  it('targets: "cut spend by 20%" and "3x faster"', () => {
    expect(planQuestion('cut spend by 20%', known, NOW).targets).toEqual([expect.objectContaining({ kind: 'percent', value: 20 })]);
    expect(planQuestion('make it 3x faster', known, NOW).targets).toEqual([expect.objectContaining({ kind: 'multiplier', value: 3 })]);
  });

  it('a name that matches nothing is said back, a known one is not', () => {
    expect(planQuestion('How much did app foo-bar-baz spend?', known, NOW).unparsed).toEqual(['foo-bar-baz']);
    expect(planQuestion('How much did app docs-qa spend?', known, NOW).unparsed).toEqual([]);
  });

  it.each([
    ['How much can I save with prompt caching?', ['prompt_caching'], []],
    ['How much would caching identical prompts save?', ['exact_cache', 'semantic_cache'], []],
    ['How much can I save with caching?', ['exact_cache', 'semantic_cache', 'prompt_caching'], []],
    ['How much do retries cost us?', ['retry_waste'], []],
    ['Could a semantic cache help docs-qa?', ['semantic_cache'], [{ column: 'app', value: 'docs-qa' }]],
    ['How much would routing to cheaper models save?', ['model_routing'], []],
  ])('"%s" names the kinds %j', (q, kinds, filters) => {
    const p = planQuestion(q, known, NOW);
    expect(p.intent).toBe('kind');
    expect(p.kinds).toEqual(kinds);
    expect(p.filters).toEqual(filters);
  });

  it('a kind with a breakdown stays a figure; advice words are kept beside it', () => {
    expect(planQuestion('Spend by app', known, NOW)).toMatchObject({ intent: 'figure', kinds: [], advice_asked: false });
    const p = planQuestion('Which app is the most expensive and what should I change?', known, NOW);
    expect(p).toMatchObject({ intent: 'figure', dimension: 'app', advice_asked: true });
    expect(planQuestion('Reduce my costs', known, NOW)).toMatchObject({ intent: 'advice', kinds: [] });
  });
});
