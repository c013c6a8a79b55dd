/**
 * The answer test set over the demo workspace (the five presets, as `netra serve` seeds it, at 10,000 events): every
 * question the chat is known to have answered wrongly, and the everyday ones. Each case computes the facts the answer
 * must contain from the stored events (never hard-coded) and names what it must not contain. Relative windows count
 * back from a fixed `now` taken after seeding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../src/agents/index.js';
import type { RunExecutor } from '../src/agents/types.js';
import { formatByUnit, formatPercent, formatUsd } from '../src/llm/builtin-prose.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { ask, DAY, dayLabel, groupBy, inWindow, p95, quantileCont, spend, startOfDay, topBy } from './helpers/answer-facts.js';

let t: TestApp;
let sup: RunExecutor;
let all: WorkloadEvent[];
let NOW: number;
const WS = 'demo';

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, demoEvents: 10_000 });
  NOW = Date.now();
  sup = createSupervisor({
    analysis: t.app.analysis,
    llm: t.app.llm,
    generate: (r) => t.app.generate(r),
    catalog: () => t.app.catalog(),
    now: () => NOW,
  });
  all = await t.app.store.listEvents({ workspace: WS }, { limit: 20_000 });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const ms = (v: number) => formatByUnit(Math.round(v), 'ms');
const calls = (n: number) => formatByUnit(n, 'count');
const firstLine = (s: string) => s.split('\n')[0]!;

describe('answers over the demo workspace', () => {
  it('holds 10,000 events', () => {
    expect(all).toHaveLength(10_000);
  });

  it('"Where does my money go?" names the app that spends most, first', async () => {
    const { content } = await ask(sup, WS, 'Where does my money go?');
    const [app, v] = topBy(
      groupBy(all, (e) => e.app),
      spend,
    );
    expect(firstLine(content)).toContain(`${app} has the most spend`);
    expect(firstLine(content)).toContain(formatUsd(v));
    expect(firstLine(content)).toContain(formatUsd(spend(all)));
    expect(content).not.toContain('Monthly savings is');
  });

  it('"How much did we spend yesterday?" gives yesterday\'s spend', async () => {
    const y = startOfDay(NOW) - DAY;
    const { content } = await ask(sup, WS, 'How much did we spend yesterday?');
    expect(firstLine(content)).toContain(`spent ${formatUsd(spend(inWindow(all, y, y + DAY)))} yesterday (${dayLabel(y)})`);
  });

  it('"Spend per day from <d1> to <d3>" answers per day, with a table', async () => {
    const d1 = startOfDay(NOW) - 5 * DAY;
    const { content } = await ask(sup, WS, `Spend per day from ${dayLabel(d1)} to ${dayLabel(d1 + 2 * DAY)}`);
    expect(firstLine(content)).toContain(`adds up to ${formatUsd(spend(inWindow(all, d1, d1 + 3 * DAY)))}`);
    for (let d = d1; d < d1 + 3 * DAY; d += DAY)
      expect(content).toContain(`| ${dayLabel(d)} | ${formatUsd(spend(inWindow(all, d, d + DAY)))} |`);
    expect(content).not.toContain(dayLabel(d1 + 3 * DAY) + ' |');
  });

  it('"Top 5 users by spend" ranks users', async () => {
    const users = groupBy(all, (e) => e.end_user);
    const [u, v] = topBy(users, spend);
    const { content } = await ask(sup, WS, 'Top 5 users by spend');
    expect(firstLine(content)).toContain(`The top 5 users by spend`);
    expect(firstLine(content)).toContain(`${u} leads with ${formatUsd(v)}`);
    expect(content).toContain(`(no end_user) | ${formatUsd(spend(users.get(null) ?? []))}`);
  });

  it('"How many calls did support-bot make?" counts them', async () => {
    const { content } = await ask(sup, WS, 'How many calls did support-bot make?');
    expect(firstLine(content)).toBe(
      `support-bot made ${calls(all.filter((e) => e.app === 'support-bot').length)} calls over the whole history (from ${firstLine(content).split('(from ')[1]}`,
    );
  });

  it('"What is the p95 latency of <the busiest model>?" computes it', async () => {
    const [model] = topBy(
      groupBy(all, (e) => e.model),
      (es) => es.length,
    );
    const { content } = await ask(sup, WS, `What is the p95 latency of ${model}?`);
    expect(firstLine(content)).toContain(`${model} calls' p95 latency was ${ms(p95(all.filter((e) => e.model === model))!)}`);
  });

  it('"Error rate by model" names the model with the highest error rate', async () => {
    const [model, rate] = topBy(
      groupBy(all, (e) => e.model),
      (es) => es.filter((e) => e.status === 'error').length / es.length,
    );
    const { content } = await ask(sup, WS, 'Error rate by model');
    expect(firstLine(content)).toContain(`${model} has the highest error rate`);
    expect(firstLine(content)).toContain(formatPercent(rate * 100));
  });

  it('"Reduce costs but keep quality" starts with the replay\'s one projected figure; money-saving changes first', async () => {
    const policy = await t.app.analysis.recommendedPolicy({ workspace: WS, goal: 'balanced' });
    const replay = await t.app.analysis.simulate({ workspace: WS, policy });
    const a = await t.app.analysis.analyze({ workspace: WS, goal: 'balanced' });
    const { content } = await ask(sup, WS, 'Reduce costs but keep quality');
    expect(content.startsWith(`Netra analysed ${calls(a.summary.events)} events`)).toBe(true);
    expect(content).toContain(`save ${formatUsd(replay.monthly_savings_usd)} a month`);
    expect(a.summary.projected_savings?.monthly_usd).toBe(replay.monthly_savings_usd);
    // the chat's figure is the API's
    const api = await t.app.server.inject({ url: `/api/v1/analysis?workspace=${WS}`, headers: await t.auth() });
    const projected = api.json().summary.projected_savings.monthly_usd as number;
    expect(projected).toBe(replay.monthly_savings_usd);
    expect(content).toContain(`Projected savings: applied together, Netra's recommendations would save ${formatUsd(projected)} a month`);
    expect(content).not.toContain(formatUsd(a.recommendations.reduce((s, r) => s + r.monthly_savings_usd, 0)) + ' a month');
    expect(content).toMatch(/\n1\. [^\n]*saves \$[\d,.]+ a month on its own/);
    expect(content).not.toMatch(/saves \$0\.00/);
    // natural prose, not "X is Y" fact templates
    expect(content).not.toMatch(/\b(Monthly spend|Analysed events|Error rate|Latency p\d\d|Monthly savings) is /);
  });

  it('"Which model should handle classification?" names the apps that classify', async () => {
    const apps = [...new Set(all.filter((e) => e.tags.task === 'classification').map((e) => e.app))];
    expect(apps.length).toBeGreaterThan(0);
    const { content } = await ask(sup, WS, 'Which model should handle classification?');
    expect(firstLine(content)).toContain('Classification runs in');
    for (const app of apps) expect(firstLine(content)).toContain(app);
    expect(firstLine(content)).toMatch(/\(tier \d\)/);
    expect(content).not.toContain('Monthly spend goes from');
  });

  it('"Why is latency so high for code-chat?" states code-chat\'s p95 and where its time goes', async () => {
    const mine = all.filter((e) => e.app === 'code-chat');
    const { content } = await ask(sup, WS, 'Why is latency so high for code-chat?');
    expect(firstLine(content)).toContain(`code-chat's p95 latency is ${ms(p95(mine)!)}`);
    expect(firstLine(content)).toMatch(/generation|first token/);
    expect(content).not.toContain('text-embedding');
    expect(content).not.toContain('nightly');
  });

  it('"How much did user u-17 spend?" says no event matches, not the workspace summary', async () => {
    const { content } = await ask(sup, WS, 'How much did user u-17 spend?');
    expect(all.some((e) => e.end_user === 'u-17')).toBe(false);
    expect(firstLine(content)).toContain('end_user = u-17');
    expect(firstLine(content)).toContain('$0.00');
    expect(content).not.toContain('Netra analysed');
  });

  it('"How much did user <a real user> spend?" gives that user\'s spend', async () => {
    const [u] = topBy(
      groupBy(all, (e) => e.end_user),
      (es) => es.length,
    );
    const { content } = await ask(sup, WS, `How much did user ${u} spend?`);
    expect(firstLine(content)).toContain(`User ${u} spent ${formatUsd(spend(all.filter((e) => e.end_user === u)))}`);
  });

  it('"What data is missing?" states the coverage of each field', async () => {
    const { content } = await ask(sup, WS, 'What data is missing?');
    const users = all.filter((e) => e.end_user !== null).length;
    const sessions = all.filter((e) => e.session_id !== null).length;
    expect(content).toContain(`| end_user | ${calls(users)} of ${calls(all.length)} |`);
    expect(content).toContain(`| session_id | ${calls(sessions)} of ${calls(all.length)} |`);
    expect(firstLine(content)).toMatch(/missing/);
  });

  it('"Which jobs could use a batch API?" lists the API\'s batch candidates', async () => {
    const a = await t.app.analysis.analyze({ workspace: WS });
    const batch = a.recommendations.filter((r) => r.kind === 'batch_api');
    const { content } = await ask(sup, WS, 'Which jobs could use a batch API?');
    if (batch.length === 0) expect(firstLine(content)).toContain('None of this traffic looks deferrable');
    for (const r of batch) expect(content).toContain(`| ${r.scope.app} |`);
    expect(content).not.toMatch(/misses the p95 latency target/);
  });

  it('"Compare code-chat vs docs-qa cost" gives both', async () => {
    const { content } = await ask(sup, WS, 'Compare code-chat vs docs-qa cost');
    expect(firstLine(content)).toContain(`code-chat's spend was ${formatUsd(spend(all.filter((e) => e.app === 'code-chat')))}`);
    expect(firstLine(content)).toContain(`docs-qa's ${formatUsd(spend(all.filter((e) => e.app === 'docs-qa')))}`);
  });

  it('"Spend per hour yesterday" finds the busiest hour', async () => {
    const y = startOfDay(NOW) - DAY;
    const hours = groupBy(inWindow(all, y, y + DAY), (e) => Math.floor(e.timestamp / 3_600_000) * 3_600_000);
    const [h, v] = [...hours].map(([k, es]) => [k, spend(es)] as const).sort((a, b) => b[1] - a[1])[0]!;
    const { content } = await ask(sup, WS, 'Spend per hour yesterday');
    expect(firstLine(content)).toContain(
      `the highest hour was ${dayLabel(h)} ${new Date(h).toISOString().slice(11, 16)} at ${formatUsd(v)}`,
    );
  });

  it('"How many tokens did we use in the last 3 days?" sums prompt and completion tokens', async () => {
    const w = inWindow(all, NOW - 3 * DAY, NOW);
    const { content } = await ask(sup, WS, 'How many tokens did we use in the last 3 days?');
    expect(firstLine(content)).toContain(
      `used ${formatByUnit(
        w.reduce((s, e) => s + e.prompt_tokens + e.completion_tokens, 0),
        'tokens',
      )} in the last 3 days`,
    );
  });

  it('"What is the cost per call of support-bot?" divides spend by calls', async () => {
    const mine = all.filter((e) => e.app === 'support-bot');
    const { content } = await ask(sup, WS, 'What is the cost per call of support-bot?');
    expect(firstLine(content)).toContain(`paid ${formatUsd(spend(mine) / mine.length)} per call on average`);
  });

  it('"Spend this week vs last week" compares the two periods', async () => {
    const wk = startOfDay(NOW) - ((new Date(NOW).getUTCDay() + 6) % 7) * DAY;
    const { content } = await ask(sup, WS, 'Spend this week vs last week');
    expect(firstLine(content)).toContain(formatUsd(spend(inWindow(all, wk, NOW))));
    expect(firstLine(content)).toContain(`against ${formatUsd(spend(inWindow(all, wk - 7 * DAY, wk)))}`);
    // this week is not over: the answer says the totals cover different spans
    expect(content).toContain(`The first period covers ${((NOW - wk) / DAY).toFixed(1)} days and the second 7.0`);
  });

  it('"p99 latency by app" names the slowest app at p99', async () => {
    const [app, v] = topBy(
      groupBy(all, (e) => e.app),
      (es) =>
        quantileCont(
          es.map((e) => e.latency_ms).filter((x): x is number => x !== null),
          0.99,
        ),
    );
    const { content } = await ask(sup, WS, 'p99 latency by app');
    expect(firstLine(content)).toContain(`${app} has the highest p99 latency`);
    expect(firstLine(content)).toContain(ms(v));
  });

  it('"Spend by provider" names the provider that spends most', async () => {
    const [p, v] = topBy(
      groupBy(all, (e) => e.provider),
      spend,
    );
    const { content } = await ask(sup, WS, 'Spend by provider');
    expect(firstLine(content)).toContain(`${p} has the most spend`);
    expect(firstLine(content)).toContain(formatUsd(v));
  });

  it('"Spend by task" breaks spend down by tags.task', async () => {
    const [task, v] = topBy(
      groupBy(all, (e) => e.tags.task ?? null),
      spend,
    );
    const { content } = await ask(sup, WS, 'Spend by task');
    expect(firstLine(content)).toContain(`${task} has the most spend`);
    expect(firstLine(content)).toContain(formatUsd(v));
  });

  it('"How much did app foo-bar-baz spend?" says the name back instead of dropping it', async () => {
    const { content } = await ask(sup, WS, 'How much did app foo-bar-baz spend?');
    expect(content).toContain('"foo-bar-baz" matches no app');
  });

  it('"How much did ops-agent spend on <day>?" filters app and day', async () => {
    const d = startOfDay(NOW) - 2 * DAY;
    const { content } = await ask(sup, WS, `How much did ops-agent spend on ${dayLabel(d)}?`);
    expect(firstLine(content)).toContain(
      `ops-agent spent ${formatUsd(spend(inWindow(all, d, d + DAY).filter((e) => e.app === 'ops-agent')))} on ${dayLabel(d)}`,
    );
  });

  it('"What is the error rate of <model> this month?" uses the calendar month so far', async () => {
    const [model] = topBy(
      groupBy(all, (e) => e.model),
      (es) => es.length,
    );
    const m0 = Date.UTC(new Date(NOW).getUTCFullYear(), new Date(NOW).getUTCMonth(), 1);
    const mine = inWindow(all, m0, NOW).filter((e) => e.model === model);
    const { content } = await ask(sup, WS, `What is the error rate of ${model} this month?`);
    const errors = mine.filter((e) => e.status === 'error').length;
    if (mine.length > 0) expect(firstLine(content)).toContain(`${calls(errors)} of ${calls(mine.length)} calls failed`);
    else expect(firstLine(content)).toContain('No event');
  });

  it('"Top 3 models by calls" ranks by call count', async () => {
    const ranked = [...groupBy(all, (e) => e.model)]
      .map(([k, es]) => [k, es.length] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const { content } = await ask(sup, WS, 'Top 3 models by calls');
    expect(firstLine(content)).toContain(`${ranked[0]![0]} leads with ${calls(ranked[0]![1])}`);
    for (const [m, n] of ranked.slice(0, 3)) expect(content).toContain(`| ${m} | ${calls(n)} |`);
  });

  it('"What is the median latency?" gives p50 over every call', async () => {
    const { content } = await ask(sup, WS, 'What is the median latency?');
    expect(firstLine(content)).toContain(
      `p50 latency was ${ms(
        quantileCont(
          all.map((e) => e.latency_ms).filter((x): x is number => x !== null),
          0.5,
        )!,
      )}`,
    );
  });

  it('"Reduce latency by 3x" states the target against the p95', async () => {
    const a = await t.app.analysis.analyze({ workspace: WS, goal: 'latency' });
    const { content } = await ask(sup, WS, 'Reduce latency by 3x');
    expect(firstLine(content)).toContain(`p95 latency is ${ms(a.summary.latency_p95_ms!)}`);
    expect(firstLine(content)).toContain(`a 3x cut means ${ms(Math.round(a.summary.latency_p95_ms! / 3))}`);
  });

  it('"Generate 10k synthetic events for a RAG support bot" writes into a new workspace, named in the answer', async () => {
    const owner = t.app.accounts.identity.localOwnerId();
    const { content, events } = await ask(sup, WS, 'Generate 10k synthetic events for a RAG support bot', owner);
    const target = (events.find((e) => e.type === 'tool_executing')!.payload.args as { workspace: string }).workspace;
    expect(target).not.toBe(WS);
    expect(content).toContain(`into the new workspace ${target}`);
    expect((await t.app.analysis.stats({ workspace: target })).events).toBe(10_000);
    expect((await t.app.analysis.stats({ workspace: WS })).events).toBe(10_000);
  }, 60_000);
});
