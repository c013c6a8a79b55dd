/**
 * One process at a time on a PGlite directory (src/db/pglite-lock.ts): a CLI command run while a server holds the
 * data directory is refused before it opens the accounts database, and the server's data stays readable; a lock left
 * by a process that is gone is taken over.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { lockPgliteDir, PGLITE_LOCK_FILE } from '../src/db/pglite-lock.js';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../bin/netra.js');
const root = mkdtempSync(join(tmpdir(), 'netra-pglite-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A port nothing listens on, so the CLI works on the data directory instead of a server's API. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('PGlite directory lock', () => {
  it('refuses a directory a live process holds, naming it; takes over the lock of a process that is gone', async () => {
    const dir = mkdtempSync(join(root, 'unit-'));
    const other = spawn('sleep', ['30']);
    writeFileSync(join(dir, PGLITE_LOCK_FILE), `${other.pid}\n`);
    expect(() => lockPgliteDir(dir)).toThrow(new RegExp(`in use by another Netra process \\(pid ${other.pid}`));
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    const release = lockPgliteDir(dir);
    expect(readFileSync(join(dir, PGLITE_LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    // the same process opening it twice is refused too
    expect(() => lockPgliteDir(dir)).toThrow(/already open in this process/);
    release();
    expect(existsSync(join(dir, PGLITE_LOCK_FILE))).toBe(false);
    lockPgliteDir(dir)();
  });

  it('a CLI command while the app holds the data directory is refused and leaves the accounts database intact', async () => {
    const dir = mkdtempSync(join(root, 'app-'));
    const config = parseConfig({ dataDir: dir, port: 0, seedDemo: false, databaseUrl: undefined, otlp: { grpcPort: 0 } });
    const app = await createApp(config, { quiet: true });
    await app.repo.ensureWorkspace('kept');
    const before = (await app.repo.listWorkspaces()).map((w) => w.name);
    const env = { ...process.env, NETRA_DATA_DIR: dir, DATABASE_URL: '', NETRA_LOG_LEVEL: 'warn', NETRA_PORT: String(await closedPort()) };
    const r = await run(process.execPath, [BIN, 'stats', '--workspace', 'demo'], { env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/accounts database .* is in use by another Netra process \(pid \d+/);
    await app.close();
    expect(existsSync(join(dir, 'pg', PGLITE_LOCK_FILE))).toBe(false);
    const again = await createApp(config, { quiet: true });
    expect((await again.repo.listWorkspaces()).map((w) => w.name)).toEqual(before);
    await again.close();
  }, 120_000);
});
