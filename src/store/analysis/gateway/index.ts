/** The gateway area of the analysis port (src/optimize/ports/gateway.ts): realized savings of the gateway policy. */
import type { GatewayQueries } from '../../../optimize/ports/gateway.js';
import type { RunAnalysis } from '../engine.js';
import { gatewaySavings } from './savings.js';

export function gatewayQueries(run: RunAnalysis): GatewayQueries {
  return {
    gatewaySavings: (scope) => run('analysis.gateway_savings', (e) => gatewaySavings(e, scope)),
  };
}
