/**
 * Prices: the catalog with every workspace's overrides applied, the overrides themselves (checked against the catalog
 * before they are stored), and repricing a workspace's stored events. Every reprice goes through the workspace-change
 * path (cache, precompute, snapshot) with its reason: `reprice` by hand or after a catalog change, `override` when an
 * override was set or removed.
 */
import type { PriceOverrideRow, Repository } from '../db/repository.js';
import { NetraError } from '../errors.js';
import type { AnalyticsStore, RepriceResult } from '../store/types.js';
import type { CatalogEntry, PriceCatalog, PriceOverride } from '../workload/price-catalog.js';
import type { WorkspaceChanges } from './workspace-changes.js';

export interface CatalogListing {
  version: string;
  prices_taken: string;
  models: CatalogEntry[];
}

export interface PricingService {
  /** the catalog with every workspace's overrides applied */
  catalog(): PriceCatalog;
  /** the catalog file's version (what the startup reprice task compares with) */
  readonly baseVersion: string;
  /** the catalog as the API lists it */
  listing(): CatalogListing;
  /** Throws NETRA_E_VALIDATION naming the field when the override, with the stored ones, would not make a valid catalog. */
  checkOverride(o: PriceOverrideRow): Promise<void>;
  /** Checks, stores and applies an override: the workspace's events are repriced. */
  setOverride(o: PriceOverrideRow): Promise<RepriceResult>;
  /** Removes an override (NETRA_E_NOT_FOUND when there is none) and reprices the workspace. */
  deleteOverride(workspace: string, model: string): Promise<RepriceResult>;
  /** Reloads the overrides and recomputes the catalog-priced costs of the workspace's stored events. */
  reprice(workspace: string, reason?: 'reprice' | 'override'): Promise<RepriceResult>;
}

export interface PricingDeps {
  repo: Pick<Repository, 'listPriceOverrides' | 'upsertPriceOverride' | 'deletePriceOverride'>;
  store: Pick<AnalyticsStore, 'models' | 'reprice'>;
  changes: Pick<WorkspaceChanges, 'changed'>;
  /** the catalog file, without overrides */
  base: PriceCatalog;
}

export function toOverride(r: PriceOverrideRow): PriceOverride {
  return {
    workspace: r.workspace,
    model: r.model,
    ...(r.input !== null ? { input: r.input } : {}),
    ...(r.output !== null ? { output: r.output } : {}),
    ...(r.cached_input !== null ? { cached_input: r.cached_input } : {}),
    ...(r.cache_write !== null ? { cache_write: r.cache_write } : {}),
  };
}

export async function createPricingService(deps: PricingDeps): Promise<PricingService> {
  const loadOverrides = async () => (await deps.repo.listPriceOverrides()).map(toOverride);
  let catalog = deps.base.withOverrides(await loadOverrides());

  const checkOverride = async (o: PriceOverrideRow) => {
    const others = (await loadOverrides()).filter((x) => !(x.workspace === o.workspace && x.model === o.model));
    // the one being checked comes last and is named by its own fields (`input`), the stored ones as `overrides[i]`
    deps.base.withOverrides([...others, toOverride(o)], { prefixOf: (i) => (i === others.length ? '' : `overrides[${i}]`) });
  };

  const reprice: PricingService['reprice'] = async (workspace, reason = 'reprice') => {
    catalog = deps.base.withOverrides(await loadOverrides());
    const models = await deps.store.models(workspace);
    const r = await deps.store.reprice(workspace, catalog.rateMap(workspace, models));
    await deps.changes.changed(workspace, reason); // costs changed
    return r;
  };

  return {
    catalog: () => catalog,
    baseVersion: deps.base.version,
    listing: () => ({ version: catalog.version, prices_taken: catalog.pricesTaken, models: catalog.entriesFor('') }),
    checkOverride,
    async setOverride(o) {
      await checkOverride(o);
      await deps.repo.upsertPriceOverride(o);
      return reprice(o.workspace, 'override');
    },
    async deleteOverride(workspace, model) {
      if (!(await deps.repo.deletePriceOverride(workspace, model))) {
        throw new NetraError('NOT_FOUND', `no price override for model ${model} in workspace ${workspace}`, { field: 'model' });
      }
      return reprice(workspace, 'override');
    },
    reprice,
  };
}
