/**
 * Analysis queries for the breakdown area (see ports/index.ts): any metric by any dimension, filtered, over a window,
 * at a granularity, with the top N groups kept and the rest folded into one "other" group. Every row carries every
 * metric (the answer picks the one asked), so one query answers "spend per day", "p95 by model" or "top 5 users".
 * Time buckets are calendar hours, days and weeks (from Monday) of `time_zone` (the workspace's, an IANA name; UTC
 * when absent): bucket_start is the instant the local bucket starts, so a DST day is 23 or 25 hours long. The key of
 * an event without the dimension is null.
 */
import { NetraError } from '../../errors.js';
import { isTimeZone } from '../../workload/zoned-time.js';
import type { Scope } from '../../workload/scope.js';
import type { AnalysisScope } from './scope.js';

/** Columns a breakdown may group or filter by; a tag is `{ tag: key }`. */
export const BREAKDOWN_COLUMNS = ['app', 'model', 'provider', 'end_user', 'session_id', 'environment', 'operation', 'status'] as const;
export type BreakdownColumn = (typeof BREAKDOWN_COLUMNS)[number];
export type BreakdownDimension = BreakdownColumn | { tag: string };

export const BREAKDOWN_GRANULARITIES = ['hour', 'day', 'week'] as const;
export type Granularity = (typeof BREAKDOWN_GRANULARITIES)[number];
export const GRANULARITY_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 };
/** 1970-01-05 (a Monday): weeks are aligned on it */
export const WEEK_ORIGIN_MS = 4 * 86_400_000;

/** Metrics a question may ask for; the rank of top-N groups follows the metric. */
export const BREAKDOWN_METRICS = [
  'spend',
  'calls',
  'tokens',
  'prompt_tokens',
  'completion_tokens',
  'latency_p50',
  'latency_p95',
  'latency_p99',
  'ttft_p50',
  'ttft_p95',
  'error_rate',
  'cost_per_call',
] as const;
export type BreakdownMetric = (typeof BREAKDOWN_METRICS)[number];

export interface BreakdownFilter {
  column: BreakdownColumn | { tag: string };
  value: string;
}

export interface BreakdownQuery {
  dimension: BreakdownDimension | null;
  granularity: Granularity | null;
  filters: BreakdownFilter[];
  /** the metric that ranks groups for top-N */
  rank_by: BreakdownMetric;
  /** keep the top N groups (by rank_by over the whole window), fold the rest into OTHER_KEY; null: all groups */
  top: number | null;
  /** IANA time zone of the hour/day/week buckets (default UTC) */
  time_zone?: string;
}

export const OTHER_KEY = '(other)';
export const MAX_BREAKDOWN_GROUPS = 200;
export const MAX_BREAKDOWN_BUCKETS = 2000;

export interface BreakdownFigures {
  events: number;
  errors: number;
  spend_usd: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** events that carry a latency */
  latency_events: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
}

export interface BreakdownRow extends BreakdownFigures {
  /** UTC start of the bucket (epoch ms); null without granularity */
  bucket_start: number | null;
  /** the group's value; null when the events lack the dimension; OTHER_KEY for the folded rest */
  key: string | null;
}

export interface BreakdownResult {
  /** the filtered window's totals */
  total: BreakdownFigures;
  /** events of the filtered window that carry the dimension (= total.events without a dimension) */
  keyed_events: number;
  /** distinct values of the dimension in the filtered window */
  groups: number;
  rows: BreakdownRow[];
  sql: string;
}

export interface BreakdownQueries {
  breakdown(scope: AnalysisScope, q: BreakdownQuery): Promise<BreakdownResult>;
  /**
   * The values each dimension takes in the scope (events without it are skipped), the `top` most frequent of each
   * (ties in text order), returned in text order: a list of names, without a breakdown's figures. Without from/to the
   * scope is the whole history (no stats read first to bound it).
   */
  topValues(scope: Scope, dims: readonly BreakdownDimension[], top: number): Promise<string[][]>;
}

const TAG_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/** Validates a query (bounded top, known columns, safe tag keys); the SQL builders rely on it. */
export function checkBreakdownQuery(q: BreakdownQuery): BreakdownQuery {
  const col = (c: BreakdownDimension, field: string) => {
    if (typeof c === 'string') {
      if (!(BREAKDOWN_COLUMNS as readonly string[]).includes(c))
        throw new NetraError('VALIDATION', `unknown dimension '${c}'; choose one of ${BREAKDOWN_COLUMNS.join(', ')} or tag:<key>`, {
          field,
        });
    } else if (!c || typeof c.tag !== 'string' || !TAG_KEY.test(c.tag)) {
      throw new NetraError('VALIDATION', 'a tag dimension needs a key of letters, digits, _ . - (at most 64)', { field });
    }
  };
  if (q.dimension !== null) col(q.dimension, 'dimension');
  if (q.granularity !== null && !(BREAKDOWN_GRANULARITIES as readonly string[]).includes(q.granularity))
    throw new NetraError('VALIDATION', `granularity must be one of ${BREAKDOWN_GRANULARITIES.join(', ')}`, { field: 'granularity' });
  if (!(BREAKDOWN_METRICS as readonly string[]).includes(q.rank_by))
    throw new NetraError('VALIDATION', `metric must be one of ${BREAKDOWN_METRICS.join(', ')}`, { field: 'metric' });
  if (q.top !== null && (!Number.isInteger(q.top) || q.top < 1 || q.top > MAX_BREAKDOWN_GROUPS))
    throw new NetraError('VALIDATION', `top must be a whole number in [1, ${MAX_BREAKDOWN_GROUPS}]`, { field: 'top' });
  if (q.time_zone !== undefined && !isTimeZone(q.time_zone))
    throw new NetraError('VALIDATION', `unknown time zone '${String(q.time_zone)}'; use an IANA name such as Europe/Paris or UTC`, {
      field: 'time_zone',
    });
  if (!Array.isArray(q.filters) || q.filters.length > 8) throw new NetraError('VALIDATION', 'at most 8 filters', { field: 'filters' });
  for (const f of q.filters) {
    col(f.column, 'filters.column');
    if (typeof f.value !== 'string' || f.value.length === 0 || f.value.length > 256)
      throw new NetraError('VALIDATION', 'a filter value is a string of 1 to 256 characters', { field: 'filters.value' });
  }
  return q;
}

/** The metric's value from a row's figures (null when it has no value, e.g. no latency). */
export function metricValue(f: BreakdownFigures, m: BreakdownMetric): number | null {
  switch (m) {
    case 'spend':
      return f.spend_usd;
    case 'calls':
      return f.events;
    case 'tokens':
      return f.prompt_tokens + f.completion_tokens;
    case 'prompt_tokens':
      return f.prompt_tokens;
    case 'completion_tokens':
      return f.completion_tokens;
    case 'latency_p50':
      return f.latency_p50_ms;
    case 'latency_p95':
      return f.latency_p95_ms;
    case 'latency_p99':
      return f.latency_p99_ms;
    case 'ttft_p50':
      return f.ttft_p50_ms;
    case 'ttft_p95':
      return f.ttft_p95_ms;
    case 'error_rate':
      return f.events > 0 ? f.errors / f.events : null;
    case 'cost_per_call':
      return f.events > 0 ? f.spend_usd / f.events : null;
  }
}

/**
 * The names a chat turn reads (apps, tasks, environments), the MAX_BREAKDOWN_GROUPS most frequent of each: the
 * precompute computes them ahead with the analysis.
 */
export const NAME_DIMENSIONS: readonly [BreakdownDimension, BreakdownDimension, BreakdownDimension] = [
  'app',
  { tag: 'task' },
  'environment',
];

/** "Where does my money go?": spend by app, the ten first (also computed ahead by the precompute). */
export const WHERE_MONEY_GOES: BreakdownQuery = { dimension: 'app', granularity: null, filters: [], rank_by: 'spend', top: 10 };
