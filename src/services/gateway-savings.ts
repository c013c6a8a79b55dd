/**
 * Realized vs predicted savings of a workspace's gateway policy (optimize/realized-savings.ts): reads the policy, sums
 * the savings the gateway recorded per mode and kind (the store's gatewaySavings query), and replays the current policy
 * over each mode's prediction window through the analysis service (so a replay is cached like any simulation). One
 * computation serves GET /api/v1/workspaces/:workspace/gateway-savings, the dashboard and the chat's answer.
 */
import { ErrorCodes, NetraError } from '../errors.js';
import type { GatewayPolicyAdmin } from '../agents/gateway-policy-agent.js';
import type { Gateway, GatewayPolicyView } from '../gateway/index.js';
import { modeSavings, predictionWindow, splitByVersion, type ModeSavings, type RealizedSavings } from '../optimize/realized-savings.js';
import type { AnalyticsStore } from '../store/types.js';
import type { AnalysisService } from './analysis-service.js';

/** Default window: the last 30 days. */
export const DEFAULT_SAVINGS_WINDOW_MS = 30 * 86_400_000;
/** The enforce prediction replays at least this much traffic before enforcement began (or the enforced span, if longer). */
export const REFERENCE_WINDOW_MS = 86_400_000;

export interface GatewaySavingsService {
  realized(workspace: string, window?: { from?: number; to?: number }): Promise<RealizedSavings>;
}

export function createGatewaySavingsService(deps: {
  store: AnalyticsStore;
  analysis: AnalysisService;
  policy: (workspace: string) => Promise<GatewayPolicyView>;
  now?: () => number;
}): GatewaySavingsService {
  return {
    async realized(workspace, window = {}) {
      const now = (deps.now ?? Date.now)();
      const to = window.to ?? now + 1;
      const from = window.from ?? Math.min(to - 1, now - DEFAULT_SAVINGS_WINDOW_MS);
      if (from >= to) throw new NetraError('VALIDATION', 'from must be before to', { field: 'from' });
      const view = await deps.policy(workspace);
      const { rows } = await deps.store.analysis.gatewaySavings({ workspace, from, to });
      const { current, others } = splitByVersion(rows, view.policy_version);
      const notes: string[] = [];
      const hasPolicy = Object.keys(view.policy).length > 0;
      const byMode: ModeSavings[] = [];
      for (const row of current) {
        const w = predictionWindow(
          row,
          REFERENCE_WINDOW_MS,
          current.find((r) => r.mode === 'shadow'),
        );
        let replay = null;
        if (hasPolicy) {
          try {
            replay = await deps.analysis.simulate({ workspace, from: Math.max(0, w.from), to: w.to, policy: view.policy });
          } catch (err) {
            // a policy the replay refuses now (e.g. a price override removed since) still has its measured savings
            if (!(err instanceof NetraError) || err.code !== ErrorCodes.VALIDATION.code) throw err;
            notes.push(`${row.mode}: the replay could not run the current policy (${err.message}), so there is no prediction.`);
          }
          if (replay && replay.baseline.events === 0)
            notes.push(
              `${row.mode}: no events in the replayed window ${new Date(w.from).toISOString()} to ${new Date(w.to).toISOString()}, so there is no prediction to compare with.`,
            );
        }
        byMode.push(modeSavings(row, replay && replay.baseline.events > 0 ? replay : null, { from: Math.max(0, w.from), to: w.to }));
      }
      if (view.mode === 'off' && !hasPolicy) notes.push(`Workspace ${workspace} has no gateway policy: nothing was applied or measured.`);
      else if (current.length === 0)
        notes.push(
          `No gateway call in the window was recorded under the current policy (version ${view.policy_version ?? 'none'}); send traffic through the gateway (docs/GATEWAY.md).`,
        );
      notes.push(
        'The replay covers every event of the workspace in its window (calls sent by other means too); measured figures cover the gateway calls only.',
      );
      return {
        workspace,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        mode: view.mode,
        policy_version: view.policy_version,
        activated_at: view.activated_at,
        by_mode: byMode,
        other_versions: others,
        notes,
      };
    },
  };
}

/**
 * The chat's gateway-policy port (agents/gateway-policy-agent.ts) over the gateway, this service and the analysis: a
 * change goes through the same setPolicy as PUT /api/v1/workspaces/:workspace/gateway-policy, after the user's role is
 * checked at that moment (an approval given earlier does not outlive a lost right).
 */
export function createGatewayPolicyAdmin(d: {
  gateway: Pick<Gateway, 'getPolicy' | 'setPolicy'>;
  savings: GatewaySavingsService;
  analysis: AnalysisService;
  /** whether the user may manage the workspace (owners) */
  mayManage: (workspace: string, userId: string) => Promise<boolean>;
}): GatewayPolicyAdmin {
  const mayManage = async (workspace: string, userId: string) =>
    typeof userId === 'string' && userId !== '' && d.mayManage(workspace, userId);
  return {
    current: (workspace) => d.gateway.getPolicy(workspace),
    recommended: async (workspace) => (await d.analysis.recommendedPolicy({ workspace })) as Record<string, unknown>,
    savings: (workspace) => d.savings.realized(workspace),
    mayManage,
    async activate(workspace, userId, change) {
      if (!(await mayManage(workspace, userId)))
        throw new NetraError('FORBIDDEN', `only an owner of workspace ${workspace} can change its gateway policy`, { field: 'workspace' });
      return d.gateway.setPolicy(workspace, { mode: change.mode, policy: change.policy }, userId);
    },
  };
}
