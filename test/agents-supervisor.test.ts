/**
 * The supervisor over the real app: the five conversations produce the expected event sequences, the final
 * report's figures equal the analysis API's for the same workspace and window, an empty workspace is told what to send,
 * the LLM fallback is surfaced, and a stop resolves `cancelled` within 200 ms with nothing emitted after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../src/agents/index.js';
import { presentAnalysis } from '../src/optimize/presentation.js';
import type { RunEventDraft, RunExecutor, RunRequest } from '../src/agents/types.js';
import { createLlmClient, formatByUnit, formatUsd } from '../src/llm/index.js';
import type { AnalysisService } from '../src/services/analysis-service.js';
import type { PolicyInput } from '../src/optimize/policy.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const END = Date.UTC(2026, 10, 20);

const request = (text: string, workspace = 'gen'): RunRequest => ({
  run_id: 'r1',
  thread_id: 't1',
  workspace,
  user_id: 'u1',
  request: text,
  history: [],
});

async function runOnce(sup: RunExecutor, req: RunRequest, signal = new AbortController().signal) {
  const events: RunEventDraft[] = [];
  const result = await sup.execute(
    req,
    async (e) => {
      events.push(e);
    },
    signal,
  );
  return { events, result, types: events.map((e) => e.type) };
}

/** Structural checks every analysis conversation must pass; returns the chain the supervisor chose. */
function assertPipeline(events: RunEventDraft[]): string[] {
  const types = events.map((e) => e.type);
  expect(types[0]).toBe('agent_started');
  expect(types.slice(-2)).toEqual(['final_report', 'agent_completed']);
  const thinking = types.indexOf('agent_thinking');
  expect(thinking).toBeGreaterThan(0);
  expect(types.indexOf('sub_agent_update')).toBeGreaterThan(thinking);
  // every tool call is announced, then completed, back to back
  events.forEach((e, i) => {
    if (e.type === 'tool_executing') {
      expect(events[i + 1]!.type).toBe('tool_completed');
      expect(events[i + 1]!.payload.tool).toBe(e.payload.tool);
    }
  });
  const chain = events[thinking]!.payload.chain as string[];
  const agents = events.filter((e) => e.type === 'sub_agent_update').map((e) => e.payload.agent as string);
  expect([...new Set(agents)]).toEqual(chain);
  return chain;
}

const payloadOf = (events: RunEventDraft[], type: string) => events.find((e) => e.type === type)!.payload;
const toolsOf = (events: RunEventDraft[]) =>
  events.filter((e) => e.type === 'tool_executing').map((e) => `${e.payload.agent}:${e.payload.tool}`);

describe('supervisor', () => {
  let t: TestApp;
  let sup: RunExecutor;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.generate({ preset: 'chat-support', events: 6000, days: 7, seed: 3, workspace: 'gen', end: END });
    sup = createSupervisor({
      analysis: t.app.analysis,
      llm: t.app.llm,
      generate: (r) => t.app.generate(r),
      catalog: () => t.app.catalog(),
    });
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('"Where does my money go?" is answered by a spend breakdown by app equal to the API\'s, with no replay or gateway config', async () => {
    const { events, result } = await runOnce(sup, request('Where does my money go?'));
    expect(result.status).toBe('completed');
    const chain = assertPipeline(events);
    const thinking = payloadOf(events, 'agent_thinking') as {
      triage: { category: string; goal: string };
      sufficiency: { level: string };
      plan: { intent: string; dimension: string };
    };
    expect(thinking.triage).toMatchObject({ category: 'workload_analysis', goal: 'cost' });
    expect(thinking.plan).toMatchObject({ intent: 'figure', dimension: 'app' });
    expect(chain).toEqual(
      thinking.sufficiency.level === 'sufficient' ? ['triage', 'data', 'reporting'] : ['data_helper', 'data', 'reporting'],
    );
    expect(toolsOf(events)).toEqual(['triage:stats', 'triage:analysis', 'triage:names', 'data:stats', 'data:breakdown']);
    const b = await t.app.analysis.breakdown({
      workspace: 'gen',
      query: { dimension: 'app', granularity: null, filters: [], rank_by: 'spend', top: 10 },
    });
    const top = [...b.rows].filter((r) => r.key !== null && r.key !== '(other)').sort((x, y) => y.spend_usd - x.spend_usd)[0]!;
    // the first sentence holds the answer: the app that spends most, its spend and the total
    const first = result.content.split('\n')[0]!;
    expect(first).toContain(`${top.key} has the most spend`);
    expect(first).toContain(formatUsd(top.spend_usd));
    expect(first).toContain(formatUsd(b.total.spend_usd));
    for (const r of b.rows.filter((x) => x.key !== null))
      expect(result.content).toContain(`| ${r.key === '(other)' ? 'other apps' : r.key} | ${formatUsd(r.spend_usd)} |`);
  });

  it('a figure question never waits for the analysis: without one at hand it answers from the breakdown, with one it adds its summary', async () => {
    await t.app.generate({ preset: 'rag-assistant', events: 3000, days: 3, seed: 5, workspace: 'fresh', end: END });
    const completed = (events: RunEventDraft[], tool: string) =>
      events.find((e) => e.type === 'tool_completed' && e.payload.tool === tool)!.payload.result as Record<string, unknown>;
    const cold = await runOnce(sup, request('Where does my money go?', 'fresh'));
    expect(cold.result.status).toBe('completed');
    expect(completed(cold.events, 'analysis')).toMatchObject({ computed: false });
    expect(payloadOf(cold.events, 'final_report').summary).toBeNull();
    // nothing was computed on the side: the analysis is still not at hand
    expect(await t.app.analysis.analysisIfReady({ workspace: 'fresh' })).toBeNull();
    // a figure about one app says its recommendations are missing, not that there are none
    const app = (await t.app.analysis.names('fresh')).apps[0]!;
    const named = await runOnce(sup, request(`How much did ${app} spend?`, 'fresh'));
    expect(completed(named.events, 'analysis')).toMatchObject({ computed: false });
    expect(named.result.content).toContain(`No recommendations on ${app} yet`);

    const a = await t.app.analysis.analyze({ workspace: 'fresh' });
    const warm = await runOnce(sup, request('Where does my money go?', 'fresh'));
    expect(completed(warm.events, 'analysis')).toMatchObject({ events: a.summary.events });
    expect(payloadOf(warm.events, 'final_report').summary).toMatchObject({ monthly_spend_usd: a.summary.monthly_spend_usd });
    // the figure and the chain are the same either way
    expect(warm.result.content.split('\n')[0]).toBe(cold.result.content.split('\n')[0]);
    expect((await runOnce(sup, request(`How much did ${app} spend?`, 'fresh'))).result.content).not.toContain('No recommendations on');
    expect(payloadOf(warm.events, 'agent_thinking').chain).toEqual(payloadOf(cold.events, 'agent_thinking').chain);
  });

  it('a figure asked together with what to change computes the analysis and lists the changes on what it ranks first', async () => {
    const question = 'Which app is the most expensive and what should I change?';
    const { events, result } = await runOnce(sup, request(question));
    expect(result.status).toBe('completed');
    expect(payloadOf(events, 'agent_thinking').plan).toMatchObject({ intent: 'figure', dimension: 'app', advice_asked: true });
    const a = await t.app.analysis.analyze({ workspace: 'gen' });
    const b = await t.app.analysis.breakdown({
      workspace: 'gen',
      query: { dimension: 'app', granularity: null, filters: [], rank_by: 'spend', top: 10 },
    });
    const top = [...b.rows].filter((r) => r.key !== null && r.key !== '(other)').sort((x, y) => y.spend_usd - x.spend_usd)[0]!;
    expect(result.content.split('\n')[0]).toContain(`${top.key} has the most spend`);
    const onTop = a.recommendations.filter((r) => r.scope.app === top.key && r.monthly_savings_usd > 0);
    const elsewhere = a.recommendations.filter((r) => r.scope.app !== top.key);
    expect(onTop.length).toBeGreaterThan(0);
    for (const r of onTop.slice(0, 3)) expect(result.content).toContain(r.title);
    for (const r of elsewhere) expect(result.content).not.toContain(r.title);
    // the same figure without the advice part answers from the breakdown and lists no changes
    const plain = await runOnce(sup, request('Which app is the most expensive?'));
    expect(payloadOf(plain.events, 'agent_thinking').plan).toMatchObject({ intent: 'figure', advice_asked: false });
    for (const r of onTop) expect(plain.result.content).not.toContain(r.title);
  });

  it('"How much would <a kind> save?" sums that kind\'s recommendations, counting one item per app and model', async () => {
    const a = await t.app.analysis.analyze({ workspace: 'gen' });
    const kinds = ['model_routing', 'exact_cache', 'semantic_cache', 'prompt_caching'] as const;
    const kind = kinds.find((k) => a.recommendations.some((r) => r.kind === k && r.monthly_savings_usd > 0))!;
    expect(kind).toBeDefined();
    const words = {
      model_routing: 'routing to cheaper models',
      exact_cache: 'a response cache',
      semantic_cache: 'a semantic cache',
      prompt_caching: 'prompt caching',
    };
    const { events, result } = await runOnce(sup, request(`How much would ${words[kind]} save?`));
    expect(payloadOf(events, 'agent_thinking').plan).toMatchObject({ intent: 'kind' });
    const planned = payloadOf(events, 'agent_thinking').plan as { kinds: string[] };
    const mine = a.recommendations.filter((r) => planned.kinds.includes(r.kind) && r.monthly_savings_usd > 0);
    const largest = new Map<string, number>();
    for (const r of mine) {
      const scope = `${r.scope.app ?? '*'}|${r.scope.model ?? '*'}`;
      largest.set(scope, Math.max(largest.get(scope) ?? 0, r.monthly_savings_usd));
    }
    const total = [...largest.values()].reduce((x, v) => x + v, 0);
    expect(result.content.split('\n')[0]).toContain(`would save ${formatUsd(total)} a month`);
    for (const r of mine) expect(result.content).toContain(`| ${r.kind.replace(/_/g, ' ')} | ${r.scope.app ?? 'all'} |`);
    // no other kind is listed in its table
    for (const r of a.recommendations.filter((x) => !planned.kinds.includes(x.kind) && x.monthly_savings_usd > 0))
      expect(result.content).not.toContain(`| ${r.kind.replace(/_/g, ' ')} |`);
  });

  it('a figure about one app lists the changes that bear on it: money for spend, speed for latency, retries for errors', async () => {
    const a = await t.app.analysis.analyze({ workspace: 'gen' });
    const app = a.recommendations.find((r) => r.scope.app && r.monthly_savings_usd > 0 && r.kind !== 'retry_waste')!.scope.app!;
    const on = a.recommendations.filter((r) => r.scope.app === app);
    const cases: [string, (r: (typeof on)[number]) => boolean][] = [
      [`What did ${app} spend?`, (r) => r.monthly_savings_usd > 0],
      [`What is ${app}'s p95 latency?`, (r) => (r.latency_impact.p95_ms_delta ?? 0) < 0],
      [`What is ${app}'s error rate?`, (r) => r.kind === 'retry_waste'],
    ];
    for (const [q, bears] of cases) {
      const { result } = await runOnce(sup, request(q));
      for (const r of on.filter((x) => !bears(x))) expect(result.content, q).not.toContain(r.title);
      const first = on.find(bears);
      if (first) expect(result.content, q).toContain(first.title);
    }
  });

  it('"What would moving <app> to <model> save?" replays that one routing rule; its figure is the simulate API\'s', async () => {
    const byApp = await t.app.analysis.breakdown({
      workspace: 'gen',
      query: { dimension: 'app', granularity: null, filters: [], rank_by: 'spend', top: 1 },
    });
    const app = byApp.rows[0]!.key!;
    const cheap = 'gpt-4o-mini';
    const { events, result } = await runOnce(sup, request(`What would moving ${app} to ${cheap} save?`));
    expect(payloadOf(events, 'agent_thinking').plan).toMatchObject({
      intent: 'switch',
      switch_to: cheap,
      filters: [{ column: 'app', value: app }],
    });
    // one replay, no analysis computed for it
    expect(toolsOf(events)).toContain('data:simulate');
    expect(toolsOf(events)).not.toContain('optimization:analysis');
    // the rule moves the app's calls of the models that do what the target does (chat, not embeddings)
    const started = events.find((e) => e.type === 'tool_executing' && e.payload.tool === 'simulate')!.payload;
    const policy = (started.args as { policy: PolicyInput }).policy;
    const match = policy.routing![0]!.match!;
    expect(match.app).toEqual([app]);
    for (const m of [match.model ?? []].flat()) expect(t.app.catalog().resolve(m)?.modes).toContain('chat');
    const r = await t.app.analysis.simulate({ workspace: 'gen', policy });
    expect(r.breakdown.routed_events).toBeGreaterThan(0);
    const lead = result.content.split('\n')[0]!;
    expect(lead).toContain(`Moving ${app}'s calls to ${cheap} saves ${formatUsd(r.breakdown.routing_savings_usd)}`);
    expect(lead).toContain(`it moves ${formatByUnit(r.breakdown.routed_events, 'count')} calls`);
    expect(result.content).toContain(`| spend | ${formatUsd(r.baseline.spend_usd)} | ${formatUsd(r.projected.spend_usd)} |`);
    expect(result.content).toContain('cannot tell whether');
  });

  it("a kind question shows the gateway config of the changes it lists, not every recommendation's", async () => {
    const a = await t.app.analysis.analyze({ workspace: 'gen' });
    const saving = (k: string) => a.recommendations.some((r) => r.kind === k && r.monthly_savings_usd > 0);
    expect(saving('model_routing') && (saving('exact_cache') || saving('semantic_cache'))).toBe(true);
    const { events, result } = await runOnce(sup, request('How much would routing to cheaper models save?'));
    const all = (payloadOf(events, 'final_report') as { plan: { config: { content: string } } }).plan.config.content;
    // the recommended policy's config has the response cache; the routing answer's config has the routes only
    expect(all).toContain('cache: true');
    const yaml = result.content.split('```yaml\n')[1]!.split('```')[0]!;
    expect(yaml).toContain('netra-route-0');
    expect(yaml).not.toContain('cache: true');
  });

  it('advice about one app lists the changes on that app only, and says when there are none', async () => {
    const a = await t.app.analysis.analyze({ workspace: 'gen' });
    const app = a.recommendations.find((r) => r.scope.app && r.monthly_savings_usd > 0)!.scope.app!;
    const { result } = await runOnce(sup, request(`How can I reduce ${app}'s costs?`));
    expect(result.content.split('\n')[0]).toContain(`The changes listed are the ones on ${app}`);
    for (const r of a.recommendations.filter((x) => x.scope.app !== app)) expect(result.content).not.toContain(r.title);
    expect(result.content).toContain(a.recommendations.find((r) => r.scope.app === app && r.monthly_savings_usd > 0)!.title);
  });

  it('"Why did spend go up on <day>?" compares the day with the one before, app by app, as the breakdown API gives them', async () => {
    const day = Date.UTC(2026, 10, 18);
    const { events, result } = await runOnce(sup, request('Why did spend go up on Nov 18, 2026?'));
    expect(payloadOf(events, 'agent_thinking').plan).toMatchObject({ intent: 'figure', dimension: 'app', comparison: { kind: 'periods' } });
    const by = async (from: number) =>
      t.app.analysis.breakdown({
        workspace: 'gen',
        from,
        to: from + 86_400_000,
        query: { dimension: 'app', granularity: null, filters: [], rank_by: 'spend', top: null },
      });
    const [now, before] = [await by(day), await by(day - 86_400_000)];
    expect(result.content.split('\n')[0]).toContain(
      `was ${formatUsd(now.total.spend_usd)} on Nov 18, against ${formatUsd(before.total.spend_usd)} on Nov 17`,
    );
    const spend = (rows: typeof now.rows, key: string | null) => rows.find((r) => r.key === key)?.spend_usd ?? 0;
    const keys = new Set([...now.rows, ...before.rows].map((r) => r.key));
    const delta = (k: string | null) => spend(now.rows, k) - spend(before.rows, k);
    const total = now.total.spend_usd - before.total.spend_usd;
    const first = [...keys].sort((x, y) => Math.sign(total || 1) * (delta(y) - delta(x)))[0]!;
    expect(result.content.split('\n')[0]).toContain(`the largest contributions: ${first} (`);
    for (const k of keys)
      expect(result.content).toContain(`| ${k} | ${formatUsd(spend(now.rows, k))} | ${formatUsd(spend(before.rows, k))} |`);
  });

  it('"Why did spend go up / drop?" says first when the figures moved the other way', async () => {
    const day = Date.UTC(2026, 10, 18);
    const total = async (from: number) =>
      (
        await t.app.analysis.breakdown({
          workspace: 'gen',
          from,
          to: from + 86_400_000,
          query: { dimension: 'app', granularity: null, filters: [], rank_by: 'spend', top: null },
        })
      ).total.spend_usd;
    const rose = (await total(day)) > (await total(day - 86_400_000));
    for (const [q, up] of [
      ['Why did spend go up on Nov 18, 2026?', true],
      ['Why did spend drop on Nov 18, 2026?', false],
    ] as const) {
      const { result } = await runOnce(sup, request(q));
      const lead = result.content.split('\n')[0]!;
      if (up === rose) expect(lead).not.toContain('did not go');
      else expect(lead).toMatch(new RegExp(`^The workspace's spend did not go ${up ? 'up' : 'down'}: it was \\$`));
    }
  });

  it('"Reduce my costs" runs the full chain; its one projected-savings figure is the API\'s replay of the recommended policy', async () => {
    const { events, result } = await runOnce(sup, request('Reduce my costs'));
    expect(result.status).toBe('completed');
    const chain = assertPipeline(events);
    const thinking = payloadOf(events, 'agent_thinking') as { sufficiency: { level: string } };
    expect(chain).toEqual(
      thinking.sufficiency.level === 'sufficient'
        ? ['triage', 'data', 'optimization', 'actions', 'reporting']
        : ['data_helper', 'data', 'optimization', 'actions', 'reporting'],
    );
    expect(toolsOf(events)).toEqual([
      'triage:stats',
      'triage:analysis',
      'triage:names',
      'data:stats',
      'optimization:analysis',
      'optimization:policy',
      'optimization:simulate',
      'actions:gateway_export',
    ]);
    const a = await t.app.analysis.analyze({ workspace: 'gen', goal: 'cost' });
    const replay = await t.app.analysis.simulate({
      workspace: 'gen',
      policy: await t.app.analysis.recommendedPolicy({ workspace: 'gen', goal: 'cost' }),
    });
    const report = payloadOf(events, 'final_report') as { content: string; figures: { monthly_spend_usd: number } };
    expect(report.figures.monthly_spend_usd).toBe(Math.round(a.summary.monthly_spend_usd * 100) / 100);
    expect(result.content.startsWith(`Netra analysed ${a.summary.events.toLocaleString('en-US')} events`)).toBe(true);
    expect(result.content).toContain(`${formatUsd(a.summary.monthly_spend_usd)} a month at this rate`);
    expect(result.content).toContain(`would save ${formatUsd(replay.monthly_savings_usd)} a month`);
    // the one projected figure is the analysis' own (the replay of the combined policy); the sum of overlapping
    // standalone figures is never presented as the projection
    expect(a.summary.projected_savings?.monthly_usd).toBe(replay.monthly_savings_usd);
    const standaloneSum = a.recommendations.reduce((s, r) => s + r.monthly_savings_usd, 0);
    expect(result.content).not.toContain(`${formatUsd(standaloneSum)} a month`);
    expect(result.content).not.toMatch(/saves \$0\.00/);
    expect(result.content).toBe(report.content);
    // the actions agent's plan carries a LiteLLM config, validation, rollback and monitoring
    const plan = (
      payloadOf(events, 'final_report') as {
        plan: { config: { format: string; content: string }; validation: string[]; rollback: string[]; monitoring: string[] };
      }
    ).plan;
    expect(plan.config.format).toBe('litellm');
    expect(plan.config.content).toContain('model_list');
    expect(plan.config.content).toContain('master_key: os.environ/LITELLM_MASTER_KEY');
    // the chat shows the config its steps refer to ("deploy the LiteLLM config below")
    expect(result.content).toMatch(/deploy the LiteLLM config below/i);
    expect(result.content).toContain('The LiteLLM proxy config these steps refer to:');
    expect(result.content).toContain(`\`\`\`yaml\n${plan.config.content.trimEnd()}\n\`\`\``);
    expect(plan.validation.length).toBeGreaterThan(0);
    expect(plan.rollback.length).toBeGreaterThan(0);
    expect(plan.monitoring.length).toBeGreaterThan(0);
  });

  it("one turn reads the stats and the analysis once each; the policy it replays is the analysis API's recommended policy", async () => {
    const calls: string[] = [];
    const counted: AnalysisService = {
      analyze: (req, o) => {
        calls.push('analyze');
        return t.app.analysis.analyze(req, o);
      },
      simulate: (req, o) => {
        calls.push('simulate');
        return t.app.analysis.simulate(req, o);
      },
      recommendedPolicy: (req, o) => {
        calls.push('recommendedPolicy');
        return t.app.analysis.recommendedPolicy(req, o);
      },
      stats: (scope, o) => {
        calls.push('stats');
        return t.app.analysis.stats(scope, o);
      },
      breakdown: (req, o) => {
        calls.push('breakdown');
        return t.app.analysis.breakdown(req, o);
      },
      names: (workspace, o) => {
        calls.push('names');
        return t.app.analysis.names(workspace, o);
      },
      analysisIfReady: (req, o) => {
        calls.push('analysisIfReady');
        return t.app.analysis.analysisIfReady(req, o);
      },
    };
    const counting = createSupervisor({ analysis: counted, llm: t.app.llm, catalog: () => t.app.catalog(), now: () => END });
    for (const [question, goal] of [
      ['Reduce my costs', 'cost'],
      ['Reduce latency by 3x', 'latency'],
    ] as const) {
      calls.length = 0;
      const { events, result } = await runOnce(counting, request(question));
      expect(result.status).toBe('completed');
      expect(calls).toEqual(['stats', 'analyze', 'names', 'simulate']);
      // the optimization agent's analysis and the data agent's stats are the triage's, and say so
      const completed = events
        .filter((e) => e.type === 'tool_completed')
        .map((e) => `${e.payload.agent}:${e.payload.tool}:${(e.payload.result as { reused_from?: string }).reused_from ?? '-'}`);
      expect(completed).toEqual([
        'triage:stats:-',
        'triage:analysis:-',
        'triage:names:-',
        'data:stats:triage',
        'optimization:analysis:triage',
        'optimization:policy:-',
        'optimization:simulate:-',
        'actions:gateway_export:-',
      ]);
      // the policy is the one the API recommends for the goal; the replay is the API's replay of it
      const policy = await t.app.analysis.recommendedPolicy({ workspace: 'gen', goal });
      const tool = (name: string) =>
        events.find((e) => e.type === 'tool_completed' && e.payload.tool === name)!.payload.result as Record<string, unknown>;
      expect(tool('policy')).toEqual({ name: policy.name ?? null, rules: Object.keys(policy).filter((k) => k !== 'name') });
      const replay = await t.app.analysis.simulate({ workspace: 'gen', policy });
      expect(tool('simulate')).toEqual({
        savings_usd: replay.savings_usd,
        monthly_savings_usd: replay.monthly_savings_usd,
        changed_events: replay.changed_events,
      });
    }
    // a named time range: the data agent reads the window's stats itself
    calls.length = 0;
    await runOnce(counting, request('Reduce my costs over the last 2 days'));
    expect(calls).toEqual(['stats', 'stats', 'analyze', 'names', 'stats', 'simulate']);
  });

  it('"Reduce costs but keep quality" uses the balanced goal and its analysis', async () => {
    const { events, result } = await runOnce(sup, request('Reduce costs but keep quality'));
    expect(result.status).toBe('completed');
    assertPipeline(events);
    expect(payloadOf(events, 'agent_thinking').triage as { goal: string; category: string }).toMatchObject({
      goal: 'balanced',
      category: 'cost_optimization',
    });
    const a = await t.app.analysis.analyze({ workspace: 'gen', goal: 'balanced' });
    const titles = (payloadOf(events, 'final_report').report as { recommendations: { title: string }[] }).recommendations.map(
      (r) => r.title,
    );
    // what saves money comes first (in the goal's order), findings that save nothing after
    const saving = a.recommendations.filter((r) => r.monthly_savings_usd > 0);
    expect(titles).toEqual([...saving, ...a.recommendations.filter((r) => !(r.monthly_savings_usd > 0))].slice(0, 5).map((r) => r.title));
  });

  it('"Reduce latency by 3x" uses the latency goal and states the target from the analysis p95', async () => {
    const { events, result } = await runOnce(sup, request('Reduce latency by 3x'));
    expect(result.status).toBe('completed');
    assertPipeline(events);
    expect((payloadOf(events, 'agent_thinking').triage as { goal: string }).goal).toBe('latency');
    const a = await t.app.analysis.analyze({ workspace: 'gen', goal: 'latency' });
    const lat = (
      payloadOf(events, 'final_report').figures as { latency: { current_p95_ms: number; target_p95_ms: number; target_factor: number } }
    ).latency;
    expect(lat.current_p95_ms).toBe(a.summary.latency_p95_ms);
    expect(lat.target_factor).toBe(3);
    expect(lat.target_p95_ms).toBe(Math.round(a.summary.latency_p95_ms! / 3));
    expect(result.content).toContain(`p95 latency is ${Math.round(a.summary.latency_p95_ms!).toLocaleString('en-US')} ms`);
    expect(result.content).toContain(
      `a 3x cut means ${lat.target_p95_ms.toLocaleString('en-US')} ms, ${formatByUnit(Math.round(a.summary.latency_p95_ms! - lat.target_p95_ms), 'ms')} less`,
    );
    // only latency changes to make, each with its p95 change from the analysis; findings (a missed target with no
    // concrete change) are a note, not a recommendation
    const report = payloadOf(events, 'final_report').report as {
      recommendations: { title: string; evidence?: string }[];
      answer: { notes: string[] };
    };
    const recs = report.recommendations;
    const shown = presentAnalysis(a);
    const latencyRecs = [...shown.recommendations, ...shown.more_recommendations].filter(
      (r) => r.kind === 'latency_slo' || (r.latency_impact.p95_ms_delta ?? 0) < 0,
    );
    expect(recs.map((r) => r.title)).toEqual(latencyRecs.slice(0, 5).map((r) => r.title));
    for (const f of shown.findings) expect(recs.map((r) => r.title)).not.toContain(f.title);
    if (shown.findings.length > 0) expect(report.answer.notes.join(' ')).toContain(shown.findings[0]!.title);
    const d = latencyRecs[0]!.latency_impact.p95_ms_delta!;
    if (d < 0) expect(recs[0]!.evidence).toContain(`p95 ${formatByUnit(Math.abs(d), 'ms')} faster`);
  });

  it('"What happens if usage grows 50%?" scales the analysis\' monthly figures by 1.5 and says so', async () => {
    const { events, result } = await runOnce(sup, request('What happens if usage grows 50%?'));
    expect(result.status).toBe('completed');
    assertPipeline(events);
    const a = await t.app.analysis.analyze({ workspace: 'gen', goal: 'balanced' });
    const figures = payloadOf(events, 'final_report').figures as Record<string, number>;
    expect(figures.growth_factor).toBe(1.5);
    expect(figures.monthly_spend_usd).toBe(Math.round(a.summary.monthly_spend_usd * 1.5 * 100) / 100);
    expect(figures.annual_spend_usd).toBe(Math.round(a.summary.annual_spend_usd * 1.5 * 100) / 100);
    expect(result.content).toContain(
      `${formatUsd(a.summary.monthly_spend_usd)} a month at this rate. If usage grows 50.0%, that becomes ${formatUsd(a.summary.monthly_spend_usd * 1.5)} a month`,
    );
  });

  it('"Generate 10k synthetic events for a RAG support bot" generates rag-assistant 10,000 events', async () => {
    const { events, result } = await runOnce(sup, request('Generate 10k synthetic events for a RAG support bot', 'synth'));
    expect(result.status).toBe('completed');
    expect(events.map((e) => e.type)).toEqual([
      'agent_started',
      'agent_thinking',
      'sub_agent_update',
      'tool_executing',
      'tool_completed',
      'partial_result',
      'sub_agent_update',
      'final_report',
      'agent_completed',
    ]);
    const target = (payloadOf(events, 'tool_executing').args as { workspace: string }).workspace;
    expect(payloadOf(events, 'tool_executing')).toMatchObject({ tool: 'generate', args: { preset: 'rag-assistant', events: 10_000 } });
    // a new workspace, named in the answer; the workspace being looked at is untouched
    expect(target).toMatch(/^synthetic-rag-assistant-\d{8}-\d{4}$/);
    expect((await t.app.analysis.stats({ workspace: target })).events).toBe(10_000);
    expect((await t.app.analysis.stats({ workspace: 'synth' })).events).toBe(0);
    expect(result.content).toContain(
      `Generated 10,000 synthetic events with the rag-assistant preset over 7 days into the new workspace ${target}`,
    );
  }, 60_000);

  it('asks for approval above 50,000 synthetic events and generates nothing', async () => {
    const { events, result } = await runOnce(sup, request('Generate 200k synthetic events for a coding assistant', 'big'));
    expect(result.status).toBe('completed');
    expect(events.map((e) => e.type)).not.toContain('tool_executing');
    expect(payloadOf(events, 'final_report')).toMatchObject({ approval_required: true, events: 200_000, preset: 'coding-assistant' });
    expect((await t.app.analysis.stats({ workspace: 'big' })).events).toBe(0);
  });

  it('an empty workspace gets data_helper → reporting, told exactly what to send', async () => {
    const { events, result } = await runOnce(sup, request('Where does my money go?', 'empty'));
    expect(result.status).toBe('completed');
    expect(assertPipeline(events)).toEqual(['data_helper', 'reporting']);
    expect(toolsOf(events)).toEqual(['triage:stats']);
    expect(result.content).toContain('Missing data: no events in this workspace');
    expect(result.content).toContain('POST /api/v1/events');
  });

  it('refuses a request under 3 characters with agent_error', async () => {
    const { events, result } = await runOnce(sup, request('hi'));
    expect(result.status).toBe('failed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'agent_error',
      payload: { code: 'NETRA_E_VALIDATION', message: expect.stringMatching(/too short/) },
    });
  });

  it('emits agent_fallback when the first provider fails and the built-in model answers', async () => {
    const llm = createLlmClient({
      providers: [{ type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', model: 'x' }],
      maxRetries: 0,
    });
    const s = createSupervisor({ analysis: t.app.analysis, llm, catalog: () => t.app.catalog() });
    const { events, result } = await runOnce(s, request('Where does my money go?'));
    expect(result.status).toBe('completed');
    expect(payloadOf(events, 'agent_fallback')).toMatchObject({ from: 'openai-compatible', to: 'builtin' });
    expect(events.map((e) => e.type).indexOf('agent_fallback')).toBeLessThan(events.map((e) => e.type).indexOf('final_report'));
  });

  it('a stop during a tool call resolves cancelled within 200 ms and emits nothing after', async () => {
    const ac = new AbortController();
    const events: RunEventDraft[] = [];
    let abortedAt = 0;
    let eventsAtAbort = -1;
    const done = sup.execute(
      request('Reduce costs but keep quality over the last 3 days'),
      async (e) => {
        events.push(e);
        if (e.type === 'tool_executing' && e.payload.tool === 'analysis') {
          // stop while the analysis is in flight
          setImmediate(() => {
            abortedAt = performance.now();
            eventsAtAbort = events.length;
            ac.abort();
          });
        }
      },
      ac.signal,
    );
    const r = await done;
    const elapsed = performance.now() - abortedAt;
    expect(r.status).toBe('cancelled');
    expect(abortedAt).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(200);
    expect(events.length).toBe(eventsAtAbort);
    expect(events.map((e) => e.type)).not.toContain('final_report');
  });

  it('a stop inside an emit resolves cancelled at once', async () => {
    const ac = new AbortController();
    const events: RunEventDraft[] = [];
    const r = await sup.execute(
      request('Reduce my costs'),
      async (e) => {
        events.push(e);
        if (e.type === 'sub_agent_update' && e.payload.agent === 'optimization') ac.abort();
      },
      ac.signal,
    );
    expect(r.status).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ type: 'sub_agent_update', payload: { agent: 'optimization', status: 'started' } });
  });
});
