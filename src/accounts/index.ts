/**
 * Accounts: identity (users, sessions, credentials → principals) and workspace access (roles, members, API keys,
 * encrypted provider secrets), built from config + the relational database. See docs/SECURITY.md.
 */
import type { Config } from '../config.js';
import { AccountsRepository } from '../db/accounts-repository.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { IdentityService } from './identity.js';
import { loadKeyMaterial, writeLocalOwnerId } from './key-material.js';
import { SecretBox } from './secret-box.js';
import { WorkspaceAccess } from './workspace-access.js';
import { AccessEpochs } from './access-epochs.js';

export { IdentityService, WorkspaceAccess, AccessEpochs };
export type { Principal, Permission, Role, ApiKeyScope } from './roles.js';

export interface Accounts {
  readonly identity: IdentityService;
  readonly access: WorkspaceAccess;
  /** per-credential versions of rights, bumped on revocation, deactivation and membership changes */
  readonly epochs: AccessEpochs;
}

/** Builds the accounts services and makes sure the local owner exists (first start creates it). */
export async function createAccounts(config: Config, db: Database, log: Logger): Promise<Accounts> {
  const keys = loadKeyMaterial(config);
  if (config.databaseUrl && (keys.generated.jwtSecret || keys.generated.secretKey)) {
    log.warn(
      'NETRA_JWT_SECRET / NETRA_SECRET_KEY are generated under the data directory; set them explicitly when several processes share this database',
    );
  }
  const repo = new AccountsRepository(db);
  const epochs = new AccessEpochs();
  const identity = new IdentityService({
    repo,
    log,
    tokens: {
      secret: keys.jwtSecret,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      accessTtlSec: config.auth.accessTokenTtlSec,
    },
    refreshTtlSec: config.auth.refreshTokenTtlSec,
    localOwnerEmail: config.auth.localOwnerEmail,
    epochs,
    apiKeyCacheTtlMs: config.auth.apiKeyCacheTtlMs,
  });
  const access = new WorkspaceAccess(repo, new SecretBox(keys.secretKey), log, epochs);
  const owner = await identity.ensureLocalOwner();
  writeLocalOwnerId(config.dataDir, owner);
  const adopted = await repo.adoptOrphanWorkspaces(owner);
  if (adopted > 0) log.info({ workspaces: adopted }, 'workspaces without members now belong to the local owner');
  return { identity, access, epochs };
}
