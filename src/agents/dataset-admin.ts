/**
 * Admin pipeline: dataset administration. A dataset is the events of one `app` in the workspace (generated workloads
 * store each preset's apps, e.g. rag-assistant → docs-qa, query-embed; imports the app they carry). Three actions:
 *   list    → per app: events, first/last event, spend, models (a table);
 *   delete  → always asks for approval first (final_report with approval_required, action, app, events) and deletes
 *             only when the thread's next message confirms it (approvals.ts); only a workspace owner may delete, and only a
 *             whole dataset named exactly (no time or other filter: those are refused, never approximated);
 *   reprice → recomputes catalog-priced costs from the current price catalog, spend before and after.
 * The `DatasetAdmin` port is implemented by src/services/dataset-admin.ts and handed over by the composition root.
 */
import { PRESETS } from '../corpus/presets.js';
import { NetraError } from '../errors.js';
import type { DatasetInfo, RepriceResult } from '../store/types.js';
import type { PendingApproval } from './approvals.js';
import type { RunContext } from './run-context.js';
import type { DatasetAction } from './triage.js';
import type { RunRequest } from './types.js';
import { escapeRegExp } from './regexp.js';

/** What the dataset pipeline needs from the platform. */
export interface DatasetAdmin {
  /** the workspace's datasets, sorted by app */
  list(workspace: string): Promise<DatasetInfo[]>;
  /** whether `userId` may delete or reprice in the workspace (owners only) */
  mayManage(workspace: string, userId: string): Promise<boolean>;
  /** deletes one dataset; NETRA_E_FORBIDDEN unless `userId` owns the workspace; returns the events deleted */
  remove(workspace: string, userId: string, app: string): Promise<number>;
  /** recomputes catalog-priced costs; NETRA_E_FORBIDDEN unless `userId` owns the workspace */
  reprice(workspace: string, userId: string): Promise<RepriceResult>;
}

const AGENT = 'dataset_admin';
const usd = (v: number) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (v: number) => v.toLocaleString('en-US');
const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Dataset names that occur in the text as whole tokens (case-insensitive), longest first, each at most once. */
export function datasetsNamed(text: string, apps: readonly string[]): string[] {
  let rest = text.toLowerCase();
  const found: string[] = [];
  for (const app of [...apps].sort((a, b) => b.length - a.length)) {
    const re = new RegExp(`(^|[^a-z0-9_.\\-])${escapeRegExp(app.toLowerCase())}(?![a-z0-9_\\-]|\\.[a-z0-9])`);
    if (re.test(rest)) {
      found.push(app);
      rest = rest.replace(re, '$1 ');
    }
  }
  return found;
}

/** A deletion the pipeline cannot do exactly: by time, age or any filter other than the whole dataset. */
const PARTIAL_DELETE =
  /\b(older|newer|before|after|since|between|until|oldest|newest|last|past|first)\b|\d+\s*(minutes?|hours?|days?|weeks?|months?|years?)\b|\b(where|only|errors?|failed|model)\b/i;

/** The dataset table as Markdown. */
export function datasetTable(datasets: readonly DatasetInfo[]): string {
  const rows = datasets.map(
    (d) =>
      `| ${d.app} | ${count(d.events)} | ${day(d.first_event)} | ${day(d.last_event)} | ${usd(d.spend_usd)} | ${d.models.join(', ')} |`,
  );
  return [
    '| dataset (app) | events | first event (UTC) | last event (UTC) | spend | models |',
    '|---|---:|---|---|---:|---|',
    ...rows,
  ].join('\n');
}

const summarize = (list: DatasetInfo[]) => ({ datasets: list.length, events: list.reduce((n, d) => n + d.events, 0) });

function unavailable(): never {
  throw new NetraError('CONFIG', 'dataset administration is not available in this deployment');
}

/** Runs the pipeline for a triaged request; returns the final message. */
export async function datasetAdminAgent(
  ctx: RunContext,
  req: RunRequest,
  action: DatasetAction,
  admin: DatasetAdmin | undefined,
): Promise<string> {
  if (!admin) unavailable();
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'started', action });
  if (action === 'reprice') return repriceAction(ctx, req, admin);
  const list = await ctx.tool(AGENT, 'datasets', { workspace: req.workspace }, () => admin.list(req.workspace), summarize);
  await ctx.emit('partial_result', { agent: AGENT, datasets: list });
  if (action === 'list') return listAnswer(ctx, req, list);
  return deleteRequest(ctx, req, admin, list);
}

async function finish(ctx: RunContext, content: string, extra: Record<string, unknown> = {}): Promise<string> {
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'completed' });
  await ctx.emit('final_report', { content, ...extra });
  return content;
}

async function listAnswer(ctx: RunContext, req: RunRequest, list: DatasetInfo[]): Promise<string> {
  if (list.length === 0) {
    return finish(
      ctx,
      `Workspace ${req.workspace} has no datasets yet: send events (POST /api/v1/events, OTLP or \`netra import\`) or ask me to generate a synthetic workload.`,
      { datasets: [] },
    );
  }
  const s = summarize(list);
  const spend = list.reduce((a, d) => a + d.spend_usd, 0);
  const content = `Workspace ${req.workspace} has ${count(s.datasets)} dataset${s.datasets === 1 ? '' : 's'} with ${count(s.events)} events and ${usd(spend)} of spend:\n\n${datasetTable(list)}\n\nTo delete one, ask "delete the <app> dataset"; to recompute costs with the current prices, ask "reprice my events".`;
  return finish(ctx, content, { datasets: list });
}

async function deleteRequest(ctx: RunContext, req: RunRequest, admin: DatasetAdmin, list: DatasetInfo[]): Promise<string> {
  const names = datasetsNamed(
    req.request,
    list.map((d) => d.app),
  );
  const available =
    list.length > 0 ? ` Datasets in ${req.workspace}: ${list.map((d) => `${d.app} (${count(d.events)} events)`).join(', ')}.` : '';
  if (list.length === 0) return finish(ctx, `Workspace ${req.workspace} has no datasets: there is nothing to delete.`, { datasets: [] });
  if (names.length !== 1) {
    let why =
      names.length === 0
        ? `Which dataset should I delete? Name it exactly, e.g. "delete the ${list[0]!.app} dataset".`
        : `Your message names ${names.length} datasets (${names.join(', ')}); I delete one dataset per request, name one.`;
    // a synthetic-workload preset is not a dataset: its events are stored under the preset's apps
    const preset = names.length === 0 ? datasetsNamed(req.request, Object.keys(PRESETS))[0] : undefined;
    if (preset)
      why = `${preset} is a synthetic-workload preset, not a dataset: its events are stored under the apps ${PRESETS[preset]!.apps.map((a) => a.app).join(', ')}. Name the one to delete, e.g. "delete the ${PRESETS[preset]!.apps[0]!.app} dataset".`;
    return finish(ctx, `${why}${available}`, { datasets: list });
  }
  const rest = req.request.replace(new RegExp(escapeRegExp(names[0]!), 'ig'), ' ');
  if (PARTIAL_DELETE.test(rest)) {
    return finish(
      ctx,
      `I can only delete a whole dataset (all events of one app), not part of it by time or another filter, so nothing was deleted. To delete all of ${names[0]}, ask "delete the ${names[0]} dataset".${available}`,
      { datasets: list },
    );
  }
  const d = list.find((x) => x.app === names[0])!;
  if (!(await ctx.guard(admin.mayManage(req.workspace, req.user_id)))) {
    throw new NetraError(
      'FORBIDDEN',
      `Only an owner of workspace ${req.workspace} can delete datasets; ask an owner to delete ${d.app}. Nothing was deleted.`,
    );
  }
  const content = `Deleting dataset ${d.app} removes ${count(d.events)} events (${day(d.first_event)} to ${day(d.last_event)} UTC, ${usd(d.spend_usd)} of spend, models ${d.models.join(', ')}) from workspace ${req.workspace}. This cannot be undone. Reply "confirm" (or "yes") in this thread to delete it; any other message keeps it.`;
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'awaiting_approval', action: 'delete_dataset', app: d.app, events: d.events });
  await ctx.emit('final_report', {
    content,
    approval_required: true,
    action: 'delete_dataset',
    app: d.app,
    events: d.events,
    workspace: req.workspace,
  });
  return content;
}

/** Executes an approved deletion (from the thread's previous report). */
export async function deleteApproved(
  ctx: RunContext,
  req: RunRequest,
  p: Extract<PendingApproval, { action: 'delete_dataset' }>,
  admin: DatasetAdmin | undefined,
): Promise<string> {
  if (!admin) unavailable();
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'started', action: 'delete', approved: true, app: p.app });
  const deleted = await ctx.tool(
    AGENT,
    'delete_dataset',
    { workspace: req.workspace, app: p.app },
    () => admin.remove(req.workspace, req.user_id, p.app),
    (n) => ({ deleted: n }),
  );
  await ctx.emit('partial_result', { agent: AGENT, deleted, app: p.app });
  const note = deleted === p.events ? '' : ` (the approval listed ${count(p.events)}; events arrived or were removed in between)`;
  const content =
    deleted === 0
      ? `Dataset ${p.app} has no events in workspace ${req.workspace} any more: nothing was deleted.`
      : `Deleted dataset ${p.app}: ${count(deleted)} events removed from workspace ${req.workspace}${note}.`;
  return finish(ctx, content, { action: 'delete_dataset', app: p.app, deleted });
}

async function repriceAction(ctx: RunContext, req: RunRequest, admin: DatasetAdmin): Promise<string> {
  if (!(await ctx.guard(admin.mayManage(req.workspace, req.user_id)))) {
    throw new NetraError('FORBIDDEN', `Only an owner of workspace ${req.workspace} can reprice its events; nothing was changed.`);
  }
  const r = await ctx.tool(
    AGENT,
    'reprice',
    { workspace: req.workspace },
    () => admin.reprice(req.workspace, req.user_id),
    (x) => ({ ...x }),
  );
  await ctx.emit('partial_result', { agent: AGENT, reprice: r });
  const delta = r.spend_after_usd - r.spend_before_usd;
  const content =
    r.updated === 0
      ? `No event of workspace ${req.workspace} is priced from the catalog (events that carry their own cost_usd keep it): nothing to reprice; spend stays ${usd(r.spend_before_usd)}.`
      : `Repriced ${count(r.updated)} catalog-priced events of workspace ${req.workspace} with the current price catalog and overrides: spend went from ${usd(r.spend_before_usd)} to ${usd(r.spend_after_usd)} (${delta >= 0 ? '+' : '-'}${usd(Math.abs(delta))}).`;
  return finish(ctx, content, { action: 'reprice', reprice: r });
}
