/**
 * The workspace stats both stores return, assembled from the rows of their one `GROUPING SETS ((), (model, provider))`
 * query: a total row (`is_total` = 1) and one row a model. Both engines name the columns alike: n_events, n_errors,
 * prompt_sum, completion_sum, cached_sum, spend, est_events, est_tokens, unpriced, p50, p95, first_us, last_us (names
 * that are not event columns, so ClickHouse never reads an alias where the column is meant).
 */
import type { ModelStats, Scope, WorkspaceStats } from './types.js';

export type StatsRow = Record<string, unknown>;

/** A JS number from an engine value (number, bigint, numeric string); 0 for null. */
const num = (v: unknown): number => (v == null ? 0 : typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v == null ? null : num(v));

export function workspaceStatsFromRows(scope: Scope, rows: readonly StatsRow[]): WorkspaceStats {
  const total = rows.find((r) => num(r.is_total) === 1 && num(r.n_events) > 0);
  const byModel: ModelStats[] = rows
    .filter((r) => num(r.is_total) === 0)
    .map((r) => ({
      model: r.model as string,
      provider: r.provider as string,
      events: num(r.n_events),
      errors: num(r.n_errors),
      prompt_tokens: num(r.prompt_sum),
      completion_tokens: num(r.completion_sum),
      cached_prompt_tokens: num(r.cached_sum),
      spend_usd: num(r.spend),
      latency_p50_ms: numOrNull(r.p50),
      latency_p95_ms: numOrNull(r.p95),
      estimated_token_events: num(r.est_events),
      unpriced_events: num(r.unpriced),
    }));
  const allTokens = num(total?.prompt_sum) + num(total?.completion_sum);
  return {
    workspace: scope.workspace,
    from: scope.from ?? null,
    to: scope.to ?? null,
    events: num(total?.n_events),
    errors: num(total?.n_errors),
    prompt_tokens: num(total?.prompt_sum),
    completion_tokens: num(total?.completion_sum),
    cached_prompt_tokens: num(total?.cached_sum),
    spend_usd: num(total?.spend),
    latency_p50_ms: numOrNull(total?.p50),
    latency_p95_ms: numOrNull(total?.p95),
    estimated_token_events: num(total?.est_events),
    estimated_tokens: num(total?.est_tokens),
    estimated_token_share: allTokens > 0 ? num(total?.est_tokens) / allTokens : 0,
    unpriced_events: num(total?.unpriced),
    first_event: total?.first_us == null ? null : num(total.first_us) / 1000,
    last_event: total?.last_us == null ? null : num(total.last_us) / 1000,
    by_model: byModel,
  };
}
