/**
 * Event-loop lag while the analysis runs in the background (the precompute after ingest, the startup warm-up): how long
 * requests and WebSocket frames wait while analysis work shares the process. Baseline: the lag of the same process idle
 * for 1 s, measured first in the same run.
 *
 *   node --import tsx bench/background-lag.ts            # 200,000 events (chat-support + rag-assistant, 7 days)
 *   node --import tsx bench/background-lag.ts --smoke    # 20,000 events
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';

const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = smoke ? 20_000 : 200_000;
const dir = mkdtempSync(join(tmpdir(), 'netra-bench-lag-'));
const sink = new Writable({
  write(_c, _e, cb) {
    cb();
  },
});
const app = await createApp(
  parseConfig({ dataDir: dir, port: 0, seedDemo: false, logLevel: 'warn', startup: { enabled: false }, precompute: { enabled: false } }),
  { logDestination: sink },
);
try {
  for (const [i, preset] of ['chat-support', 'rag-assistant'].entries())
    await app.generate({ preset, events: N / 2, days: 7, seed: i + 1, workspace: 'w' });

  const phase = async (name: string, f: () => Promise<unknown>) => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = performance.now();
    await f();
    h.disable();
    const r = {
      phase: name,
      ms: Math.round(performance.now() - t0),
      lag_p99_ms: Math.round(h.percentile(99) / 1e6),
      lag_max_ms: Math.round(h.max / 1e6),
    };
    return r;
  };
  const stats = await phase('stats', () => app.analysis.stats({ workspace: 'w' })); // also commits the appended rows
  const idle = await phase('idle (baseline)', () => new Promise((res) => setTimeout(res, 1_000)));
  const rows = [idle, stats, await phase('analyze', () => app.analysis.analyze({ workspace: 'w' }))];
  const policy = await app.analysis.recommendedPolicy({ workspace: 'w' });
  rows.push(await phase('simulate', () => app.analysis.simulate({ workspace: 'w', policy })));
  for (const r of rows)
    console.log(
      JSON.stringify({
        bench: 'background-lag',
        events: N,
        ...r,
        lag_max_vs_idle: +(r.lag_max_ms / Math.max(1, idle.lag_max_ms)).toFixed(1),
        load_avg_1m: +loadavg()[0]!.toFixed(2),
      }),
    );
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
