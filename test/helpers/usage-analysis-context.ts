/**
 * The analysis context for recommendation tests: the production builder (src/optimize/catalog-context.ts) over the
 * real price catalog (data/price-catalog.json).
 */
import type { AnalysisContext, AnalysisParams } from '../../src/optimize/context.js';
import { analysisContext } from '../../src/optimize/catalog-context.js';
import type { PriceCatalog } from '../../src/workload/price-catalog.js';
import { loadPriceCatalog } from '../../src/workload/price-catalog-file.js';

let shared: PriceCatalog | null = null;
export function priceCatalog(): PriceCatalog {
  return (shared ??= loadPriceCatalog());
}

export function usageContext(opts: {
  workspace?: string;
  from: number;
  to: number;
  total_events: number;
  total_spend_usd: number;
  params?: Partial<AnalysisParams>;
  catalog?: PriceCatalog;
}): AnalysisContext {
  const { catalog, workspace, ...rest } = opts;
  return analysisContext({ ...rest, catalog: catalog ?? priceCatalog(), workspace: workspace ?? 'demo' });
}
