/**
 * Breakdown buckets in the workspace's time zone on a real DuckDB store: a Paris day across the autumn DST change
 * holds 25 hours of events, hour buckets follow the local clock (the repeated hour is one bucket), and an unknown
 * zone is refused naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore, type DuckDbStore } from '../src/store/duckdb-store.js';
import { normalizeEvent, type WorkloadEvent } from '../src/workload/event.js';
import { priceCatalog } from './helpers/usage-analysis-context.js';

const H = 3_600_000;
// 2026-10-25: Paris goes from UTC+2 to UTC+1 at 01:00 UTC (03:00 -> 02:00 local); the local day runs 22:00 UTC Oct 24 to 23:00 UTC Oct 25
const FROM = Date.UTC(2026, 9, 23, 22);
const TO = Date.UTC(2026, 9, 26, 23);

let seq = 0;
function ev(at: number): WorkloadEvent {
  const r = normalizeEvent(
    { timestamp: new Date(at).toISOString(), app: 'a', model: 'gpt-4o-mini', prompt_tokens: 10, completion_tokens: 5, latency_ms: 100 },
    { workspace: 'tz', pricer: priceCatalog(), newId: () => `z${++seq}` },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.event;
}

describe('breakdown buckets in a time zone', () => {
  let store: DuckDbStore;
  beforeAll(async () => {
    store = createDuckDbStore({ path: ':memory:', flushIntervalMs: 0 });
    await store.init();
    // one event every hour, on the half hour
    const events: WorkloadEvent[] = [];
    for (let t = FROM + H / 2; t < TO; t += H) events.push(ev(t));
    await store.append(events);
  });
  afterAll(async () => {
    await store.close();
  });
  const scope = { workspace: 'tz', from: FROM, to: TO };

  it('a Paris day across the DST change holds 25 hourly events; UTC days hold 24', async () => {
    const paris = await store.analysis.breakdown(scope, {
      dimension: null,
      granularity: 'day',
      filters: [],
      rank_by: 'calls',
      top: null,
      time_zone: 'Europe/Paris',
    });
    expect(paris.rows.map((r) => [new Date(r.bucket_start!).toISOString(), r.events])).toEqual([
      ['2026-10-23T22:00:00.000Z', 24],
      ['2026-10-24T22:00:00.000Z', 25],
      ['2026-10-25T23:00:00.000Z', 24],
    ]);
    const utc = await store.analysis.breakdown(scope, { dimension: null, granularity: 'day', filters: [], rank_by: 'calls', top: null });
    expect(utc.rows.slice(1, -1).map((r) => r.events)).toEqual([24, 24]);
  });

  it('hour buckets follow the local clock: the repeated 02:00 hour is one bucket of two events', async () => {
    const r = await store.analysis.breakdown(
      { workspace: 'tz', from: Date.UTC(2026, 9, 24, 22), to: Date.UTC(2026, 9, 25, 4) },
      { dimension: null, granularity: 'hour', filters: [], rank_by: 'calls', top: null, time_zone: 'Europe/Paris' },
    );
    const local = r.rows.map((x) => [new Date(x.bucket_start!).toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris' }), x.events]);
    expect(local).toEqual([
      ['00:00:00', 1],
      ['01:00:00', 1],
      ['02:00:00', 2],
      ['03:00:00', 1],
      ['04:00:00', 1],
    ]);
  });

  it('an unknown time zone is refused, naming the field', async () => {
    await expect(
      store.analysis.breakdown(scope, {
        dimension: null,
        granularity: 'day',
        filters: [],
        rank_by: 'calls',
        top: null,
        time_zone: 'Mars/Olympus',
      }),
    ).rejects.toMatchObject({ field: 'time_zone' });
  });
});
