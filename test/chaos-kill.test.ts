/**
 * Chaos, short form: the real server is killed with SIGKILL while three clients ingest, restarted on the same data
 * directory, and every event it had acknowledged must be stored exactly once (nothing lost, nothing twice, nothing
 * invented), with the unanswered batches re-sent as a client would. The long form (five kills, 1,000-event
 * batches) is bench/chaos-kill.ts; its figures are in docs/RELIABILITY.md.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runKillRounds } from './helpers/kill-harness.js';

describe('kill -9 during HTTP ingestion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netra-chaos-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged event exactly once across a kill and a restart', async () => {
    const r = await runKillRounds({ dataDir: dir, kills: 1, batch: 200, clients: 3, killAfterBatches: [8, 30] });
    expect(r.rounds).toHaveLength(1);
    expect(r.acked_events).toBeGreaterThanOrEqual(8 * 200);
    expect(r.lost).toEqual([]);
    expect(r.resent_stored_again).toBe(0);
    expect(r.unknown).toBe(0);
    expect(r.stored_events).toBe(r.distinct_stored);
    // every sent batch was acknowledged before the kill or re-sent after it, so all of them are stored
    expect(r.distinct_stored).toBe(r.sent_events);
    // the clean shutdown at the end committed and removed every spool segment
    expect(readdirSync(join(dir, 'events.duckdb.spool'))).toEqual([]);
  }, 300_000);
});
