/**
 * `netra backfill`: derives the prompt block chains (src/workload/prefix-blocks.ts) of events stored before ingest
 * derived them, one workspace at a time, each a job with progress (src/services/prefix-block-backfill.ts). A running
 * server does the same by itself at start (the prefix-block-backfill startup task); this is for a store opened offline.
 */
import type { Command } from 'commander';
import { TEXT_MIN_TOKENS } from '../workload/prefix-blocks.js';
import type { BackfillResult } from '../services/prefix-block-backfill.js';
import { existingWorkspace, interruptSignal, print, withApp } from './app-session.js';
import { progressReporter } from './progress.js';

export function registerBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description('derive the prompt block chains of events stored before ingest derived them (for block-level prompt caching)')
    .option('--workspace <name>', 'workspace (default: every workspace not yet backfilled)')
    .option('--restart', 'walk the workspace again from its first event, even when it was completed before')
    .option('--json', 'print JSON')
    .action(async (o: { workspace?: string; restart?: boolean; json?: boolean }) => {
      const results = await withApp(async (app) => {
        const names = o.workspace
          ? [await existingWorkspace(app, o.workspace)]
          : (await app.store.workspaces()).filter((w) => w.events > 0).map((w) => w.workspace);
        const signal = interruptSignal();
        const out: BackfillResult[] = [];
        for (const workspace of names) {
          const progress = progressReporter(!o.json && process.stderr.isTTY, 'events');
          try {
            out.push(await app.backfill.run(workspace, { restart: o.restart, signal, onProgress: progress.update }));
          } finally {
            progress.stop();
          }
        }
        return out;
      });
      print(
        Boolean(o.json),
        results,
        () =>
          results
            .map((r) =>
              r.skipped
                ? `${r.workspace}: nothing to do (${r.skipped}; --restart walks it again)`
                : `${r.workspace}: ${r.chained} of ${r.scanned} events with long prompt text given a block chain (the others are under ${TEXT_MIN_TOKENS} tokens)`,
            )
            .join('\n') || 'no workspace has events',
      );
    });
}
