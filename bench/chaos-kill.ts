/**
 * Chaos, long form: the real server (`bin/netra.js serve`, fresh temp data directory) killed with SIGKILL five times
 * while three clients send 1,000-event batches; after each kill it is restarted on the same directory and the
 * unanswered batches are re-sent. At the end every acknowledged event must be stored exactly once.
 *
 *   node --import tsx bench/chaos-kill.ts            # 5 kills, 1,000-event batches, kill after 20-200 acknowledged batches
 *   node --import tsx bench/chaos-kill.ts --smoke    # 1 kill, 200-event batches
 *   node --import tsx bench/chaos-kill.ts --kills 10 --seed 7
 *
 * Prints one JSON line: acknowledged, stored, lost (must be 0), stored twice (must be 0), and per round how many
 * batches were in flight at the kill and how long before the kill the newest acknowledgement came.
 * The baseline is the contract itself: 0 acknowledged events lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKillRounds } from '../test/helpers/kill-harness.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const arg = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);

const dir = mkdtempSync(join(tmpdir(), 'netra-chaos-bench-'));
try {
  const seed = arg('--seed', Date.now() % 100_000);
  const r = await runKillRounds({
    dataDir: dir,
    kills: arg('--kills', smoke ? 1 : 5),
    batch: smoke ? 200 : 1000,
    clients: 3,
    killAfterBatches: smoke ? [5, 20] : [20, 200],
    seed,
    log: (l) => process.stderr.write(`${l}\n`),
  });
  console.log(
    JSON.stringify({
      bench: 'chaos-kill',
      seed,
      kills: r.rounds.length,
      acknowledged_events: r.acked_events,
      sent_events: r.sent_events,
      stored_events: r.stored_events,
      lost_acknowledged: r.lost.length,
      stored_twice: r.stored_events - r.distinct_stored,
      never_sent_but_stored: r.unknown,
      resent_acknowledged_stored_again: r.resent_stored_again,
      events_per_s_while_ingesting: r.events_per_s_during_rounds,
      rounds: r.rounds,
    }),
  );
  if (r.lost.length > 0 || r.stored_events !== r.distinct_stored || r.unknown > 0 || r.resent_stored_again > 0) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
