/**
 * The agents' public surface: createSupervisor() (the RunExecutor the chat gateway runs), the pure triage, the
 * DatasetAdmin port the composition root implements, and the approval helpers.
 */
export { createSupervisor, CHAINS, type SupervisorDeps, type AgentName } from './supervisor.js';
export {
  triage,
  assessSufficiency,
  requestProblem,
  extractEntities,
  classify,
  CATEGORIES,
  type Triage,
  type Sufficiency,
  type Category,
} from './triage.js';
export { parseSyntheticRequest, APPROVAL_THRESHOLD_EVENTS } from './synthetic-data.js';
export { datasetTable, datasetsNamed, type DatasetAdmin } from './dataset-admin.js';
export { gatewayPolicyActionOf, savingsAnswer, type GatewayPolicyAdmin, type GatewayPolicyState } from './gateway-policy-agent.js';
export { isConfirmation, isRefusal, pendingApproval, type PendingApproval } from './approvals.js';
export { reportPayload } from './specialists.js';
export type { RunExecutor, RunRequest, RunResult, RunEventDraft, RunEventType } from './types.js';
