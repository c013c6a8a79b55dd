/** The performance area of the analysis port (src/optimize/ports/performance.ts); one file per query. */
import type { PerformanceQueries } from '../../../optimize/ports/performance.js';
import type { RunAnalysis } from '../engine.js';
import { checkBucketMs, performanceBuckets } from './buckets.js';
import { windowPercentiles } from './window-percentiles.js';

export function performanceQueries(run: RunAnalysis): PerformanceQueries {
  return {
    performanceBuckets(scope, bucketMs) {
      checkBucketMs(bucketMs);
      return run('performance_buckets', (e) => performanceBuckets(e, scope, bucketMs));
    },
    windowPercentiles: (scope) => run('window_percentiles', (e) => windowPercentiles(e, scope)),
  };
}
