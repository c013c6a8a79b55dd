/**
 * The performance analysis: statistics helpers (regression, trend rule, z-score anomalies, seasonality, percentile)
 * and analyzePerformance over hand-computed bucket fixtures, including the store-health findings.
 */
import { describe, expect, it } from 'vitest';
import { NetraError } from '../src/errors.js';
import { analyzePerformance, storeHealthReport, type BucketRow } from '../src/optimize/performance.js';
import {
  classifyTrend,
  HOUR_MS,
  hourlySeasonality,
  linearRegression,
  percentile,
  zScoreAnomalies,
  type TimedValue,
} from '../src/optimize/statistics.js';

const T0 = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC

/** Fails on any NaN or ±Infinity anywhere in a result. */
function expectAllFinite(value: unknown, path = '$'): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => expectAllFinite(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) expectAllFinite(v, `${path}.${k}`);
  }
}

function row(hour: number, over: Partial<BucketRow> = {}): BucketRow {
  return {
    bucket_start: T0 + hour * HOUR_MS,
    model: 'gpt-4o-mini',
    app: 'chat',
    events: 10,
    errors: 0,
    spend_usd: 1,
    prompt_tokens: 1000,
    completion_tokens: 200,
    latency_p50_ms: 100,
    latency_p95_ms: 200,
    latency_p99_ms: 300,
    ttft_p50_ms: 50,
    ttft_p95_ms: 80,
    ttft_p99_ms: 90,
    tokens_per_s_p50: 40,
    ...over,
  };
}

/** 10 days hourly: 100 ± 1 alternating (every full 7-day window: mean 100, population std 1), one planted value. */
function alternatingSeries(plantHour: number, plantValue: number): TimedValue[] {
  return Array.from({ length: 240 }, (_, h) => ({ t: T0 + h * HOUR_MS, value: h === plantHour ? plantValue : h % 2 === 0 ? 101 : 99 }));
}

describe('linearRegression', () => {
  it('fits y = 2x + 1 exactly', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const fit = linearRegression(
      xs,
      xs.map((x) => 2 * x + 1),
    );
    expect(fit.ok).toBe(true);
    if (!fit.ok) return;
    expect(fit.slope).toBeCloseTo(2, 12);
    expect(fit.intercept).toBeCloseTo(1, 12);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(fit.n).toBe(10);
  });

  it('finds no trend in a noisy flat series (alternating 10, 12)', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const fit = linearRegression(
      xs,
      xs.map((x) => (x % 2 === 0 ? 10 : 12)),
    );
    if (!fit.ok) throw new Error(fit.reason);
    // Sxy = 10 (one per pair), Sxx = 20·399/12 = 665, Syy = 20 → slope 10/665, R² = 100 / (665·20)
    expect(fit.slope).toBeCloseTo(10 / 665, 12);
    expect(fit.r2).toBeCloseTo(100 / 13_300, 12);
    expect(classifyTrend(fit.slope, fit.r2)).toEqual({ has_trend: false, strength: 'weak', direction: 'flat' });
  });

  it('handles constant series, too few points, equal x and non-finite values without NaN', () => {
    expect(linearRegression([0, 1, 2, 3], [5, 5, 5, 5])).toEqual({ ok: true, n: 4, slope: 0, intercept: 5, r2: 0 });
    const one = linearRegression([1], [1]);
    expect(one).toMatchObject({ ok: false, n: 1 });
    expect(linearRegression([], [])).toMatchObject({ ok: false, n: 0 });
    expect(linearRegression([3, 3, 3], [1, 2, 3])).toMatchObject({ ok: false, reason: expect.stringContaining('x values are equal') });
    const withJunk = linearRegression([0, 1, Number.NaN, 2, 3], [1, 3, 100, Number.POSITIVE_INFINITY, 7]);
    expect(withJunk).toMatchObject({ ok: true, n: 3 });
    if (withJunk.ok) expect(withJunk.slope).toBeCloseTo(2, 12);
  });
});

describe('classifyTrend at the exact R² boundaries', () => {
  it.each([
    [1, 0.2, { has_trend: false, strength: 'weak', direction: 'flat' }],
    [1, 0.2000001, { has_trend: true, strength: 'weak', direction: 'increasing' }],
    [-1, 0.4, { has_trend: true, strength: 'weak', direction: 'decreasing' }],
    [-1, 0.4000001, { has_trend: true, strength: 'moderate', direction: 'decreasing' }],
    [1, 0.7, { has_trend: true, strength: 'moderate', direction: 'increasing' }],
    [1, 0.7000001, { has_trend: true, strength: 'strong', direction: 'increasing' }],
    [0, 0.9, { has_trend: true, strength: 'strong', direction: 'flat' }],
  ] as const)('slope %s, R² %s', (slope, r2, expected) => {
    expect(classifyTrend(slope, r2)).toEqual(expected);
  });
});

describe('zScoreAnomalies', () => {
  it('finds a 10σ spike in a 10-day hourly series at threshold 2.0 and nothing else', () => {
    const r = zScoreAnomalies(alternatingSeries(200, 110), { threshold: 2.0 });
    expect(r.anomalies).toHaveLength(1);
    const a = r.anomalies[0]!;
    expect(a.t).toBe(T0 + 200 * HOUR_MS);
    expect(a.z).toBeCloseTo(10, 9);
    expect(a.baseline_mean).toBeCloseTo(100, 9);
    expect(a.baseline_std).toBeCloseTo(1, 9);
    expect(a.baseline_points).toBe(168); // hours 32..199: the 7 days before, the point excluded
    // the first 24 points have fewer than 24 baseline points and are skipped; everything else is scored
    expect(r.skipped_short_baseline).toBe(24);
    expect(r.evaluated).toBe(240 - 24);
  });

  it('flags a 2.2σ blip at 2.0 but not at 2.5 (monitoring)', () => {
    const series = alternatingSeries(200, 102.2);
    const at2 = zScoreAnomalies(series, { threshold: 2.0 });
    expect(at2.anomalies.map((a) => a.t)).toEqual([T0 + 200 * HOUR_MS]);
    expect(at2.anomalies[0]!.z).toBeCloseTo(2.2, 9);
    expect(zScoreAnomalies(series, { threshold: 2.5 }).anomalies).toEqual([]);
  });

  it('flags drops as negative z and skips a zero-spread baseline', () => {
    const drop = zScoreAnomalies(alternatingSeries(200, 95), { threshold: 2.0 });
    expect(drop.anomalies).toHaveLength(1);
    expect(drop.anomalies[0]!.z).toBeCloseTo(-5, 9);
    const flat: TimedValue[] = Array.from({ length: 48 }, (_, h) => ({ t: T0 + h * HOUR_MS, value: h === 40 ? 1000 : 7 }));
    const r = zScoreAnomalies(flat, { threshold: 2.0 });
    expect(r.anomalies).toEqual([]);
    expect(r.skipped_zero_std).toBe(17); // hours 24..40: constant baseline, so no scale to measure against
    expect(r.evaluated).toBe(7); // hours 41..47 have the spike in their baseline
  });

  it('ignores null values and returns nothing for empty input', () => {
    expect(zScoreAnomalies([], { threshold: 2 })).toEqual({ anomalies: [], evaluated: 0, skipped_short_baseline: 0, skipped_zero_std: 0 });
    const withGaps = alternatingSeries(200, 110).map((p, i) => (i % 10 === 5 ? { ...p, value: null } : p));
    const r = zScoreAnomalies(withGaps, { threshold: 2 });
    expect(r.anomalies.map((a) => a.t)).toEqual([T0 + 200 * HOUR_MS]);
    expect(r.evaluated + r.skipped_short_baseline + r.skipped_zero_std).toBe(216); // the non-null points
  });
});

describe('hourlySeasonality', () => {
  const days = (n: number, f: (h: number) => number): TimedValue[] =>
    Array.from({ length: n * 24 }, (_, i) => ({ t: T0 + i * HOUR_MS, value: f(i % 24) }));

  it('finds a sinusoidal day pattern with peak at 06:00 and trough at 18:00 UTC', () => {
    const r = hourlySeasonality(days(3, (h) => 100 + 50 * Math.sin((2 * Math.PI * h) / 24)));
    expect(r.status).toBe('seasonal');
    expect(r.cv).toBeCloseTo(50 / Math.SQRT2 / 100, 9); // std of a sampled sine = A/√2
    expect(r.peak_hour).toBe(6);
    expect(r.trough_hour).toBe(18);
    expect(r.points).toBe(72);
    expect(r.distinct_hours).toBe(24);
  });

  it('finds none in a flat series and none in a mild one (CV 0.141 ≤ 0.2)', () => {
    const flat = hourlySeasonality(days(3, () => 100));
    expect(flat).toMatchObject({ status: 'not_seasonal', cv: 0 });
    const mild = hourlySeasonality(days(3, (h) => 100 + 20 * Math.sin((2 * Math.PI * h) / 24)));
    expect(mild.status).toBe('not_seasonal');
    expect(mild.cv).toBeCloseTo(20 / Math.SQRT2 / 100, 9);
  });

  it('needs 24 points over 12 distinct hours', () => {
    const series = days(2, (h) => (h < 12 ? 10 : 1000));
    expect(hourlySeasonality(series.slice(0, 23)).status).toBe('insufficient_data');
    const elevenHours = series.filter((p) => new Date(p.t).getUTCHours() < 11);
    expect(elevenHours.length).toBe(22);
    const elevenHoursMany = [...elevenHours, ...elevenHours.map((p) => ({ ...p, t: p.t + 2 * 86_400_000 }))];
    expect(hourlySeasonality(elevenHoursMany)).toMatchObject({ status: 'insufficient_data', points: 44, distinct_hours: 11 });
    // exactly at the minimum: 24 points over hours 0..11 (two days) is enough
    const twelveHours = series.filter((p) => new Date(p.t).getUTCHours() < 12);
    expect(hourlySeasonality(twelveHours)).toMatchObject({ points: 24, distinct_hours: 12, status: 'not_seasonal' });
    const empty = hourlySeasonality([]);
    expect(empty).toMatchObject({ status: 'insufficient_data', peak_hour: null, cv: null });
  });
});

describe('percentile', () => {
  it('interpolates linearly between closest ranks', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48, 12);
    expect(percentile([10, 20, 30, 40, 50], 0)).toBe(10);
    expect(percentile([10, 20, 30, 40, 50], 100)).toBe(50);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([Number.NaN, 1, 3], 50)).toBe(2);
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, 2], 101)).toBeNull();
  });
});

describe('analyzePerformance', () => {
  const models = ['gpt-4o', 'gpt-4o-mini', 'claude-haiku'];
  const apps = ['chat', 'search'];
  const mixed: BucketRow[] = [];
  for (let h = 0; h < 6; h++) {
    models.forEach((model, mi) =>
      apps.forEach((app, ai) => {
        mixed.push(
          row(h, {
            model,
            app,
            events: 1 + h + mi + ai,
            errors: (h + mi) % 2,
            spend_usd: 0.125 * (1 + mi + ai + h),
            prompt_tokens: 100 * (h + 1),
            completion_tokens: 10 * (mi + 1),
          }),
        );
      }),
    );
  }

  it('by_model and by_app sums equal the input sums', () => {
    const r = analyzePerformance({ buckets: mixed, bucketMs: HOUR_MS, mode: 'analysis' });
    type SumKey = 'events' | 'errors' | 'spend_usd' | 'prompt_tokens' | 'completion_tokens';
    const sum = (rows: readonly Pick<BucketRow, SumKey>[], k: SumKey) => rows.reduce((s, x) => s + x[k], 0);
    for (const k of ['events', 'errors', 'spend_usd', 'prompt_tokens', 'completion_tokens'] as const) {
      const input = sum(mixed, k);
      expect(r.overall[k]).toBeCloseTo(input, 9);
      expect(sum(r.by_model, k)).toBeCloseTo(input, 9);
      expect(sum(r.by_app, k)).toBeCloseTo(input, 9);
      expect(sum(r.series, k)).toBeCloseTo(input, 9);
    }
    expect(r.by_model.map((m) => m.model).sort()).toEqual([...models].sort());
    expect(r.by_app.map((a) => a.app).sort()).toEqual([...apps].sort());
    expect(r.by_model.reduce((acc, m) => acc + (m.share_of_spend ?? 0), 0)).toBeCloseTo(1, 12);
    // highest spend first: claude-haiku has the largest mi, so the largest spend
    expect(r.by_model[0]!.model).toBe('claude-haiku');
    expect(r.overall).toMatchObject({ from: T0, to: T0 + 6 * HOUR_MS, buckets: 6, active_buckets: 6 });
    expectAllFinite(r);
  });

  it('combines row percentiles weighted by events and fills gaps with empty buckets', () => {
    const r = analyzePerformance({
      bucketMs: HOUR_MS,
      mode: 'analysis',
      buckets: [
        row(0, { events: 1, latency_p95_ms: 100 }),
        row(0, { model: 'gpt-4o', events: 3, latency_p95_ms: 200, ttft_p95_ms: null }),
        row(3, { events: 2, errors: 1 }),
      ],
    });
    expect(r.series.map((p) => p.bucket_start)).toEqual([0, 1, 2, 3].map((h) => T0 + h * HOUR_MS));
    expect(r.series[0]!.bucket_latency_p95_ms).toBe(175); // (1·100 + 3·200) / 4
    expect(r.series[0]!.bucket_ttft_p95_ms).toBe(80); // only the row that has it
    expect(r.series[1]).toMatchObject({ events: 0, spend_usd: 0, error_rate: null, bucket_latency_p95_ms: null, throughput_per_min: 0 });
    expect(r.series[3]).toMatchObject({ events: 2, error_rate: 0.5, throughput_per_min: 2 / 60 });
    expect(r.overall.bucket_latency_p95_ms).toBeCloseTo((100 + 600 + 400) / 6, 12);
    expect(r.notes.some((n) => n.includes('2 bucket(s) without events'))).toBe(true);
  });

  it('reports a linear spend trend per day', () => {
    const buckets = Array.from({ length: 48 }, (_, h) => row(h, { spend_usd: 2 + h * 0.5 }));
    const r = analyzePerformance({ buckets, bucketMs: HOUR_MS, mode: 'analysis' });
    expect(r.trends.spend).toMatchObject({ has_trend: true, strength: 'strong', direction: 'increasing', points: 48 });
    expect(r.trends.spend.slope_per_day).toBeCloseTo(12, 9); // 0.5 USD per hour
    expect(r.trends.spend.r2).toBeCloseTo(1, 9);
    expect(r.trends.spend.change_over_window).toBeCloseTo(23.5, 9);
    expect(r.trends.latency_p95).toMatchObject({ has_trend: false, direction: 'flat', slope_per_day: 0, r2: 0 });
  });

  it('flags a planted latency spike, and a 2.2σ blip only in analysis mode', () => {
    const hourly = (plant: number) =>
      Array.from({ length: 240 }, (_, h) => row(h, { latency_p95_ms: h === 200 ? plant : h % 2 === 0 ? 210 : 190 }));
    const spike = analyzePerformance({ buckets: hourly(300), bucketMs: HOUR_MS, mode: 'analysis' });
    expect(spike.anomalies).toHaveLength(1);
    expect(spike.anomalies[0]).toMatchObject({ bucket_start: T0 + 200 * HOUR_MS, metric: 'latency_p95', value: 300, direction: 'above' });
    expect(spike.anomalies[0]!.z).toBeCloseTo(10, 9);
    expect(spike.anomalies[0]!.baseline_mean).toBeCloseTo(200, 9);
    // spend, throughput and error rate are constant: no spread, nothing scored
    expect(spike.anomaly_stats.by_metric.spend).toMatchObject({ evaluated: 0, flagged: 0, skipped_zero_std: 216 });

    const blip = hourly(222);
    const analysis = analyzePerformance({ buckets: blip, bucketMs: HOUR_MS, mode: 'analysis' });
    expect(analysis.anomaly_stats.threshold).toBe(2.0);
    expect(analysis.anomalies.map((a) => [a.bucket_start, a.metric])).toEqual([[T0 + 200 * HOUR_MS, 'latency_p95']]);
    const monitoring = analyzePerformance({ buckets: blip, bucketMs: HOUR_MS, mode: 'monitoring' });
    expect(monitoring.anomaly_stats.threshold).toBe(2.5);
    expect(monitoring.anomalies).toEqual([]);
    expect(analyzePerformance({ buckets: blip, bucketMs: HOUR_MS, mode: 'analysis', maxAnomalies: 0 }).anomaly_stats.total).toBe(1);
  });

  it('finds hour-of-day seasonality in throughput', () => {
    const buckets = Array.from({ length: 72 }, (_, h) => row(h, { events: h % 24 >= 8 && h % 24 < 20 ? 100 : 10 }));
    const r = analyzePerformance({ buckets, bucketMs: HOUR_MS, mode: 'analysis' });
    expect(r.seasonality.throughput.status).toBe('seasonal');
    expect(r.seasonality.throughput.peak_hour).toBe(8);
    expect(r.seasonality.throughput.trough_hour).toBe(0);
    expect(r.seasonality.latency_p95.status).toBe('not_seasonal');
  });

  it('never returns NaN: empty input, one bucket, all-null latencies, junk numbers', () => {
    const empty = analyzePerformance({ buckets: [], bucketMs: HOUR_MS, mode: 'analysis' });
    expectAllFinite(empty);
    expect(empty.overall).toMatchObject({ events: 0, error_rate: null, bucket_latency_p95_ms: null, from: null, throughput_per_min: null });
    expect(empty.series).toEqual([]);
    expect(empty.trends.spend).toMatchObject({ has_trend: false, slope_per_day: null, reason: expect.stringContaining('at least 2') });
    expect(empty.seasonality.spend.status).toBe('insufficient_data');

    const single = analyzePerformance({ buckets: [row(0)], bucketMs: HOUR_MS, mode: 'monitoring' });
    expectAllFinite(single);
    expect(single.overall).toMatchObject({ events: 10, error_rate: 0, bucket_latency_p95_ms: 200, throughput_per_min: 10 / 60 });
    expect(single.trends.latency_p95.slope_per_day).toBeNull();

    const nulls = {
      latency_p50_ms: null,
      latency_p95_ms: null,
      latency_p99_ms: null,
      ttft_p50_ms: null,
      ttft_p95_ms: null,
      ttft_p99_ms: null,
      tokens_per_s_p50: null,
    };
    const noLatency = analyzePerformance({
      buckets: Array.from({ length: 30 }, (_, h) => row(h, nulls)),
      bucketMs: HOUR_MS,
      mode: 'analysis',
    });
    expectAllFinite(noLatency);
    expect(noLatency.overall.bucket_latency_p95_ms).toBeNull();
    expect(noLatency.trends.latency_p95).toMatchObject({ has_trend: false, points: 0, slope_per_day: null });

    const junk = analyzePerformance({
      buckets: [
        row(0, { spend_usd: Number.NaN, latency_p95_ms: Number.POSITIVE_INFINITY }),
        row(1, { bucket_start: Number.NaN }),
        row(2, { events: 0 }),
      ],
      bucketMs: HOUR_MS,
      mode: 'analysis',
      storeTimings: [{ kind: 'series', duration_ms: Number.NaN }],
      cache: { hits: 0, misses: 0 },
    });
    expectAllFinite(junk);
    expect(junk.overall.spend_usd).toBe(1); // the NaN row's spend counts as 0, the row at hour 2 counts 1
    expect(junk.store_health).toMatchObject({ queries: [], cache_hit_rate: null, findings: [] });
    expect(junk.notes.some((n) => n.includes('1 row(s) without a valid bucket_start'))).toBe(true);
  });

  it('rejects a bad bucket size with a validation error naming the field', () => {
    for (const bucketMs of [0, -1, Number.NaN]) {
      let err: unknown;
      try {
        analyzePerformance({ buckets: [], bucketMs, mode: 'analysis' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NetraError);
      expect(err).toMatchObject({ code: 'NETRA_E_VALIDATION', field: 'bucketMs' });
    }
  });
});

describe('store health', () => {
  const timings = (kind: string, ds: number[]) => ds.map((duration_ms) => ({ kind, duration_ms }));

  it('reports p50/p95 per query kind and a slow-query finding only above the threshold', () => {
    const atThreshold = storeHealthReport(timings('series', [500, 500]));
    expect(atThreshold.queries).toEqual([{ kind: 'series', count: 2, p50_ms: 500, p95_ms: 500, max_ms: 500 }]);
    expect(atThreshold.findings).toEqual([]);

    const above = storeHealthReport([...timings('series', [500, 520]), ...timings('stats', [10, 20, 30])]);
    expect(above.queries.map((q) => q.kind)).toEqual(['series', 'stats']);
    expect(above.queries[1]).toMatchObject({ p50_ms: 20, p95_ms: 29 });
    expect(above.findings).toHaveLength(1);
    expect(above.findings[0]).toMatchObject({
      kind: 'slow_query',
      severity: 'warning',
      subject: 'series',
      figures: { p95_ms: 519, threshold_ms: 500, count: 2 },
    });
    expect(above.findings[0]!.advice.length).toBeGreaterThan(0);

    expect(storeHealthReport(timings('series', [500, 520]), undefined, { slowQueryP95Ms: 1000 }).findings).toEqual([]);
    expect(storeHealthReport(timings('series', [2001])).findings[0]!.severity).toBe('critical');
  });

  it('flags a low cache hit rate only below the rate with enough lookups', () => {
    expect(storeHealthReport([], { hits: 50, misses: 50 })).toMatchObject({ cache_hit_rate: 0.5, findings: [] });
    const low = storeHealthReport([], { hits: 49, misses: 51 });
    expect(low.cache_hit_rate).toBe(0.49);
    expect(low.findings).toHaveLength(1);
    expect(low.findings[0]).toMatchObject({ kind: 'low_cache_hit_rate', figures: { hits: 49, misses: 51, lookups: 100, hit_rate: 0.49 } });
    expect(storeHealthReport([], { hits: 10, misses: 89 }).findings).toEqual([]); // 99 lookups: too few to judge
    expect(storeHealthReport([], { hits: 10, misses: 89 }, { minCacheLookups: 50 }).findings).toHaveLength(1);
  });

  it('is part of analyzePerformance with configurable thresholds', () => {
    const r = analyzePerformance({
      buckets: [row(0)],
      bucketMs: HOUR_MS,
      mode: 'analysis',
      storeTimings: timings('bucket_rows', [100, 700]),
      cache: { hits: 10, misses: 190 },
      storeHealth: { slowQueryP95Ms: 800 },
    });
    expect(r.store_health.thresholds).toEqual({ slowQueryP95Ms: 800, minCacheHitRate: 0.5, minCacheLookups: 100 });
    expect(r.store_health.findings.map((f) => f.kind)).toEqual(['low_cache_hit_rate']);
    expect(r.store_health.cache).toEqual({ hits: 10, misses: 190, lookups: 200 });
  });
});
