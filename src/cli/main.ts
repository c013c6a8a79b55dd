/**
 * The `netra` command line: serve, import, generate, stats, workspaces, reprice, backfill, analyze and the rest.
 * Every command builds the same app as the server (src/app.ts) from the same environment config.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { configFromEnv } from '../config.js';
import { ErrorCodes, NetraError } from '../errors.js';
import { createApp } from '../app.js';
import { parseRange, parseWorkspace } from '../server/params.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { formatAnalysis, formatReplay, formatStats } from './format.js';
import { checkModel, checkPortFree, choiceArg, formatHint } from './hints.js';
import { progressReporter } from './progress.js';
import { existingWorkspace, interruptSignal, print, withApp } from './app-session.js';
import { detectFormat, IMPORT_FORMATS, type ImportFormat } from '../ingest/file-import.js';

const program = new Command();
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
program
  .name('netra')
  .description('Where your LLM money and latency go, and what to change.')
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError();

function intArg(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}`);
    return n;
  };
}

program
  .command('serve')
  .description('start the HTTP server (embedded PGlite + DuckDB under NETRA_DATA_DIR unless DATABASE_URL is set)')
  .action(async () => {
    const config = configFromEnv();
    await checkPortFree(config.host, config.port); // before any work: no demo seeding for a server that cannot listen
    const app = await createApp(config);
    let url: string;
    try {
      url = await app.listen();
    } catch (err) {
      await app.close(); // taken meanwhile: nothing may keep the process alive
      throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? new NetraError(
            'CONFIG',
            `port ${config.port} on ${config.host} is in use; stop that process or choose another port with NETRA_PORT`,
            { field: 'port' },
          )
        : err;
    }
    app.log.info({ url }, `netra listening on ${url}`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, 'shutting down: finishing in-flight requests, flushing events, closing stores');
      await app.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

program
  .command('import')
  .description('import events from a file into a workspace')
  .argument('<file>', 'path of the file')
  .addOption(
    new Option('--format <format>', `file format: ${IMPORT_FORMATS.join(' | ')} (default: detected from the file)`).argParser(
      choiceArg('format', IMPORT_FORMATS),
    ),
  )
  .option('--model <id>', 'model for formats that carry none (azure-trace, mooncake), or default for CSV rows without one')
  .option('--start <time>', 'mooncake: the ISO 8601 time its relative timestamps (ms) count from')
  .option('--map <mapping>', 'CSV column mapping field=column,... (default: columns named like event fields)')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--json', 'print { imported, rejected, duplicates, errors } as JSON')
  .action(
    async (
      file: string,
      o: { format?: ImportFormat; model?: string; start?: string; map?: string; workspace?: string; json?: boolean },
    ) => {
      // detected before the app opens its stores: a file we cannot read is refused at once, with the reason
      const format = o.format ?? (await detectFormat(file));
      if (format === 'mooncake') (await import('../ingest/mooncake-trace.js')).mooncakeStart(o.start);
      const result = await withApp(async (app) => {
        const workspace = parseWorkspace(o.workspace, app.config.defaultWorkspace);
        const model = o.model;
        if (model !== undefined) {
          checkModel(
            model,
            () => app.catalog().entries.flatMap((e) => [e.id, ...e.aliases]),
            (m) => app.catalog().rates(workspace, m) !== null,
          );
        }
        const progress = progressReporter(!o.json && process.stderr.isTTY, 'bytes');
        try {
          return await app.importFile(
            file,
            { format, model: o.model, start: o.start, mapping: parseMapping(o.map), workspace, signal: interruptSignal() },
            progress.update,
          );
        } finally {
          progress.stop();
        }
      });
      const out = {
        imported: result.accepted,
        rejected: result.rejected,
        duplicates: result.duplicates,
        errors: result.errors,
        errors_total: result.errors_total ?? result.errors.length,
      };
      print(Boolean(o.json), out, () => {
        const lines = [`imported ${out.imported} events (${out.duplicates} already stored, ${out.rejected} rejected)`];
        for (const e of out.errors.slice(0, 20)) lines.push(`  line ${e.line ?? e.index}: ${e.field}: ${e.message}`);
        if (out.errors_total > 20) lines.push(`  ... ${out.errors_total - 20} more (use --json for all)`);
        return lines.join('\n');
      });
      if (out.imported === 0 && out.rejected > 0) {
        const hint = formatHint(file, format);
        if (hint) process.stderr.write(`${hint}\n`);
        process.exitCode = 1;
      }
    },
  );

program
  .command('generate')
  .description('generate a synthetic workload (into the store, or into a JSONL file with --out)')
  .requiredOption('--preset <name>', 'chat-support | rag-assistant | coding-assistant | batch-summarization | agent-tool-use')
  .requiredOption('--events <n>', 'number of events', intArg('--events'))
  .option('--days <d>', 'days of history ending now', intArg('--days'), 7)
  .option('--seed <s>', 'random seed (same seed, same events)', intArg('--seed', 0), 1)
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--out <file>', 'write JSONL to this file instead of the store')
  .option('--json', 'print the manifest (what was planted) as JSON')
  .action(async (o: { preset: string; events: number; days: number; seed: number; workspace?: string; out?: string; json?: boolean }) => {
    const manifest = await withApp(async (app) => {
      const workspace = parseWorkspace(o.workspace, app.config.defaultWorkspace);
      const progress = progressReporter(!o.json && process.stderr.isTTY, 'events', o.events);
      try {
        return await app.generate(
          { preset: o.preset, events: o.events, days: o.days, seed: o.seed, workspace, out: o.out, signal: interruptSignal() },
          progress.update,
        );
      } finally {
        progress.stop();
      }
    });
    print(
      Boolean(o.json),
      manifest,
      () =>
        `generated ${o.events} ${o.preset} events into ${o.out ?? `workspace ${o.workspace ?? 'demo'}`}; spend $${Number((manifest as { total_spend_usd?: number }).total_spend_usd ?? 0).toFixed(2)}`,
    );
  });

program
  .command('stats')
  .description('events, tokens, spend and latency by model for a workspace')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--from <time>', 'ISO 8601 or epoch ms (inclusive)')
  .option('--to <time>', 'ISO 8601 or epoch ms (exclusive)')
  .option('--json', 'print JSON')
  .action(async (o: { workspace?: string; from?: string; to?: string; json?: boolean }) => {
    const stats = await withApp(async (app) => app.store.stats({ workspace: await existingWorkspace(app, o.workspace), ...parseRange(o) }));
    print(Boolean(o.json), stats, () => formatStats(stats));
  });

program
  .command('workspaces')
  .description('list workspaces with event counts')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const list = await withApp((app) => app.store.workspaces());
    print(Boolean(o.json), list, () => list.map((w) => `${w.workspace}\t${w.events} events`).join('\n') || '(no workspaces with events)');
  });

program
  .command('reprice')
  .description('recompute catalog-priced costs of stored events after a catalog or override change')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--json', 'print JSON')
  .action(async (o: { workspace?: string; json?: boolean }) => {
    const r = await withApp(async (app) => app.reprice(await existingWorkspace(app, o.workspace)));
    print(Boolean(o.json), r, () => `repriced ${r.updated} events: $${r.spend_before_usd.toFixed(4)} -> $${r.spend_after_usd.toFixed(4)}`);
  });

program
  .command('analyze')
  .description('performance analysis and ranked recommendations with dollars, evidence and risk')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--from <time>', 'ISO 8601 or epoch ms (inclusive; default: first event)')
  .option('--to <time>', 'ISO 8601 or epoch ms (exclusive; default: after the last event)')
  .option('--goal <goal>', 'cost | latency | quality | balanced', 'balanced')
  .option('--json', "print the API's JSON: { summary, performance, recommendations, more_recommendations, findings, minor, skipped }")
  .option('--md', 'print a Markdown report')
  .action(async (o: { workspace?: string; from?: string; to?: string; goal: string; json?: boolean; md?: boolean }) => {
    // the summary's projected_savings is the replay of every recommendation together (the analysis service runs it)
    const a = await withApp(async (app) =>
      app.analysis.analyze({ workspace: await existingWorkspace(app, o.workspace), ...parseRange(o), goal: o.goal }),
    );
    if (o.md) {
      const { analysisMarkdown } = await import('../optimize/export/markdown.js');
      process.stdout.write(analysisMarkdown(a) + '\n');
    } else if (o.json) {
      const { presentAnalysis } = await import('../optimize/presentation.js');
      print(true, presentAnalysis(a), () => '');
    } else print(false, a, () => formatAnalysis(a));
  });

program
  .command('simulate')
  .description('what-if replay of a policy (JSON file) over the stored history: baseline vs projected')
  .argument('<policy.json>', 'policy file (see docs/OPTIMIZATION.md)')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--from <time>', 'ISO 8601 or epoch ms (inclusive)')
  .option('--to <time>', 'ISO 8601 or epoch ms (exclusive)')
  .option('--json', 'print JSON')
  .action(async (file: string, o: { workspace?: string; from?: string; to?: string; json?: boolean }) => {
    const policy = readJsonFile(file, 'policy');
    const r = await withApp(async (app) =>
      app.analysis.simulate({ workspace: await existingWorkspace(app, o.workspace), ...parseRange(o), policy }),
    );
    print(Boolean(o.json), r, () => formatReplay(r));
  });

program
  .command('export-config')
  .description('the recommended (or a given) policy as a LiteLLM proxy config.yaml or a Portkey config')
  .addOption(new Option('--format <format>', 'gateway format').choices(['litellm', 'portkey']).makeOptionMandatory())
  .option('--policy <file>', 'policy JSON to export (default: the policy the analysis recommends)')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--goal <goal>', 'cost | latency | quality | balanced (for the recommended policy)', 'balanced')
  .option('--out <file>', 'write the config here instead of stdout')
  .action(async (o: { format: string; policy?: string; workspace?: string; goal: string; out?: string }) => {
    const { exportGatewayConfig } = await import('../services/gateway-export.js');
    const policy = o.policy ? readJsonFile(o.policy, 'policy') : undefined;
    const r = await withApp(async (app) =>
      exportGatewayConfig(
        { analysis: app.analysis, store: app.store, catalog: app.catalog() },
        {
          workspace: await existingWorkspace(app, o.workspace),
          format: o.format,
          policy,
          goal: o.goal,
        },
      ),
    );
    if (o.out) {
      writeFileSync(o.out, r.content);
      process.stderr.write(`wrote ${o.out}\n`);
    } else process.stdout.write(r.content);
    for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
  });

// the LLM gateway's policy for a workspace (src/gateway); a running server sees the change within
// NETRA_GATEWAY_CREDENTIAL_CACHE_MS (PUT /api/v1/workspaces/:workspace/gateway-policy applies it at once)
const gatewayCmd = program.command('gateway').description('the LLM gateway (docs/GATEWAY.md)');
const gatewayPolicy = gatewayCmd.command('policy').description("a workspace's gateway policy: off, shadow or enforce");
gatewayPolicy
  .command('set')
  .description('activate a policy in the gateway: shadow records what it would do, enforce applies it')
  .addOption(new Option('--mode <mode>', 'off | shadow | enforce').choices(['off', 'shadow', 'enforce']).makeOptionMandatory())
  .option('--policy <file>', 'policy JSON (see docs/OPTIMIZATION.md); default: the policy the analysis recommends')
  .option('--goal <goal>', 'cost | latency | quality | balanced (for the recommended policy)', 'balanced')
  .option('--record-text <bool>', 'record prompt and response text (true | false)')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--json', 'print JSON')
  .action(async (o: { mode: string; policy?: string; goal: string; recordText?: string; workspace?: string; json?: boolean }) => {
    if (o.recordText !== undefined && o.recordText !== 'true' && o.recordText !== 'false')
      throw new InvalidArgumentError('--record-text must be true or false');
    const r = await withApp(async (app) => {
      if (!app.gateway)
        throw new NetraError('CONFIG', 'the gateway is disabled (NETRA_GATEWAY_ENABLED=false)', { field: 'gateway.enabled' });
      const workspace = parseWorkspace(o.workspace, app.config.defaultWorkspace);
      const policy = o.policy ? readJsonFile(o.policy, 'policy') : await app.analysis.recommendedPolicy({ workspace, goal: o.goal });
      return app.gateway.setPolicy(
        workspace,
        { mode: o.mode, policy, ...(o.recordText !== undefined ? { record_text: o.recordText === 'true' } : {}) },
        null,
      );
    });
    print(
      Boolean(o.json),
      r,
      () =>
        `${r.workspace}: gateway policy ${r.mode} since ${r.activated_at}; record_text ${r.record_text}\n${JSON.stringify(r.policy, null, 2)}`,
    );
  });
gatewayPolicy
  .command('show')
  .description("the workspace's gateway policy")
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .action(async (o: { workspace?: string }) => {
    const r = await withApp(async (app) => {
      if (!app.gateway)
        throw new NetraError('CONFIG', 'the gateway is disabled (NETRA_GATEWAY_ENABLED=false)', { field: 'gateway.enabled' });
      return app.gateway.getPolicy(parseWorkspace(o.workspace, app.config.defaultWorkspace));
    });
    print(true, r, () => '');
  });

gatewayCmd
  .command('savings')
  .description("what the workspace's gateway policy saved: per mode and rule kind, measured beside the replay's prediction")
  .option('--from <time>', 'start of the window (ISO 8601 or epoch ms; default 30 days ago)')
  .option('--to <time>', 'end of the window (default now)')
  .option('--workspace <name>', 'workspace (default: NETRA_WORKSPACE or demo)')
  .option('--json', 'print JSON')
  .action(async (o: { from?: string; to?: string; workspace?: string; json?: boolean }) => {
    const r = await withApp(async (app) => {
      if (!app.gatewaySavings)
        throw new NetraError('CONFIG', 'the gateway is disabled (NETRA_GATEWAY_ENABLED=false)', { field: 'gateway.enabled' });
      return app.gatewaySavings.realized(parseWorkspace(o.workspace, app.config.defaultWorkspace), parseRange(o));
    });
    const { savingsAnswer } = await import('../agents/gateway-policy-agent.js');
    print(Boolean(o.json), r, () => savingsAnswer(r));
  });

function readJsonFile(file: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NetraError('NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, { field });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new NetraError('VALIDATION', `${file} is not valid JSON: ${(err as Error).message}`, { field });
  }
}

function parseMapping(spec: string | undefined): Record<string, string> | undefined {
  if (!spec) return undefined;
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const [field, column] = part.split('=').map((s) => s.trim());
    if (!field || !column) throw new NetraError('VALIDATION', `--map entries are field=column, got "${part}"`, { field: 'map' });
    out[field] = column;
  }
  return out;
}

// accounts: netra token, netra keys create | revoke
(await import('./accounts-commands.js')).registerAccountCommands(program);
// netra events delete
(await import('./events-commands.js')).registerEventCommands(program);
(await import('./backfill-command.js')).registerBackfillCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // users see the code and the message; the stack only with NETRA_LOG_LEVEL=debug (or trace)
  const e = err as NetraError;
  process.stderr.write(`netra: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  if (/^(debug|trace)$/.test(process.env.NETRA_LOG_LEVEL ?? '') && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exitCode = e.code === ErrorCodes.VALIDATION.code ? 2 : 1;
}
