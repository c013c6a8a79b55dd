/**
 * Small, dependency-free statistics for the performance analysis. Pure domain code, no I/O.
 *
 * - `linearRegression`: ordinary least squares (slope, intercept, R²);
 * - `classifyTrend`: the trend rule (a trend exists when R² > 0.2; 'strong' > 0.7, 'moderate' > 0.4, else 'weak');
 * - `zScoreAnomalies`: z-scores against a trailing baseline window (7 days by default);
 * - `hourlySeasonality`: coefficient of variation of the hour-of-day (UTC) means;
 * - `percentile`, `mean`, `populationStdDev`.
 *
 * Contract: no NaN or Infinity ever leaves these functions. Non-finite inputs are ignored; where a figure cannot be
 * computed the result says so (`null` plus a `reason`) instead of returning a non-finite number.
 */

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** Trend rule thresholds on R² (strict inequalities: R² = 0.2 exactly is no trend, 0.4 is weak, 0.7 is moderate). */
export const TREND_MIN_R2 = 0.2;
export const TREND_MODERATE_R2 = 0.4;
export const TREND_STRONG_R2 = 0.7;

/** z-score thresholds: analysis mode flags more, monitoring mode (alerts) flags fewer. */
export const Z_THRESHOLD_ANALYSIS = 2.0;
export const Z_THRESHOLD_MONITORING = 2.5;
/** Baseline of the z-score: the points in the preceding 7 days, and at least this many of them. */
export const ANOMALY_BASELINE_MS = 7 * DAY_MS;
export const ANOMALY_MIN_BASELINE_POINTS = 24;

/** Seasonality: seasonal when the coefficient of variation of the hourly means exceeds 0.2. */
export const SEASONALITY_MIN_CV = 0.2;
export const SEASONALITY_MIN_POINTS = 24;
export const SEASONALITY_MIN_HOURS = 12;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Tolerance under which a standard deviation counts as zero, relative to the magnitude of the mean. */
function isZeroSpread(std: number, mean: number): boolean {
  return !(std > 1e-9 * Math.max(1, Math.abs(mean)));
}

/** Arithmetic mean of the finite values; null when there are none. */
export function mean(values: readonly number[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values)
    if (isNum(v)) {
      sum += v;
      n++;
    }
  return n === 0 ? null : sum / n;
}

/** Population standard deviation (divides by n) of the finite values; null when there are none. */
export function populationStdDev(values: readonly number[]): number | null {
  const m = mean(values);
  if (m === null) return null;
  let ss = 0;
  let n = 0;
  for (const v of values)
    if (isNum(v)) {
      ss += (v - m) ** 2;
      n++;
    }
  return Math.sqrt(ss / n);
}

/**
 * Percentile with linear interpolation between closest ranks (numpy's default, DuckDB's quantile_cont):
 * rank = p/100 · (n − 1). `p` is in [0, 100]. Non-finite values are ignored; null when none remain or p is invalid.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!isNum(p) || p < 0 || p > 100) return null;
  const sorted = values.filter(isNum).sort((a, b) => a - b);
  return percentileOfSorted(sorted, p);
}

/** `percentile` for an already ascending-sorted array of finite numbers (no copy). */
export function percentileOfSorted(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0 || !isNum(p) || p < 0 || p > 100) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export type RegressionResult =
  | { ok: true; n: number; slope: number; intercept: number; r2: number }
  | { ok: false; n: number; reason: string };

/**
 * Ordinary least squares fit y = slope · x + intercept over the pairs where both x and y are finite.
 * - fewer than 2 points, or all x equal: not computable (`ok: false` with the reason);
 * - constant y: slope 0, intercept = that value, R² = 0 (R² is 0/0 there; a constant series has nothing to
 *   explain and no trend, so 0 is the useful answer).
 * Computed on centred values (two passes) for numerical stability; R² is clamped to [0, 1].
 */
export function linearRegression(xs: readonly number[], ys: readonly number[]): RegressionResult {
  const px: number[] = [];
  const py: number[] = [];
  const len = Math.min(xs.length, ys.length);
  for (let i = 0; i < len; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (isNum(x) && isNum(y)) {
      px.push(x);
      py.push(y);
    }
  }
  const n = px.length;
  if (n < 2) return { ok: false, n, reason: `need at least 2 points with values, have ${n}` };
  const mx = px.reduce((s, v) => s + v, 0) / n;
  const my = py.reduce((s, v) => s + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = px[i]! - mx;
    const dy = py[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (isZeroSpread(Math.sqrt(sxx / n), mx)) return { ok: false, n, reason: 'all x values are equal; slope is undefined' };
  if (isZeroSpread(Math.sqrt(syy / n), my)) return { ok: true, n, slope: 0, intercept: my, r2: 0 };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = Math.min(1, Math.max(0, (sxy * sxy) / (sxx * syy)));
  if (!isNum(slope) || !isNum(intercept) || !isNum(r2)) return { ok: false, n, reason: 'values too large to fit' };
  return { ok: true, n, slope, intercept, r2 };
}

export type TrendStrength = 'strong' | 'moderate' | 'weak';
/** 'flat' when there is no trend (R² ≤ 0.2) or the slope is exactly 0. */
export type TrendDirection = 'increasing' | 'decreasing' | 'flat';

export interface TrendClass {
  has_trend: boolean;
  strength: TrendStrength;
  direction: TrendDirection;
}

/**
 * The trend rule, exactly: a trend exists when R² > 0.2; strength 'strong' when R² > 0.7, 'moderate' when
 * R² > 0.4, else 'weak' (strength is reported even without a trend, where it is always 'weak');
 * direction from the sign of the slope, 'flat' without a trend.
 */
export function classifyTrend(slope: number, r2: number): TrendClass {
  const hasTrend = isNum(r2) && isNum(slope) && r2 > TREND_MIN_R2;
  const strength: TrendStrength = r2 > TREND_STRONG_R2 ? 'strong' : r2 > TREND_MODERATE_R2 ? 'moderate' : 'weak';
  const direction: TrendDirection = !hasTrend || slope === 0 ? 'flat' : slope > 0 ? 'increasing' : 'decreasing';
  return { has_trend: hasTrend, strength, direction };
}

/** A value at a time (epoch ms). `null` values are gaps: not evaluated and not part of any baseline. */
export interface TimedValue {
  t: number;
  value: number | null;
}

export interface ZScoreOptions {
  /** |z| ≥ threshold flags the point. */
  threshold: number;
  /** length of the trailing baseline window before each point; default 7 days */
  baselineMs?: number;
  /** points needed in the baseline for a point to be evaluated; default 24 */
  minBaselinePoints?: number;
}

export interface ZScoreAnomaly {
  t: number;
  value: number;
  z: number;
  baseline_mean: number;
  baseline_std: number;
  baseline_points: number;
}

export interface ZScoreResult {
  anomalies: ZScoreAnomaly[];
  /** points that had a usable baseline and were scored */
  evaluated: number;
  /** points skipped: fewer than `minBaselinePoints` values in the preceding window */
  skipped_short_baseline: number;
  /** points skipped: the baseline had (numerically) zero spread, so z is undefined */
  skipped_zero_std: number;
}

/**
 * z-score anomalies against a trailing baseline. For each point at time t the baseline is every other point with
 * t − baselineMs ≤ t' < t (the point itself and later points excluded); z = (value − mean) / std with the
 * population standard deviation of the baseline. A point is flagged when |z| ≥ threshold.
 *
 * Choices: points with fewer than `minBaselinePoints` (24) baseline values are skipped (the first day of an hourly
 * series, for instance), and so are points whose baseline has zero spread: a perfectly constant baseline gives no
 * scale to measure a deviation against, and reporting z = ∞ would break the no-Infinity contract. Both counts are
 * returned so a caller can say why nothing was evaluated.
 *
 * Runs in O(n log n) (sort) + O(n) (sliding sums over the window), so minute buckets over months are fine.
 */
export function zScoreAnomalies(points: readonly TimedValue[], opts: ZScoreOptions): ZScoreResult {
  const windowMs = opts.baselineMs ?? ANOMALY_BASELINE_MS;
  const minPoints = Math.max(2, opts.minBaselinePoints ?? ANOMALY_MIN_BASELINE_POINTS);
  const threshold = opts.threshold;
  const pts = points.filter((p): p is { t: number; value: number } => isNum(p.t) && isNum(p.value)).sort((a, b) => a.t - b.t);
  const out: ZScoreResult = { anomalies: [], evaluated: 0, skipped_short_baseline: 0, skipped_zero_std: 0 };
  if (pts.length === 0 || !isNum(threshold) || !(windowMs > 0)) return out;

  // Running sums of values shifted by a reference (the first value) keep the variance formula well conditioned.
  const ref = pts[0]!.value;
  let lo = 0;
  let hi = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < pts.length; i++) {
    const { t, value } = pts[i]!;
    while (hi < pts.length && pts[hi]!.t < t) {
      const d = pts[hi]!.value - ref;
      sum += d;
      sumSq += d * d;
      hi++;
    }
    while (lo < hi && pts[lo]!.t < t - windowMs) {
      const d = pts[lo]!.value - ref;
      sum -= d;
      sumSq -= d * d;
      lo++;
    }
    const n = hi - lo;
    if (n < minPoints) {
      out.skipped_short_baseline++;
      continue;
    }
    const shiftedMean = sum / n;
    const variance = Math.max(0, sumSq / n - shiftedMean * shiftedMean);
    const std = Math.sqrt(variance);
    const baselineMean = shiftedMean + ref;
    if (isZeroSpread(std, baselineMean)) {
      out.skipped_zero_std++;
      continue;
    }
    out.evaluated++;
    const z = (value - baselineMean) / std;
    if (isNum(z) && Math.abs(z) >= threshold) {
      out.anomalies.push({ t, value, z, baseline_mean: baselineMean, baseline_std: std, baseline_points: n });
    }
  }
  return out;
}

export type SeasonalityStatus = 'seasonal' | 'not_seasonal' | 'insufficient_data';

export interface SeasonalityResult {
  status: SeasonalityStatus;
  /** why the status is not 'seasonal' / how it was decided */
  reason: string;
  /** coefficient of variation of the hourly means (population std / |mean|); null when not computable */
  cv: number | null;
  /** UTC hour (0-23) with the highest / lowest mean */
  peak_hour: number | null;
  trough_hour: number | null;
  peak_mean: number | null;
  trough_mean: number | null;
  /** mean value per UTC hour of day, index 0-23; null for hours without data */
  hourly_means: (number | null)[];
  points: number;
  distinct_hours: number;
}

/**
 * Hour-of-day seasonality: groups values by UTC hour, takes each hour's mean, and calls the series seasonal when
 * the coefficient of variation of those hourly means is > 0.2. Needs ≥ 24 points covering ≥ 12 distinct hours,
 * otherwise 'insufficient_data'. Peak and trough hours are reported whenever there is any data.
 */
export function hourlySeasonality(points: readonly TimedValue[]): SeasonalityResult {
  const sums = new Array<number>(24).fill(0);
  const counts = new Array<number>(24).fill(0);
  let n = 0;
  for (const p of points) {
    if (!isNum(p.t) || !isNum(p.value)) continue;
    const h = new Date(p.t).getUTCHours();
    sums[h]! += p.value;
    counts[h]!++;
    n++;
  }
  const hourly = sums.map((s, h) => (counts[h]! > 0 ? s / counts[h]! : null));
  const present = hourly.flatMap((m, h) => (m === null ? [] : [{ h, m }]));
  let peak: { h: number; m: number } | null = null;
  let trough: { h: number; m: number } | null = null;
  for (const x of present) {
    if (peak === null || x.m > peak.m) peak = x;
    if (trough === null || x.m < trough.m) trough = x;
  }
  const base = {
    cv: null as number | null,
    peak_hour: peak?.h ?? null,
    trough_hour: trough?.h ?? null,
    peak_mean: peak?.m ?? null,
    trough_mean: trough?.m ?? null,
    hourly_means: hourly,
    points: n,
    distinct_hours: present.length,
  };
  if (n < SEASONALITY_MIN_POINTS || present.length < SEASONALITY_MIN_HOURS) {
    return {
      ...base,
      status: 'insufficient_data',
      reason: `need at least ${SEASONALITY_MIN_POINTS} points over ${SEASONALITY_MIN_HOURS} distinct UTC hours; have ${n} points over ${present.length} hours`,
    };
  }
  const means = present.map((x) => x.m);
  const m = mean(means)!;
  const sd = populationStdDev(means)!;
  if (isZeroSpread(sd, m)) return { ...base, cv: 0, status: 'not_seasonal', reason: 'hourly means are all equal' };
  if (isZeroSpread(Math.abs(m), 0)) {
    return { ...base, status: 'not_seasonal', reason: 'hourly means average to zero; coefficient of variation is undefined' };
  }
  const cv = sd / Math.abs(m);
  const seasonal = cv > SEASONALITY_MIN_CV;
  return {
    ...base,
    cv,
    status: seasonal ? 'seasonal' : 'not_seasonal',
    reason: `coefficient of variation of hourly means ${cv.toFixed(3)} ${seasonal ? '>' : '≤'} ${SEASONALITY_MIN_CV}`,
  };
}
