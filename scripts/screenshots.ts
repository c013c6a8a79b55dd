/**
 * Takes the README's UI screenshots (docs/img/ui-chat.png, docs/img/ui-dashboard.png): starts the real app on a temporary
 * data directory with the demo workspace (NETRA_DEMO_EVENTS events, default 20,000), lets the server collect a few
 * performance samples, and drives Debian's Chromium through playwright-core.
 * The chat is taken at 1280x800, the dashboard at 1280x1700 (it scrolls inside its pane).
 *   npx tsx scripts/screenshots.ts [out dir, default docs/img]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';

const out = resolve(process.argv[2] ?? 'docs/img');
const SAMPLES_WAIT_MS = 35_000; // the server samples its performance every 10 s: three samples draw a line

mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'netra-shots-'));
const app = await createApp(
  parseConfig({
    dataDir: dir,
    host: '127.0.0.1',
    port: 0,
    logLevel: 'warn',
    seedDemo: true,
    demoEvents: Number(process.env.NETRA_DEMO_EVENTS ?? 20_000),
  }),
);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const base = await app.listen();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`browser: ${m.text()}`);
  });
  await page.goto(`${base}/`);
  await page.locator('#conn-status', { hasText: 'Connected to demo' }).waitFor();
  await page.locator('#message').fill('Where does my money go?');
  await page.locator('#message').press('Enter');
  await page.locator('.report-body').waitFor({ timeout: 120_000 });
  // the question, the streamed steps and the start of the report
  await page
    .locator('.run-steps')
    .first()
    .evaluate((d) => {
      (d as HTMLDetailsElement).open = true;
    });
  await page.locator('#messages').evaluate((el) => {
    el.scrollTop = 0;
  });
  await page.screenshot({ path: join(out, 'ui-chat.png') });
  console.log(`wrote ${join(out, 'ui-chat.png')}`);

  await page.waitForTimeout(SAMPLES_WAIT_MS);
  await page.locator('#tab-dashboard').click();
  await page.locator('[data-figure="monthly_spend_usd"]').waitFor({ timeout: 60_000 });
  await page.locator('[data-figure="memory_health.status"]').waitFor();
  // the dashboard scrolls inside its pane: a taller window shows the recommendations and the server figures too
  await page.setViewportSize({ width: 1280, height: 1700 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, 'ui-dashboard.png') });
  console.log(`wrote ${join(out, 'ui-dashboard.png')}`);
} finally {
  await browser.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
