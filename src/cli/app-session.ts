/**
 * What every `netra` command that works on the data directory shares: the app opened without its HTTP server (the
 * same composition as the server, src/app.ts), the --workspace check, output as text or JSON, and Ctrl-C as a cancel.
 */
import { configFromEnv } from '../config.js';
import { NetraError } from '../errors.js';
import { createApp, type App } from '../app.js';
import { parseWorkspace } from '../server/params.js';
import { checkWorkspace } from './hints.js';

/** Opens the app without the HTTP server, runs `fn`, and always closes it. */
export async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const config = configFromEnv();
  const app = await createApp({ ...config, seedDemo: false }, { quiet: true });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** The workspace named by --workspace (or the default), which must exist: a command reading it exits 1 otherwise. */
export async function existingWorkspace(app: App, name: string | undefined): Promise<string> {
  const workspace = parseWorkspace(name, app.config.defaultWorkspace);
  const exists = (await app.repo.getWorkspace(workspace)) !== null;
  if (!exists)
    checkWorkspace(
      workspace,
      false,
      (await app.repo.listWorkspaces()).map((w) => w.name),
    );
  return workspace;
}

export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** Ctrl-C stops a long import or generation between batches; the job is recorded as cancelled with what was stored. */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nstopping after the current batch (Ctrl-C again to kill)...\n');
    ac.abort(new NetraError('VALIDATION', 'cancelled by Ctrl-C; the events stored so far are kept'));
    process.once('SIGINT', () => process.exit(130));
  });
  return ac.signal;
}
