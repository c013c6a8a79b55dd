/**
 * batch_api: traffic that does not need an immediate answer, which the providers' batch APIs bill at a discount.
 * Pure: batch-candidate rows + AnalysisContext → KindResult.
 *
 * Deferrable traffic is (a) tagged tags.latency_class = 'offline' with no end_user and no session_id (the generator's
 * `batchable` definition), or (b) untagged, user-less, session-less, non-streamed calls arriving in bulk bursts
 * (>= BULK_BURST_MIN_PER_MINUTE a minute from one app and model): inferred, so lower confidence and medium risk.
 * One recommendation per (app, basis). Savings = Σ spend per model × that model's catalog batch_discount; models
 * without a batch API count as affected traffic but save nothing (said in the steps). Latency: up to 24 h turnaround.
 */
import type { AnalysisContext } from '../context.js';
import { BULK_BURST_MIN_PER_MINUTE, type BatchBasis, type BatchCandidateRow, type UsageResult } from '../ports/usage.js';
import type { ScheduledHourRow } from '../ports/batch-schedule.js';
import { confidenceFromCount, type KindResult, type Recommendation } from '../recommendation.js';
import { buildRecommendation, bySavings, fmt, pct, round, usd } from './usage-shared.js';

/** Provider batch APIs promise results within 24 hours. */
export const BATCH_TURNAROUND_MS = 24 * 3_600_000;

/** A schedule is read from at least this many days of history. */
const SCHEDULE_MIN_DAYS = 2;
/** Share of a group's calls that must fall in its recurring hours. */
const SCHEDULE_MIN_SHARE = 0.8;
/** More recurring hours than this is round-the-clock traffic, not a schedule. */
const SCHEDULE_MAX_HOURS = 12;

/**
 * Adds scheduled traffic to the candidates: an (app, model) with no end user, no session, no latency_class tag and no
 * streaming whose calls come at the same UTC hours day after day (hours with traffic on at least half the window's days,
 * two at least, holding SCHEDULE_MIN_SHARE of its calls, at most SCHEDULE_MAX_HOURS of them), whatever its rate.
 * Groups already found (tagged offline or bulk) are not added twice.
 */
export function withScheduled(
  result: UsageResult<BatchCandidateRow>,
  hours: readonly ScheduledHourRow[],
  ctx: AnalysisContext,
): UsageResult<BatchCandidateRow> {
  const windowDays = Math.floor((ctx.to - ctx.from) / 86_400_000);
  if (windowDays < SCHEDULE_MIN_DAYS) return result;
  const minDays = Math.max(SCHEDULE_MIN_DAYS, Math.ceil(windowDays / 2));
  const known = new Set(result.rows.map((r) => `${r.app}\u0000${r.model}`));
  const groups = new Map<string, ScheduledHourRow[]>();
  for (const h of hours) {
    const k = `${h.app}\u0000${h.model}`;
    if (!known.has(k)) groups.set(k, [...(groups.get(k) ?? []), h]);
  }
  const rows: BatchCandidateRow[] = [];
  for (const hs of groups.values()) {
    const recurring = hs.filter((h) => h.days >= minDays);
    const total = hs.reduce((n, h) => n + h.events, 0);
    const inSchedule = recurring.reduce((n, h) => n + h.events, 0);
    if (recurring.length === 0 || recurring.length > SCHEDULE_MAX_HOURS || inSchedule < SCHEDULE_MIN_SHARE * total) continue;
    const latencyN = recurring.reduce((n, h) => n + h.latency_events, 0);
    rows.push({
      app: hs[0]!.app,
      model: hs[0]!.model,
      basis: 'schedule',
      events: inSchedule,
      spend_usd: recurring.reduce((n, h) => n + h.spend_usd, 0),
      mean_latency_ms: latencyN > 0 ? recurring.reduce((n, h) => n + h.latency_sum_ms, 0) / latencyN : null,
      active_minutes: 0,
      peak_per_minute: 0,
      schedule_hours: recurring.map((h) => h.hour_of_day).sort((a, b) => a - b),
      sample_event_ids: recurring
        .map((h) => h.sample_event_id)
        .filter(Boolean)
        .slice(0, 3),
    });
  }
  return rows.length === 0 ? result : { rows: [...result.rows, ...rows], sql: result.sql };
}

export function recommendBatchApi(result: UsageResult<BatchCandidateRow>, ctx: AnalysisContext): KindResult {
  if (result.rows.length === 0) {
    return {
      recommendations: [],
      skipped: {
        kind: 'batch_api',
        reason:
          "no call is tagged tags.latency_class = 'offline' (without end_user and session_id) and no untagged traffic arrives in bulk bursts, so nothing is known to tolerate a delayed answer",
        needs: "tags.latency_class ('offline' or 'interactive') on events, and end_user / session_id on interactive calls",
      },
    };
  }
  const groups = new Map<string, { app: string; basis: BatchBasis; rows: BatchCandidateRow[] }>();
  for (const r of result.rows) {
    const k = `${r.app}\u0000${r.basis}`;
    const g = groups.get(k) ?? { app: r.app, basis: r.basis, rows: [] };
    g.rows.push(r);
    groups.set(k, g);
  }
  const recs: Recommendation[] = [];
  for (const g of groups.values()) {
    let events = 0;
    let spend = 0;
    let savings = 0;
    let latencySum = 0;
    let latencyN = 0;
    let peak = 0;
    const perModel: string[] = [];
    const noBatch: string[] = [];
    const samples: string[] = [];
    for (const r of g.rows) {
      const discount = ctx.resolve(r.model)?.batch_discount ?? 0;
      events += r.events;
      spend += r.spend_usd;
      savings += r.spend_usd * discount;
      if (r.mean_latency_ms !== null) {
        latencySum += r.mean_latency_ms * r.events;
        latencyN += r.events;
      }
      peak = Math.max(peak, r.peak_per_minute);
      perModel.push(`${r.model}: ${fmt(r.events)} calls, ${usd(r.spend_usd)}, batch discount ${pct(discount, 0)}`);
      if (discount <= 0) noBatch.push(r.model);
      for (const id of r.sample_event_ids) if (samples.length < 3) samples.push(id);
    }
    if (events < ctx.params.min_events || !(savings > 0)) continue;
    const inferred = g.basis !== 'offline_tag';
    const hoursText =
      g.basis === 'schedule'
        ? [...new Set(g.rows.flatMap((r) => r.schedule_hours ?? []))]
            .sort((a, b) => a - b)
            .map((h) => `${String(h).padStart(2, '0')}:00`)
            .join(', ')
        : '';
    const meanLatency = latencyN > 0 ? latencySum / latencyN : null;
    const models = g.rows.map((r) => r.model).sort();
    recs.push(
      buildRecommendation(
        {
          kind: 'batch_api',
          key: `${g.app}/${g.basis}`,
          title:
            g.basis === 'schedule'
              ? `Move ${g.app}'s scheduled user-less traffic to batch APIs (it runs at ${hoursText} UTC each day with no user or session; assumed nobody waits)`
              : inferred
                ? `Move ${g.app}'s bulk user-less traffic to batch APIs (looks offline: confirm nobody waits)`
                : `Send ${g.app}'s offline traffic through batch APIs`,
          scope: {
            app: g.app,
            model: models.length === 1 ? models[0] : undefined,
            segment:
              g.basis === 'schedule'
                ? `same UTC hours each day (${hoursText}), no end user, no session`
                : inferred
                  ? 'untagged bulk bursts without end user or session'
                  : "tags.latency_class = 'offline', no end user, no session",
            basis: g.basis,
          },
          events,
          spend_usd: spend,
          window_savings_usd: savings,
          latency_impact: {
            // not a user-facing change: the traffic is offline, so the interactive p50/p95 do not move
            p50_ms_delta: null,
            p95_ms_delta: null,
            description: `turnaround up to ${BATCH_TURNAROUND_MS / 3_600_000} h (provider batch SLA; often minutes) instead of ${meanLatency !== null ? `~${fmt(meanLatency / 1000, 1)} s` : 'immediately'} per call; no interactive traffic is affected`,
          },
          quality_risk:
            g.basis === 'schedule'
              ? {
                  level: 'medium',
                  reason: `assumption: traffic at the same hours every day with no end user and no session is a scheduled job nobody waits for (no latency_class tag says so); outputs are the same model's`,
                }
              : inferred
                ? {
                    level: 'medium',
                    reason: `inferred from traffic shape (no latency_class tag; bursts up to ${fmt(peak)} calls/min without end user or session): outputs are the same model's, but a caller may be waiting`,
                  }
                : { level: 'low', reason: 'same model and parameters, only the turnaround changes; the traffic is tagged offline' },
          confidence: confidenceFromCount(events) * (inferred ? 0.6 : 1),
          assumptions: inferred
            ? [
                g.basis === 'schedule'
                  ? `${g.app}'s calls carry no end user and no session and come at the same hours every day (${hoursText} UTC), so Netra assumes a scheduled job nobody waits for; no tags.latency_class says so.`
                  : `${g.app}'s calls carry no end user and no session and arrive in bursts of up to ${fmt(peak)} a minute, so Netra assumes nobody waits for them; no tags.latency_class says so.`,
              ]
            : undefined,
          evidence: {
            figures: {
              events,
              spend_usd: round(spend),
              window_savings_usd: round(savings),
              models: perModel.join('; '),
              mean_latency_ms: meanLatency === null ? null : round(meanLatency, 1),
              peak_calls_per_minute: peak,
              bulk_burst_min_per_minute: inferred ? BULK_BURST_MIN_PER_MINUTE : null,
            },
            query: result.sql,
            sample_event_ids: samples,
          },
          how_to_apply: [
            `Collect ${g.app}'s requests into JSONL files and submit them with the provider's batch API (OpenAI /v1/batches, Anthropic Message Batches, Vertex batch prediction) instead of one synchronous call each.`,
            'Poll or subscribe for completion and write results back by request id (custom_id); retry failed items in the next batch.',
            ...(noBatch.length
              ? [
                  `${noBatch.join(', ')} ha${noBatch.length > 1 ? 've' : 's'} no batch discount in the catalog: keep ${noBatch.length > 1 ? 'them' : 'it'} synchronous or move to a model with a batch API.`,
                ]
              : []),
            ...(inferred
              ? [`Confirm the traffic is offline and tag it tags.latency_class = 'offline' so future analyses are certain.`]
              : []),
            `Expected: ${usd(savings)} less over the analysed window on ${usd(spend)} of spend.`,
          ],
        },
        ctx,
      ),
    );
  }
  return { recommendations: recs.sort(bySavings) };
}
