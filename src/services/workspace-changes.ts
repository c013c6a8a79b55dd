/**
 * The one path every change of a workspace's data goes through: `changed(workspace, reason)` after events were
 * ingested, generated, deleted, repriced (by hand or after a price override changed) or given derived block chains
 * (the backfill). It
 *   1. invalidates the workspace's analytics query cache (its generation counter: memory, or Redis for every process);
 *   2. drops the analysis precompute's snapshot when the change removed, re-costed or re-chained events (a snapshot is served to the
 *      chat as "figures as of …, N events have arrived since" only while it counts a prefix of the current data, which
 *      stays true across appends but not across a deletion or a reprice);
 *   3. touches the precompute, which recomputes what a chat turn will ask for after its debounce;
 *   4. announces the change on the run-event bus, so other processes sharing Redis drop their snapshot too;
 *   5. calls this process's listeners (metrics, tests).
 * Nothing here throws for a listener or a bus failure: the data change has happened and must be reported as done.
 */
import type { Logger } from '../logger.js';
import type { QueryCache } from '../cache/query-cache.js';
import type { RunEventBus, WorkspaceChangeNotice } from '../chat/run-event-bus.js';
import type { AnalysisPrecompute } from './analysis-precompute.js';

export const CHANGE_REASONS = ['ingest', 'generate', 'delete', 'reprice', 'override', 'backfill'] as const;
export type ChangeReason = (typeof CHANGE_REASONS)[number];

/** Changes after which earlier figures no longer describe a prefix of the data. */
const REWRITES: ReadonlySet<ChangeReason> = new Set(['delete', 'reprice', 'override', 'backfill']);

export type ChangeListener = (workspace: string, reason: ChangeReason) => void;

export interface WorkspaceChanges {
  /** The workspace's data changed; resolves once the cache is invalidated (later reads see the change). */
  changed(workspace: string, reason: ChangeReason): Promise<void>;
  /** Adds a listener of this process's changes; returns its removal. */
  onChange(listener: ChangeListener): () => void;
  /** The precompute and the bus are built after the ingest path; the composition root attaches them once they exist. */
  attach(parts: {
    precompute?: Pick<AnalysisPrecompute, 'touch' | 'dropSnapshot'>;
    bus?: Pick<RunEventBus, 'announceChange' | 'onWorkspaceChange'>;
  }): void;
}

export function createWorkspaceChanges(deps: { cache: Pick<QueryCache, 'invalidate'> | null; log?: Logger }): WorkspaceChanges {
  let precompute: Pick<AnalysisPrecompute, 'touch' | 'dropSnapshot'> | undefined;
  let bus: Pick<RunEventBus, 'announceChange' | 'onWorkspaceChange'> | undefined;
  const listeners = new Set<ChangeListener>();

  const forgetLocal = (notice: WorkspaceChangeNotice) => {
    if (REWRITES.has(notice.reason as ChangeReason)) precompute?.dropSnapshot(notice.workspace);
  };

  return {
    async changed(workspace, reason) {
      if (REWRITES.has(reason)) precompute?.dropSnapshot(workspace); // before the await: no turn is served from it meanwhile
      await deps.cache?.invalidate(workspace);
      // the precompute computes into the query cache: without one there is nothing to compute ahead
      if (deps.cache) precompute?.touch(workspace);
      bus?.announceChange({ workspace, reason });
      for (const l of listeners) {
        try {
          l(workspace, reason);
        } catch (err) {
          deps.log?.warn({ err: (err as Error).message, workspace, reason }, 'workspace change listener failed');
        }
      }
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    attach(parts) {
      if (parts.precompute) precompute = parts.precompute;
      if (parts.bus) {
        bus = parts.bus;
        bus.onWorkspaceChange(forgetLocal); // another process changed a workspace: its cache entries are shared, our snapshot is not
      }
    },
  };
}
