/**
 * Where a JSON ingest request's server CPU goes, stage by stage, on the same 1,000-event bodies as bench/ingest-http.ts
 * (one thread, no network; each stage's CPU time per event, best of the rounds, so it is less disturbed by other load
 * on the machine than wall time). Every stage from the body's bytes to the spool line and the load columns runs in an
 * ingest worker thread (src/ingest/json-batch.ts); the structured clone is what posting the events to a thread would
 * cost. Then DuckDB's load of the same rows into a fresh file store's `events`, both ways the store does it (process
 * CPU per event, DuckDB's threads included; rounds alternated): `INSERT ... read_ndjson` of the spool lines (what a
 * replay after a crash does) and the table function over the load columns (duckdb-load-columns.ts, the live load).
 *
 *   node --import tsx bench/ingest-stages.ts [--events 20000] [--rounds 5] [--smoke]
 */
import { cpuUsage } from 'node:process';
import { generateWorkload } from '../src/corpus/generator.js';
import { parseJsonBody } from '../src/ingest/json-body.js';
import { parseJsonSafe } from '../src/ingest/safe-json.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { bulkLoadSql, spoolLine } from '../src/store/duckdb-bulk-load.js';
import { encodeLoadColumns, LoadColumnsStage } from '../src/store/duckdb-load-columns.js';
import { migrateSchema } from '../src/store/duckdb-schema.js';
import { keyHash } from '../src/store/duckdb-key-index.js';
import { validateEvents } from '../src/store/duckdb-row-writer.js';
import { normalizeEvent, type WorkloadEvent } from '../src/workload/event.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const N = arg('--events', smoke ? 2_000 : 20_000);
const ROUNDS = arg('--rounds', smoke ? 1 : 5);
const BATCH = 1000;

const catalog = loadPriceCatalog();
const events: WorkloadEvent[] = [];
for (const [i, preset] of ['chat-support', 'rag-assistant'].entries()) {
  const w = generateWorkload({
    preset,
    events: i === 0 ? Math.ceil(N / 2) : Math.floor(N / 2),
    days: 7,
    seed: 7 + i,
    workspace: 'bench',
    pricer: catalog,
    tierOf: (m) => catalog.resolve(m)?.quality_tier ?? 2,
  });
  for (const b of w.batches()) events.push(...b);
}
const bodies: Buffer[] = [];
for (let s = 0; s < events.length; s += BATCH) {
  const wire = events.slice(s, s + BATCH).map(({ workspace: _w, cost_usd: _c, cost_source: _s, ...rest }) => rest);
  bodies.push(Buffer.from(JSON.stringify(wire)));
}
const bytes = bodies.reduce((a, b) => a + b.length, 0);
const ascii = bodies.every((b) => b.every((c) => c < 0x80));

function stage<I, O>(name: string, inputs: I[], fn: (x: I) => O): O[] {
  let best = Infinity;
  let out: O[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = cpuUsage();
    out = inputs.map(fn);
    const c = cpuUsage(c0);
    best = Math.min(best, c.user + c.system);
  }
  console.log(`${name.padEnd(34)} ${(best / N).toFixed(2).padStart(7)} µs/event`);
  return out;
}

console.log(`${N} events, ${(bytes / N).toFixed(0)} bytes/event, ascii bodies: ${ascii}`);
const texts = stage('body Buffer -> string (utf8)', bodies, (b) => b.toString('utf8'));
stage('body Buffer -> string (latin1)', bodies, (b) => b.toString('latin1'));
const parsed = stage('JSON.parse (safe)', texts, (t) => parseJsonSafe(t));
const ctx = { workspace: 'bench', pricer: catalog, newId: () => crypto.randomUUID() };
const normalized = stage('normalizeEvent x1000', parsed, (p) => {
  const items = parseJsonBody(p);
  if (!items.ok) throw new Error(items.message);
  return items.items.map((it) => {
    const n = normalizeEvent(it.raw, ctx);
    if (!n.ok) throw new Error(JSON.stringify(n.errors));
    return n.event;
  });
});
stage('validateEvents (store)', normalized, (b) => validateEvents(b));
const hashes = stage('keyHash', normalized, (b) => Float64Array.from(b, (e) => keyHash(e.workspace, e.event_id)));
const lines = stage('spoolLine', normalized, (b) => spoolLine(b, hashes[0]!));
stage('spool line -> utf8 Buffer', lines, (l) => Buffer.from(l, 'utf8'));
const columns = stage('load columns (encodeLoadColumns)', normalized, (b) => encodeLoadColumns(b));
stage('structuredClone of the batch', normalized, (b) => structuredClone(b));

// DuckDB's load of the same rows, both ways
const dir = mkdtempSync(join(tmpdir(), 'netra-stages-'));
const spoolFile = join(dir, 'spool.ndjson');
writeFileSync(spoolFile, lines.join(''));
const batchHashes = normalized.map((b) => Float64Array.from(b, (e) => keyHash(e.workspace, e.event_id)));
const best = { read_ndjson: Infinity, columns: Infinity };
for (let r = 0; r < ROUNDS; r++) {
  for (const way of ['read_ndjson', 'columns'] as const) {
    const path = join(dir, `${way}-${r}.duckdb`);
    const instance = await DuckDBInstance.create(path);
    const conn = await instance.connect();
    await migrateSchema(conn, path);
    const stage = new LoadColumnsStage(conn);
    const c0 = cpuUsage();
    if (way === 'read_ndjson') await conn.run(bulkLoadSql([spoolFile]));
    else {
      columns.forEach((c, i) => stage.add(c, batchHashes[i]!));
      await stage.commit();
    }
    const c = cpuUsage(c0);
    best[way] = Math.min(best[way], (c.user + c.system) / N);
    conn.closeSync();
    instance.closeSync();
  }
}
rmSync(dir, { recursive: true, force: true });
for (const [way, us] of Object.entries(best)) console.log(`${`DuckDB load: ${way}`.padEnd(34)} ${us.toFixed(2).padStart(7)} µs/event`);
