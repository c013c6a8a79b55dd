/**
 * Admin pipeline: synthetic data. Reads the preset, event count and days from the request ("Generate 10k synthetic
 * events for a RAG support bot" → rag-assistant, 10,000 events), asks for approval above 50,000 events (a final_report
 * with approval_required and the exact action; the thread's next message confirms it, see approvals.ts), otherwise
 * generates the workload through the app's generator.
 */
import type { Manifest } from '../corpus/generator.js';
import { NetraError } from '../errors.js';
import { PRESETS } from '../corpus/presets.js';
import type { RunContext } from './run-context.js';
import type { RunRequest } from './types.js';

export const APPROVAL_THRESHOLD_EVENTS = 50_000;
export const DEFAULT_SYNTHETIC_EVENTS = 5_000;

export interface SyntheticRequest {
  /** the workspace the user named ("into workspace acme"), or null: a new workspace is created */
  target: string | null;
  preset: string;
  events: number;
  days: number;
  /** the request is the explicit one-message form "confirm: <full request>" (the thread-state confirmation is primary) */
  confirmed: boolean;
}

export type GenerateFn = (req: {
  preset: string;
  events: number;
  days?: number;
  workspace: string;
  signal?: AbortSignal;
}) => Promise<Manifest>;

/** Workspaces as the synthetic pipeline needs them: does one exist, which apps it holds, create one owned by the user. */
export interface SyntheticWorkspaces {
  exists(workspace: string): Promise<boolean>;
  apps(workspace: string): Promise<string[]>;
  create(workspace: string, ownerUserId: string): Promise<void>;
}

/** "synthetic-rag-assistant-20261207-0512": a new workspace per generation, never the one being looked at. */
export function newWorkspaceName(preset: string, now: number): string {
  const d = new Date(now).toISOString();
  return `synthetic-${preset}-${d.slice(0, 10).replace(/-/g, '')}-${d.slice(11, 16).replace(':', '')}`;
}

/** Preset keyword rules, first match wins (RAG before support: a "RAG support bot" is retrieval-augmented). */
const PRESET_RULES: [RegExp, string][] = [
  [/\brag\b|retriev|\bdocs?\b|documentation|knowledge base/i, 'rag-assistant'],
  [/\bcod(e|ing)\b|\bide\b|pull.request|developer/i, 'coding-assistant'],
  [/\bbatch\b|summari[sz]|digest|invoice|extraction/i, 'batch-summarization'],
  [/\bagents?\b|tool.use|\btools?\b/i, 'agent-tool-use'],
  [/\bsupport\b|\bchat\w*\b|customer|helpdesk/i, 'chat-support'],
];

export function parseSyntheticRequest(text: string): SyntheticRequest {
  const preset = PRESET_RULES.find(([re]) => re.test(text))?.[1] ?? 'chat-support';
  let events = DEFAULT_SYNTHETIC_EVENTS;
  const m = text.match(/(\d[\d,]*(?:\.\d+)?)\s*(k|m|thousand|million)?\s*(?:synthetic\s+)?(?:events|calls|requests|rows)/i);
  if (m) {
    const unit = (m[2] ?? '').toLowerCase();
    const scale = unit === 'k' || unit === 'thousand' ? 1_000 : unit === 'm' || unit === 'million' ? 1_000_000 : 1;
    events = Math.round(Number(m[1]!.replace(/,/g, '')) * scale);
  }
  const d = text.match(/(\d+)\s*days?\b/i);
  const days = d ? Math.max(1, Math.min(90, Number(d[1]))) : 7;
  const confirmed = /^\s*(confirm(ed)?|approved?)\s*:/i.test(text);
  const t = text.match(/\b(?:into|in|to)\s+(?:the\s+|my\s+)?(?:workspace|ws)\s+["'`]?([A-Za-z0-9][A-Za-z0-9_.-]{0,62})/i);
  return { target: t ? t[1]! : null, preset, events, days, confirmed };
}

/**
 * Runs the pipeline; returns the final message. `approved` is the generation the thread's previous report asked
 * approval for and the user confirmed: it is executed exactly, whatever its size.
 */
export async function syntheticDataAgent(
  ctx: RunContext,
  req: RunRequest,
  generate: GenerateFn | undefined,
  approved?: { preset: string; events: number; days: number; target?: string },
  workspaces?: SyntheticWorkspaces,
): Promise<string> {
  const s = approved ? { ...approved, target: approved.target ?? null, confirmed: true } : parseSyntheticRequest(req.request);
  // generated events go to a new workspace unless the user named one; an existing one needs an explicit confirmation
  let target = s.target;
  const existing = target !== null && workspaces ? await workspaces.exists(target) : target === req.workspace;
  if (target === null) {
    target = newWorkspaceName(s.preset, Date.now());
    for (let i = 2; workspaces && (await workspaces.exists(target)); i++) target = `${newWorkspaceName(s.preset, Date.now())}-${i}`;
  }
  if (existing && !s.confirmed) {
    const content = `Workspace ${target} already exists: adding ${s.events.toLocaleString('en-US')} synthetic events (preset ${s.preset}) would mix them with its data. Reply "confirm" to add them anyway (apps that already exist there are refused, so nothing merges into them), or ask again without naming a workspace to get a new one.`;
    await ctx.emit('final_report', {
      content,
      approval_required: true,
      action: 'generate_synthetic',
      preset: s.preset,
      events: s.events,
      days: s.days,
      workspace: req.workspace,
      target,
    });
    return content;
  }
  if (existing && workspaces) {
    const presetApps = new Set((PRESETS[s.preset]?.apps ?? []).map((a) => a.app));
    const clash = (await workspaces.apps(target)).filter((a) => presetApps.has(a));
    if (clash.length > 0) {
      const content = `Nothing was generated: workspace ${target} already has app${clash.length === 1 ? '' : 's'} ${clash.join(', ')}, and synthetic events never merge into existing apps. Ask again without naming a workspace to generate into a new one.`;
      await ctx.emit('final_report', { content, refused: true, target });
      return content;
    }
  }
  await ctx.emit('sub_agent_update', {
    agent: 'synthetic_data',
    status: 'started',
    preset: s.preset,
    events: s.events,
    days: s.days,
    ...(approved ? { approved: true } : {}),
  });
  if (s.events > APPROVAL_THRESHOLD_EVENTS && !s.confirmed) {
    const content = `Generating ${s.events.toLocaleString('en-US')} synthetic events (preset ${s.preset}, ${s.days} days) into workspace ${target} is above the approval threshold of ${APPROVAL_THRESHOLD_EVENTS.toLocaleString('en-US')} events. Reply "confirm" (or "yes") in this thread to go ahead; any other message cancels it.`;
    await ctx.emit('sub_agent_update', {
      agent: 'synthetic_data',
      status: 'awaiting_approval',
      events: s.events,
      threshold: APPROVAL_THRESHOLD_EVENTS,
    });
    await ctx.emit('final_report', {
      content,
      approval_required: true,
      action: 'generate_synthetic',
      preset: s.preset,
      events: s.events,
      days: s.days,
      workspace: req.workspace,
      target,
    });
    return content;
  }
  if (!generate) throw new NetraError('CONFIG', 'synthetic data generation is not available in this deployment');
  if (!existing) await workspaces?.create(target, req.user_id);
  const args = { preset: s.preset, events: s.events, days: s.days, workspace: target };
  const m = await ctx.tool(
    'synthetic_data',
    'generate',
    args,
    () => generate({ ...args, signal: ctx.signal }),
    (r) => ({
      events: r.events,
      total_spend_usd: r.total_spend_usd,
      from: new Date(r.from).toISOString(),
      to: new Date(r.to).toISOString(),
    }),
  );
  await ctx.emit('partial_result', {
    agent: 'synthetic_data',
    manifest: { preset: m.preset, events: m.events, days: m.days, total_spend_usd: m.total_spend_usd, counts: m.counts },
  });
  await ctx.emit('sub_agent_update', { agent: 'synthetic_data', status: 'completed', events: m.events });
  const content = `Generated ${m.events.toLocaleString('en-US')} synthetic events with the ${m.preset} preset over ${m.days} days into ${existing ? '' : 'the new '}workspace ${m.workspace} ($${m.total_spend_usd.toFixed(2)} of simulated spend); ${req.workspace === m.workspace ? 'this workspace' : `workspace ${req.workspace}`} is unchanged${req.workspace === m.workspace ? ' apart from them' : ''}. Switch to ${m.workspace} and ask "Where does my money go?" to analyse it.`;
  await ctx.emit('final_report', {
    content,
    workspace_created: existing ? null : m.workspace,
    target: m.workspace,
    manifest: { preset: m.preset, events: m.events, days: m.days, total_spend_usd: m.total_spend_usd },
  });
  return content;
}
