/**
 * Benchmark: the backfill of prompt block chains (src/services/prefix-block-backfill.ts) over N stored events whose
 * prompt text is 1,100–4,000 tokens and which have no chain (as a store from before chains were derived holds them),
 * against deriving the same chains in JS alone (textBlockChain over the texts in memory) in the same run: the ratio
 * says what the store's paging and writing add to the tokenizing the backfill cannot avoid.
 *
 *   node --import tsx bench/backfill.ts             # 20,000 events
 *   node --import tsx bench/backfill.ts --smoke     # 1,000 events
 *   node --import tsx bench/backfill.ts --events 100000
 *
 * The app is the real one (createApp over a temporary data directory: PGlite for the job row, a DuckDB file store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import type { WorkloadEvent } from '../src/workload/event.js';
import { benchEvent } from './bench-event.js';
import { textBlockChain } from '../src/workload/prefix-blocks.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : smoke ? 1_000 : 20_000;
const WS = 'bench-backfill';
const T0 = Date.UTC(2026, 10, 9);

// conversations whose turns re-send everything so far: texts grow by 150-500 words a turn from a ~900-word opening
let x = 11;
const rnd = () => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) / 4294967296;
};
const words = (n: number) => Array.from({ length: n }, () => `w${Math.floor(rnd() * 20_000)}`).join(' ');
const events: WorkloadEvent[] = [];
let textChars = 0;
while (events.length < N) {
  let text = `system: you answer questions about document ${events.length}. ${words(900)}`;
  const turns = 2 + Math.floor(rnd() * 5);
  for (let k = 0; k < turns && events.length < N; k++) {
    text += `\nuser: ${words(150 + Math.floor(rnd() * 350))}`;
    textChars += text.length;
    events.push(
      benchEvent({
        event_id: `bf-${events.length}`,
        timestamp: T0 + events.length * 1000,
        workspace: WS,
        app: 'docs-qa',
        model: 'gpt-4o',
        session_id: `s-${events.length - k}`,
        prompt_tokens: Math.round(text.length / 3),
        completion_tokens: 80,
        latency_ms: 900,
        cost_usd: 0.01,
        cost_source: 'catalog',
        prompt_text: text,
      }),
    );
  }
}

// baseline: the derivation alone, in memory
const cpu0 = process.cpuUsage();
let t = performance.now();
let derived = 0;
for (const e of events) if (textBlockChain(e.prompt_text!, e.model)) derived++;
const baselineMs = performance.now() - t;
const baselineCpu = process.cpuUsage(cpu0);

const dir = mkdtempSync(join(tmpdir(), 'netra-bench-backfill-'));
const app = await createApp(
  parseConfig({ dataDir: join(dir, 'data'), port: 0, seedDemo: false, logLevel: 'warn', startup: { enabled: false } }),
  {
    quiet: true,
  },
);
try {
  for (let i = 0; i < events.length; i += 5000) await app.store.append(events.slice(i, i + 5000));
  await app.store.stats({ workspace: WS }); // every row loaded before the clock starts
  const cpu1 = process.cpuUsage();
  t = performance.now();
  const r = await app.backfill.run(WS);
  const backfillMs = performance.now() - t;
  const backfillCpu = process.cpuUsage(cpu1);
  if (r.chained !== derived) throw new Error(`backfill chained ${r.chained} events, the derivation ${derived}`);
  const us = (c: NodeJS.CpuUsage) => Math.round(((c.user + c.system) / N) * 10) / 10;
  console.log(
    JSON.stringify({
      events: N,
      mean_prompt_chars: Math.round(textChars / N),
      chained: r.chained,
      backfill_events_per_s: Math.round(N / (backfillMs / 1000)),
      backfill_cpu_us_per_event: us(backfillCpu),
      baseline_derivation_events_per_s: Math.round(N / (baselineMs / 1000)),
      baseline_cpu_us_per_event: us(baselineCpu),
      ratio_vs_derivation_alone: Math.round((baselineMs / backfillMs) * 100) / 100,
    }),
  );
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
