import type { Scope } from '../../workload/scope.js';

/** A resolved scope: from and to are always set for analyses. */
export interface AnalysisScope extends Scope {
  from: number;
  to: number;
}
