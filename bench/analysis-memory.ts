/**
 * Benchmark: where the memory of the full analysis goes, measured in a process that only analyses. The store is
 * built by a child process (bench/analysis-stages.ts --keep), so the generator's heap and allocator leftovers are
 * not in the figures; this process opens the file store from the environment's config (NETRA_DUCKDB_MEMORY_LIMIT,
 * NETRA_DUCKDB_THREADS, ...) as the server does, then runs one full analysis and one replay of its policy.
 *
 *   node --import tsx bench/analysis-memory.ts --copies 10 --path /tmp/netra-10m.duckdb [--keep]
 *   node --import tsx bench/analysis-memory.ts --path /tmp/netra-10m.duckdb --reuse   # a kept store again
 *   node --import tsx bench/analysis-memory.ts --smoke                                # 25,000 events
 *
 * Prints, at each step (open, stats, analysis, replay): the process's RSS and peak RSS (VmHWM), the V8 heap, the
 * memory V8 counts as external (array buffers: the de-duplication key index), and what DuckDB's buffer manager says
 * it holds (duckdb_memory(), read on a second connection between the steps); and, sampled every 50 ms, the
 * peak RSS inside each analysis stage. Beside them: wall time, process CPU (DuckDB's threads included), load average.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalyticsStore } from '../src/bootstrap.js';
import { configFromEnv } from '../src/config.js';
import { analyzeWorkspace } from '../src/optimize/analyze.js';
import { policyFromRecommendations } from '../src/optimize/policy-from-recommendations.js';
import { replayPolicy } from '../src/optimize/replay.js';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';
import { BENCH_WORKSPACE, benchContext } from './analysis-workload.js';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = Number(opt('--events') ?? (smoke ? 25_000 : 1_000_000));
const COPIES = Number(opt('--copies') ?? 1);
const PATH = opt('--path') ?? join(tmpdir(), `netra-bench-memory-${process.pid}.duckdb`);
const KEEP = args.includes('--keep') || args.includes('--reuse');
const REUSE = args.includes('--reuse') && existsSync(PATH);
const MB = 1048576;

const remove = () => {
  for (const f of [PATH, `${PATH}.wal`, `${PATH}.spool`, `${PATH}.tmp`]) rmSync(f, { force: true, recursive: true });
};
if (!REUSE) {
  const built = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/analysis-stages.ts', '--events', String(N), '--copies', String(COPIES), '--runs', '1'].concat([
      '--path',
      PATH,
      '--keep',
      '--stages',
      'none',
    ]),
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (built.status !== 0) throw new Error(`building the store failed (${built.status})`);
}

/** VmRSS and VmHWM (peak) of this process, in MB. */
function procStatus(): { rss: number; hwm: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}

const config = configFromEnv({ ...process.env, NETRA_DUCKDB_PATH: PATH, NETRA_STORE_DURABILITY: 'write' });
// --memory-limit: a DuckDB limit as given, past the config's floor (which guards spool loads; this process loads none)
const LIMIT = opt('--memory-limit');
const store = (
  LIMIT ? createDuckDbStore({ path: PATH, durability: 'write', duckdb: { memory_limit: LIMIT } }) : openAnalyticsStore(config)
) as DuckDbStore;
const cpu0 = process.cpuUsage();
const steps: Record<string, unknown>[] = [];
async function duckdbTracked(): Promise<{ mb: number; spilled_mb: number; tags: Record<string, number> }> {
  const rows = await store.trackedMemory();
  const tags: Record<string, number> = {};
  for (const r of rows) if (r.memory_bytes >= MB) tags[r.tag] = Math.round(r.memory_bytes / MB);
  const sum = (k: 'memory_bytes' | 'temporary_bytes') => Math.round(rows.reduce((s, r) => s + r[k], 0) / MB);
  return { mb: sum('memory_bytes'), spilled_mb: sum('temporary_bytes'), tags };
}
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  const m = process.memoryUsage();
  const row = {
    step: name,
    wall_ms: Math.round(performance.now() - t0),
    cpu_ms: Math.round((c.user + c.system) / 1000),
    ...Object.fromEntries(Object.entries(procStatus()).map(([k, v]) => [`${k}_mb`, v])),
    heap_used_mb: Math.round(m.heapUsed / MB),
    external_mb: Math.round(m.external / MB),
    duckdb: await duckdbTracked(),
    load: loadavg()[0]!.toFixed(2),
  };
  steps.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return value;
}

await step('open', () => store.init());
const stats = await step('stats', () => store.stats({ workspace: BENCH_WORKSPACE }));
const ctx = benchContext(loadPriceCatalog(), stats);
const samples: [number, number][] = [];
const a0 = performance.now();
const sampler = setInterval(() => samples.push([performance.now() - a0, process.memoryUsage.rss()]), 50);
const full = await step('analysis', () => analyzeWorkspace(store.analysis, ctx, { goal: 'balanced' }));
clearInterval(sampler);
// peak RSS inside each stage: the timings are completion times from the start (one read queue), the semantic
// stage's its own and last
const bounds = Object.entries(full.summary.timings_ms).filter(([k]) => k !== 'semantic_cache' && k !== 'domain');
bounds.sort((a, b) => a[1] - b[1]);
const stagePeak: Record<string, number> = {};
for (const [t, rss] of samples) {
  const stage = bounds.find(([, end]) => t <= end)?.[0] ?? 'semantic_and_after';
  stagePeak[stage] = Math.max(stagePeak[stage] ?? 0, Math.round(rss / MB));
}
const policy = policyFromRecommendations(full.recommendations);
const replay = await step('replay', () => replayPolicy(store.analysis, ctx, policy, {}));
const c = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    bench: 'analysis-memory',
    events: stats.events,
    duckdb_memory_limit: LIMIT ?? config.store.duckdbMemoryLimit ?? 'default',
    malloc_env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') || k === 'LD_PRELOAD')),
    recommendations: full.recommendations.length,
    semantic_hits: replay.breakdown.semantic_cache_hits,
    cache_savings_usd: Number(replay.breakdown.cache_savings_usd.toFixed(2)),
    peak_rss_mb: procStatus().hwm,
    cpu_ms: Math.round((c.user + c.system) / 1000),
    steps,
    analysis_stage_peak_rss_mb: stagePeak,
  }),
);
await store.close();
if (!KEEP) remove();
