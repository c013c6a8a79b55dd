/**
 * Where an OTLP/HTTP protobuf export spends its server time, stage by stage, in one thread and without the network:
 * protobuf decoding (ExportTraceServiceRequest → the OTLP/JSON shape), span mapping (parseOtlpTraces), validation and
 * pricing (normalizeEvent), and the spool line (what the DuckDB store writes before it acknowledges). Same spans as
 * bench/otlp-ingest.ts, 512 per request. Each stage's CPU time over every request, the best of a few rounds, in µs per
 * span (each request's results dropped before the next, as in the server); the stages' sum is the CPU a span costs the server's thread before HTTP, the spool's sync and DuckDB's load.
 *
 *   node --import tsx bench/otlp-stages.ts               # 51,200 spans, 8 rounds
 *   node --import tsx bench/otlp-stages.ts --smoke        # 5,120 spans, 2 rounds (or BENCH_SMOKE=1)
 *   node --import tsx bench/otlp-stages.ts --spans 10240 --rounds 3
 */
import { decodeTraceRequest, encodeTraceRequest } from '../src/ingest/otlp-proto.js';
import { parseOtlpTraces } from '../src/ingest/otlp.js';
import type { IngestItem } from '../src/ingest/types.js';
import { spoolLine } from '../src/store/duckdb-bulk-load.js';
import { keyHash } from '../src/store/duckdb-key-index.js';
import { normalizeEvent, type WorkloadEvent } from '../src/workload/event.js';
import { makeOtlpRequests } from './otlp-spans.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = arg('--spans', smoke ? 5_120 : 51_200);
const ROUNDS = arg('--rounds', smoke ? 2 : 8);

// only the bodies are kept: the spans as objects would make every garbage collection of the run mark them
const { bodies, catalog } = (() => {
  const { requests, catalog } = makeOtlpRequests(N, 512);
  return { bodies: requests.map((r) => encodeTraceRequest(r)), catalog };
})();

let id = 0;
const ctx = { workspace: 'bench', pricer: catalog, newId: () => `id-${id++}` };
const STAGES = ['protobuf_decode', 'span_mapping', 'normalize', 'spool_line'] as const;

/** CPU time of the process (this thread and V8's GC helpers), in ms: less disturbed than wall time on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One round: every request through every stage, its results dropped before the next (as a server does). */
function round(): number[] {
  const ms = [0, 0, 0, 0];
  let t = cpuMs();
  const lap = (i: number) => {
    const now = cpuMs();
    ms[i]! += now - t;
    t = now;
  };
  for (const b of bodies) {
    t = cpuMs();
    const d = decodeTraceRequest(b);
    if (!d.ok) throw new Error(d.message);
    lap(0);
    const p = parseOtlpTraces(d.body);
    if (!p.ok) throw new Error(p.message);
    lap(1);
    const rows: WorkloadEvent[] = [];
    for (const it of p.items as IngestItem[]) {
      const n = normalizeEvent(it.raw, ctx);
      if (!n.ok) throw new Error(JSON.stringify(n.errors));
      rows.push(n.event);
    }
    lap(2);
    if (
      spoolLine(
        rows,
        Float64Array.from(rows, (e) => keyHash(e.workspace, e.event_id)),
      ).length === 0
    )
      throw new Error('empty');
    lap(3);
  }
  return ms;
}

// the best round per stage (the least disturbed by other processes on the machine)
const best = [Infinity, Infinity, Infinity, Infinity];
for (let r = 0; r < ROUNDS; r++) round().forEach((ms, i) => (best[i] = Math.min(best[i]!, ms)));
const us = best.map((ms) => (ms * 1000) / N);
const r2 = (x: number) => Math.round(x * 100) / 100;
const total = us.reduce((a, b) => a + b, 0);
console.log(
  JSON.stringify({
    bench: 'otlp-stages',
    spans: N,
    rounds: ROUNDS,
    us_per_span: { ...Object.fromEntries(STAGES.map((s, i) => [s, r2(us[i]!)])), total: r2(total) },
    spans_per_s_one_thread: Math.round(1e6 / total),
  }),
);
