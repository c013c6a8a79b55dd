/**
 * `netra events delete`: deletes a workspace's events by id or by filter (app, model, time range). Through the running
 * server when there is one (it holds the store; its cache and precompute are told), else directly on the data directory.
 * Needs the workspace's owner rights (the CLI acts as the local owner).
 */
import type { Command } from 'commander';
import { configFromEnv } from '../config.js';
import { NetraError } from '../errors.js';
import { parseRange, parseWorkspace } from '../server/params.js';
import { checkEventFilter, type EventFilter } from '../store/event-filter.js';
import { viaServerOrDirect } from './accounts-commands.js';

interface DeleteOptions {
  workspace?: string;
  ids?: string;
  app?: string;
  model?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

export function registerEventCommands(program: Command): void {
  const events = program.command('events').description('stored events: delete by id or filter');
  events
    .command('delete')
    .description('delete events by id or by filter (every option given must match); owners only')
    .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
    .option('--ids <list>', 'comma-separated event ids')
    .option('--app <name>', 'events of this app (dataset)')
    .option('--model <name>', 'events of this model')
    .option('--from <time>', 'events at or after this time (ISO 8601 or epoch ms)')
    .option('--to <time>', 'events before this time (ISO 8601 or epoch ms)')
    .option('--json', 'print JSON')
    .action(async (o: DeleteOptions) => {
      const config = configFromEnv();
      const workspace = parseWorkspace(o.workspace, config.defaultWorkspace);
      const filter: EventFilter = checkEventFilter({
        ...(o.ids !== undefined
          ? {
              ids: o.ids
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(o.app !== undefined ? { app: o.app } : {}),
        ...(o.model !== undefined ? { model: o.model } : {}),
        ...parseRange({ from: o.from, to: o.to }),
      });
      const r = (await viaServerOrDirect(
        config,
        { method: 'DELETE', path: `/api/v1/events?workspace=${encodeURIComponent(workspace)}`, body: filter as Record<string, unknown> },
        async (app) => {
          const owner = app.accounts.identity.localOwnerId();
          if (!(await app.accounts.access.can({ kind: 'user', userId: owner, email: '', isAdmin: true }, workspace, 'manage'))) {
            throw new NetraError('FORBIDDEN', `the local owner is not an owner of workspace ${workspace}`, { field: 'workspace' });
          }
          return { workspace, deleted: await app.deleteEvents(workspace, filter) };
        },
      )) as { workspace: string; deleted: number };
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `deleted ${r.deleted} events from ${r.workspace}\n`);
    });
}
