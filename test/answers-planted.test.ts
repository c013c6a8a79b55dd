/**
 * The answer test set over two small fixtures with planted facts, ingested through the app's one ingest path:
 * - "planted": three apps with known users (u-17 spends most), a classifier tagged tags.task = classification, a report
 *   generator whose time is planted in the time to first token, production and staging traffic, Dec 1-4;
 * - "bare": events with no end_user, no session, no latency and no tags: the answers must say what to send.
 * Expected facts are computed from the fixture's own rows; `now` is fixed just after the fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../src/agents/index.js';
import type { RunExecutor } from '../src/agents/types.js';
import { formatByUnit, formatUsd } from '../src/llm/builtin-prose.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { ask, DAY, groupBy, inWindow, p95, spend, topBy } from './helpers/answer-facts.js';

const START = Date.UTC(2026, 11, 1);
const NOW = Date.UTC(2026, 11, 5, 6);

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function plantedRows(): Record<string, unknown>[] {
  const r = rng(7);
  const rows: Record<string, unknown>[] = [];
  const users = ['u-17', 'u-42', 'u-7', 'u-99'];
  for (let i = 0; i < 1200; i++) {
    const t = START + Math.floor(r() * 4 * DAY);
    const kind = i % 4;
    const user = kind === 3 && r() < 0.5 ? 'u-17' : users[Math.floor(r() * users.length)]!;
    if (kind === 0 || kind === 3) {
      rows.push({
        event_id: `p-${i}`,
        timestamp: t,
        app: 'faq-bot',
        model: 'gpt-4o-mini',
        end_user: user,
        session_id: `s-${i % 90}`,
        environment: i % 5 === 0 ? 'staging' : 'production',
        prompt_tokens: 300 + Math.floor(r() * 400),
        completion_tokens: 50 + Math.floor(r() * 150),
        latency_ms: 400 + Math.floor(r() * 1600),
        ttft_ms: 150 + Math.floor(r() * 100),
        cost_usd: kind === 3 && user === 'u-17' ? 0.05 : 0.0004 + r() * 0.0004,
        status: r() < 0.03 ? 'error' : 'ok',
        tags: { task: 'faq' },
      });
    } else if (kind === 1) {
      rows.push({
        event_id: `p-${i}`,
        timestamp: t,
        app: 'ticket-tagger',
        model: 'gpt-4o',
        environment: 'production',
        prompt_tokens: 500,
        completion_tokens: 5,
        latency_ms: 300 + Math.floor(r() * 300),
        ttft_ms: 200,
        cost_usd: 0.0013,
        tags: { task: 'classification' },
      });
    } else {
      rows.push({
        event_id: `p-${i}`,
        timestamp: t,
        app: 'report-gen',
        model: 'claude-sonnet-4-5',
        end_user: user,
        environment: 'production',
        prompt_tokens: 6000,
        completion_tokens: 120,
        latency_ms: 9000 + Math.floor(r() * 3000),
        ttft_ms: 7000 + Math.floor(r() * 1500),
        cost_usd: 0.02 + r() * 0.01,
        tags: { task: 'report' },
      });
    }
  }
  // a nightly job: 02:00 UTC, 21 calls a minute for 20 minutes, no user, no session (under the bulk-burst rate)
  for (let d = 0; d < 4; d++) {
    for (let i = 0; i < 420; i++) {
      rows.push({
        event_id: `n-${d}-${i}`,
        timestamp: START + d * DAY + 2 * 3_600_000 + Math.floor(i / 21) * 60_000 + (i % 21) * 2000,
        app: 'nightly-summary',
        model: 'gpt-4o',
        prompt_tokens: 3000,
        completion_tokens: 300,
        // slow, far over the 5 s target: but nobody waits for it
        latency_ms: 12_000 + (i % 7) * 100,
        cost_usd: 0.0105,
        tags: { task: 'summarization' },
      });
    }
  }
  return rows;
}

function bareRows(): Record<string, unknown>[] {
  const r = rng(11);
  return Array.from({ length: 400 }, (_, i) => ({
    event_id: `b-${i}`,
    timestamp: START + Math.floor(r() * 4 * DAY),
    app: i % 3 === 0 ? 'alpha' : 'beta',
    model: i % 2 === 0 ? 'gpt-4o-mini' : 'gpt-4.1',
    prompt_tokens: 200 + Math.floor(r() * 800),
    completion_tokens: 20 + Math.floor(r() * 200),
  }));
}

/** 90 minutes of classification traffic: a window under a day. */
function shortRows(): Record<string, unknown>[] {
  const r = rng(5);
  return Array.from({ length: 300 }, (_, i) => ({
    event_id: `s-${i}`,
    timestamp: START + 10 * 3_600_000 + i * 18_000,
    app: 'ticket-sorter',
    model: 'claude-sonnet-4-5',
    end_user: `u-${i % 9}`,
    prompt_tokens: 600,
    completion_tokens: 8,
    latency_ms: 400 + Math.floor(r() * 200),
    cost_usd: 0.0016,
    tags: { task: 'classification' },
  }));
}

let t: TestApp;
let sup: RunExecutor;
let planted: WorkloadEvent[];
let bare: WorkloadEvent[];

beforeAll(async () => {
  t = await startTestApp();
  await t.app.ingest(
    'planted',
    plantedRows().map((raw, index) => ({ raw, index })),
  );
  await t.app.ingest(
    'bare',
    bareRows().map((raw, index) => ({ raw, index })),
  );
  await t.app.ingest(
    'short',
    shortRows().map((raw, index) => ({ raw, index })),
  );
  sup = createSupervisor({
    analysis: t.app.analysis,
    llm: t.app.llm,
    generate: (q) => t.app.generate(q),
    catalog: () => t.app.catalog(),
    now: () => NOW,
  });
  planted = await t.app.store.listEvents({ workspace: 'planted' }, { limit: 10_000 });
  bare = await t.app.store.listEvents({ workspace: 'bare' }, { limit: 5000 });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const firstLine = (s: string) => s.split('\n')[0]!;
const usd = formatUsd;

describe('answers over a fixture with planted facts', () => {
  it('holds the fixture', () => {
    expect(planted).toHaveLength(1200 + 4 * 420);
  });

  it('"Which jobs could use a batch API?" finds the nightly job under the bulk rate, as an assumption', async () => {
    const { content } = await ask(sup, 'planted', 'Which jobs could use a batch API?');
    expect(firstLine(content)).toContain('nightly-summary could move to a batch API');
    expect(content).toContain('02:00 UTC each day');
    expect(content).toContain(
      "Assumption: nightly-summary's calls carry no end user and no session and come at the same hours every day (02:00 UTC)",
    );
    expect(content).not.toContain('faq-bot');
  });

  it('"How do we cut latency?" does not tell the nightly job nobody waits for to get faster', async () => {
    const nightly = planted.filter((e) => e.app === 'nightly-summary');
    expect(p95(nightly)!).toBeGreaterThan(5000); // it is slow...
    const { content } = await ask(sup, 'planted', 'How do we cut latency?');
    expect(content).not.toMatch(/nightly-summary misses the p95/);
    // ...and it is most of gpt-4o's traffic, so gpt-4o gets no latency advice either
    expect(content).not.toMatch(/Model gpt-4o misses the p95/);
    const a = (await t.app.server.inject({ url: '/api/v1/analysis?workspace=planted&goal=latency', headers: await t.auth() })).json();
    const all = [...a.recommendations, ...a.more_recommendations, ...a.findings, ...a.minor.recommendations];
    expect(
      all.filter((r: { kind: string; scope: { app?: string } }) => r.kind === 'latency_slo' && r.scope.app === 'nightly-summary'),
    ).toEqual([]);
    expect(all.some((r: { kind: string; scope: { app?: string } }) => r.kind === 'latency_slo' && r.scope.app === 'report-gen')).toBe(true);
  });

  it('a 90-minute window: the answer and the API warn that monthly figures extrapolate it, with lower confidence', async () => {
    const a = (await t.app.server.inject({ url: '/api/v1/analysis?workspace=short&goal=cost', headers: await t.auth() })).json();
    const hours = (Date.parse(a.summary.to) - Date.parse(a.summary.from)) / 3_600_000;
    expect(hours).toBeLessThan(1.5);
    expect(a.summary.warnings[0]).toContain(`only ${hours.toFixed(1)} hours long`);
    const recs = [...a.recommendations, ...a.more_recommendations, ...a.minor.recommendations];
    expect(recs.length).toBeGreaterThan(0);
    for (const r of recs) expect(r.confidence).toBeLessThanOrEqual(0.25 + 1e-9);
    const { content } = await ask(sup, 'short', 'How can we reduce costs?');
    expect(content).toContain(`over ${hours.toFixed(1)} hours`);
    expect(content).toContain(a.summary.warnings[0]);
    expect(content).toContain(`would save ${usd(a.summary.projected_savings.monthly_usd)} a month`);
  });

  it('"How much did user u-17 spend?" gives the planted user\'s spend', async () => {
    const { content } = await ask(sup, 'planted', 'How much did user u-17 spend?');
    expect(firstLine(content)).toContain(`User u-17 spent ${usd(spend(planted.filter((e) => e.end_user === 'u-17')))}`);
    expect(content).not.toContain('Netra analysed');
  });

  it('"Spend per day from Dec 1 to Dec 3" answers per day and leaves Dec 4 out', async () => {
    const { content } = await ask(sup, 'planted', 'Spend per day from Dec 1 to Dec 3');
    for (let d = 0; d < 3; d++)
      expect(content).toContain(`| Dec ${d + 1} | ${usd(spend(inWindow(planted, START + d * DAY, START + (d + 1) * DAY)))} |`);
    expect(content).not.toContain('| Dec 4 |');
    expect(firstLine(content)).toContain(`adds up to ${usd(spend(inWindow(planted, START, START + 3 * DAY)))}`);
  });

  it('"Top 2 users by spend" puts the planted big spender first', async () => {
    const [u, v] = topBy(
      groupBy(planted, (e) => e.end_user),
      spend,
    );
    expect(u).toBe('u-17');
    const { content } = await ask(sup, 'planted', 'Top 2 users by spend');
    expect(firstLine(content)).toContain(`u-17 leads with ${usd(v)}`);
    expect(content).toContain('| other users |');
  });

  it('"What is the p95 latency of faq-bot?" computes it', async () => {
    const { content } = await ask(sup, 'planted', 'What is the p95 latency of faq-bot?');
    expect(firstLine(content)).toContain(
      `faq-bot's p95 latency was ${formatByUnit(Math.round(p95(planted.filter((e) => e.app === 'faq-bot'))!), 'ms')}`,
    );
  });

  it('"How many calls failed yesterday?" gives yesterday\'s failures', async () => {
    const y = inWindow(planted, Date.UTC(2026, 11, 4), Date.UTC(2026, 11, 5));
    const { content } = await ask(sup, 'planted', 'How many calls failed yesterday?');
    expect(firstLine(content)).toContain(
      `${formatByUnit(y.filter((e) => e.status === 'error').length, 'count')} of ${formatByUnit(y.length, 'count')} calls failed`,
    );
  });

  it('"Spend by environment" splits production and staging', async () => {
    const { content } = await ask(sup, 'planted', 'Spend by environment');
    for (const env of ['production', 'staging'])
      expect(content).toContain(`| ${env} | ${usd(spend(planted.filter((e) => e.environment === env)))} |`);
  });

  it('"Why is latency so high for report-gen?" finds the planted time to first token', async () => {
    const { content } = await ask(sup, 'planted', 'Why is latency so high for report-gen?');
    expect(firstLine(content)).toContain(
      `report-gen's p95 latency is ${formatByUnit(Math.round(p95(planted.filter((e) => e.app === 'report-gen'))!), 'ms')}`,
    );
    expect(firstLine(content)).toContain('Waiting for the first token takes most of it');
    expect(content).not.toContain('faq-bot');
  });

  it('"Which model should handle classification?" names the classifier app and its model', async () => {
    const { content } = await ask(sup, 'planted', 'Which model should handle classification?');
    expect(firstLine(content)).toContain('Classification runs in ticket-tagger');
    expect(firstLine(content)).toContain(usd(spend(planted.filter((e) => e.tags.task === 'classification'))));
    expect(firstLine(content)).toMatch(/gpt-4o \(tier \d\)/);
    expect(content).not.toContain('report-gen');
  });

  it('"Compare faq-bot vs report-gen spend" gives both and the ratio', async () => {
    const a = spend(planted.filter((e) => e.app === 'faq-bot'));
    const b = spend(planted.filter((e) => e.app === 'report-gen'));
    const { content } = await ask(sup, 'planted', 'Compare faq-bot vs report-gen spend');
    expect(firstLine(content)).toContain(`faq-bot's spend was ${usd(a)} and report-gen's ${usd(b)}`);
    expect(firstLine(content)).toContain(`${(Math.max(a, b) / Math.min(a, b)).toFixed(1)}x`);
  });

  it('"What is the cost per call of faq-bot on Dec 2?" filters app and day', async () => {
    const mine = inWindow(planted, START + DAY, START + 2 * DAY).filter((e) => e.app === 'faq-bot');
    const { content } = await ask(sup, 'planted', 'What is the cost per call of faq-bot on Dec 2?');
    expect(firstLine(content)).toContain(`faq-bot paid ${usd(spend(mine) / mine.length)} per call on average on Dec 2`);
  });

  it("the chat's per-day figures equal GET /api/v1/breakdown for the same window", async () => {
    const res = await t.app.server.inject({
      url: `/api/v1/breakdown?workspace=planted&metric=spend&granularity=day&from=${START}&to=${START + 3 * DAY}`,
      headers: await t.auth('planted'),
    });
    expect(res.statusCode).toBe(200);
    const api = res.json() as { total: { spend_usd: number }; rows: { bucket_start: number; spend_usd: number }[] };
    expect(api.rows).toHaveLength(3);
    const { content } = await ask(sup, 'planted', 'Spend per day from Dec 1 to Dec 3');
    expect(firstLine(content)).toContain(`adds up to ${usd(api.total.spend_usd)}`);
    for (const r of api.rows)
      expect(content).toContain(
        `| ${new Date(r.bucket_start).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' })} | ${usd(r.spend_usd)} |`,
      );
    const bad = await t.app.server.inject({ url: '/api/v1/breakdown?workspace=planted&by=nope', headers: await t.auth('planted') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { field: 'dimension' } });
  });

  it("in the workspace's time zone: days are New York days, in the chat and in the API alike", async () => {
    const headers = await t.auth('planted');
    const bad = await t.app.server.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/planted/settings',
      headers,
      payload: { time_zone: 'Mars/Olympus' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { field: 'time_zone' } });
    const set = await t.app.server.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/planted/settings',
      headers,
      payload: { time_zone: 'America/New_York' },
    });
    expect(set.statusCode).toBe(200);
    try {
      const got = await t.app.server.inject({ url: '/api/v1/workspaces/planted/settings', headers });
      expect(got.json()).toEqual({ workspace: 'planted', time_zone: 'America/New_York' });
      const nySup = createSupervisor({
        analysis: t.app.analysis,
        llm: t.app.llm,
        catalog: () => t.app.catalog(),
        now: () => NOW,
        timeZone: (w) => t.app.repo.getWorkspaceTimeZone(w),
      });
      // New York midnight is 05:00 UTC in December
      const from = START + 5 * 3_600_000;
      const to = from + 3 * DAY;
      const res = await t.app.server.inject({
        url: `/api/v1/breakdown?workspace=planted&metric=spend&granularity=day&from=${from}&to=${to}`,
        headers,
      });
      const api = res.json() as { total: { spend_usd: number }; rows: { bucket_start: number; spend_usd: number; events: number }[] };
      expect(api.rows.map((r) => r.bucket_start)).toEqual([from, from + DAY, from + 2 * DAY]);
      for (const r of api.rows) expect(r.events).toBe(inWindow(planted, r.bucket_start, r.bucket_start + DAY).length);
      const { content } = await ask(nySup, 'planted', 'Spend per day from Dec 1 to Dec 3');
      expect(firstLine(content)).toContain(`adds up to ${usd(spend(inWindow(planted, from, to)))}`);
      expect(firstLine(content)).toContain(`adds up to ${usd(api.total.spend_usd)}`);
      for (const [i, r] of api.rows.entries()) expect(content).toContain(`| Dec ${i + 1} | ${usd(r.spend_usd)} |`);
      // "yesterday" at NOW (Dec 5 06:00 UTC = Dec 5 01:00 in New York) is Dec 4 in New York
      const y = await ask(nySup, 'planted', 'What was the spend yesterday?');
      expect(firstLine(y.content)).toContain(usd(spend(inWindow(planted, from + 3 * DAY, from + 4 * DAY))));
    } finally {
      await t.app.server.inject({ method: 'PUT', url: '/api/v1/workspaces/planted/settings', headers, payload: { time_zone: 'UTC' } });
    }
  });

  it('"Spend from Nov 1 to Nov 3" says there are no events then', async () => {
    const { content } = await ask(sup, 'planted', 'Spend from Nov 1 to Nov 3');
    expect(firstLine(content)).toContain('There are no events from Nov 1 to Nov 3');
  });
});

describe('answers over a fixture without users, sessions, latency or tags', () => {
  it('"How much did each user spend?" cannot be answered: send end_user', async () => {
    const { content } = await ask(sup, 'bare', 'How much did each user spend?');
    expect(firstLine(content)).toContain(`The data cannot answer this: none of the ${formatByUnit(bare.length, 'count')} events`);
    expect(firstLine(content)).toContain('Send end_user');
    expect(content).not.toContain('spent');
  });

  it('"What is the p95 latency?" cannot be answered: send latency_ms', async () => {
    const { content } = await ask(sup, 'bare', 'What is the p95 latency?');
    expect(firstLine(content)).toContain('carries latency_ms');
    expect(firstLine(content)).toContain('Send latency_ms');
    expect(content).not.toMatch(/\d ms/);
  });

  it('"Spend by app" still answers', async () => {
    const [app, v] = topBy(
      groupBy(bare, (e) => e.app),
      spend,
    );
    const { content } = await ask(sup, 'bare', 'Spend by app');
    expect(firstLine(content)).toContain(`${app} has the most spend`);
    expect(firstLine(content)).toContain(usd(v));
  });

  it('"What data is missing?" names end_user, session_id, tags.task and latency_ms', async () => {
    const { content } = await ask(sup, 'bare', 'What data is missing?');
    for (const f of ['end_user is on no', 'session_id is on no', 'tags.task is on no', 'latency_ms is on none'])
      expect(firstLine(content)).toContain(f);
  });

  it('"How much did alpha spend in the last 2 days?" uses the window', async () => {
    const w = inWindow(bare, NOW - 2 * DAY, NOW).filter((e) => e.app === 'alpha');
    const { content } = await ask(sup, 'bare', 'How much did alpha spend in the last 2 days?');
    expect(firstLine(content)).toContain(`alpha spent ${usd(spend(w))} in the last 2 days`);
  });

  it('"Why is alpha so slow?" cannot be answered without latency', async () => {
    const { content } = await ask(sup, 'bare', 'Why is alpha so slow?');
    expect(firstLine(content)).toContain('The data cannot answer this');
    expect(firstLine(content)).toContain('latency_ms');
  });

  it('"Spend per session" cannot be answered: send session_id', async () => {
    const { content } = await ask(sup, 'bare', 'Spend per session');
    expect(firstLine(content)).toContain('carries session_id');
    expect(firstLine(content)).toContain('Send session_id');
  });

  it('"Which model should handle summarization?" asks for tags.task', async () => {
    const { content } = await ask(sup, 'bare', 'Which model should handle summarization?');
    expect(firstLine(content)).toContain('no event is tagged tags.task = "summarization"');
  });
});
