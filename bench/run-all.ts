/**
 * Runs every benchmark under bench/ one after another (never in parallel: the machine has 2 cores).
 *
 *   npm run bench              # full runs (minutes)
 *   npm run bench -- --smoke   # a few seconds each: proves every benchmark still runs (CI does this)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run-all.ts' && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();

let failed = 0;
for (const s of scripts) {
  const t0 = performance.now();
  process.stdout.write(`\n## ${s}${smoke ? ' (smoke)' : ''}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, s), ...(smoke ? ['--smoke'] : [])], {
    stdio: 'inherit',
    env: { ...process.env, NETRA_LOG_LEVEL: 'warn' },
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`!! ${s} failed (exit ${r.status}) after ${secs} s\n`);
  } else process.stdout.write(`-- ${s} done in ${secs} s\n`);
}
process.stdout.write(`\nbenchmark scripts: ${scripts.length - failed} ran cleanly, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
