/**
 * retry_waste: money and load lost to failed calls, retry storms and 429 bursts. Pure: retry rows per (app, model)
 * and 429-per-minute rows per app + AnalysisContext → KindResult (one recommendation per app).
 *
 * Failed calls are status = 'error'; only those a provider bills count as waste (BILLED_ERROR_RULE in ports/usage.ts:
 * 429s and other 4xx never, 5xx only for output streamed before the failure, a call with no HTTP error status as
 * recorded), whatever cost the ingest priced them at. A retry is an event whose (trace_id, prompt_hash) matches an
 * earlier error (the generator's definition). Savings are the billed spend on failed calls: the ceiling of what
 * backoff, circuit breaking and fallbacks recover; said as such in the evidence, with a lower confidence.
 */
import type { AnalysisContext } from '../context.js';
import { RATE_LIMIT_BURST_MIN_PER_MINUTE, type RateLimitRow, type RetryWasteRow, type UsageResult } from '../ports/usage.js';
import { confidenceFromCount, type KindResult, type Recommendation } from '../recommendation.js';
import { buildRecommendation, bySavings, fmt, pct, round, usd } from './usage-shared.js';

export interface RetryWasteInput {
  failures: UsageResult<RetryWasteRow>;
  rateLimits: UsageResult<RateLimitRow>;
}

export function recommendRetryWaste(input: RetryWasteInput, ctx: AnalysisContext): KindResult {
  const byApp = new Map<string, RetryWasteRow[]>();
  for (const r of input.failures.rows) byApp.set(r.app, [...(byApp.get(r.app) ?? []), r]);
  const limits = new Map(input.rateLimits.rows.map((r) => [r.app, r]));
  const recs: Recommendation[] = [];
  for (const [app, rows] of byApp) {
    const sum = (f: (r: RetryWasteRow) => number) => rows.reduce((a, r) => a + f(r), 0);
    const errors = sum((r) => r.errors);
    const errorSpend = sum((r) => r.error_spend_usd);
    const billed = sum((r) => r.billed_errors);
    const billedSpend = sum((r) => r.billed_error_spend_usd);
    const limited = sum((r) => r.rate_limited);
    const retries = sum((r) => r.retries);
    const retrySpend = sum((r) => r.retry_spend_usd);
    const failedRetries = sum((r) => r.failed_retries);
    const failedRetrySpend = sum((r) => r.failed_retry_spend_usd);
    const rl = limits.get(app);
    const burstMinutes = rl?.burst_minutes ?? 0;
    if (errors < ctx.params.min_events && burstMinutes === 0) continue;
    // affected: every failed call plus the retries that succeeded (failed retries are already errors)
    const affected = errors + (retries - failedRetries);
    const affectedSpend = errorSpend + (retrySpend - failedRetrySpend);
    const worst = [...rows].sort((a, b) => b.errors - a.errors)[0]!;
    const samples = rows.flatMap((r) => r.sample_event_ids).slice(0, 3);
    const stormy = burstMinutes > 0;
    recs.push(
      buildRecommendation(
        {
          kind: 'retry_waste',
          key: app,
          title: stormy
            ? `Smooth ${app}'s request rate: ${fmt(burstMinutes)} minute(s) with >= ${RATE_LIMIT_BURST_MIN_PER_MINUTE} rate-limit errors (peak ${fmt(rl!.peak_per_minute)}/min)`
            : `Cut ${app}'s failed-call waste: ${fmt(errors)} errors (${fmt(billed)} of them billed, ${usd(billedSpend)}), ${fmt(retries)} retries`,
          scope: { app, model: rows.length === 1 ? rows[0]!.model : undefined, segment: 'status = error, and retries of failed calls' },
          events: affected,
          spend_usd: affectedSpend,
          window_savings_usd: billedSpend,
          latency_impact: {
            p50_ms_delta: null,
            p95_ms_delta: null,
            description: `each retried call waited for a failure and a backoff; ${fmt(retries)} retries in the window (${fmt(failedRetries)} failed again). Smoothing bursts removes most 429 round trips.`,
          },
          quality_risk: { level: 'low', reason: 'no change to prompts or models; only when and how often calls are sent' },
          confidence: confidenceFromCount(errors) * 0.7,
          evidence: {
            figures: {
              errors,
              error_share: round(errors / Math.max(ctx.total_events, 1)),
              recorded_error_cost_usd: round(errorSpend),
              billed_errors: billed,
              billed_error_spend_usd: round(billedSpend),
              unbilled_errors: errors - billed,
              rate_limited_429: limited,
              retries,
              retry_spend_usd: round(retrySpend),
              failed_retries: failedRetries,
              failed_retry_spend_usd: round(failedRetrySpend),
              minutes_with_429: rl?.minutes_with_429 ?? 0,
              burst_minutes_429: burstMinutes,
              peak_429_per_minute: rl?.peak_per_minute ?? 0,
              peak_429_minute: rl ? new Date(rl.peak_minute).toISOString() : null,
              most_errors_model: `${worst.model} (${fmt(worst.errors)})`,
              savings_basis:
                'upper bound: the billed spend on calls that failed (429s, other 4xx and 5xx without output are not billed by providers)',
            },
            query: `${input.failures.sql};\n${input.rateLimits.sql}`,
            sample_event_ids: samples,
          },
          how_to_apply: [
            'Retry with exponential backoff and full jitter (e.g. base 0.5 s, cap 30 s, at most 3 attempts); honour Retry-After on 429 and 503.',
            `Smooth the send rate with a client-side token bucket below the provider's limit${stormy ? ` (bursts reached ${fmt(rl!.peak_per_minute)} 429s in one minute)` : ''}; queue instead of firing in bursts.`,
            'Add a circuit breaker per deployment (open after ~5 consecutive 5xx for 30 s) with a fallback deployment or model, so calls that would fail are not sent and paid for.',
            'Do not retry non-retryable errors (4xx other than 408/429); deduplicate retries by trace_id so one request is not retried at several layers.',
            `Upper bound of the savings: ${usd(billedSpend)} billed for failed calls over the window (${pct(errors / Math.max(ctx.total_events, 1), 2)} of calls failed; 429s, other 4xx and 5xx without output are not billed and count $0).`,
          ],
        },
        ctx,
      ),
    );
  }
  return { recommendations: recs.sort(bySavings) };
}
