/**
 * Benchmark: ingestion throughput of the DuckDB analytics store (with de-duplication) against DuckDB's own bulk
 * append of the same rows into a plain table, measured in the same run, plus the time of stats() over the full set.
 *
 *   node --import tsx bench/store-append.ts            # 1,000,000 events
 *   node --import tsx bench/store-append.ts --smoke    # 20,000 events (or BENCH_SMOKE=1)
 *   node --import tsx bench/store-append.ts --events 200000
 *
 * Events are appended in 1,000-event batches, each awaited before the next (like sequential HTTP requests), then
 * with four in flight (like four HTTP clients). The file store acknowledges a batch once it is synced in its spool.
 * Baselines (fresh database file each, same batches, same rows, no de-duplication, one commit at the end):
 * DuckDB's appender driven row by row with the store's own row writer minus the key column (appendVarchar, ...,
 * endRow), driven with DataChunks (appendDataChunk over column vectors), and DuckDB's `INSERT ... read_ndjson` of
 * the same rows from a file written before the clock starts. The ratio is taken against the fastest.
 * Also measured: durable acknowledgement by DuckDB's own commit instead of the spool (appender + flushSync after every
 * four batches, WAL synced), the alternative the store's design was chosen against.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBDataChunk, DuckDBInstance, timestampValue, type DuckDBValue } from '@duckdb/node-api';
import { createDuckDbStore, type DuckDbStoreOptions } from '../src/store/duckdb-store.js';
import { appendEventRows, tagsToJson } from '../src/store/duckdb-row-writer.js';
import { EVENT_TABLE_COLUMNS, MIGRATIONS, plainEventsDdl } from '../src/store/duckdb-schema.js';
import { bulkLoadSql, spoolLine } from '../src/store/duckdb-bulk-load.js';
import { keyHash } from '../src/store/duckdb-key-index.js';
import type { WorkloadEvent } from '../src/workload/event.js';

const BATCH = 1000;
const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const eventsArg = args.indexOf('--events');
const N = eventsArg >= 0 ? Number(args[eventsArg + 1]) : smoke ? 20_000 : 1_000_000;

// ---------- realistic events (deterministic) ----------
const MODELS: Array<[string, string, number, number]> = [
  ['openai', 'gpt-4o', 2.5e-6, 1e-5],
  ['openai', 'gpt-4o-mini', 1.5e-7, 6e-7],
  ['openai', 'o3-mini', 1.1e-6, 4.4e-6],
  ['anthropic', 'claude-sonnet-4', 3e-6, 1.5e-5],
  ['anthropic', 'claude-3-5-haiku', 8e-7, 4e-6],
  ['google', 'gemini-2.0-flash', 1e-7, 4e-7],
  ['mistral', 'mistral-large', 2e-6, 6e-6],
  ['openai', 'text-embedding-3-small', 2e-8, 0],
];
const APPS = ['support-bot', 'search', 'summarizer', 'code-review', 'email-drafts', 'classifier', 'rag-qa', 'sales-assist'];
const PROMPTS = [
  'Summarize the following customer ticket and propose a reply that resolves the billing question about',
  'You are a helpful assistant. Answer using only the context below. Question: how do I reset my password for',
  'Classify the sentiment and topic of this review, returning JSON with fields sentiment, topic, urgency for',
  'Review this pull request diff for bugs, security issues and style problems; list findings by severity in',
];

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeBenchEvents(n: number, seed = 42): WorkloadEvent[] {
  const r = rng(seed);
  const start = Date.UTC(2026, 0, 1);
  const out: WorkloadEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const [provider, model, inRate, outRate] = MODELS[Math.floor(r() * MODELS.length)]!;
    const prompt = Math.floor(50 + r() * 4000);
    const cached = r() < 0.3 ? Math.floor(prompt * r() * 0.8) : 0;
    const completion = model.startsWith('text-embedding') ? 0 : Math.floor(r() * 900);
    const error = r() < 0.03;
    const withText = r() < 0.3;
    const latency = r() < 0.97 ? Math.round((200 + r() * 6000) * 100) / 100 : null;
    out[i] = {
      event_id: `evt_${seed}_${i.toString(36)}_${Math.floor(r() * 2 ** 31).toString(36)}`,
      timestamp: start + i * 37 + Math.floor(r() * 30),
      workspace: i % 10 === 0 ? 'acme-labs' : 'acme',
      app: APPS[Math.floor(r() * APPS.length)]!,
      environment: r() < 0.85 ? 'production' : 'staging',
      end_user: r() < 0.6 ? `user_${Math.floor(r() * 20_000)}` : null,
      session_id: r() < 0.4 ? `sess_${Math.floor(r() * 200_000).toString(36)}` : null,
      trace_id:
        r() < 0.3
          ? Math.floor(r() * 2 ** 52)
              .toString(16)
              .padStart(32, '0')
          : null,
      span_id:
        r() < 0.3
          ? Math.floor(r() * 2 ** 52)
              .toString(16)
              .padStart(16, '0')
          : null,
      provider,
      model,
      operation: model.startsWith('text-embedding') ? 'embedding' : 'chat',
      prompt_tokens: prompt,
      completion_tokens: completion,
      cached_prompt_tokens: cached,
      latency_ms: latency,
      ttft_ms: latency !== null && r() < 0.5 ? Math.round(latency * 0.2) : null,
      status: error ? 'error' : 'ok',
      error_type: error ? (r() < 0.5 ? 'rate_limit' : 'timeout') : null,
      http_status: error ? 429 : 200,
      finish_reason: error ? null : r() < 0.9 ? 'stop' : 'length',
      max_tokens: r() < 0.5 ? 1024 : null,
      temperature: r() < 0.6 ? Math.round(r() * 10) / 10 : null,
      stream: r() < 0.5,
      cost_usd: (prompt - cached) * inRate + cached * inRate * 0.5 + completion * outRate,
      cost_source: r() < 0.9 ? 'catalog' : 'given',
      token_source: 'reported',
      prompt_hash: withText
        ? Math.floor(r() * 2 ** 52)
            .toString(16)
            .padStart(64, 'a')
        : null,
      prefix_hash:
        withText && r() < 0.5
          ? Math.floor(r() * 2 ** 52)
              .toString(16)
              .padStart(64, 'b')
          : null,
      prefix_tokens: null,
      prompt_text: withText
        ? `${PROMPTS[Math.floor(r() * PROMPTS.length)]} account #${Math.floor(r() * 1e6)} (order ${i}); keep it short and polite.`
        : null,
      response_text: null,
      quality_score: r() < 0.1 ? Math.round(r() * 100) / 100 : null,
      tags: r() < 0.3 ? { team: r() < 0.5 ? 'growth' : 'core', feature: `f${Math.floor(r() * 12)}` } : {},
    };
  }
  return out;
}

// ---------- baselines: DuckDB's own bulk append into a plain table, no de-duplication ----------
const PLAIN_COLUMNS = EVENT_TABLE_COLUMNS.filter((c) => c.name !== 'key_hash');

/** Events as DataChunks (≤ 2,048 rows, DuckDB's vector size), filled column by column through the vector API. */
function buildChunks(events: readonly WorkloadEvent[]): DuckDBDataChunk[] {
  const chunks: DuckDBDataChunk[] = [];
  for (let start = 0; start < events.length; start += 2048) {
    const end = Math.min(events.length, start + 2048);
    const chunk = DuckDBDataChunk.create(
      PLAIN_COLUMNS.map((c) => c.vectorType),
      end - start,
    );
    PLAIN_COLUMNS.forEach((col, c) => {
      const v = chunk.getColumnVector(c);
      for (let r = start; r < end; r++) {
        const e = events[r]!;
        const value =
          col.kind === 'timestamp'
            ? timestampValue(BigInt(Math.round(e.timestamp * 1000)))
            : col.kind === 'json'
              ? tagsToJson(e.tags)
              : (e as unknown as Record<string, DuckDBValue>)[col.name];
        v.setItem(r - start, value ?? null);
      }
      v.flush();
    });
    chunks.push(chunk);
  }
  return chunks;
}

/**
 * DuckDB's own bulk append: the same rows through one appender into a plain table, no de-duplication,
 * one commit at the end. `mode` picks the row-wise or the DataChunk appender API.
 */
export async function rawBulkAppend(
  path: string,
  events: readonly WorkloadEvent[],
  mode: 'rows' | 'chunks' | 'group-commit',
): Promise<number> {
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  await conn.run(plainEventsDdl('plain_events'));
  const t0 = performance.now();
  const app = await conn.createAppender('plain_events');
  for (let s = 0; s < events.length; s += BATCH) {
    const batch = events.slice(s, s + BATCH);
    if (mode === 'chunks') for (const chunk of buildChunks(batch)) app.appendDataChunk(chunk);
    else appendEventRows(app, batch, null);
    // durable acknowledgement by DuckDB's own commit (WAL synced), grouped as four concurrent requests would be
    if (mode === 'group-commit' && (s / BATCH) % 4 === 3) app.flushSync();
    await Promise.resolve(); // yield like an awaited request would
  }
  app.closeSync();
  const elapsed = performance.now() - t0;
  const count = (await conn.runAndReadAll('SELECT count(*) FROM plain_events')).getRowsJS()[0]![0];
  if (Number(count) !== events.length) throw new Error(`baseline stored ${count} rows, expected ${events.length}`);
  conn.closeSync();
  db.closeSync();
  return elapsed;
}

/**
 * DuckDB's own bulk load of the same rows from a file: one `INSERT ... read_ndjson` of a pre-written file in the
 * store's spool format (written before the clock starts), into a fresh `events` table. Returns the load's ms.
 */
export async function rawBulkLoadNdjson(path: string, events: readonly WorkloadEvent[]): Promise<number> {
  const file = `${path}.ndjson`;
  const parts: string[] = [];
  for (let s = 0; s < events.length; s += BATCH) {
    const batch = events.slice(s, s + BATCH);
    parts.push(
      spoolLine(
        batch,
        Float64Array.from(batch, (e) => keyHash(e.workspace, e.event_id)),
      ),
    );
  }
  writeFileSync(file, parts.join(''));
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  for (const sql of MIGRATIONS[0]!.statements) await conn.run(sql);
  const t0 = performance.now();
  await conn.run(bulkLoadSql([file]));
  const elapsed = performance.now() - t0;
  const count = (await conn.runAndReadAll('SELECT count(*) FROM events')).getRowsJS()[0]![0];
  if (Number(count) !== events.length) throw new Error(`NDJSON baseline stored ${count} rows, expected ${events.length}`);
  conn.closeSync();
  db.closeSync();
  rmSync(file);
  return elapsed;
}

async function storeAppend(path: string, events: readonly WorkloadEvent[], opts: Partial<DuckDbStoreOptions> = {}) {
  const store = createDuckDbStore({ path, ...opts });
  await store.init();
  const t0 = performance.now();
  let inserted = 0;
  for (let s = 0; s < events.length; s += BATCH) inserted += (await store.append(events.slice(s, s + BATCH))).inserted;
  await store.flush();
  const elapsed = performance.now() - t0;
  if (inserted !== events.length) throw new Error(`store inserted ${inserted}, expected ${events.length}`);
  return { store, elapsed };
}

async function storeAppendConcurrent(
  path: string,
  events: readonly WorkloadEvent[],
  inFlight: number,
  opts: Partial<DuckDbStoreOptions>,
): Promise<number> {
  const store = createDuckDbStore({ path, ...opts });
  await store.init();
  const t0 = performance.now();
  let next = 0;
  let inserted = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < events.length) {
        const s = next;
        next += BATCH;
        const r = await store.append(events.slice(s, s + BATCH));
        inserted += r.inserted;
      }
    }),
  );
  await store.flush();
  const elapsed = performance.now() - t0;
  await store.close();
  if (inserted !== events.length) throw new Error(`store inserted ${inserted}, expected ${events.length}`);
  return elapsed;
}

const rate = (n: number, msec: number) => Math.round((n / msec) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netra-bench-store-'));
  try {
    const tg = performance.now();
    const events = makeBenchEvents(N);
    console.log(
      `store-append: ${fmt(N)} events in ${BATCH}-event batches (generated in ${(performance.now() - tg).toFixed(0)} ms), DuckDB file in ${dir}`,
    );

    // warm-up (JIT, native module) on a small set, not measured
    const warm = makeBenchEvents(5_000, 7);
    await rawBulkAppend(join(dir, 'warm-a.duckdb'), warm, 'rows');
    await rawBulkAppend(join(dir, 'warm-b.duckdb'), warm, 'chunks');
    await (await storeAppend(join(dir, 'warm-c.duckdb'), warm)).store.close();

    const rowsMs = await rawBulkAppend(join(dir, 'baseline-rows.duckdb'), events, 'rows');
    console.log(`baseline  DuckDB appender, row API      : ${fmt(rate(N, rowsMs)).padStart(9)} events/s  (${rowsMs.toFixed(0)} ms)`);
    const chunksMs = await rawBulkAppend(join(dir, 'baseline-chunks.duckdb'), events, 'chunks');
    console.log(`baseline  DuckDB appender, DataChunk API: ${fmt(rate(N, chunksMs)).padStart(9)} events/s  (${chunksMs.toFixed(0)} ms)`);

    const ndjsonMs = await rawBulkLoadNdjson(join(dir, 'baseline-ndjson.duckdb'), events);
    console.log(
      `baseline  DuckDB INSERT ... read_ndjson  : ${fmt(rate(N, ndjsonMs)).padStart(9)} events/s  (${ndjsonMs.toFixed(0)} ms, file written before the clock)`,
    );
    const groupMs = await rawBulkAppend(join(dir, 'baseline-group.duckdb'), events, 'group-commit');
    console.log(
      `durable   DuckDB commit per 4 batches   : ${fmt(rate(N, groupMs)).padStart(9)} events/s  (${groupMs.toFixed(0)} ms; appender + flushSync, WAL synced, on the calling thread)`,
    );

    const { store, elapsed } = await storeAppend(join(dir, 'store.duckdb'), events);
    console.log(
      `store     append() dedup + spool fsync  : ${fmt(rate(N, elapsed)).padStart(9)} events/s  (${elapsed.toFixed(0)} ms, one batch in flight, includes the final load)`,
    );
    const best = Math.min(rowsMs, chunksMs, ndjsonMs);
    console.log(`ratio     store / fastest bulk append   : ${(best / elapsed).toFixed(2)}`);

    // duplicates: re-send 10% of the events (a client retrying), all must be refused
    const retry = events.slice(0, Math.max(BATCH, Math.floor(N / 10)));
    const td = performance.now();
    let dups = 0;
    for (let s = 0; s < retry.length; s += BATCH) dups += (await store.append(retry.slice(s, s + BATCH))).duplicates;
    const dupMs = performance.now() - td;
    if (dups !== retry.length) throw new Error(`expected ${retry.length} duplicates, got ${dups}`);
    console.log(
      `store     re-sent duplicates refused    : ${fmt(rate(retry.length, dupMs)).padStart(9)} events/s  (${fmt(retry.length)} in ${dupMs.toFixed(0)} ms)`,
    );

    const ts = performance.now();
    const stats = await store.stats({ workspace: 'acme' });
    const statsMs = performance.now() - ts;
    console.log(
      `stats()   over ${fmt(stats.events)} events of 'acme', ${stats.by_model.length} models: ${statsMs.toFixed(0)} ms (p50 ${stats.latency_p50_ms?.toFixed(0)} ms, spend $${stats.spend_usd.toFixed(2)})`,
    );
    await store.close();

    // four appends in flight (like four HTTP clients): their spool writes share syncs
    const par = await storeAppendConcurrent(join(dir, 'store-par.duckdb'), events, 4, {});
    console.log(`store     append() x4 in flight, fsync  : ${fmt(rate(N, par)).padStart(9)} events/s`);
    const parWrite = await storeAppendConcurrent(join(dir, 'store-par-write.duckdb'), events, 4, { durability: 'write' });
    console.log(
      `store     append() x4 in flight, write  : ${fmt(rate(N, parWrite)).padStart(9)} events/s  (NETRA_STORE_DURABILITY=write: no sync)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
