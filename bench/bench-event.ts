/**
 * A complete WorkloadEvent for benchmarks that build their events by hand: every optional field null, a successful
 * chat call, overridden by what the benchmark sets. (Run on its own, as `npm run bench` does, it does nothing.)
 */
import type { WorkloadEvent } from '../src/workload/event.js';

export function benchEvent(
  e: Pick<WorkloadEvent, 'event_id' | 'timestamp' | 'workspace' | 'model'> & Partial<WorkloadEvent>,
): WorkloadEvent {
  return {
    app: 'bench',
    environment: 'production',
    end_user: null,
    session_id: null,
    trace_id: null,
    span_id: null,
    provider: e.model.startsWith('claude') ? 'anthropic' : 'openai',
    operation: 'chat',
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_prompt_tokens: 0,
    latency_ms: null,
    ttft_ms: null,
    status: 'ok',
    error_type: null,
    http_status: null,
    finish_reason: 'stop',
    max_tokens: null,
    temperature: null,
    stream: null,
    cost_usd: 0,
    cost_source: 'given',
    token_source: 'reported',
    prompt_hash: null,
    prefix_hash: null,
    prefix_tokens: null,
    prefix_block_hashes: null,
    prefix_block_size: null,
    prompt_text: null,
    response_text: null,
    quality_score: null,
    tags: {},
    ...e,
  };
}
