/**
 * Exports a policy (given, or the one the analysis recommends) as a gateway configuration:
 * a LiteLLM proxy config.yaml or a Portkey config JSON.
 */
import { NetraError } from '../errors.js';
import { cacheAppsFromRecommendations, gatewayModel, policyToLiteLLM } from '../optimize/export/litellm.js';
import { policyToPortkey } from '../optimize/export/portkey.js';
import { validatePolicy } from '../optimize/policy.js';
import type { AnalyticsStore } from '../store/types.js';
import type { PriceCatalog } from '../workload/price-catalog.js';
import type { AnalysisService } from './analysis-service.js';

export const GATEWAY_FORMATS = ['litellm', 'portkey'] as const;
export type GatewayFormat = (typeof GATEWAY_FORMATS)[number];

export interface GatewayExport {
  format: GatewayFormat;
  /** the file content (YAML for LiteLLM, JSON for Portkey) */
  content: string;
  /** what the gateway cannot express (size bounds, batch rules, ...) */
  notes: string[];
  policy: unknown;
}

export async function exportGatewayConfig(
  deps: { analysis: AnalysisService; store: AnalyticsStore; catalog: PriceCatalog },
  req: {
    workspace: string;
    format: string;
    policy?: unknown;
    from?: number;
    to?: number;
    goal?: string;
  },
): Promise<GatewayExport> {
  if (!(GATEWAY_FORMATS as readonly string[]).includes(req.format)) {
    throw new NetraError('VALIDATION', `unknown format '${req.format}'; choose one of ${GATEWAY_FORMATS.join(', ')}`, { field: 'format' });
  }
  const raw = req.policy ?? (await deps.analysis.recommendedPolicy(req));
  const policy = validatePolicy(raw, { knownModel: (m) => deps.catalog.rates(req.workspace, m) !== null });
  const resolve = (model: string) => {
    const e = deps.catalog.resolve(model);
    return e ? gatewayModel(e) : null;
  };
  // the recommended policy's caches are scoped to the apps they were recommended for (the analysis is cached)
  const cache_apps =
    req.policy === undefined ? cacheAppsFromRecommendations((await deps.analysis.analyze(req)).recommendations) : undefined;
  const opts = { resolve, models: await deps.store.models(req.workspace), cache_apps };
  if (req.format === 'litellm') {
    const r = policyToLiteLLM(policy, opts);
    return { format: 'litellm', content: r.yaml, notes: r.notes, policy };
  }
  const r = policyToPortkey(policy, opts);
  return { format: 'portkey', content: JSON.stringify(r.config, null, 2) + '\n', notes: r.notes, policy };
}
