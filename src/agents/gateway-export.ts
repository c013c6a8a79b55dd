/**
 * The gateway config a turn shows (pure): a policy exported as a LiteLLM proxy config.yaml or a Portkey config, with
 * the workspace's models and the apps its cache recommendations name.
 */
import { cacheAppsFromRecommendations, gatewayModel, policyToLiteLLM } from '../optimize/export/litellm.js';
import { policyToPortkey } from '../optimize/export/portkey.js';
import { validatePolicy, type PolicyInput } from '../optimize/policy.js';
import type { Recommendation } from '../optimize/recommendation.js';
import type { PriceCatalog } from '../workload/price-catalog.js';

export type ConfigFormat = 'litellm' | 'portkey';

export interface GatewayConfig {
  format: ConfigFormat;
  content: string;
  notes: string[];
}

export function exportGatewayConfig(
  catalog: PriceCatalog,
  workspace: string,
  models: readonly string[],
  policyInput: PolicyInput,
  recs: readonly Recommendation[],
  format: ConfigFormat,
): GatewayConfig {
  const policy = validatePolicy(policyInput, { knownModel: (m) => catalog.rates(workspace, m) !== null });
  const resolve = (model: string) => {
    const e = catalog.resolve(model);
    return e ? gatewayModel(e) : null;
  };
  const opts = { resolve, models: [...models], cache_apps: cacheAppsFromRecommendations(recs) };
  if (format === 'litellm') {
    const r = policyToLiteLLM(policy, opts);
    return { format, content: r.yaml, notes: r.notes };
  }
  const r = policyToPortkey(policy, opts);
  return { format, content: `${JSON.stringify(r.config, null, 2)}\n`, notes: r.notes };
}
