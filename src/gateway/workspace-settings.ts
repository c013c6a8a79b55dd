/**
 * Each workspace's gateway settings (mode, validated policy, whether text is recorded), read from the relational
 * database and kept for `cacheMs`; a change made through this process is seen at once, one made by another process
 * within `cacheMs`.
 */
import { LRUCache } from 'lru-cache';
import type { GatewayPolicyRow } from '../db/repository.js';
import type { GatewayMode } from '../db/schema.js';
import { createHash } from 'node:crypto';
import { stableStringify } from '../cache/query-cache.js';
import { parsePolicy, type Policy } from '../optimize/policy.js';

/** A short content hash of a stored policy document: events, the policy view and the savings view name the policy by it. */
export function policyVersion(policy: Record<string, unknown>): string {
  return createHash('sha256').update(stableStringify(policy)).digest('hex').slice(0, 12);
}

export interface GatewaySettings {
  mode: GatewayMode;
  /** null when mode is off or the stored policy no longer validates (then nothing is applied) */
  policy: Policy | null;
  recordText: boolean;
  activatedAt: number | null;
  /** the policy document's version (policyVersion), recorded on each event the policy applies to */
  version: string | null;
}

export const DEFAULT_SETTINGS: GatewaySettings = { mode: 'off', policy: null, recordText: true, activatedAt: null, version: null };

export function settingsFromRow(row: GatewayPolicyRow | null): GatewaySettings {
  if (!row) return DEFAULT_SETTINGS;
  const parsed = row.mode === 'off' ? null : parsePolicy(row.policy);
  return {
    mode: row.mode,
    policy: parsed?.ok ? parsed.policy : null,
    recordText: row.recordText,
    activatedAt: row.activatedAt.getTime(),
    version: policyVersion(row.policy),
  };
}

export class WorkspaceSettingsCache {
  private readonly cache: LRUCache<string, GatewaySettings>;
  private readonly pending = new Map<string, Promise<GatewaySettings>>();

  constructor(
    private readonly load: (workspace: string) => Promise<GatewayPolicyRow | null>,
    cacheMs: number,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: Math.max(1, cacheMs) });
  }

  get(workspace: string): GatewaySettings | Promise<GatewaySettings> {
    const hit = this.cache.get(workspace);
    if (hit) return hit;
    let p = this.pending.get(workspace);
    if (!p) {
      p = this.load(workspace)
        .then(settingsFromRow)
        .then((s) => {
          this.cache.set(workspace, s);
          return s;
        })
        .finally(() => this.pending.delete(workspace));
      this.pending.set(workspace, p);
    }
    return p;
  }

  set(workspace: string, s: GatewaySettings): void {
    this.cache.set(workspace, s);
  }
}
