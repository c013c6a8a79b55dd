/**
 * The `netra` command as a new user meets it: a version, clear one-line errors without stack traces, "did you mean" for
 * formats, models and workspaces, a hint when a file is not in its --format, the same exit code for an unknown workspace
 * everywhere, `serve` refusing a taken port before any work, and `keys` finding a server on any port.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../bin/netra.js');
const AZURE = resolve(__dirname, 'fixtures/data/azure-llm-inference-2023-code.csv');

describe('netra CLI for a new user', () => {
  let dir: string;
  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    NETRA_DATA_DIR: join(dir, 'data'),
    DATABASE_URL: '',
    REDIS_URL: '',
    NETRA_LOG_LEVEL: 'warn',
    NETRA_SEED_DEMO: 'false',
    ...extra,
  });
  const netra = async (args: string[], extra: Record<string, string> = {}) => {
    try {
      const r = await run(process.execPath, [BIN, ...args], { env: env(extra), maxBuffer: 64 << 20 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  /** one line for the user: no JSON log line, no stack frame */
  const plain = (stderr: string) => {
    expect(stderr).not.toMatch(/"level":/);
    expect(stderr).not.toMatch(/^\s+at /m);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netra-cli-ux-'));
    // one small workspace the commands below can name
    const small = join(dir, 'small.csv');
    writeFileSync(small, readFileSync(AZURE, 'utf8').split('\n').slice(0, 51).join('\n'));
    const r = await netra(['import', small, '--format', 'azure-trace', '--model', 'gpt-4o-mini', '--workspace', 'known-ws', '--json']);
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--version prints the package version', async () => {
    const r = await netra(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')).version);
  });

  it('a missing file, and an Azure trace without --model: one clear line, no stack trace', async () => {
    const missing = await netra(['import', join(dir, 'nope.csv'), '--format', 'csv']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`netra: NETRA_E_NOT_FOUND: file not found: ${join(dir, 'nope.csv')}`);
    const noModel = await netra(['import', AZURE, '--format', 'azure-trace']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/^netra: NETRA_E_VALIDATION: the Azure trace names no model/);
    plain(noModel.stderr);
    expect(noModel.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('an unknown model is refused before the import, with the closest names', async () => {
    const r = await netra(['import', AZURE, '--format', 'azure-trace', '--model', 'gpt-5o', '--workspace', 'typo', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/NETRA_E_UNKNOWN_MODEL: unknown model 'gpt-5o'.*did you mean [^)]*gpt-4o/);
    plain(r.stderr);
  }, 60_000);

  it('an unknown format suggests the close one', async () => {
    const r = await netra(['import', AZURE, '--format', 'jsonn']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/'jsonn' is not a format \(did you mean jsonl\?\); choose one of jsonl, /);
  });

  it('a file whose content is not its --format gets a hint', async () => {
    const r = await netra(['import', AZURE, '--format', 'jsonl', '--workspace', 'wrong-format']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/imported 0 events/);
    expect(r.stderr).toContain('looks like azure-trace, not jsonl; try --format azure-trace --model <id>');
    plain(r.stderr);
  }, 60_000);

  it('an unknown workspace exits 1 for every command that reads one, with a suggestion', async () => {
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ rules: [] }));
    for (const args of [['stats'], ['analyze'], ['reprice'], ['simulate', policy], ['export-config', '--format', 'litellm']]) {
      const r = await netra([...args, '--workspace', 'known-wz']);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(/NETRA_E_NOT_FOUND: unknown workspace 'known-wz' \(did you mean known-ws\?\)/);
    }
    const ok = await netra(['stats', '--workspace', 'known-ws', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).events).toBe(50);
  }, 120_000);

  it('serve on a taken port exits non-zero at once, before opening anything', async () => {
    const taken: Server = createServer();
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', () => res()));
    const port = (taken.address() as { port: number }).port;
    const fresh = join(dir, 'fresh');
    try {
      const r = await netra(['serve'], { NETRA_PORT: String(port), NETRA_DATA_DIR: fresh, NETRA_SEED_DEMO: 'true' });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `netra: NETRA_E_CONFIG: port ${port} on 127.0.0.1 is in use (another netra serve, or another program); stop that process or choose another port with NETRA_PORT`,
      );
      expect(existsSync(fresh)).toBe(false); // no data directory, no demo seeding
    } finally {
      await new Promise<void>((res) => taken.close(() => res()));
    }
  }, 60_000);

  it('the running server writes its address; keys find it on any port; the address goes when it stops', async () => {
    const data = join(dir, 'served');
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: env({ NETRA_DATA_DIR: data, NETRA_PORT: '0', NETRA_SEED_DEMO: 'true', NETRA_DEMO_EVENTS: '100' }),
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    try {
      const file = join(data, 'server.json');
      await vi.waitFor(() => expect(existsSync(file)).toBe(true), { timeout: 60_000, interval: 100 });
      const address = JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number };
      expect(address.pid).toBe(child.pid);
      expect(address.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(address.url).not.toBe('http://127.0.0.1:8000');
      // NETRA_PORT is left at its default: only the address file can lead the command to the server (the data directory is locked)
      const r = await netra(['keys', 'create', '--scope', 'read', '--workspace', 'demo', '--json'], { NETRA_DATA_DIR: data });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ scope: 'read', workspace: 'demo' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(file)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
