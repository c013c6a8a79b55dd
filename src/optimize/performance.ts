// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * The performance analysis (the original system's `analyze_performance_metrics`). Pure domain code, no I/O.
 *
 * The analytics store runs the heavy SQL and hands over one aggregated row per (time bucket, model, app)
 * (`BucketRow`), plus, optionally, timings of its own queries and its cache counters. This module turns those rows
 * into: overall and per-model / per-app figures, a per-bucket series, trends (OLS on the series), z-score anomalies
 * against a trailing 7-day baseline, hour-of-day seasonality, and the store's own health with findings.
 *
 * Percentiles: rows carry percentiles per bucket, which cannot be merged exactly. Figures above one row (a whole
 * bucket, a model, the window) are event-weighted means of the row percentiles: a good summary of "typical p95"
 * that is exact when every row has the same distribution. Exact global percentiles come from the store's own query
 * (`AnalyticsStore.stats`, which runs quantiles over the raw events) when needed.
 */
import { NetraError } from '../errors.js';
import {
  classifyTrend,
  DAY_MS,
  hourlySeasonality,
  linearRegression,
  mean,
  zScoreAnomalies,
  Z_THRESHOLD_ANALYSIS,
  Z_THRESHOLD_MONITORING,
  type SeasonalityResult,
  type TimedValue,
  type TrendDirection,
  type TrendStrength,
} from './statistics.js';
import {
  storeHealthReport,
  type CacheStats,
  type StoreHealthReport,
  type StoreHealthThresholds,
  type StoreQueryTiming,
} from './store-health.js';

export * from './store-health.js';

/** One aggregated row from the store: events of one model and one app in [bucket_start, bucket_start + bucketMs). */
export interface BucketRow {
  /** epoch ms, UTC, aligned to the bucket size */
  bucket_start: number;
  model: string;
  app: string;
  events: number;
  errors: number;
  spend_usd: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** percentiles over the events of the row that have the value; null when none has it */
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
  ttft_p99_ms: number | null;
  /** median decode speed: completion_tokens / ((latency_ms − ttft_ms) / 1000) over events with both and latency > ttft */
  tokens_per_s_p50: number | null;
}

export type AnalysisMode = 'analysis' | 'monitoring';

/** Gaps between buckets are filled with empty buckets up to this many buckets in the window. */
export const MAX_FILLED_BUCKETS = 200_000;
export const DEFAULT_MAX_ANOMALIES = 100;

export interface PerformanceInput {
  buckets: readonly BucketRow[];
  /** bucket size in ms (the store's GROUP BY width) */
  bucketMs: number;
  /** 'analysis': z threshold 2.0; 'monitoring' (alerting): z threshold 2.5 */
  mode: AnalysisMode;
  storeTimings?: readonly StoreQueryTiming[];
  cache?: CacheStats;
  storeHealth?: Partial<StoreHealthThresholds>;
  /** overrides the mode's z threshold */
  zThreshold?: number;
  /** anomalies returned, largest |z| first; default 100 (the total is always reported) */
  maxAnomalies?: number;
}

/**
 * Figures of a set of rows (the window, a model, an app, a bucket). Percentiles here are bucket_*: the event-weighted
 * mean of each (bucket, model, app) row's percentile, a different figure from the window's own percentiles (the
 * analysis summary's latency_p95_ms), hence the different name.
 */
export interface PerformanceFigures {
  events: number;
  errors: number;
  /** errors / events; null without events */
  error_rate: number | null;
  spend_usd: number;
  prompt_tokens: number;
  completion_tokens: number;
  avg_cost_per_event_usd: number | null;
  bucket_latency_p50_ms: number | null;
  bucket_latency_p95_ms: number | null;
  bucket_latency_p99_ms: number | null;
  bucket_ttft_p50_ms: number | null;
  bucket_ttft_p95_ms: number | null;
  bucket_ttft_p99_ms: number | null;
  bucket_tokens_per_s_p50: number | null;
}

export interface GroupFigures extends PerformanceFigures {
  share_of_spend: number | null;
  share_of_events: number | null;
}

export interface SeriesPoint extends PerformanceFigures {
  bucket_start: number;
  /** events per minute in the bucket */
  throughput_per_min: number;
}

export const TREND_METRICS = ['latency_p95', 'spend', 'error_rate', 'throughput'] as const;
export type TrendMetric = (typeof TREND_METRICS)[number];

const METRIC_UNITS: Record<TrendMetric, string> = {
  latency_p95: 'ms (bucket p95 latency)',
  spend: 'USD per bucket',
  error_rate: 'errors / events per bucket',
  throughput: 'events per minute',
};

export interface TrendResult {
  metric: TrendMetric;
  unit: string;
  /** buckets with a value that entered the fit */
  points: number;
  has_trend: boolean;
  /** change of the per-bucket value per day (OLS slope against time in days); null when not computable */
  slope_per_day: number | null;
  r2: number | null;
  strength: TrendStrength | null;
  direction: TrendDirection;
  /** mean of the per-bucket values and the fitted change from the first to the last bucket */
  mean: number | null;
  change_over_window: number | null;
  reason: string | null;
}

export interface PerformanceAnomaly {
  bucket_start: number;
  metric: TrendMetric;
  value: number;
  z: number;
  baseline_mean: number;
  baseline_std: number;
  direction: 'above' | 'below';
}

export interface AnomalyStats {
  threshold: number;
  /** anomalies found (the list may be shorter: see maxAnomalies) */
  total: number;
  by_metric: Record<TrendMetric, { evaluated: number; flagged: number; skipped_short_baseline: number; skipped_zero_std: number }>;
}

export interface PerformanceAnalysis {
  mode: AnalysisMode;
  bucket_ms: number;
  overall: PerformanceFigures & {
    /** window start (first bucket) and end (end of the last bucket), epoch ms; null without data */
    from: number | null;
    to: number | null;
    buckets: number;
    active_buckets: number;
    /** events per minute over the whole window */
    throughput_per_min: number | null;
  };
  /** highest spend first */
  by_model: (GroupFigures & { model: string })[];
  by_app: (GroupFigures & { app: string })[];
  /** one point per bucket, oldest first; gaps between buckets are filled with empty buckets */
  series: SeriesPoint[];
  trends: Record<TrendMetric, TrendResult>;
  /** largest |z| first */
  anomalies: PerformanceAnomaly[];
  anomaly_stats: AnomalyStats;
  seasonality: { latency_p95: SeasonalityResult; spend: SeasonalityResult; throughput: SeasonalityResult };
  store_health: StoreHealthReport;
  /** how figures were derived and anything skipped, for the reader */
  notes: string[];
}

/** Coerces a count or sum from the store to a finite number (bigint tolerated, anything else 0). */
function num(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function optNum(v: unknown): number | null {
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export const PCT_FIELDS = [
  'latency_p50_ms',
  'latency_p95_ms',
  'latency_p99_ms',
  'ttft_p50_ms',
  'ttft_p95_ms',
  'ttft_p99_ms',
  'tokens_per_s_p50',
] as const;
type PctField = (typeof PCT_FIELDS)[number];
/** The figures' names: `bucket_` + the row's (an event-weighted mean of per-bucket percentiles, not a window percentile). */
type BucketPctField = `bucket_${PctField}`;

/** Sums rows; percentiles as event-weighted means over the rows that have them. */
class Accumulator {
  events = 0;
  errors = 0;
  spend = 0;
  prompt = 0;
  completion = 0;
  private readonly wsum = new Array<number>(PCT_FIELDS.length).fill(0);
  private readonly wcount = new Array<number>(PCT_FIELDS.length).fill(0);

  add(r: BucketRow): void {
    const events = Math.max(0, num(r.events));
    this.events += events;
    this.errors += Math.max(0, num(r.errors));
    this.spend += num(r.spend_usd);
    this.prompt += num(r.prompt_tokens);
    this.completion += num(r.completion_tokens);
    if (events === 0) return;
    PCT_FIELDS.forEach((f, i) => {
      const v = optNum(r[f]);
      if (v !== null) {
        this.wsum[i]! += v * events;
        this.wcount[i]! += events;
      }
    });
  }

  figures(): PerformanceFigures {
    const pct = {} as Record<BucketPctField, number | null>;
    PCT_FIELDS.forEach((f, i) => {
      pct[`bucket_${f}`] = this.wcount[i]! > 0 ? this.wsum[i]! / this.wcount[i]! : null;
    });
    return {
      events: this.events,
      errors: this.errors,
      error_rate: this.events > 0 ? this.errors / this.events : null,
      spend_usd: this.spend,
      prompt_tokens: this.prompt,
      completion_tokens: this.completion,
      avg_cost_per_event_usd: this.events > 0 ? this.spend / this.events : null,
      ...pct,
    };
  }
}

function groupFigures<K extends string>(
  rows: readonly BucketRow[],
  key: (r: BucketRow) => string,
  name: K,
  total: PerformanceFigures,
): (GroupFigures & Record<K, string>)[] {
  const groups = new Map<string, Accumulator>();
  for (const r of rows) {
    const k = key(r);
    let acc = groups.get(k);
    if (!acc) {
      acc = new Accumulator();
      groups.set(k, acc);
    }
    acc.add(r);
  }
  return [...groups.entries()]
    .map(([k, acc]) => {
      const f = acc.figures();
      return {
        [name]: k,
        ...f,
        share_of_spend: total.spend_usd > 0 ? f.spend_usd / total.spend_usd : null,
        share_of_events: total.events > 0 ? f.events / total.events : null,
      } as GroupFigures & Record<K, string>;
    })
    .sort((a, b) => b.spend_usd - a.spend_usd || b.events - a.events || (a[name] < b[name] ? -1 : a[name] > b[name] ? 1 : 0));
}

function buildSeries(rows: readonly BucketRow[], bucketMs: number, notes: string[]): SeriesPoint[] {
  const byBucket = new Map<number, Accumulator>();
  for (const r of rows) {
    let acc = byBucket.get(r.bucket_start);
    if (!acc) {
      acc = new Accumulator();
      byBucket.set(r.bucket_start, acc);
    }
    acc.add(r);
  }
  const starts = [...byBucket.keys()].sort((a, b) => a - b);
  if (starts.length === 0) return [];
  const first = starts[0]!;
  const last = starts[starts.length - 1]!;
  const gridSize = Math.floor((last - first) / bucketMs) + 1;
  const aligned = starts.every((s) => (s - first) % bucketMs === 0);
  let grid = starts;
  if (aligned && gridSize <= MAX_FILLED_BUCKETS) {
    grid = Array.from({ length: gridSize }, (_, i) => first + i * bucketMs);
    if (gridSize > starts.length) notes.push(`${gridSize - starts.length} bucket(s) without events were filled in as zero traffic`);
  } else if (!aligned) {
    notes.push('bucket starts are not aligned to the bucket size; gaps were not filled');
  } else {
    notes.push(`window spans ${gridSize} buckets (> ${MAX_FILLED_BUCKETS}); gaps were not filled`);
  }
  const perMinute = 60_000 / bucketMs;
  return grid.map((t) => {
    const f = (byBucket.get(t) ?? new Accumulator()).figures();
    return { bucket_start: t, throughput_per_min: f.events * perMinute, ...f };
  });
}

function metricSeries(series: readonly SeriesPoint[], metric: TrendMetric): TimedValue[] {
  return series.map((p) => ({
    t: p.bucket_start,
    value:
      metric === 'latency_p95'
        ? p.bucket_latency_p95_ms
        : metric === 'spend'
          ? p.spend_usd
          : metric === 'error_rate'
            ? p.error_rate
            : p.throughput_per_min,
  }));
}

function trendOf(metric: TrendMetric, values: readonly TimedValue[]): TrendResult {
  const withValue = values.filter((v) => v.value !== null);
  const t0 = withValue[0]?.t ?? 0;
  const fit = linearRegression(
    withValue.map((v) => (v.t - t0) / DAY_MS),
    withValue.map((v) => v.value as number),
  );
  const base = { metric, unit: METRIC_UNITS[metric], points: fit.n, mean: mean(withValue.map((v) => v.value as number)) };
  if (!fit.ok) {
    return {
      ...base,
      has_trend: false,
      slope_per_day: null,
      r2: null,
      strength: null,
      direction: 'flat',
      change_over_window: null,
      reason: fit.reason,
    };
  }
  const spanDays = (withValue[withValue.length - 1]!.t - t0) / DAY_MS;
  const cls = classifyTrend(fit.slope, fit.r2);
  return {
    ...base,
    has_trend: cls.has_trend,
    slope_per_day: fit.slope,
    r2: fit.r2,
    strength: cls.strength,
    direction: cls.direction,
    change_over_window: fit.slope * spanDays,
    reason: cls.has_trend ? null : `R² ${fit.r2.toFixed(3)} ≤ 0.2: no trend`,
  };
}

/** Runs the whole analysis over the store's bucket rows. Throws NetraError('VALIDATION') on a bad bucket size. */
export function analyzePerformance(input: PerformanceInput): PerformanceAnalysis {
  const { bucketMs, mode } = input;
  if (typeof bucketMs !== 'number' || !Number.isFinite(bucketMs) || bucketMs <= 0) {
    throw new NetraError('VALIDATION', `bucketMs must be a positive number of milliseconds, got ${String(bucketMs)}`, {
      field: 'bucketMs',
    });
  }
  const notes: string[] = [
    'percentiles above one row (bucket, model, app, window) are event-weighted means of the row percentiles; exact global percentiles come from the store',
  ];
  const rows = input.buckets.filter((r) => typeof r.bucket_start === 'number' && Number.isFinite(r.bucket_start));
  if (rows.length < input.buckets.length)
    notes.push(`${input.buckets.length - rows.length} row(s) without a valid bucket_start were ignored`);

  const totalAcc = new Accumulator();
  for (const r of rows) totalAcc.add(r);
  const total = totalAcc.figures();
  const series = buildSeries(rows, bucketMs, notes);
  const from = series[0]?.bucket_start ?? null;
  const to = series.length > 0 ? series[series.length - 1]!.bucket_start + bucketMs : null;
  const minutes = from !== null && to !== null ? (to - from) / 60_000 : 0;

  const threshold =
    input.zThreshold !== undefined && Number.isFinite(input.zThreshold) && input.zThreshold > 0
      ? input.zThreshold
      : mode === 'monitoring'
        ? Z_THRESHOLD_MONITORING
        : Z_THRESHOLD_ANALYSIS;
  const trends = {} as Record<TrendMetric, TrendResult>;
  const byMetric = {} as AnomalyStats['by_metric'];
  const anomalies: PerformanceAnomaly[] = [];
  for (const metric of TREND_METRICS) {
    const values = metricSeries(series, metric);
    trends[metric] = trendOf(metric, values);
    const z = zScoreAnomalies(values, { threshold });
    byMetric[metric] = {
      evaluated: z.evaluated,
      flagged: z.anomalies.length,
      skipped_short_baseline: z.skipped_short_baseline,
      skipped_zero_std: z.skipped_zero_std,
    };
    for (const a of z.anomalies) {
      anomalies.push({
        bucket_start: a.t,
        metric,
        value: a.value,
        z: a.z,
        baseline_mean: a.baseline_mean,
        baseline_std: a.baseline_std,
        direction: a.z > 0 ? 'above' : 'below',
      });
    }
  }
  anomalies.sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || a.bucket_start - b.bucket_start);
  const maxAnomalies = Math.max(0, Math.floor(input.maxAnomalies ?? DEFAULT_MAX_ANOMALIES));
  if (anomalies.length > maxAnomalies)
    notes.push(`${anomalies.length} anomalies found; the ${maxAnomalies} with the largest |z| are listed`);

  return {
    mode,
    bucket_ms: bucketMs,
    overall: {
      ...total,
      from,
      to,
      buckets: series.length,
      active_buckets: series.filter((p) => p.events > 0).length,
      throughput_per_min: minutes > 0 ? total.events / minutes : null,
    },
    by_model: groupFigures(rows, (r) => r.model, 'model', total),
    by_app: groupFigures(rows, (r) => r.app, 'app', total),
    series,
    trends,
    anomalies: anomalies.slice(0, maxAnomalies),
    anomaly_stats: { threshold, total: anomalies.length, by_metric: byMetric },
    seasonality: {
      latency_p95: hourlySeasonality(metricSeries(series, 'latency_p95')),
      spend: hourlySeasonality(metricSeries(series, 'spend')),
      throughput: hourlySeasonality(metricSeries(series, 'throughput')),
    },
    store_health: storeHealthReport(input.storeTimings ?? [], input.cache, input.storeHealth),
    notes,
  };
}
