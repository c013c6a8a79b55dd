/**
 * The web UI (web/, served by src/server/routes/web.ts): the static-file route (allow-list, content types, ETag, no
 * traversal, CSP), the report renderer's escaping, and the real app driven in Debian's Chromium through playwright-core:
 * automatic sign-in on a loopback server, a chat run streamed to a final report whose monthly spend equals the analysis
 * API's, Stop on a running run, the dashboard's figures equal to the API's, no console error and no CSP violation; and a
 * server that is not on loopback, where automatic sign-in is refused and the password form signs in.
 * The browser part is skipped only when /usr/bin/chromium is missing (CI installs it).
 */
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatByUnit, formatUsd } from '../src/llm/index.js';
import { WEB_DIR } from '../src/server/routes/web.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const END = Date.UTC(2026, 10, 20);

/** the first non-internal IPv4 address of this machine, if any */
const lanAddress = () =>
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

type RenderMarkdown = (text: string) => string;
const loadMarkdown = async (): Promise<RenderMarkdown> => (await import(pathToFileURL(join(WEB_DIR, 'markdown.js')).href)).renderMarkdown;

describe('web UI files and report renderer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ logLevel: 'warn' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves index.html at / and web/ files by exact name, with content type, ETag and revalidation', async () => {
    const index = await t.app.server.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(index.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    // no upgrade to https on the page (a plain-HTTP server on a LAN address would load nothing); other routes keep helmet's default
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(String((await t.app.server.inject({ url: '/health/live' })).headers['content-security-policy'])).toContain(
      'upgrade-insecure-requests',
    );
    for (const [file, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['styles.css', 'text/css; charset=utf-8'],
      ['icon.svg', 'image/svg+xml'],
    ]) {
      const r = await t.app.server.inject({ url: `/ui/${file}` });
      expect(r.statusCode, file).toBe(200);
      expect(r.headers['content-type']).toBe(type);
      expect(r.headers['cache-control']).toBe('no-cache');
      const again = await t.app.server.inject({ url: `/ui/${file}`, headers: { 'if-none-match': String(r.headers.etag) } });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    }
  });

  it('answers 404 for anything that is not a file of web/ (no traversal)', async () => {
    for (const url of [
      '/ui/../package.json',
      '/ui/..%2fpackage.json',
      '/ui/%2e%2e%2fsrc%2fconfig.ts',
      '/ui/nope.js',
      '/ui/.env',
      '/ui/index',
      '/ui/app.js%00.css',
      '/package.json',
      '/web/app.js',
    ]) {
      const r = await t.app.server.inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.body).not.toContain('"name": "netra"');
    }
  });

  it('keeps the data the UI reads private: the UI files are public, the API is not', async () => {
    expect((await t.app.server.inject({ url: '/ui/chat.js' })).statusCode).toBe(200);
    expect((await t.app.server.inject({ url: '/api/v1/workspaces' })).statusCode).toBe(401);
    expect((await t.app.server.inject({ url: '/api/v1/analysis?workspace=demo' })).statusCode).toBe(401);
  });

  it('formats money and shares in the browser exactly as the reports do (web/format.js = src/llm/builtin-prose.ts)', async () => {
    const web = (await import(pathToFileURL(join(WEB_DIR, 'format.js')).href)) as {
      formatUsd(v: number): string;
      formatByKey(k: string, v: number): string;
    };
    for (const v of [0, 0.004, 0.0042, 0.005, 0.01, 1, 12.345, 12.355, 999.995, 1234.5, 44.77609455362838, 1e6 + 0.125, -12.5, -0.003]) {
      expect(web.formatUsd(v), String(v)).toBe(formatUsd(v));
      expect(web.formatByKey('monthly_spend_usd', v)).toBe(formatByUnit(v, 'usd'));
    }
    for (const v of [0, 0.0185, 0.33065, 0.5, 1]) expect(web.formatByKey('error_rate', v)).toBe(formatByUnit(v, 'rate'));
    for (const v of [0, 3.25, 2256.5, 5693.15]) expect(web.formatByKey('latency_p95_ms', v)).toBe(formatByUnit(v, 'ms'));
  });

  it('escapes report text before formatting it: no tag, attribute or script from the server survives', async () => {
    const render = await loadMarkdown();
    const html = render(
      '# Spend <img src=x onerror=alert(1)>\n**bold <b>x</b>** and `<script>alert(1)</script>`\n\n' +
        '| app | spend |\n| --- | --- |\n| <svg onload=alert(1)> | $1.00 |\n\n- one "quoted" & \'single\'\n- two\n\n3. third\n4. fourth\n\n```\n<iframe src=javascript:alert(1)>\n```',
    );
    expect(html).not.toMatch(/<(img|script|svg|iframe|b)\b/i);
    expect(html).toContain('<h3>Spend &lt;img src=x onerror=alert(1)&gt;</h3>');
    expect(html).toContain('<strong>bold &lt;b&gt;x&lt;/b&gt;</strong>');
    expect(html).toContain('<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>');
    expect(html).toContain('<td>&lt;svg onload=alert(1)&gt;</td><td>$1.00</td>');
    expect(html).toContain('<th scope="col">app</th>');
    expect(html).toContain('<ul><li>one &quot;quoted&quot; &amp; &#39;single&#39;</li><li>two</li></ul>');
    expect(html).toContain('<ol start="3"><li>third</li><li>fourth</li></ol>');
    expect(html).toContain('<pre><code>&lt;iframe src=javascript:alert(1)&gt;</code></pre>');
    // the placeholder character of inline code cannot be smuggled in
    expect(render('a \u00000\u0000 `x`')).toBe('<p>a 0 <code>x</code></p>');
  });
});

describe.skipIf(!HAS_CHROMIUM)(
  HAS_CHROMIUM
    ? 'web UI in Chromium'
    : `web UI in Chromium (skipped: ${CHROMIUM} is missing; CI installs it with apt-get install -y chromium)`,
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** A page that records console errors, uncaught exceptions and CSP violations. */
    async function openPage(url: string, viewport = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      await page.goto(url);
      return { page, problems, close: () => context.close() };
    }

    const connected = (page: Page, ws: string) => page.locator('#conn-status', { hasText: `Connected to ${ws}` }).waitFor();

    describe('on a loopback server', () => {
      let t: TestApp;
      let base: string;
      const api = async (path: string) => (await fetch(`${base}${path}`, { headers: await t.auth() })).json();

      beforeAll(async () => {
        t = await startTestApp({ host: '127.0.0.1', logLevel: 'warn' });
        await t.app.generate({ preset: 'chat-support', events: 1500, days: 7, seed: 11, workspace: 'shop', end: END });
        base = await t.app.listen();
      }, 120_000);
      afterAll(async () => {
        await t?.close();
      });

      it('signs in automatically, streams a run to its report, shows the dashboard, resumes after a dropped connection, stops a running run, answers an approval', async () => {
        const { page, problems, close } = await openPage(`${base}/`);
        try {
          // automatic sign-in (loopback): no form, the local owner, the workspace picker
          await page.locator('#tab-chat').waitFor();
          expect(await page.locator('#view-signin').isHidden()).toBe(true);
          await expect.poll(() => page.locator('#who').textContent()).toBe('local@netra');
          await page.selectOption('#workspace', 'shop');
          await connected(page, 'shop');

          // a question, sent with the keyboard; the run's steps stream in, then the report
          await page.locator('#message').fill('Reduce my costs');
          await page.locator('#message').press('Enter');
          const report = page.locator('.report-body');
          await report.waitFor({ timeout: 60_000 });
          await page.locator('.run-status').first().waitFor({ state: 'attached' });
          const analysis = await api('/api/v1/analysis?workspace=shop&goal=cost');
          const monthly = formatUsd(analysis.summary.monthly_spend_usd);
          // the answer comes first: what was analysed and what it costs a month
          await expect.poll(() => report.textContent()).toContain(`comes to ${monthly} a month at this rate`);
          expect(await report.textContent()).toContain(`Netra analysed ${analysis.summary.events.toLocaleString('en-US')} events`);
          // the recommendations became a numbered list, not raw text
          expect(await report.locator('ol > li').count()).toBeGreaterThan(0);
          const steps = await page.locator('.steps').first().textContent();
          expect(steps).toContain('category cost optimization');
          for (const tool of ['stats', 'analysis', 'simulate', 'gateway_export']) expect(steps).toContain(tool);
          expect(await page.locator('.step-tool.step-done').count()).toBeGreaterThanOrEqual(7);
          await expect.poll(() => page.locator('.thread').count()).toBe(1);
          await expect.poll(() => page.locator('#stop').isDisabled()).toBe(true); // nothing running any more

          // the dashboard: figures equal to the analysis API's (ranked for cost by default, like the chat's report)
          await page.locator('#tab-dashboard').click();
          const monthlyCell = page.locator('[data-figure="monthly_spend_usd"]');
          await monthlyCell.waitFor();
          const byCost = await api('/api/v1/analysis?workspace=shop&goal=cost');
          expect(await monthlyCell.textContent()).toBe(formatUsd(byCost.summary.monthly_spend_usd));
          expect(await page.locator('[data-figure="events"]').textContent()).toBe(byCost.summary.events.toLocaleString('en-US'));
          // the one projected-savings figure: the API's replay of all recommendations together, in the chat and the dashboard
          const projected = byCost.summary.projected_savings.monthly_usd;
          expect(await page.locator('[data-figure="projected_savings.monthly_usd"]').textContent()).toBe(`${formatUsd(projected)}/mo`);
          expect(await report.textContent()).toContain(`would save ${formatUsd(projected)} a month`);
          expect(byCost.recommendations.length).toBeLessThanOrEqual(10);
          const topRec = byCost.recommendations[0];
          expect(await page.locator('[data-figure="recommendation.monthly_savings_usd"]').first().textContent()).toBe(
            formatUsd(topRec.monthly_savings_usd),
          );
          expect(await page.locator('.bar-label').first().textContent()).toBe(
            [...byCost.performance.by_model].sort((a, b) => b.spend_usd - a.spend_usd)[0].model,
          );
          // ranked for another goal: the table follows the API's ranking
          await page.selectOption('#goal', 'latency');
          const byLatency = await api('/api/v1/analysis?workspace=shop&goal=latency');
          await expect.poll(() => page.locator('.rec-title').first().textContent()).toBe(byLatency.recommendations[0].title);
          // "Apply in shadow": the recommended policy becomes the workspace's gateway policy, in shadow mode
          await page.locator('[data-action="apply-shadow"]').click();
          await expect.poll(() => page.locator('[data-figure="gateway.mode"]').textContent()).toMatch(/^gateway policy: shadow since/);
          const gw = await api('/api/v1/workspaces/shop/gateway-policy');
          expect(gw.mode).toBe('shadow');
          const recommended = await api('/api/v1/policy?workspace=shop&goal=latency');
          expect(Object.keys(recommended).filter((k) => !(k in gw.policy))).toEqual([]); // stored as validated (defaults filled)
          expect(gw.policy.routing.length).toBe((recommended.routing ?? []).length);
          // realized vs predicted beside it: calls recorded by the gateway under this policy (as the gateway tags them)
          await expect.poll(() => page.locator('[data-figure="gateway.savings.mode"]').textContent()).toBe('shadow');
          const now = Date.now();
          await t.app.ingest(
            'shop',
            [0, 1, 2].map((i) => ({
              index: i,
              raw: {
                timestamp: now - 1000 + i,
                app: 'gw-ui',
                model: 'gpt-4o',
                prompt_tokens: 1000,
                completion_tokens: 200,
                tags: {
                  'netra.source': 'gateway',
                  'netra.policy': 'shadow',
                  'netra.policy_version': gw.policy_version,
                  'netra.would_save_cache_usd': String(0.125 * (i + 1)),
                },
              },
            })),
          );
          const realized = await api('/api/v1/workspaces/shop/gateway-savings');
          expect(realized.by_mode[0].measured_savings_usd).toBe(0.75);
          await page.locator('[data-action="refresh-savings"]').click();
          await expect
            .poll(() => page.locator('[data-figure="gateway.savings.shadow.measured_savings_usd"]').textContent())
            .toBe(formatUsd(realized.by_mode[0].measured_savings_usd));
          expect(await page.locator('[data-figure="gateway.savings.shadow.exact_cache.measured"]').textContent()).toBe(formatUsd(0.75));
          expect(await page.locator('[data-figure="gateway.savings.shadow.predicted_savings_usd"]').textContent()).toBe(
            formatUsd(realized.by_mode[0].predicted_savings_usd),
          );
          await page.locator('[data-figure="memory_health.status"]').waitFor(); // the admin's server figures
          expect(await page.locator('.chart-svg').count()).toBeGreaterThan(0);

          // a dropped connection mid-run: the UI reconnects and resumes after the last event_id it saw (no gap, no repeat)
          const resumes: { after_event_id: number }[] = [];
          page.on('websocket', (ws) =>
            ws.on('framesent', (f) => {
              const m = JSON.parse(String(f.payload));
              if (m.type === 'resume') resumes.push(m.payload);
            }),
          );
          await page.locator('#tab-chat').click();
          await page.locator('#new-thread').click();
          await expect.poll(() => page.locator('.thread').count()).toBe(2);
          await page.locator('#message').fill('Generate 20000 synthetic events for a RAG support bot');
          await page.locator('#message').press('Enter');
          await page.locator('.step-tool', { hasText: 'generate' }).waitFor();
          for (const client of t.app.server.websocketServer.clients) client.terminate();
          await page.locator('.report-body', { hasText: 'Generated 20,000 synthetic events' }).waitFor({ timeout: 60_000 });
          expect(resumes.length).toBe(1);
          expect(resumes[0]!.after_event_id).toBeGreaterThanOrEqual(3);
          const run = page.locator('.msg-agent').last();
          expect(await run.locator('.step-start').count()).toBe(1);
          expect(await run.locator('.step-tool', { hasText: 'generate' }).count()).toBe(1);
          expect(await run.locator('.step-report').count()).toBe(1);
          await expect.poll(() => page.locator('#conn-status').textContent()).toBe('Connected to shop');

          // Stop: a long generation in a new conversation; Stop is enabled while it runs and ends it
          await page.locator('#new-thread').click();
          await expect.poll(() => page.locator('.thread').count()).toBe(3);
          await page.locator('#message').fill('Generate 50000 synthetic events for a RAG support bot');
          await page.locator('#send').click();
          await page.locator('#stop:not([disabled])').waitFor({ timeout: 30_000 });
          await page.locator('#stop').click();
          await page.locator('.run-stopped').waitFor({ timeout: 30_000 });
          expect(await page.locator('#stop').isDisabled()).toBe(true);

          // an approval: a generation above 50,000 events asks first; Cancel answers "no" in the same thread
          await page.locator('#message').fill('Generate 60000 synthetic events for a support bot');
          await page.locator('#message').press('Enter');
          const approval = page.locator('.approval');
          await approval.waitFor({ timeout: 30_000 });
          await approval.getByRole('button', { name: 'Cancel' }).click();
          await page.locator('.report-body', { hasText: 'Cancelled: nothing was changed' }).waitFor({ timeout: 30_000 });
          expect(await approval.getByRole('button', { name: 'Confirm' }).isDisabled()).toBe(true);
          expect(await page.locator('.thread').count()).toBe(3); // the answer went to the same thread

          expect(problems).toEqual([]);
        } finally {
          await close();
        }
      }, 180_000);
    });

    describe('on a server that is not on loopback', () => {
      let t: TestApp;
      let base: string;
      beforeAll(async () => {
        t = await startTestApp({ host: '0.0.0.0', logLevel: 'warn' });
        const { identity, access } = t.app.accounts;
        const user = await identity.createUser({ email: 'ana@example.com', password: 'correct horse battery staple' });
        await access.createWorkspace('team', user.id);
        const url = new URL(await t.app.listen());
        // a LAN address when the machine has one (as a user on another machine would), else loopback
        base = `http://${lanAddress() ?? '127.0.0.1'}:${url.port}`;
      }, 120_000);
      afterAll(async () => {
        await t?.close();
      });

      it('refuses automatic sign-in, shows the password form, and signs in with it over plain HTTP (narrow window)', async () => {
        const refused = await fetch(`${base}/api/v1/auth/local`, { method: 'POST' });
        expect(refused.status).toBe(403);
        const { page, problems, close } = await openPage(`${base}/`, { width: 760, height: 900 });
        try {
          await page.locator('#signin-form').waitFor();
          expect(await page.locator('#tabs').isHidden()).toBe(true);
          expect(await page.locator('#signin-why').textContent()).toContain('does not sign in automatically');
          await page.locator('#signin-email').fill('ana@example.com');
          await page.locator('#signin-password').fill('wrong password');
          await page.locator('#signin-password').press('Enter');
          await expect.poll(() => page.locator('#signin-error').textContent()).not.toBe('');
          await page.locator('#signin-password').fill('correct horse battery staple');
          await page.locator('#signin-password').press('Enter');
          await page.locator('#tab-chat').waitFor();
          expect(await page.locator('#who').textContent()).toBe('ana@example.com');
          expect(await page.locator('#workspace').inputValue()).toBe('team');
          await connected(page, 'team');
          await page.locator('#tab-dashboard').click();
          await page.locator('.empty-state').waitFor(); // no events yet: says how to get some
          expect(await page.locator('.empty-state').textContent()).toContain('npx netra generate');
          await page.locator('#dash-system', { hasText: 'instance administrators' }).waitFor(); // not an admin
          // the only failed requests: the refused automatic sign-in (403), the wrong password (401), the analysis of a
          // workspace without events (404) and the admin-only server figures (403); nothing else, no CSP violation
          // (over plain HTTP at a LAN address Chromium also notes that helmet's Cross-Origin-Opener-Policy / Origin-Agent-Cluster
          // headers need a secure origin: notices about the headers, not failures of the page)
          const expected =
            /^console error: Failed to load resource: the server responded with a status of (401|403|404)\b|Cross-Origin-Opener-Policy header has been ignored|origin-keyed agent cluster/;
          expect(problems.filter((p) => !expected.test(p))).toEqual([]);
          expect(problems.join('\n')).toMatch(/status of 401/);
        } finally {
          await close();
        }
      }, 120_000);

      it('shows the API description at /docs over plain HTTP: every operation listed, nothing loaded from elsewhere', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems: string[] = [];
        const foreign: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('request', (r) => {
          if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url());
        });
        try {
          await page.goto(`${base}/docs`);
          await page.locator('.opblock').first().waitFor();
          const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, object> };
          const operations = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).length, 0);
          expect(await page.locator('.opblock').count()).toBe(operations);
          expect(await page.locator('.info .title').textContent()).toContain('Netra API');
          expect(foreign).toEqual([]);
          expect(problems.filter((p) => !/Cross-Origin-Opener-Policy|origin-keyed agent cluster/.test(p))).toEqual([]);
        } finally {
          await context.close();
        }
      }, 60_000);
    });
  },
);
