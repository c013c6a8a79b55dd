/**
 * Admin pipeline: the workspace's gateway policy from the chat (the actions agent's "apply it" step).
 *   savings → "did the change work?", "how much did the policy save?": the realized-vs-predicted computation of
 *             GET /api/v1/workspaces/:workspace/gateway-savings (the same service), as a table and a verdict; the
 *             final_report carries the API's result unchanged (`savings`), so the answer's figures are the API's;
 *   shadow  → "apply the recommended policy in shadow": the analysis's recommended policy, behind an approval;
 *   enforce → "switch the gateway policy to enforce": the active policy, behind an approval;
 *   off     → "turn the gateway policy off", behind an approval.
 * A change always asks for approval first (final_report with approval_required and the exact mode and policy) and is
 * made only when the thread's next message confirms it (approvals.ts), through the same service as
 * PUT /api/v1/workspaces/:workspace/gateway-policy, which checks the asking user's role when the change is made.
 */
import { NetraError } from '../errors.js';
import type { RealizedSavings } from '../optimize/realized-savings.js';
import type { PendingApproval } from './approvals.js';
import type { RunContext } from './run-context.js';
import type { RunRequest } from './types.js';

export type GatewayPolicyAction = 'savings' | 'shadow' | 'enforce' | 'off';
export type GatewayPolicyMode = 'off' | 'shadow' | 'enforce';

export interface GatewayPolicyState {
  mode: GatewayPolicyMode;
  policy: Record<string, unknown>;
  policy_version: string | null;
  activated_at: string | null;
}

/** What the pipeline needs from the platform (the composition root implements it over the gateway and the analysis). */
export interface GatewayPolicyAdmin {
  current(workspace: string): Promise<GatewayPolicyState>;
  /** the policy the analysis recommends for the workspace (the dashboard's "Apply in shadow" policy) */
  recommended(workspace: string): Promise<Record<string, unknown>>;
  savings(workspace: string): Promise<RealizedSavings>;
  /** whether `userId` may change the workspace's gateway policy (the `manage` permission: owners) */
  mayManage(workspace: string, userId: string): Promise<boolean>;
  /** sets mode and policy; NETRA_E_FORBIDDEN unless `userId` may manage the workspace */
  activate(
    workspace: string,
    userId: string,
    change: { mode: GatewayPolicyMode; policy: Record<string, unknown> },
  ): Promise<GatewayPolicyState>;
}

/** Which gateway-policy request a message is, or null. Savings questions first: they often name the policy too. */
export function gatewayPolicyActionOf(text: string): GatewayPolicyAction | null {
  const t = text.toLowerCase();
  // "the change" / "the policy" / "the gateway": what was applied, not a what-if ("how much would routing save?")
  const applied = /\b(gateway|polic(y|ies)|change)\b/.test(t);
  if (
    /\b(realized|realised|actual|measured)\b.*\bsav(e|ed|ing|ings)\b/.test(t) ||
    /\b(predicted|projected)\b.*\b(vs\.?|versus|against|beside|compared?)\b.*\b(realized|realised|actual|measured)\b/.test(t) ||
    (applied && /\b(did|has|have)\b.*\b(work|worked|help|helped|pay off|paid off|save|saved)\b/.test(t)) ||
    (applied && /\bhow much\b.*\b(did|has|have)\b.*\bsav(e|ed|ing|ings)\b/.test(t))
  )
    return 'savings';
  if (!/\b(activate|apply|enable|enforce|turn|switch|put|start|deploy|move|set|promote|go|change)\b/.test(t)) return null;
  if (/\b(gateway|policy)\b/.test(t) && /\b(turn|switch|set)\b.*\boff\b|\b(disable|deactivate)\b/.test(t)) return 'off';
  if (/\benforc(e|ed|ing|ement)\b/.test(t) && /\b(gateway|polic(y|ies)|mode)\b/.test(t)) return 'enforce';
  if (/\bshadow\b/.test(t) && /\b(gateway|polic(y|ies)|mode|recommend\w*)\b/.test(t)) return 'shadow';
  return null;
}

const AGENT = 'gateway_policy';
const usd = (v: number | null | undefined) =>
  v === null || v === undefined ? 'n/a' : `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;
const count = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });
const KIND_LABEL: Record<string, string> = {
  routing: 'routing',
  exact_cache: 'exact cache',
  max_tokens_cap: 'max_tokens cap',
  semantic_cache: 'semantic cache',
  batch: 'batch',
};

function unavailable(): never {
  throw new NetraError('CONFIG', 'the LLM gateway is not enabled in this deployment (NETRA_GATEWAY_ENABLED)');
}

async function finish(ctx: RunContext, content: string, extra: Record<string, unknown> = {}): Promise<string> {
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'completed' });
  await ctx.emit('final_report', { content, ...extra });
  return content;
}

/** The answer to "did the change work?": per mode, a verdict and the per-kind table, every figure from `r`. */
export function savingsAnswer(r: RealizedSavings): string {
  const head = `Gateway policy of ${r.workspace}: ${r.mode}${r.policy_version ? ` (version ${r.policy_version}` : ''}${r.activated_at ? `, active since ${r.activated_at}` : ''}${r.policy_version ? ')' : ''}; window ${r.from} to ${r.to}.`;
  if (r.by_mode.length === 0) return [head, '', ...r.notes.slice(0, 1)].join('\n');
  const parts = [head];
  for (const m of r.by_mode) {
    const what = m.mode === 'shadow' ? 'would have saved' : 'saved';
    const ratio =
      m.predicted_savings_usd !== null && m.predicted_savings_usd > 0
        ? ` (${Math.round((m.measured_savings_usd / m.predicted_savings_usd) * 100)}% of the ${usd(m.predicted_savings_usd)} the replay predicted)`
        : m.predicted_savings_usd === null
          ? ' (no replay prediction for this window)'
          : ` (the replay predicted ${usd(m.predicted_savings_usd)})`;
    const verdict =
      m.measured_savings_usd > 0
        ? m.mode === 'shadow'
          ? 'In shadow nothing was changed; switching to enforce would realise this.'
          : 'Yes, the change worked: these are actual savings against what the calls would have cost without the policy.'
        : m.mode === 'shadow'
          ? 'In shadow the policy would not have saved anything on these calls yet.'
          : 'The policy did not save anything on these calls yet.';
    parts.push(
      '',
      `**${m.mode}**: ${count(m.events)} calls (${m.first_event} to ${m.last_event}), spend ${usd(m.spend_usd)}; the policy ${what} ${usd(m.measured_savings_usd)}${ratio}. ${verdict}`,
      '',
      '| kind | predicted calls | predicted savings | measured calls | measured savings |',
      '|---|---:|---:|---:|---:|',
      ...m.kinds.map(
        (k) =>
          `| ${KIND_LABEL[k.kind] ?? k.kind} | ${k.predicted ? count(k.predicted.events) : 'n/a'} | ${usd(k.predicted?.savings_usd)} | ${count(k.measured.events)} | ${usd(k.measured.savings_usd)} |`,
      ),
    );
    const notes = m.kinds.filter((k) => k.note && (k.measured.events > 0 || (k.predicted?.events ?? 0) > 0));
    for (const k of notes) parts.push(`- ${KIND_LABEL[k.kind] ?? k.kind}: ${k.note}`);
  }
  if (r.other_versions.length)
    parts.push(
      '',
      `Not compared: ${r.other_versions.map((o) => `${count(o.events)} ${o.mode} calls of policy version ${o.policy_version ?? '(none)'}`).join(', ')}.`,
    );
  return parts.join('\n');
}

function describePolicy(p: Record<string, unknown>): string {
  const routing = Array.isArray(p.routing) ? p.routing.length : 0;
  const caps = Array.isArray(p.max_tokens_caps) ? p.max_tokens_caps.length : 0;
  const cache = (p.exact_cache as { enabled?: boolean } | undefined)?.enabled === true;
  const semantic = (p.semantic_cache as { enabled?: boolean } | undefined)?.enabled === true;
  const parts = [
    routing ? `${routing} routing rule${routing === 1 ? '' : 's'}` : null,
    cache ? 'the exact cache' : null,
    semantic ? 'the semantic cache' : null,
    caps ? `${caps} max_tokens cap${caps === 1 ? '' : 's'}` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no rule the gateway applies';
}

/** Runs the pipeline for a triaged request; returns the final message. */
export async function gatewayPolicyAgent(
  ctx: RunContext,
  req: RunRequest,
  action: GatewayPolicyAction,
  admin: GatewayPolicyAdmin | undefined,
): Promise<string> {
  if (!admin) unavailable();
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'started', action });
  if (action === 'savings') {
    const r = await ctx.tool(
      AGENT,
      'gateway_savings',
      { workspace: req.workspace },
      () => admin.savings(req.workspace),
      (x) => ({
        mode: x.mode,
        policy_version: x.policy_version,
        by_mode: x.by_mode.map((m) => ({
          mode: m.mode,
          events: m.events,
          measured: m.measured_savings_usd,
          predicted: m.predicted_savings_usd,
        })),
      }),
    );
    await ctx.emit('partial_result', { agent: AGENT, savings: r });
    return finish(ctx, savingsAnswer(r), { action: 'gateway_savings', savings: r });
  }
  if (!(await ctx.guard(admin.mayManage(req.workspace, req.user_id))))
    throw new NetraError('FORBIDDEN', `Only an owner of workspace ${req.workspace} can change its gateway policy; nothing was changed.`);
  const current = await ctx.tool(
    AGENT,
    'gateway_policy',
    { workspace: req.workspace },
    () => admin.current(req.workspace),
    (x) => ({
      mode: x.mode,
      policy_version: x.policy_version,
    }),
  );
  let policy: Record<string, unknown>;
  if (action === 'shadow') {
    policy = await ctx.tool(
      AGENT,
      'recommended_policy',
      { workspace: req.workspace },
      () => admin.recommended(req.workspace),
      (p) => ({
        rules: describePolicy(p),
      }),
    );
    if (describePolicy(policy) === 'no rule the gateway applies')
      return finish(
        ctx,
        `The analysis of ${req.workspace} recommends no routing, cache or max_tokens cap the gateway could apply, so there is nothing to put in shadow; the gateway policy stays ${current.mode}.`,
      );
  } else {
    if (Object.keys(current.policy).length === 0)
      return finish(
        ctx,
        `Workspace ${req.workspace} has no gateway policy yet: ask "apply the recommended policy in shadow" first, then switch it to enforce once the shadow figures look right.`,
      );
    if (current.mode === action)
      return finish(
        ctx,
        `The gateway policy of ${req.workspace} is already ${action} (version ${current.policy_version ?? 'none'}); nothing to change.`,
      );
    policy = current.policy;
  }
  const effect =
    action === 'shadow'
      ? 'In shadow, responses are unchanged; each call records what the policy would have done and saved.'
      : action === 'enforce'
        ? 'In enforce, calls are routed, capped and served from the exact cache as the policy says; responses change.'
        : 'Off, the gateway applies nothing and records calls as they are.';
  const content = `Set the gateway policy of ${req.workspace} to ${action} (now ${current.mode}) with ${describePolicy(policy)}. ${effect} Reply "confirm" (or "yes") in this thread to apply it; any other message leaves the policy as it is.`;
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'awaiting_approval', action: 'set_gateway_policy', mode: action });
  await ctx.emit('final_report', {
    content,
    approval_required: true,
    action: 'set_gateway_policy',
    mode: action,
    policy,
    workspace: req.workspace,
  });
  return content;
}

/** Executes an approved change (from the thread's previous report): rights are checked again by the service. */
export async function gatewayPolicyApproved(
  ctx: RunContext,
  req: RunRequest,
  p: Extract<PendingApproval, { action: 'set_gateway_policy' }>,
  admin: GatewayPolicyAdmin | undefined,
): Promise<string> {
  if (!admin) unavailable();
  await ctx.emit('sub_agent_update', { agent: AGENT, status: 'started', action: 'set_gateway_policy', approved: true, mode: p.mode });
  const v = await ctx.tool(
    AGENT,
    'set_gateway_policy',
    { workspace: req.workspace, mode: p.mode },
    () => admin.activate(req.workspace, req.user_id, { mode: p.mode, policy: p.policy }),
    (x) => ({ mode: x.mode, policy_version: x.policy_version, activated_at: x.activated_at }),
  );
  await ctx.emit('partial_result', { agent: AGENT, gateway_policy: v });
  const next =
    v.mode === 'shadow'
      ? ' Send traffic through the gateway, then ask "did the change work?" to compare the would-have savings with the prediction.'
      : v.mode === 'enforce'
        ? ' Ask "how much did the policy save?" to compare the actual savings with the prediction.'
        : '';
  return finish(
    ctx,
    `The gateway policy of ${req.workspace} is now ${v.mode} (version ${v.policy_version ?? 'none'}, activated ${v.activated_at ?? 'now'}).${next}`,
    { action: 'set_gateway_policy', gateway_policy: v },
  );
}
