/**
 * The spans of the OTLP benchmarks (bench/otlp-ingest.ts, bench/otlp-stages.ts): made from the synthetic generator's
 * events with the attributes an instrumented client sets (GenAI conventions: operation, provider, request/response
 * model, usage with cached tokens, finish reason, temperature, max_tokens, user and session; service.name on the
 * resource; no message content, the instrumentations' default).
 */
import { generateWorkload } from '../src/corpus/generator.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

type Attr = { key: string; value: Record<string, unknown> };
const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } });

function spanOf(e: WorkloadEvent, i: number) {
  const startNs = BigInt(Math.round(e.timestamp)) * 1_000_000n;
  const attrs: Attr[] = [
    str('gen_ai.operation.name', 'chat'),
    str('gen_ai.provider.name', e.provider),
    str('gen_ai.request.model', e.model),
    str('gen_ai.response.model', e.model),
    int('gen_ai.usage.input_tokens', e.prompt_tokens),
    int('gen_ai.usage.output_tokens', e.completion_tokens),
    int('gen_ai.usage.cache_read.input_tokens', e.cached_prompt_tokens),
    { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: e.finish_reason ?? 'stop' }] } } },
  ];
  if (e.temperature != null) attrs.push({ key: 'gen_ai.request.temperature', value: { doubleValue: e.temperature } });
  if (e.max_tokens != null) attrs.push(int('gen_ai.request.max_tokens', e.max_tokens));
  if (e.end_user) attrs.push(str('user.id', e.end_user));
  if (e.session_id) attrs.push(str('session.id', e.session_id));
  return {
    traceId: (i + 1).toString(16).padStart(32, '0'),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: `chat ${e.model}`,
    kind: 3,
    startTimeUnixNano: String(startNs),
    endTimeUnixNano: String(startNs + BigInt(Math.round((e.latency_ms ?? 500) * 1e6))),
    attributes: attrs,
    status: e.status === 'error' ? { code: 2 } : {},
  };
}

/** `n` spans in requests of `batch` spans (one resource, one scope each), in the OTLP/JSON shape with hex ids. */
export function makeOtlpRequests(n: number, batch: number) {
  const catalog = loadPriceCatalog();
  const w = generateWorkload({
    preset: 'chat-support',
    events: n,
    days: 7,
    seed: 11,
    workspace: 'bench',
    pricer: catalog,
    tierOf: (m) => catalog.resolve(m)?.quality_tier ?? 2,
  });
  const events: WorkloadEvent[] = [];
  for (const b of w.batches()) events.push(...b.filter((e) => e.status === 'ok'));
  while (events.length < n)
    events.push({ ...events[events.length % Math.max(1, events.length)]!, timestamp: events[0]!.timestamp + events.length });
  const requests = [];
  for (let s = 0; s < n; s += batch) {
    const spans = events.slice(s, Math.min(n, s + batch)).map((e, j) => spanOf(e, s + j));
    requests.push({
      resourceSpans: [
        { resource: { attributes: [str('service.name', 'checkout-svc')] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] },
      ],
    });
  }
  return { requests, catalog };
}
