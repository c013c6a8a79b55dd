/**
 * Turns one proxied call into a workload event input for the ingest path: request and response model, usage (or a
 * tokenizer estimate when the upstream reported none), timings, outcome, prompt hashes, optional text, and what the
 * policy did or would have done (tags under `netra.`).
 */
import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../workload/hash.js';
import { estimateRecurringTokens, estimateTokens } from '../workload/token-estimate.js';
import type { Operation } from '../workload/event.js';
import type { ResponseFacts } from './response-observer.js';
import type { RequestInfo } from './request-info.js';

export interface CallMeta {
  app: string;
  endUser: string | null;
  sessionId: string | null;
  traceId: string | null;
  environment: string | null;
  tags: Record<string, string>;
}

export interface CallOutcome {
  startedAt: number;
  latencyMs: number;
  ttftMs: number | null;
  httpStatus: number | null;
  /** a transport failure (timeout, unreachable, cut stream, client abort) */
  failure: string | null;
}

export interface CallEventInput {
  provider: string;
  operation: Operation;
  info: RequestInfo;
  /** the model sent upstream (after routing) */
  sentModel: string | null;
  /** max_tokens as sent upstream (after a cap) */
  sentMaxTokens: number | null;
  facts: ResponseFacts;
  meta: CallMeta;
  outcome: CallOutcome;
  recordText: boolean;
  /** the policy's tags (netra.policy, netra.would_*, netra.cache, ...) */
  policyTags: Record<string, string>;
  /** cost to record instead of the catalog's (a cache hit costs 0); null: priced by the ingest path */
  costUsd: number | null;
  /** true when the catalog prices the model (else the event carries cost 0 and netra.unpriced) */
  priced: (model: string) => boolean;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function callEvent(c: CallEventInput): Record<string, unknown> {
  const { info, facts, outcome } = c;
  const model = facts.model ?? c.sentModel ?? info.model ?? 'unknown';
  const ok = outcome.failure === null && outcome.httpStatus !== null && outcome.httpStatus < 400 && facts.errorType === null;
  const tags: Record<string, string> = { ...c.meta.tags, ...c.policyTags, 'netra.source': 'gateway' };
  if (info.model && info.model !== model) tags.request_model = info.model.slice(0, 2000);
  let prompt = facts.promptTokens;
  let completion = facts.completionTokens;
  if (ok && prompt === null) {
    prompt = estimateTokens(info.promptText, model);
    completion = completion ?? estimateTokens(facts.text, model);
    tags['netra.tokens_estimated'] = 'true';
  }
  prompt ??= 0;
  completion ??= 0;
  const cached = Math.min(facts.cachedTokens, prompt);
  let cost = c.costUsd;
  if (cost === null && !c.priced(model)) {
    cost = 0;
    tags['netra.unpriced'] = 'true';
  }
  const latency = round(Math.max(0, outcome.latencyMs));
  const ttft = outcome.ttftMs === null ? null : Math.min(latency, round(outcome.ttftMs));
  const e: Record<string, unknown> = {
    event_id: randomUUID(),
    timestamp: outcome.startedAt,
    app: c.meta.app,
    end_user: c.meta.endUser,
    session_id: c.meta.sessionId,
    trace_id: c.meta.traceId,
    provider: c.provider,
    model,
    operation: c.operation,
    prompt_tokens: prompt,
    completion_tokens: completion,
    cached_prompt_tokens: cached,
    latency_ms: latency,
    ttft_ms: ttft,
    status: ok ? 'ok' : 'error',
    error_type: ok ? null : (outcome.failure ?? facts.errorType ?? `http_${outcome.httpStatus ?? 0}`).slice(0, 200),
    http_status: outcome.httpStatus,
    finish_reason: facts.finishReason?.slice(0, 64) ?? null,
    max_tokens: c.sentMaxTokens !== null && c.sentMaxTokens > 0 ? Math.round(c.sentMaxTokens) : null,
    temperature: info.temperature !== null && info.temperature >= 0 && info.temperature <= 5 ? info.temperature : null,
    stream: info.stream,
    tags,
  };
  if (c.meta.environment) e.environment = c.meta.environment;
  if (cost !== null) e.cost_usd = cost;
  if (info.promptText) {
    e.prompt_hash = sha256Hex(info.promptText);
    if (info.prefixText) {
      const prefixHash = sha256Hex(info.prefixText);
      e.prefix_hash = prefixHash;
      e.prefix_tokens = estimateRecurringTokens(prefixHash, info.prefixText, model);
    }
    if (c.recordText) e.prompt_text = info.promptText.slice(0, 1_000_000);
  }
  if (c.recordText && facts.text) e.response_text = facts.text;
  return e;
}

const MAX_TAGS = 50;

/** `x-netra-tags: k=v,k2=v2` → tags; throws a message naming the header when it is malformed or too large. */
export function parseTagsHeader(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!v) return out;
  const parts = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (parts.length > MAX_TAGS) throw new Error(`at most ${MAX_TAGS} tags`);
  for (const p of parts) {
    const i = p.indexOf('=');
    const k = i > 0 ? p.slice(0, i).trim() : '';
    const val = i > 0 ? p.slice(i + 1).trim() : '';
    if (!k || k.length > 200 || val.length > 2000 || k.startsWith('netra.'))
      throw new Error(`'${p.slice(0, 60)}' is not key=value (keys 1-200 characters, not starting with netra.)`);
    out[k] = val;
  }
  return out;
}
