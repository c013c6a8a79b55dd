/**
 * Recording never depends on the store being up: with the analytics store closed, calls are answered as usual and
 * their events go to the on-disk spool; the next process on the same data directory replays them. Nothing is dropped.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { createApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { startFakeProvider, type FakeProvider } from './helpers/provider-fake-server.js';

const dir = mkdtempSync(join(tmpdir(), 'netra-spool-'));
let fake: FakeProvider;
const open: App[] = [];

async function start(): Promise<App> {
  const config = parseConfig({
    otlp: { grpcPort: 0 },
    dataDir: dir,
    port: 0,
    seedDemo: false,
    logLevel: 'warn',
    gateway: { openaiBaseUrl: fake.openaiBase, flushIntervalMs: 20, spoolRetryMs: 50 },
  });
  const app = await createApp(config, {
    logDestination: new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  });
  open.push(app);
  return app;
}

afterAll(async () => {
  for (const a of open) await a.close().catch(() => undefined);
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway recording with the store unavailable', () => {
  it('spools while the store is closed and replays after a restart', async () => {
    fake = await startFakeProvider();
    const a = await start();
    const url = await a.listen();
    const owner = a.accounts.identity.localOwnerId();
    await a.accounts.access.createWorkspace('acme', owner);
    const { key } = await a.accounts.access.createApiKey('acme', { scope: 'gateway' }, owner);
    await a.accounts.access.setProviderSecret('acme', 'openai', 'sk-upstream-acme-0123456789', owner);
    const client = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });

    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stored' }] });
    await a.gateway!.recorder.flush();
    expect(a.gateway!.recorder.stats()).toMatchObject({ stored: 1, spooled: 0 });

    await a.store.close(); // the store goes away; the gateway keeps answering
    for (let i = 0; i < 5; i++) {
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `while down ${i}` }] });
      expect(r.choices[0]!.message.content).toBe(`echo: while down ${i}`);
    }
    await a.gateway!.recorder.flush();
    expect(a.gateway!.recorder.stats()).toMatchObject({ stored: 1, spooled: 5, dropped: 0 });
    expect(readdirSync(join(dir, 'gateway-spool')).length).toBeGreaterThan(0);
    await a.close();

    const b = await start(); // replays the spool at start
    await b.gateway!.recorder.replay();
    expect(b.gateway!.recorder.stats()).toMatchObject({ replayed: 5, dropped: 0 });
    expect(readdirSync(join(dir, 'gateway-spool'))).toEqual([]);
    const texts = (await b.store.listEvents({ workspace: 'acme' }, { limit: 100 })).map((e) => e.prompt_text).sort();
    expect(texts).toEqual(['user: stored', ...[0, 1, 2, 3, 4].map((i) => `user: while down ${i}`)]);
  });
});
