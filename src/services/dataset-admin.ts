/**
 * The DatasetAdmin port of the agents' dataset pipeline (src/agents/dataset-admin.ts) over the analytics store: list a
 * workspace's datasets (one per app), delete one (workspace owners only; the deletion goes through the workspace-change
 * path, so no analysis, cache entry or precompute snapshot serves figures of deleted events) and reprice (owners only; the
 * pricing service's reprice, which goes through the same path).
 * The owner check is an adapter the composition root gives (accounts' role lookup), so the agents never see roles.
 */
import type { WorkspaceAccess } from '../accounts/workspace-access.js';
import type { DatasetAdmin } from '../agents/dataset-admin.js';
import { NetraError } from '../errors.js';
import type { AnalyticsStore, RepriceResult } from '../store/types.js';
import type { WorkspaceChanges } from './workspace-changes.js';

export interface DatasetAdminDeps {
  store: Pick<AnalyticsStore, 'datasets' | 'deleteEvents'>;
  /** the pricing service's reprice: catalog with overrides → store.reprice → workspace change */
  reprice: (workspace: string) => Promise<RepriceResult>;
  /** whether the user owns the workspace (false for unknown users, API keys, other workspaces) */
  isOwner: (workspace: string, userId: string) => Promise<boolean>;
  /** the workspace-change path, told after a deletion that removed events */
  changes: Pick<WorkspaceChanges, 'changed'>;
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw new NetraError('VALIDATION', `${field} must be a non-empty string of at most 200 characters`, { field });
  }
  return value;
}

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The owner check over accounts' role lookup. Runs started with an API key carry `key:<prefix>` as user id (the chat
 * gateway's scope), never an owner here: only a signed-in user who owns the workspace may delete or reprice from chat.
 */
export function ownerCheck(access: Pick<WorkspaceAccess, 'roleOf'>): DatasetAdminDeps['isOwner'] {
  return async (workspace, userId) =>
    USER_ID.test(userId) && (await access.roleOf({ kind: 'user', userId, email: '', isAdmin: false }, workspace)) === 'owner';
}

export function createDatasetAdmin(deps: DatasetAdminDeps): DatasetAdmin {
  const requireOwner = async (workspace: string, userId: string, what: string): Promise<void> => {
    if (!(await deps.isOwner(workspace, userId))) {
      throw new NetraError('FORBIDDEN', `only an owner of workspace ${workspace} can ${what}`, { field: 'workspace' });
    }
  };
  return {
    list: (workspace) => deps.store.datasets(checkName(workspace, 'workspace')),
    mayManage: async (workspace, userId) => typeof userId === 'string' && userId !== '' && deps.isOwner(workspace, userId),
    async remove(workspace, userId, app) {
      checkName(workspace, 'workspace');
      checkName(app, 'app');
      await requireOwner(workspace, userId, 'delete datasets');
      const deleted = await deps.store.deleteEvents(workspace, { app });
      if (deleted > 0) await deps.changes.changed(workspace, 'delete');
      return deleted;
    },
    async reprice(workspace, userId) {
      checkName(workspace, 'workspace');
      await requireOwner(workspace, userId, 'reprice events');
      return deps.reprice(workspace);
    },
  };
}
