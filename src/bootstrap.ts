/**
 * Start-up helpers of the composition root (src/app.ts): analytics store selection and its open errors, the cache
 * namespace, LLM providers from config, and first-start demo seeding.
 */
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
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

/** Smallest DuckDB memory limit Netra accepts. */
export const MIN_DUCKDB_MEMORY_LIMIT = 128 * 2 ** 20;

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
  if (config.store.duckdbMemoryLimit) {
    // Spool loads from files get the JSON reader's need for their duration (duckdb-load-memory.ts); the floor is what
    // a query needs to run at all, its sorts and aggregates spilling past the limit.
    if (!(sizeBytes(config.store.duckdbMemoryLimit) >= MIN_DUCKDB_MEMORY_LIMIT)) {
      throw new NetraError(
        'CONFIG',
        `NETRA_DUCKDB_MEMORY_LIMIT=${config.store.duckdbMemoryLimit} is too small: at least ${MIN_DUCKDB_MEMORY_LIMIT / 2 ** 20}MiB`,
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
