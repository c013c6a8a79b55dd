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
  /** an access token of the local owner (an admin; owner of every workspace the app created), optionally bound to one workspace */
  token(workspace?: string): Promise<string>;
  /** `{ authorization: 'Bearer <local owner token>' }`, for inject({ headers }) */
  auth(workspace?: string): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'netra-test-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const config: Config = parseConfig({ dataDir: dir, port: 0, seedDemo: false, logLevel: 'info', otlp: { grpcPort: 0 }, ...overrides });
  const app = await createApp(config, { logDestination: sink });
  const token = (workspace?: string) => app.accounts.identity.issueAccessToken(app.accounts.identity.localOwnerId(), { workspace });
  return {
    app,
    logs,
    dir,
    token,
    auth: async (workspace?: string) => ({ authorization: `Bearer ${await token(workspace)}` }),
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
