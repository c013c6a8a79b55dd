/**
 * Start-up helpers of the composition root (src/app.ts): analytics store selection and its open errors, the cache
 * namespace, LLM providers from config, and first-start demo seeding.
 */
import { join, resolve } from 'node:path';
import { availableParallelism, hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { maskUrl, sizeBytes, type Config } from './config.js';
import type { Logger } from './logger.js';
import type { Repository } from './db/repository.js';
import { createDuckDbStore } from './store/duckdb-store.js';
import { createClickHouseStore } from './store/clickhouse-store.js';
import { createHttpExecutor } from './store/clickhouse-executor.js';
import type { AnalyticsStore } from './store/types.js';
import { PRESET_NAMES } from './corpus/generator.js';
import { NetraError } from './errors.js';
import type { ProviderConfig } from './llm/client.js';
import type { GenerateRequest } from './services/workloads-service.js';

/**
 * Which analytics data a cached answer belongs to: processes share Redis cache entries only when they read the same
 * store (the same ClickHouse database, or the same DuckDB file on the same host), never across separate stores.
 */
export function storeNamespace(config: Config): string {
  const id =
    config.store.engine === 'clickhouse'
      ? `clickhouse|${maskUrl(config.store.clickhouseUrl)}|${config.store.clickhouseDatabase}`
      : `duckdb|${hostname()}|${resolve(config.store.duckdbPath ?? join(config.dataDir, 'events.duckdb'))}`;
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

/** The remote LLM providers named in NETRA_LLM_PROVIDERS, in order (the built-in model is appended by the client). */
export function llmProviders(config: Config): ProviderConfig[] {
  return config.llm.providers.map((p): ProviderConfig => {
    if (p === 'anthropic') {
      if (!config.llm.anthropicApiKey)
        throw new NetraError(
          'CONFIG',
          'NETRA_LLM_PROVIDERS names anthropic but no NETRA_LLM_ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY) is set',
          { field: 'llm.anthropicApiKey' },
        );
      return {
        type: 'anthropic',
        apiKey: config.llm.anthropicApiKey,
        model: config.llm.anthropicModel,
        baseUrl: config.llm.anthropicBaseUrl,
      };
    }
    return { type: 'openai-compatible', baseUrl: config.llm.openaiBaseUrl, apiKey: config.llm.openaiApiKey, model: config.llm.openaiModel };
  });
}

/** The analytics store the config picks: embedded DuckDB (default) or ClickHouse over HTTP (CLICKHOUSE_URL). */
export function openAnalyticsStore(config: Config): AnalyticsStore {
  if (config.store.engine === 'clickhouse') {
    return createClickHouseStore({
      executor: createHttpExecutor({ url: config.store.clickhouseUrl! }),
      database: config.store.clickhouseDatabase,
      ttlDays: config.store.clickhouseTtlDays,
    });
  }
  const duckdb: Record<string, string> = {};
  const threads = config.store.duckdbThreads || availableParallelism();
  if (config.store.duckdbMemoryLimit) {
    // Loading spooled events, DuckDB's JSON reader takes two buffers of the largest line it accepts (256 MiB) per
    // thread; under that the loads fail with DuckDB's out-of-memory error (seen: 1GB with 2 threads).
    const floor = threads * 512 * 2 ** 20 + 256 * 2 ** 20;
    if (!(sizeBytes(config.store.duckdbMemoryLimit) >= floor)) {
      throw new NetraError(
        'CONFIG',
        `NETRA_DUCKDB_MEMORY_LIMIT=${config.store.duckdbMemoryLimit} is too small for ${threads} DuckDB threads: loading spooled events needs 512 MiB a thread, so at least ${Math.ceil(floor / 2 ** 20)}MiB (or fewer NETRA_DUCKDB_THREADS)`,
        { field: 'store.duckdbMemoryLimit' },
      );
    }
    duckdb.memory_limit = config.store.duckdbMemoryLimit;
  }
  if (config.store.duckdbThreads > 0) duckdb.threads = String(config.store.duckdbThreads);
  return createDuckDbStore({
    path: config.store.duckdbPath ?? join(config.dataDir, 'events.duckdb'),
    durability: config.store.durability,
    liveLoadMaxBytes: config.store.liveLoadMaxBytes,
    duckdb,
  });
}

export function storeOpenError(err: unknown): Error {
  const msg = (err as Error).message ?? String(err);
  if (/lock/i.test(msg)) {
    return new NetraError(
      'STORE',
      `the analytics store is in use by another Netra process (a running server?): ${msg.split('\n')[0]}. Stop it, or point NETRA_DATA_DIR elsewhere.`,
      { cause: err },
    );
  }
  return new NetraError('STORE', `cannot open the analytics store: ${msg}`, { cause: err });
}

export interface SeedDemoDeps {
  config: Pick<Config, 'defaultWorkspace' | 'demoEvents'>;
  repo: Pick<Repository, 'getWorkspace' | 'ensureWorkspace'>;
  generate(req: GenerateRequest): Promise<unknown>;
  /** makes the local owner the owner of the workspace */
  addLocalOwner(workspace: string): Promise<void>;
  log: Logger;
}

/** First start: a `demo` workspace with a generated week of traffic from every preset. */
export async function seedDemo(deps: SeedDemoDeps): Promise<void> {
  const ws = deps.config.defaultWorkspace;
  const existing = await deps.repo.getWorkspace(ws);
  if (existing) return;
  const total = deps.config.demoEvents;
  const t0 = performance.now();
  const end = Date.now();
  for (const [i, preset] of PRESET_NAMES.entries()) {
    const events = Math.floor(total / PRESET_NAMES.length) + (i < total % PRESET_NAMES.length ? 1 : 0);
    if (events > 0) await deps.generate({ preset, events, days: 7, seed: 1000 + i, workspace: ws, end });
  }
  await deps.repo.ensureWorkspace(ws);
  await deps.addLocalOwner(ws); // the local owner owns `demo`
  deps.log.info(
    { workspace: ws, events: total, ms: Math.round(performance.now() - t0) },
    'seeded demo workspace with a generated week of traffic',
  );
}
