/**
 * Builds the AnalysisContext every recommendation kind receives from the price catalog (with the workspace's
 * overrides applied) and the window's totals. Pure.
 */
import { DEFAULT_ANALYSIS_PARAMS, type AnalysisContext, type DataQuality, type AnalysisParams, type CatalogModel } from './context.js';
import type { PriceCatalog } from '../workload/price-catalog.js';

export function analysisContext(opts: {
  catalog: PriceCatalog;
  workspace: string;
  from: number;
  to: number;
  total_events: number;
  total_spend_usd: number;
  data_quality?: DataQuality;
  params?: Partial<AnalysisParams>;
}): AnalysisContext {
  const { catalog: cat, workspace } = opts;
  const toModel = (e: ReturnType<PriceCatalog['entriesFor']>[number]): CatalogModel => ({
    id: e.id,
    provider: e.provider,
    family: e.family,
    quality_tier: e.quality_tier,
    input: e.input,
    output: e.output,
    cached_input: e.cached_input,
    cache_write: e.cache_write,
    batch_discount: e.batch_discount,
    context_window: e.context_window,
    min_cacheable_prompt_tokens: e.min_cacheable_prompt_tokens,
    modes: e.modes,
  });
  const catalog = cat.entriesFor(workspace).map(toModel);
  const byId = new Map(catalog.map((m) => [m.id, m]));
  return {
    workspace,
    from: opts.from,
    to: opts.to,
    total_events: opts.total_events,
    total_spend_usd: opts.total_spend_usd,
    ...(opts.data_quality ? { data_quality: opts.data_quality } : {}),
    catalog,
    rates: (model) => cat.rates(workspace, model),
    resolve: (model) => {
      const e = cat.resolve(model);
      return e ? (byId.get(e.id) ?? null) : null;
    },
    params: { ...DEFAULT_ANALYSIS_PARAMS, ...opts.params },
  };
}
