/**
 * Builds the real app (same wiring as production) on a temporary data directory, with logs captured in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/config.js';

export interface TestApp {
  app: App;
  logs: string[];
  dir: string;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'netra-test-'));
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const config: Config = parseConfig({ dataDir: dir, port: 0, seedDemo: false, logLevel: 'info', ...overrides });
  const app = await createApp(config, { logDestination: sink });
  return {
    app, logs, dir,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
