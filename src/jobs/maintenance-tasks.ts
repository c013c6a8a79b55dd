/**
 * The background maintenance the startup scheduler runs (startup-tasks.ts):
 * - store-maintenance: the store's statistics/compaction (DuckDB: CHECKPOINT + ANALYZE) when the engine has any;
 * - reprice-after-catalog-change: reprices every workspace whose events were last priced with another catalog
 *   version than data/price-catalog.json's; the version applied per workspace is kept in <dataDir>/catalog-applied.json
 *   (a workspace never recorded there is repriced once: it may have been priced by an older catalog);
 * - prefix-block-backfill: derives the block chains of events stored before ingest derived them, one background job
 *   per workspace not yet complete (services/prefix-block-backfill.ts); the task only submits them, so a long
 *   backfill is not cut by the task timeout, and a workspace with nothing to derive is recorded complete at once;
 * - cache-warm-up: warms the query cache for the most recently active workspaces so the first dashboard load or chat
 *   turn is a cache hit. The app passes the analysis precompute's run (src/services/analysis-precompute.ts) as
 *   `analyze`: the warm-up and the precompute after ingest are one computation (stats, analysis, recommended policies
 *   and their replays, stored with the precompute's TTL). When the precompute already ran at start, it is all hits.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalyticsStore, RepriceResult } from '../store/types.js';
import type { PrefixBlockBackfill } from '../services/prefix-block-backfill.js';
import type { StartupTask } from './startup-tasks.js';

export function storeMaintenanceTask(store: Pick<AnalyticsStore, 'engine' | 'maintain'>): StartupTask {
  return {
    name: 'store-maintenance',
    async run() {
      if (!store.maintain) return { engine: store.engine, skipped: 'the engine needs no maintenance from Netra' };
      return store.maintain();
    },
  };
}

export const CATALOG_APPLIED_FILE = 'catalog-applied.json';

/** The catalog version last applied to each workspace, as recorded under dataDir. */
export async function readAppliedCatalogVersions(dataDir: string): Promise<Record<string, string>> {
  try {
    const v = JSON.parse(await readFile(join(dataDir, CATALOG_APPLIED_FILE), 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

async function writeAppliedCatalogVersions(dataDir: string, v: Record<string, string>): Promise<void> {
  const file = join(dataDir, CATALOG_APPLIED_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(v, null, 2));
  await rename(`${file}.tmp`, file);
}

export function repriceAfterCatalogChangeTask(deps: {
  dataDir: string;
  store: Pick<AnalyticsStore, 'workspaces'>;
  catalogVersion(): string;
  reprice(workspace: string): Promise<RepriceResult>;
}): StartupTask {
  return {
    name: 'reprice-after-catalog-change',
    async run(signal) {
      const version = deps.catalogVersion();
      const applied = await readAppliedCatalogVersions(deps.dataDir);
      const repriced: Record<string, RepriceResult> = {};
      for (const w of await deps.store.workspaces()) {
        if (applied[w.workspace] === version) continue;
        signal.throwIfAborted();
        repriced[w.workspace] = await deps.reprice(w.workspace);
        applied[w.workspace] = version;
        await writeAppliedCatalogVersions(deps.dataDir, applied); // progress survives a timeout or crash
      }
      return { catalog_version: version, repriced };
    },
  };
}

export function prefixBlockBackfillTask(backfill: Pick<PrefixBlockBackfill, 'startPending'>): StartupTask {
  return { name: 'prefix-block-backfill', run: () => backfill.startPending() };
}

export function cacheWarmUpTask(deps: {
  store: Pick<AnalyticsStore, 'workspaces'>;
  workspaces: number;
  /** warms one workspace (the app: the precompute's run) */
  analyze(workspace: string): Promise<unknown>;
}): StartupTask {
  return {
    name: 'cache-warm-up',
    async run(signal) {
      const recent = (await deps.store.workspaces())
        .filter((w) => w.events > 0 && w.last_event !== null)
        .sort((a, b) => b.last_event! - a.last_event!)
        .slice(0, deps.workspaces);
      for (const w of recent) {
        signal.throwIfAborted();
        await deps.analyze(w.workspace);
      }
      return { warmed: recent.map((w) => w.workspace) };
    },
  };
}
