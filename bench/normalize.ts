/**
 * Cost of validating + normalising one event (normalizeEvent: hand-written fast path, zod for the rest) and of the whole ingest pipeline
 * (normalise + batch, store append a no-op), against JSON.parse of the same payload measured in the same run.
 *
 *   node --import tsx bench/normalize.ts            # full run (~15 s)
 *   node --import tsx bench/normalize.ts --smoke    # a few seconds (or BENCH_SMOKE=1)
 */
import { parseNdjson, parseNdjsonBatches } from '../src/ingest/ndjson.js';
import { createIngestor } from '../src/ingest/pipeline.js';
import type { IngestItem } from '../src/ingest/types.js';
import type { AppendResult } from '../src/store/types.js';
import { EventInputSchema, normalizeEvent, type Pricer, type WorkloadEvent } from '../src/workload/event.js';

const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = smoke ? 20_000 : 100_000;
const ROUNDS = smoke ? 2 : 4;

const pricer: Pricer = {
  price: (_ws, model, u) =>
    model.startsWith('gpt-') ? { cost_usd: u.prompt_tokens * 2.5e-6 + u.completion_tokens * 1e-5, provider: 'openai' } : null,
};

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1'];
/** A typical event as SDKs send it: ids, model, tokens, latency, app/env, a couple of tags (~420 bytes). */
function typicalEvent(i: number): Record<string, unknown> {
  return {
    event_id: `evt-${i.toString(36)}-${((i * 2654435761) >>> 0).toString(16)}`,
    timestamp: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    app: 'support-bot',
    environment: 'production',
    end_user: `user-${i % 1000}`,
    session_id: `sess-${i % 5000}`,
    model: MODELS[i % MODELS.length],
    prompt_tokens: 800 + (i % 700),
    completion_tokens: 120 + (i % 300),
    cached_prompt_tokens: i % 3 === 0 ? 512 : 0,
    latency_ms: 900 + (i % 2000),
    ttft_ms: 300,
    status: 'ok',
    finish_reason: 'stop',
    max_tokens: 1024,
    temperature: 0.2,
    prompt_hash: 'a'.repeat(64),
    tags: { team: 'support', feature: i % 2 ? 'summarize' : 'answer' },
  };
}

const payloads = Array.from({ length: N }, (_, i) => JSON.stringify(typicalEvent(i)));
const bytes = payloads.reduce((a, p) => a + p.length, 0);

function time(fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

let sink = 0;
const parsed = payloads.map((p) => JSON.parse(p) as unknown);
const ctx = { workspace: 'bench', pricer, newId: () => 'x' };

const parseMs = time(() => {
  for (const p of payloads) sink += (JSON.parse(p) as { prompt_tokens: number }).prompt_tokens;
});
const normMs = time(() => {
  for (const raw of parsed) {
    const r = normalizeEvent(raw, ctx);
    if (r.ok) sink += r.event.prompt_tokens;
    else throw new Error(JSON.stringify(r.errors));
  }
});

const zodMs = time(() => {
  for (const raw of parsed) if (EventInputSchema.safeParse(raw).success) sink++;
});

const noopStore = {
  append: async (events: readonly WorkloadEvent[]): Promise<AppendResult> => ({ inserted: events.length, duplicates: 0 }),
};
const ingestor = createIngestor({ store: noopStore, pricer });
const items: IngestItem[] = parsed.map((raw, index) => ({ index, raw }));
async function pipelineMs(batchSize: number): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    const res = await ingestor.ingest('bench', items, { batchSize });
    if (res.accepted !== N) throw new Error(`accepted ${res.accepted}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

const us = (ms: number): string => ((ms * 1000) / N).toFixed(2);
console.log(`events: ${N}, avg payload ${(bytes / N).toFixed(0)} bytes, best of ${ROUNDS}`);
console.log(
  `baseline JSON.parse            : ${us(parseMs)} µs/event  (${Math.round(N / (parseMs / 1000)).toLocaleString('en')} events/s)`,
);
console.log(
  `normalizeEvent                 : ${us(normMs)} µs/event  (${Math.round(N / (normMs / 1000)).toLocaleString('en')} events/s)  ratio vs JSON.parse: ${(normMs / parseMs).toFixed(2)}x`,
);
console.log(
  `zod EventInputSchema.safeParse : ${us(zodMs)} µs/event  (${Math.round(N / (zodMs / 1000)).toLocaleString('en')} events/s)  ratio vs JSON.parse: ${(zodMs / parseMs).toFixed(2)}x  (the slow path: invalid events only)`,
);
for (const b of [500, 1_000, 2_000, 5_000]) {
  const ms = await pipelineMs(b);
  console.log(
    `pipeline (normalise+batch) b=${String(b).padEnd(5)}: ${us(ms)} µs/event  (${Math.round(N / (ms / 1000)).toLocaleString('en')} events/s)  ratio vs JSON.parse: ${(ms / parseMs).toFixed(2)}x`,
  );
}
// NDJSON end to end (bytes → lines → JSON.parse → normalise → batches), 64 KiB chunks as a socket delivers them
const ndjson = Buffer.from(payloads.join('\n'));
const chunks: Buffer[] = [];
for (let i = 0; i < ndjson.length; i += 65_536) chunks.push(ndjson.subarray(i, i + 65_536));
for (const [name, parse] of [
  ['per item ', parseNdjson],
  ['per chunk', parseNdjsonBatches],
] as const) {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    const res = await ingestor.ingest('bench', parse(chunks));
    if (res.accepted !== N) throw new Error(`ndjson accepted ${res.accepted}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(
    `NDJSON → stored, ${name}     : ${us(best)} µs/event  (${Math.round(N / (best / 1000)).toLocaleString('en')} events/s)  ratio vs JSON.parse: ${(best / parseMs).toFixed(2)}x`,
  );
}
if (sink === 42) console.log('');
