/**
 * The optimisation engine through the HTTP API on a generated workspace and on the real Azure trace.
 */
import { resolve } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECOMMENDATION_KINDS } from '../src/optimize/recommendation.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const AZURE = resolve(__dirname, 'fixtures/data/azure-llm-inference-2023-code.csv');

/** Every number in a JSON value is finite (no NaN / Infinity, which JSON would turn into null anyway). */
function assertFiniteNumbers(v: unknown, path = '$'): void {
  if (typeof v === 'number') expect(Number.isFinite(v), path).toBe(true);
  else if (Array.isArray(v)) v.forEach((x, i) => assertFiniteNumbers(x, `${path}[${i}]`));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) assertFiniteNumbers(x, `${path}.${k}`);
}

describe('analysis API', () => {
  let t: TestApp;
  // every request as the local owner (all routes but /health/* need a token)
  let auth: { authorization: string };
  const inject = (o: InjectOptions) => t.app.server.inject({ ...o, headers: { ...auth, ...o.headers } });
  const END = Date.UTC(2026, 10, 20);

  beforeAll(async () => {
    t = await startTestApp();
    auth = await t.auth();
    await t.app.generate({ preset: 'chat-support', events: 8000, days: 7, seed: 3, workspace: 'gen', end: END });
    await t.app.generate({ preset: 'batch-summarization', events: 4000, days: 7, seed: 4, workspace: 'gen', end: END });
    await t.app.importFile(AZURE, { format: 'azure-trace', model: 'gpt-4o', workspace: 'azure' });
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  it('returns summary, performance and ranked recommendations with every field filled', async () => {
    const r = await inject({ url: '/api/v1/analysis?workspace=gen&goal=cost' });
    expect(r.statusCode).toBe(200);
    const a = r.json();
    expect(Object.keys(a).sort()).toEqual(['performance', 'recommendations', 'skipped', 'summary']);
    expect(a.summary.events).toBe(12000);
    expect(a.summary.goal).toBe('cost');
    expect(a.recommendations.length).toBeGreaterThan(3);
    const kinds = new Set(a.recommendations.map((x: { kind: string }) => x.kind));
    for (const k of ['model_routing', 'exact_cache', 'batch_api']) expect(kinds.has(k)).toBe(true);
    for (const rec of a.recommendations) {
      expect(RECOMMENDATION_KINDS).toContain(rec.kind);
      expect(rec.id).toMatch(new RegExp(`^${rec.kind}:`));
      expect(rec.affected_share).toBeGreaterThanOrEqual(0);
      expect(rec.affected_share).toBeLessThanOrEqual(1);
      expect(rec.monthly_savings_usd).toBeGreaterThanOrEqual(0);
      expect(['low', 'medium', 'high']).toContain(rec.quality_risk.level);
      expect(rec.quality_risk.reason.length).toBeGreaterThan(10);
      expect(rec.evidence.query.length).toBeGreaterThan(10);
      expect(rec.how_to_apply.length).toBeGreaterThan(0);
    }
    const ranks = a.recommendations.map((x: { rank: number }) => x.rank);
    expect(ranks).toEqual(ranks.map((_: number, i: number) => i + 1));
    // under the cost goal everything that saves money comes first, each part ordered by score
    const saves = (x: { monthly_savings_usd: number }) => x.monthly_savings_usd > 0;
    const firstZero = a.recommendations.findIndex((x: { monthly_savings_usd: number }) => !saves(x));
    if (firstZero >= 0) expect(a.recommendations.slice(firstZero).every((x: { monthly_savings_usd: number }) => !saves(x))).toBe(true);
    const paying = a.recommendations.filter(saves).map((x: { score: number }) => x.score);
    const free = a.recommendations.filter((x: { monthly_savings_usd: number }) => !saves(x)).map((x: { score: number }) => x.score);
    for (const part of [paying, free]) expect([...part].sort((x, y) => y - x)).toEqual(part);
    assertFiniteNumbers(a);
  });

  it('orders by goal: the cost goal puts more dollars first than the latency goal does', async () => {
    const cost = (await inject({ url: '/api/v1/analysis?workspace=gen&goal=cost' })).json();
    const lat = (await inject({ url: '/api/v1/analysis?workspace=gen&goal=latency' })).json();
    const top = (a: { recommendations: { monthly_savings_usd: number }[] }) =>
      a.recommendations.slice(0, 3).reduce((s, r) => s + r.monthly_savings_usd, 0);
    expect(top(cost)).toBeGreaterThanOrEqual(top(lat));
    expect(cost.recommendations.length).toBe(lat.recommendations.length);
  });

  it('runs on the real Azure trace: totals match the file, nothing is NaN, missing data is named', async () => {
    const a = (await inject({ url: '/api/v1/analysis?workspace=azure' })).json();
    expect(a.summary.events).toBe(8819);
    const stats = (await inject({ url: '/api/v1/stats?workspace=azure' })).json();
    expect(a.summary.spend_usd).toBeCloseTo(stats.spend_usd, 9);
    assertFiniteNumbers(a);
    const skipped = Object.fromEntries(a.skipped.map((s: { kind: string; needs: string }) => [s.kind, s.needs]));
    expect(skipped.semantic_cache).toMatch(/prompt_text/);
  });

  it('replays a policy and gives clear errors for bad parameters', async () => {
    const policy = { routing: [{ match: { model: 'gpt-4o' }, target_model: 'gpt-4o-mini' }] };
    const sim = await inject({ method: 'POST', url: '/api/v1/simulations', payload: { workspace: 'azure', policy } });
    expect(sim.statusCode).toBe(200);
    const s = sim.json();
    expect(s.baseline.events).toBe(8819);
    expect(s.projected.spend_usd).toBeLessThan(s.baseline.spend_usd);
    expect(s.changed_share).toBeCloseTo(1, 6);

    const bad = await inject({
      method: 'POST',
      url: '/api/v1/simulations',
      payload: { workspace: 'azure', policy: { routing: [{ target_model: 'no-such-model' }] } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe('routing[0].target_model');
    const goal = await inject({ url: '/api/v1/analysis?workspace=gen&goal=cheap' });
    expect(goal.statusCode).toBe(400);
    expect(goal.json().error).toMatchObject({ field: 'goal' });
    const range = await inject({ url: '/api/v1/analysis?workspace=gen&from=2026-11-20&to=2026-11-10' });
    expect(range.statusCode).toBe(400);
    expect(range.json().error.field).toBe('from');
    const empty = await inject({ url: '/api/v1/analysis?workspace=nothing-here' });
    expect(empty.statusCode).toBe(404);
    expect(empty.json().error.message).toMatch(/no events/);
  });

  it('derives a policy from the recommendations that replays to savings', async () => {
    const policy = (await inject({ url: '/api/v1/policy?workspace=gen&goal=cost' })).json();
    expect(policy.routing.length).toBeGreaterThan(0);
    const sim = (await inject({ method: 'POST', url: '/api/v1/simulations', payload: { workspace: 'gen', policy } })).json();
    expect(sim.savings_usd).toBeGreaterThan(0);
    expect(sim.per_day.reduce((x: number, d: { savings_usd: number }) => x + d.savings_usd, 0)).toBeCloseTo(sim.savings_usd, 6);
  });

  it('breaks any metric down by a dimension over HTTP, the rest folded into "(other)"', async () => {
    type Row = { key: string | null; events: number };
    const sum = (rows: Row[]) => rows.reduce((n, x) => n + x.events, 0);
    const all = (await inject({ url: '/api/v1/breakdown?workspace=gen&by=app&metric=calls' })).json() as { groups: number; rows: Row[] };
    expect(all.groups).toBeGreaterThan(2);
    expect(sum(all.rows)).toBe(12000);
    const [first, ...rest] = [...all.rows].sort((a, b) => b.events - a.events);
    const r = await inject({ url: '/api/v1/breakdown?workspace=gen&by=app&metric=calls&top=1' });
    expect(r.statusCode).toBe(200);
    const top = r.json() as { total: { events: number }; groups: number; rows: Row[] };
    expect(top.total.events).toBe(12000);
    expect(top.groups).toBe(all.groups);
    expect(top.rows).toMatchObject([
      { key: first!.key, events: first!.events },
      { key: '(other)', events: sum(rest) },
    ]);
    const daily = (await inject({ url: `/api/v1/breakdown?workspace=gen&granularity=day&filter=app:${first!.key}` })).json();
    expect(daily.rows.length).toBeGreaterThanOrEqual(7);
    expect(sum(daily.rows)).toBe(first!.events);
  });

  it('refuses query parameters a read route does not take, naming each and the one meant', async () => {
    const cases: [string, string, RegExp][] = [
      ['/api/v1/breakdown?workspace=gen&dimension=app', 'dimension', /did you mean by\?/],
      ['/api/v1/breakdown?workspace=gen&by=app&metirc=calls', 'metirc', /did you mean metric\?/],
      ['/api/v1/breakdown?workspace=gen&group_by=model', 'group_by', /did you mean by\?/],
      ['/api/v1/breakdown?workspace=gen&by=app&limit=3', 'limit', /did you mean top\?/],
      ['/api/v1/analysis?workspace=gen&gaol=cost', 'gaol', /did you mean goal\?/],
      ['/api/v1/policy?workspace=gen&goals=cost', 'goals', /did you mean goal\?/],
      ['/api/v1/stats?workspace=gen&since=2026-11-01', 'since', /did you mean from\?/],
      ['/api/v1/models/unpriced?workspace=gen&model=x', 'model', /this route takes workspace, from, to/],
      ['/api/v1/events?workspace=gen&limt=5', 'limt', /did you mean limit\?/],
    ];
    for (const [url, field, hint] of cases) {
      const r = await inject({ url });
      expect(r.statusCode, url).toBe(400);
      expect(r.json().error, url).toMatchObject({ code: 'NETRA_E_VALIDATION', field });
      expect(r.json().error.message, url).toMatch(new RegExp(`unknown query parameter '${field}'`));
      expect(r.json().error.message, url).toMatch(hint);
    }
  });
});
