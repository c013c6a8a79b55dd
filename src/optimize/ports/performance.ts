/**
 * Analysis queries for the performance area (see ports/index.ts): the rows behind the performance analysis
 * (src/optimize/performance.ts) and the exact window percentiles.
 */
import type { BucketRow } from '../performance.js';
import type { AnalysisScope } from './scope.js';

export interface BucketResult {
  rows: BucketRow[];
  query: string;
}

export interface WindowPercentiles {
  events: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
}

export interface PerformanceQueries {
  /** One row per (bucket, model, app) over the scope: sums and per-row percentiles. One scan. */
  performanceBuckets(scope: AnalysisScope, bucketMs: number): Promise<BucketResult>;
  /** Exact percentiles over the whole window (not merged from buckets). */
  windowPercentiles(scope: AnalysisScope): Promise<WindowPercentiles>;
}
