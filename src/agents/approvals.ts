/**
 * Approvals from thread state (pure): a destructive or large action (a synthetic generation above the threshold, a
 * dataset deletion, a change of the gateway policy) ends its run with a `final_report` carrying `approval_required: true` and the exact action. The
 * next run of the thread receives that payload as `previous_report`; a confirmation ("yes", "confirm", "go ahead",
 * "do it") executes exactly the action described there, a refusal ("no", "cancel") drops it, anything else leaves it
 * unconfirmed. The wording of a message never approves anything by itself.
 */
import { z } from 'zod';

const GenerateSynthetic = z.object({
  action: z.literal('generate_synthetic'),
  preset: z.string().min(1).max(100),
  events: z.number().int().positive(),
  days: z.number().int().positive().max(90),
  workspace: z.string().optional(),
  /** the workspace the events go to, when not the thread's (a new one, or an existing one the user named) */
  target: z.string().max(63).optional(),
});

const DeleteDataset = z.object({
  action: z.literal('delete_dataset'),
  app: z.string().min(1).max(200),
  /** events the approval request said would be deleted */
  events: z.number().int().nonnegative(),
  workspace: z.string(),
});

const SetGatewayPolicy = z.object({
  action: z.literal('set_gateway_policy'),
  mode: z.enum(['off', 'shadow', 'enforce']),
  /** the exact policy document the approval request showed (applied as is, validated again by the service) */
  policy: z.record(z.string(), z.unknown()),
  workspace: z.string(),
});

const Pending = z.discriminatedUnion('action', [GenerateSynthetic, DeleteDataset, SetGatewayPolicy]);
export type PendingApproval = z.infer<typeof Pending>;

/**
 * The action awaiting approval in the thread's previous final report, or null (no report, no approval asked, a payload
 * that does not describe an action exactly, or one issued for another workspace). Reports written before `action`
 * existed (synthetic generation: preset / events / days) are read as `generate_synthetic`.
 */
export function pendingApproval(previous: Record<string, unknown> | null | undefined, workspace: string): PendingApproval | null {
  if (previous?.approval_required !== true) return null;
  const raw =
    previous.action === undefined && typeof previous.preset === 'string' ? { ...previous, action: 'generate_synthetic' } : previous;
  const r = Pending.safeParse(raw);
  if (!r.success) return null;
  if (r.data.workspace !== undefined && r.data.workspace !== workspace) return null;
  return r.data;
}

const CONFIRM =
  /^(?:(?:yes|yep|yeah|yup|sure|ok|okay|confirm(?:ed)?|approved?|go ahead|go for it|do it|proceed|please|delete it|generate it|sounds good|i confirm)[\s,.!]*)+$/i;
const REFUSE = /^(?:(?:no|nope|cancel|stop|don'?t|do not|abort|never ?mind|keep it|not now|please)[\s,.!]*)+$/i;

/** The whole message is a confirmation ("yes", "Confirm.", "yes, go ahead", "ok do it"). */
export function isConfirmation(text: string): boolean {
  const t = text.trim();
  return t.length <= 60 && CONFIRM.test(t) && !/^[\s,.!]*please[\s,.!]*$/i.test(t);
}

/** The whole message declines ("no", "cancel", "don't"). */
export function isRefusal(text: string): boolean {
  const t = text.trim();
  return t.length <= 60 && REFUSE.test(t) && !/^[\s,.!]*please[\s,.!]*$/i.test(t);
}

/** What the pending action would do, in words (for the "cancelled" answer). */
export function describeApproval(p: PendingApproval): string {
  if (p.action === 'set_gateway_policy') return `setting the gateway policy to ${p.mode}`;
  return p.action === 'delete_dataset'
    ? `deleting dataset ${p.app} (${p.events.toLocaleString('en-US')} events)`
    : `generating ${p.events.toLocaleString('en-US')} synthetic events with the ${p.preset} preset over ${p.days} days`;
}
