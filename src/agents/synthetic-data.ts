/**
 * Admin pipeline: synthetic data. Reads the preset, event count and days from the request ("Generate 10k synthetic
 * events for a RAG support bot" → rag-assistant, 10,000 events), asks for approval above 50,000 events (a final_report
 * with approval_required and the exact action; the thread's next message confirms it, see approvals.ts), otherwise
 * generates the workload through the app's generator.
 */
import type { Manifest } from '../corpus/generator.js';
import { NetraError } from '../errors.js';
import type { RunContext } from './run-context.js';
import type { RunRequest } from './types.js';

export const APPROVAL_THRESHOLD_EVENTS = 50_000;
export const DEFAULT_SYNTHETIC_EVENTS = 5_000;

export interface SyntheticRequest {
  preset: string;
  events: number;
  days: number;
  /** the request is the explicit one-message form "confirm: <full request>" (the thread-state confirmation is primary) */
  confirmed: boolean;
}

export type GenerateFn = (req: { preset: string; events: number; days?: number; workspace: string; signal?: AbortSignal }) => Promise<Manifest>;

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
  return { preset, events, days, confirmed };
}

/**
 * Runs the pipeline; returns the final message. `approved` is the generation the thread's previous report asked
 * approval for and the user confirmed: it is executed exactly, whatever its size.
 */
export async function syntheticDataAgent(ctx: RunContext, req: RunRequest, generate: GenerateFn | undefined, approved?: { preset: string; events: number; days: number }): Promise<string> {
  const s = approved ? { ...approved, confirmed: true } : parseSyntheticRequest(req.request);
  await ctx.emit('sub_agent_update', { agent: 'synthetic_data', status: 'started', preset: s.preset, events: s.events, days: s.days, ...(approved ? { approved: true } : {}) });
  if (s.events > APPROVAL_THRESHOLD_EVENTS && !s.confirmed) {
    const content = `Generating ${s.events.toLocaleString('en-US')} synthetic events (preset ${s.preset}, ${s.days} days) into workspace ${req.workspace} is above the approval threshold of ${APPROVAL_THRESHOLD_EVENTS.toLocaleString('en-US')} events. Reply "confirm" (or "yes") in this thread to go ahead; any other message cancels it.`;
    await ctx.emit('sub_agent_update', { agent: 'synthetic_data', status: 'awaiting_approval', events: s.events, threshold: APPROVAL_THRESHOLD_EVENTS });
    await ctx.emit('final_report', { content, approval_required: true, action: 'generate_synthetic', preset: s.preset, events: s.events, days: s.days, workspace: req.workspace });
    return content;
  }
  if (!generate) throw new NetraError('CONFIG', 'synthetic data generation is not available in this deployment');
  const args = { preset: s.preset, events: s.events, days: s.days, workspace: req.workspace };
  const m = await ctx.tool('synthetic_data', 'generate', args, () => generate({ ...args, signal: ctx.signal }), (r) => ({
    events: r.events, total_spend_usd: r.total_spend_usd, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(),
  }));
  await ctx.emit('partial_result', { agent: 'synthetic_data', manifest: { preset: m.preset, events: m.events, days: m.days, total_spend_usd: m.total_spend_usd, counts: m.counts } });
  await ctx.emit('sub_agent_update', { agent: 'synthetic_data', status: 'completed', events: m.events });
  const content = `Generated ${m.events.toLocaleString('en-US')} synthetic events with the ${m.preset} preset over ${m.days} days into workspace ${m.workspace}: $${m.total_spend_usd.toFixed(2)} of simulated spend. Ask "Where does my money go?" to analyse it.`;
  await ctx.emit('final_report', { content, manifest: { preset: m.preset, events: m.events, days: m.days, total_spend_usd: m.total_spend_usd } });
  return content;
}
