/**
 * Benchmark: import of the real Azure LLM inference trace (8,819 rows, test/fixtures/data) through the one ingest path
 * (CSV parsing, validation, pricing, de-duplication, DuckDB append and commit), against DuckDB's own read_csv of the
 * same file into a table, measured in the same run.
 *
 *   node --import tsx bench/import-azure.ts [--smoke]
 *
 * Data: Microsoft Azure, AzurePublicDataset (CC-BY 4.0); Splitwise, Patel et al., ISCA 2024.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { createIngestor } from '../src/ingest/pipeline.js';
import { importFile } from '../src/ingest/file-import.js';
import { createDuckDbStore } from '../src/store/duckdb-store.js';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const FILE = resolve(fileURLToPath(import.meta.url), '../../test/fixtures/data/azure-llm-inference-2023-code.csv');
const RUNS = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1' ? 1 : 5;

async function netraImport(dir: string, run: number): Promise<number> {
  const store = createDuckDbStore({ path: join(dir, `netra-${run}.duckdb`) });
  await store.init();
  const ingestor = createIngestor({ store, pricer: loadPriceCatalog() });
  const t0 = performance.now();
  const r = await importFile(FILE, { format: 'azure-trace', model: 'gpt-4o-mini', workspace: 'azure' }, ingestor);
  const s = await store.stats({ workspace: 'azure' }); // commits: part of the measured path
  const ms = performance.now() - t0;
  await store.close();
  if (r.accepted !== 8819 || s.prompt_tokens !== 18_059_974 || s.completion_tokens !== 245_896)
    throw new Error(`wrong import: ${JSON.stringify({ accepted: r.accepted, p: s.prompt_tokens })}`);
  return ms;
}

async function duckdbReadCsv(dir: string, run: number): Promise<number> {
  const db = await DuckDBInstance.create(join(dir, `raw-${run}.duckdb`));
  const conn = await db.connect();
  const t0 = performance.now();
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv('${FILE}', header = true)`);
  const ms = performance.now() - t0;
  const n = Number((await conn.runAndReadAll('SELECT count(*) FROM t')).getRowsJS()[0]![0]);
  conn.closeSync();
  db.closeSync();
  if (n !== 8819) throw new Error(`read_csv read ${n} rows`);
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'netra-bench-azure-'));
try {
  const netra: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    netra.push(await netraImport(dir, i));
    raw.push(await duckdbReadCsv(dir, i));
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const n = median(netra);
  const b = median(raw);
  console.log(
    JSON.stringify({
      bench: 'import-azure',
      rows: 8819,
      runs: RUNS,
      netra_import_ms: Math.round(n),
      netra_rows_per_s: Math.round(8819_000 / n),
      baseline_duckdb_read_csv_ms: Math.round(b),
      ratio_vs_read_csv: Number((b / n).toFixed(3)),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
