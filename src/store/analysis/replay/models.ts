/** Per stored model: events, spend and (with `latency`) the median latency per output token of its ok events. */
import type { AnalysisScope } from '../../../optimize/ports/index.js';
import type { ReplayModelRow } from '../../../optimize/ports/replay.js';
import { num, numOrNull, selectRows, str, type AnalysisEngine, type EngineSql, type Row } from '../engine.js';

const MPT_ROWS = `status = 'ok' AND completion_tokens > 0 AND latency_ms IS NOT NULL`;

export const REPLAY_MODELS_SQL: EngineSql<{ latency: boolean }> = {
  duckdb: ({ where, t }, { latency }) => `SELECT model, count(*)::DOUBLE AS n_events, coalesce(fsum(cost_usd), 0)::DOUBLE AS spend,
       ${latency ? `median(latency_ms / completion_tokens) FILTER (WHERE ${MPT_ROWS})` : 'NULL::DOUBLE'} AS mpt
     FROM ${t} WHERE ${where} GROUP BY model ORDER BY model`,
  clickhouse: ({ where, t, d }, { latency }) => `SELECT model, toFloat64(count()) AS n_events, sumKahan(cost_usd) AS spend,
       ${latency ? `${d.quantiles('latency_ms / completion_tokens', [0.5], MPT_ROWS)}[1]` : 'CAST(NULL AS Nullable(Float64))'} AS mpt
     FROM ${t} WHERE ${where} GROUP BY model ORDER BY model`,
};

const toRow = (r: Row): ReplayModelRow => ({
  model: str(r.model),
  events: num(r.n_events),
  spend_usd: num(r.spend),
  ms_per_output_token: numOrNull(r.mpt),
});

export async function replayModels(engine: AnalysisEngine, scope: AnalysisScope, latency: boolean): Promise<ReplayModelRow[]> {
  return (await selectRows(engine, scope, REPLAY_MODELS_SQL, { latency }, {}, toRow)).rows;
}
