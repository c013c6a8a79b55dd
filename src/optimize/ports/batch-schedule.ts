/**
 * Analysis queries for scheduled traffic (see ports/index.ts): untagged calls with no end user, no session and no
 * streaming, per (app, model, UTC hour of day), with the number of distinct days each hour had traffic. The batch_api
 * kind reads a schedule from it (the same app and model at the same hours day after day) whatever the call rate.
 */
import type { AnalysisScope } from './scope.js';
import type { UsageResult } from './usage.js';

export interface ScheduledHourRow {
  app: string;
  model: string;
  /** 0..23, UTC */
  hour_of_day: number;
  events: number;
  spend_usd: number;
  latency_sum_ms: number;
  latency_events: number;
  /** distinct UTC days with traffic in this hour */
  days: number;
  /** the smallest event id of the group (evidence) */
  sample_event_id: string;
}

export interface BatchScheduleQueries {
  scheduledTraffic(scope: AnalysisScope): Promise<UsageResult<ScheduledHourRow>>;
}
