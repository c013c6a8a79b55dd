/**
 * `netra token [--workspace <name>]`, `netra keys create --scope ingest|read|admin [--workspace <name>]`, `netra keys revoke <prefix>`.
 *
 * `token` signs an access token for the local owner from the data directory's key material, so it works while the server
 * holds the database. `keys` talk to the running server (the address it wrote into the data directory, else
 * NETRA_HOST/NETRA_PORT) with such a token; when no server answers they open the data directory directly. An API key is printed once, on stdout, and never again.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { loadKeyMaterial, readLocalOwnerId } from '../accounts/key-material.js';
import { signAccessToken } from '../accounts/tokens.js';
import { createApp, type App } from '../app.js';
import { configFromEnv, type Config } from '../config.js';
import { ErrorCodes } from '../errors.js';
import { readServerAddress } from '../server/address-file.js';
import { parseWorkspace } from '../server/params.js';

export function registerAccountCommands(program: Command): void {
  program
    .command('token')
    .description('print an access token of the local owner (valid NETRA_ACCESS_TOKEN_TTL_S seconds; default 30 min)')
    .option('--workspace <name>', 'limit the token to one workspace')
    .action(async (o: { workspace?: string }) => {
      const config = configFromEnv();
      const workspace = o.workspace === undefined ? undefined : parseWorkspace(o.workspace, config.defaultWorkspace);
      process.stdout.write(`${await localOwnerToken(config, workspace)}\n`);
    });

  const keys = program.command('keys').description('workspace API keys');
  keys
    .command('create')
    .description('create an API key (shown once: store it now)')
    .addOption(new Option('--scope <scope>', 'what the key may do').choices(['ingest', 'read', 'admin']).makeOptionMandatory())
    .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
    .option('--name <name>', 'a label for the key')
    .option('--json', 'print { key, prefix, scope, workspace, ... } as JSON')
    .action(async (o: { scope: string; workspace?: string; name?: string; json?: boolean }) => {
      const config = configFromEnv();
      const workspace = parseWorkspace(o.workspace, config.defaultWorkspace);
      const body = { scope: o.scope, ...(o.name ? { name: o.name } : {}) };
      const created = (await viaServerOrDirect(
        config,
        { method: 'POST', path: `/api/v1/workspaces/${encodeURIComponent(workspace)}/api-keys`, body },
        (app) => app.accounts.access.createApiKey(workspace, body, app.accounts.identity.localOwnerId()),
      )) as { key: string; prefix: string };
      if (o.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      else {
        process.stdout.write(`${created.key}\n`);
        process.stderr.write(`api key ${created.prefix} (${o.scope}) for workspace ${workspace}: store it now, it is not shown again\n`);
      }
    });
  keys
    .command('revoke')
    .description('revoke an API key by its prefix (the 12 characters after nk_)')
    .argument('<prefix>', 'key prefix')
    .action(async (prefix: string) => {
      const p = prefix.replace(/^nk_/, '').split('_')[0]!;
      await viaServerOrDirect(configFromEnv(), { method: 'DELETE', path: `/api/v1/api-keys/${encodeURIComponent(p)}` }, (app) =>
        app.accounts.access.revokeApiKey(p),
      );
      process.stderr.write(`api key ${p} revoked\n`);
    });
}

/** Signs a token for the local owner; on a data directory that never started, opens it once to create the owner. */
async function localOwnerToken(config: Config, workspace?: string): Promise<string> {
  let owner = readLocalOwnerId(config.dataDir);
  if (!owner) owner = await withApp(config, async (app) => app.accounts.identity.localOwnerId());
  const keys = loadKeyMaterial(config);
  return signAccessToken(
    { secret: keys.jwtSecret, issuer: config.auth.issuer, audience: config.auth.audience, accessTtlSec: config.auth.accessTokenTtlSec },
    { userId: owner, workspace },
  );
}

async function withApp<T>(config: Config, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp({ ...config, seedDemo: false }, { quiet: true });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

interface ServerCall {
  method: 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}

/** Calls the running server as the local owner; opens the data directory itself when nothing listens. */
export async function viaServerOrDirect(config: Config, call: ServerCall, direct: (app: App) => Promise<unknown>): Promise<unknown> {
  const base = serverUrl(config);
  const token = await localOwnerToken(config);
  let res: Response;
  try {
    res = await fetch(base + call.path, {
      method: call.method,
      headers: { authorization: `Bearer ${token}`, ...(call.body ? { 'content-type': 'application/json' } : {}) },
      body: call.body ? JSON.stringify(call.body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'EADDRNOTAVAIL') return withApp(config, direct);
    throw err;
  }
  if (res.status === 204) return undefined;
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (res.ok) return json;
  const hint =
    res.status === 401
      ? ` (the server at ${base} did not accept this data directory's local owner token: another NETRA_DATA_DIR or NETRA_JWT_SECRET?)`
      : '';
  throw Object.assign(new Error(`${json.error?.message ?? `HTTP ${res.status}`}${hint}`), {
    code: json.error?.code ?? ErrorCodes.REQUEST.code,
  });
}

/** The running server of this data directory (its address file), else NETRA_HOST/NETRA_PORT. */
function serverUrl(config: Config): string {
  const running = readServerAddress(config.dataDir);
  if (running) return running.url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://[::1]:');
  const host =
    config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}
