/**
 * The replay area of the analysis port (src/optimize/ports/replay.ts): per-model planning facts, the text-bearing
 * events for the semantic-cache simulation, and the policy applied in SQL; one file per query, match.ts for the
 * policy conditions they share.
 */
import type { ReplayQueries } from '../../../optimize/ports/replay.js';
import type { RunAnalysis } from '../engine.js';
import { replayModels } from './models.js';
import { replaySimulate } from './simulate.js';
import { replayTextEvents } from './text-events.js';

export function replayQueries(run: RunAnalysis): ReplayQueries {
  return {
    replayModels: (scope, opts) => run('replay_models', (e) => replayModels(e, scope, opts.latency)),
    replayTextEvents: (scope, routing, onBatch, opts) =>
      run('replay_text', (e) => replayTextEvents(e, scope, routing, onBatch, opts?.ranges)),
    replaySimulate: (scope, plan) => run('replay', (e) => replaySimulate(e, scope, plan)),
  };
}
