/**
 * The composition root: one validated config → adapters (relational db, analytics store, price catalog)
 * → services (ingest, generate, reprice) → transport (Fastify). Tests build the same app with another config.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { describeConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { openDatabase, type DbHandle } from './db/client.js';
import { Repository, type PriceOverrideRow } from './db/repository.js';
import type { AnalyticsStore, RepriceResult } from './store/types.js';
import { loadPriceCatalog } from './workload/price-catalog-file.js';
import type { PriceCatalog } from './workload/price-catalog.js';
import type { SyntheticWorkspaces } from './agents/synthetic-data.js';
import { createIngestor, type Ingestor, type IngestSource } from './ingest/pipeline.js';
import { importFile, type ImportOptions } from './ingest/file-import.js';
import { generateWorkload, PRESET_NAMES, type Manifest } from './corpus/generator.js';
import { NetraError } from './errors.js';
import { buildServer } from './server/http.js';
import { createAnalysisService, type AnalysisService } from './services/analysis-service.js';
import { createAnalysisPrecompute, type AnalysisPrecompute } from './services/analysis-precompute.js';
import type { DependencyStatus, IngestSummary } from './server/deps.js';
import { createAccounts, type Accounts } from './accounts/index.js';
// query cache, observability, startup tasks (issue 3)
import { createQueryCache, type QueryCache } from './cache/index.js';
import { RedisQueryCache } from './cache/redis-query-cache.js';
import { Observability } from './observability/observability.js';
import { createLlmClient, type LlmClient } from './llm/client.js';
import { StartupTaskScheduler } from './jobs/startup-tasks.js';
import { cacheWarmUpTask, repriceAfterCatalogChangeTask, storeMaintenanceTask } from './jobs/maintenance-tasks.js';
import type { WorkloadEvent } from './workload/event.js';
// background jobs (issue 3)
import { JobRunner, type JobContext, type JobSpec } from './jobs/job-runner.js';
import type { JobRow } from './db/repository.js';
// conversations and agent runs (issue 5)
import { ConversationsRepository } from './chat/conversations-repository.js';
import { RunService } from './chat/run-service.js';
import { LocalRunEventBus, RedisRunEventBus, type RunEventBus } from './chat/run-event-bus.js';
import { createSupervisor } from './agents/index.js';
import { createDatasetAdmin, ownerCheck } from './services/dataset-admin.js';
import type { RunExecutor } from './agents/types.js';
import { llmProviders, loadOverrides, openAnalyticsStore, probe, seedDemo, storeNamespace, storeOpenError, toOverride } from './bootstrap.js';

export interface GenerateRequest {
  preset: string;
  events: number;
  days?: number;
  seed?: number;
  workspace: string;
  /** write JSONL here instead of the store */
  out?: string;
  /** end of the generated window (epoch ms); default now */
  end?: number;
  /** stops the generation between batches; what was stored before stays (the job is recorded cancelled) */
  signal?: AbortSignal;
}

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly db: DbHandle;
  readonly repo: Repository;
  readonly store: AnalyticsStore;
  /** the catalog with every workspace's overrides applied */
  catalog(): PriceCatalog;
  ingest(workspace: string, items: IngestSource): Promise<IngestSummary>;
  importFile(path: string, opts: Omit<ImportOptions, 'workspace'> & { workspace: string }, onProgress?: (bytes: number, total: number) => void): Promise<IngestSummary>;
  generate(req: GenerateRequest, onProgress?: (done: number, total: number) => void): Promise<Manifest>;
  reprice(workspace: string): Promise<RepriceResult>;
  /** background jobs: queue, progress, cancel; `generate`/`importFile` run through it too (issue 3) */
  readonly jobs: JobRunner;
  /** Queues a generation as a background job and returns its row at once (POST /api/v1/jobs). */
  startGenerateJob(req: Omit<GenerateRequest, 'out' | 'signal' | 'end'>): Promise<JobRow>;
  /** analysis, what-if replay and recommended policy over the store */
  readonly analysis: AnalysisService;
  /** computes what a chat turn asks for after events land (issue 5 "How fast") */
  readonly precompute: AnalysisPrecompute;
  /** users, sessions, workspace access, API keys, provider secrets (issue 3) */
  readonly accounts: Accounts;
  /** analytics query cache (memory, or Redis with REDIS_URL); null when NETRA_CACHE_ENABLED=false (issue 3) */
  readonly cache: QueryCache | null;
  /** metrics, memory health, performance history (issue 3) */
  readonly observability: Observability;
  /** the LLM client (built-in model unless NETRA_LLM_PROVIDERS names remote ones) */
  readonly llm: LlmClient;
  /** chat threads, messages, runs and run events (issue 5) */
  readonly conversations: ConversationsRepository;
  /** starts, streams, stops and resumes agent runs (issue 5) */
  readonly runs: RunService;
  /** background maintenance after boot (issue 3) */
  readonly startupTasks: StartupTaskScheduler;
  readonly server: FastifyInstance;
  /** Starts listening; returns the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests, flushes, closes stores. Idempotent. */
  close(): Promise<void>;
}

export interface AppOptions {
  /** log destination (tests capture logs) */
  logDestination?: import('pino').DestinationStream;
  /** CLI commands: only warnings and errors */
  quiet?: boolean;
  /** the agents that execute chat runs (default: the supervisor of src/agents) (issue 5) */
  runExecutor?: RunExecutor;
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log = createLogger(opts.quiet && config.logLevel === 'info' ? 'warn' : config.logLevel, opts.logDestination);
  log.info({ config: describeConfig(config) }, 'effective configuration');
  const llmProviderConfigs = llmProviders(config); // validated before anything is opened

  const db = await openDatabase(config, log);
  const repo = new Repository(db.db);
  let store: AnalyticsStore;
  try {
    store = openAnalyticsStore(config);
    await store.init();
  } catch (err) {
    await db.close();
    throw storeOpenError(err);
  }
  // accounts: creates the local owner on first start and adopts workspaces that have no member (issue 3)
  let accounts: Accounts;
  try {
    accounts = await createAccounts(config, db.db, log);
  } catch (err) {
    await store.close();
    await db.close();
    throw err;
  }

  // -- query cache and observability (issue 3): every append into a workspace invalidates its cached results
  const cache: QueryCache | null = config.cache.enabled
    ? await createQueryCache({ ...config.cache, redisPrefix: `${config.cache.redisPrefix}${storeNamespace(config)}:` }, config.redisUrl, log)
    : null;
  const observability = new Observability(config.observability, { storeTimings: () => store.queryTimings(), cache, pool: db.pool ?? null, log });
  let precompute: AnalysisPrecompute | undefined; // created with the analysis service below
  const appendAndInvalidate = async (events: readonly WorkloadEvent[]) => {
    const r = await store.append(events);
    if (r.inserted > 0 && cache) for (const ws of new Set(events.map((e) => e.workspace))) { await cache.invalidate(ws); precompute?.touch(ws); }
    return r;
  };

  const baseCatalog = loadPriceCatalog();
  let catalog = baseCatalog.withOverrides(await loadOverrides(repo));
  const knownWorkspaces = new Set<string>();
  const ensureWorkspace = async (name: string) => {
    if (knownWorkspaces.has(name)) return;
    const { created } = await repo.ensureWorkspace(name);
    // workspaces the app creates itself (CLI import/generate, seeding) belong to the local owner (issue 3)
    if (created) await accounts.access.addOwner(name, accounts.identity.localOwnerId());
    knownWorkspaces.add(name);
  };
  const ingestor: Ingestor = createIngestor({ store: { append: appendAndInvalidate }, pricer: { price: (ws, m, u) => catalog.price(ws, m, u) }, newId: randomUUID, logger: log });

  const ingest = async (workspace: string, items: IngestSource) => {
    await ensureWorkspace(workspace);
    const r = await ingestor.ingest(workspace, items);
    observability.recordIngest('api', r);
    return r;
  };

  /** Throws NETRA_E_VALIDATION when the override, together with the stored ones, would not make a valid catalog. */
  const checkOverride = async (o: PriceOverrideRow) => {
    const others = (await loadOverrides(repo)).filter((x) => !(x.workspace === o.workspace && x.model === o.model));
    try {
      baseCatalog.withOverrides([...others, toOverride(o)]);
    } catch (err) {
      if (!(err instanceof NetraError)) throw err;
      throw new NetraError('VALIDATION', err.message.replace(/price override overrides\[\d+\]\.?/, 'price override '), { field: err.field?.replace(/^overrides\[\d+\]\.?/, '') || 'model' });
    }
  };

  const reprice = async (workspace: string): Promise<RepriceResult> => {
    catalog = baseCatalog.withOverrides(await loadOverrides(repo));
    const models = await store.models(workspace);
    const r = await store.reprice(workspace, catalog.rateMap(workspace, models));
    await cache?.invalidate(workspace); // costs changed
    precompute?.touch(workspace);
    return r;
  };

  // -- background jobs (issue 3): every generation and file import is a persisted job with progress and cancel
  const jobs = new JobRunner({ repo, dbKind: db.kind, concurrency: config.jobs.concurrency, progressIntervalMs: config.jobs.progressIntervalMs, heartbeatIntervalMs: config.jobs.heartbeatIntervalMs, staleAfterMs: config.jobs.staleAfterMs, log: log.child({ component: 'jobs' }) });
  await jobs.recover(); // orphaned queued/running jobs → failed (PGlite: all of them; PostgreSQL: stale heartbeat only); starts the heartbeat
  const submitJob = async <T>(spec: JobSpec<T>) => {
    await ensureWorkspace(spec.workspace);
    return jobs.submit(spec);
  };

  const checkPreset = (preset: string) => {
    if (!PRESET_NAMES.includes(preset)) {
      throw new NetraError('VALIDATION', `unknown preset '${preset}'; choose one of ${PRESET_NAMES.join(', ')}`, { field: 'preset' });
    }
  };

  /** Generates batch by batch into the store (or a JSONL file), checking the job's signal between batches. */
  const generateWork = async (req: GenerateRequest, ctx: JobContext, onProgress?: (done: number, total: number) => void) => {
    const gen = generateWorkload({
      preset: req.preset, events: req.events, days: req.days ?? 7, seed: req.seed ?? 1, workspace: req.workspace,
      end: req.end, pricer: catalog, tierOf: (m: string) => catalog.resolve(m)?.quality_tier ?? 2,
    });
    const file = req.out ? createWriteStream(req.out) : null;
    let done = 0;
    let accepted = 0;
    let duplicates = 0;
    try {
      for (const batch of gen.batches()) {
        // the store's append may complete without a macrotask turn: yield so requests (status, cancel) are served meanwhile
        await new Promise<void>((res) => setImmediate(res));
        ctx.signal.throwIfAborted();
        if (file) {
          if (!file.write(batch.map((e) => JSON.stringify(e)).join('\n') + '\n')) await once(file, 'drain');
          accepted += batch.length;
        } else {
          const r = await appendAndInvalidate(batch);
          accepted += r.inserted;
          duplicates += r.duplicates;
          observability.recordIngest('generate', { accepted: r.inserted, rejected: 0, duplicates: r.duplicates });
        }
        done += batch.length;
        onProgress?.(done, req.events);
        ctx.progress(done / req.events, { accepted, duplicates });
      }
    } finally {
      if (file) await new Promise<void>((res, rej) => file.end((err?: Error | null) => (err ? rej(err) : res())));
    }
    return { manifest: gen.manifest(), accepted, duplicates };
  };

  const generateSpec = (req: GenerateRequest, onProgress?: (done: number, total: number) => void): JobSpec<Awaited<ReturnType<typeof generateWork>>> => ({
    workspace: req.workspace, kind: 'generate', source: req.preset, format: req.out ? 'jsonl' : undefined, signal: req.signal,
    work: (ctx) => generateWork(req, ctx, onProgress),
    summarize: (r) => ({ accepted: r.accepted, duplicates: r.duplicates, result: { manifest: r.manifest } as Record<string, unknown> }),
  });

  const generate = async (req: GenerateRequest, onProgress?: (done: number, total: number) => void): Promise<Manifest> => {
    checkPreset(req.preset);
    const { done } = await submitJob(generateSpec(req, onProgress));
    return (await done).manifest;
  };

  const startGenerateJob: App['startGenerateJob'] = async (req) => {
    checkPreset(req.preset);
    return (await submitJob(generateSpec(req))).job;
  };

  const importFromFile: App['importFile'] = async (path, o, onProgress) => {
    const { done } = await submitJob({
      workspace: o.workspace, kind: 'import', source: path, format: o.format, signal: o.signal,
      work: async (ctx) => {
        const r = await importFile(path, { ...o, signal: ctx.signal }, ingestor, (p) => {
          onProgress?.(p.bytesRead, p.totalBytes);
          ctx.progress(p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 0, { accepted: p.accepted, rejected: p.rejected, duplicates: p.duplicates });
        });
        observability.recordIngest('file', r);
        return r;
      },
      summarize: (r) => ({ accepted: r.accepted, rejected: r.rejected, duplicates: r.duplicates, errors: r.errors.slice(0, 100) }),
    });
    return done;
  };

  const readiness = async (): Promise<DependencyStatus[]> => Promise.all([
    probe(`relational (${db.kind})`, () => db.ping()),
    probe(`analytics (${store.engine})`, async () => {
      const h = await store.health();
      if (!h.ok) throw new Error(h.detail ?? 'unhealthy');
    }),
    ...(cache instanceof RedisQueryCache ? [probe('cache (redis)', () => cache.ping())] : []),
  ]);

  const analysis = createAnalysisService({ store, catalog: () => catalog, cache });
  precompute = createAnalysisPrecompute({ analysis, store, cache, log: log.child({ component: 'precompute' }) }, { ...config.precompute, startupWorkspaces: config.startup.warmWorkspaces });
  const pre = precompute;
  pre.registerMetrics(observability.metrics.registry);

  // -- startup tasks (issue 3): maintenance 60 s after boot; failures make /health/ready 'degraded', never block start-up
  const startupTasks = new StartupTaskScheduler([
    storeMaintenanceTask(store),
    repriceAfterCatalogChangeTask({ dataDir: config.dataDir, store, catalogVersion: () => baseCatalog.version, reprice }),
    cacheWarmUpTask({ store, workspaces: config.startup.warmWorkspaces, analyze: async (workspace) => {
      const r = await pre.run(workspace); // the precompute's computation; a failure fails the task (degraded health)
      if (r.outcome === 'failed') throw new Error(r.reason);
      return r;
    } }),
  ], { ...config.startup, log: log.child({ component: 'startup-tasks' }) });
  observability.setStartupTasks(() => startupTasks.status());

  // -- the LLM layer (src/llm): remote providers from config, always ending at the built-in model; calls and breaker
  // states go to /metrics. The agents (chat) use it; nothing calls a remote provider unless one is configured.
  const llm = createLlmClient({
    providers: llmProviderConfigs,
    timeoutMs: config.llm.timeoutMs, maxRetries: config.llm.maxRetries, baseDelayMs: config.llm.baseDelayMs, maxDelayMs: config.llm.maxDelayMs,
    backoffExponent: config.llm.backoffExponent, breakerThreshold: config.llm.breakerThreshold, halfOpenAfterMs: config.llm.halfOpenAfterMs,
    cacheTtlMs: config.llm.cacheTtlMs, cacheMaxEntries: config.llm.cacheMaxEntries, maxTokens: config.llm.maxTokens,
    temperature: config.llm.temperature, jitter: config.llm.jitter, log,
    onCall: (e) => observability.metrics.observeLlmCall(e),
  });
  observability.setLlmBreakers(() => llm.chain.map(({ name }) => ({ provider: name, state: llm.breakerState(name) ?? 'closed' })));

  // -- conversations (issue 5): every run event is numbered and persisted before it is published
  // With REDIS_URL the run-event bus spans processes: a client of one process follows and stops runs executing in another.
  const conversations = new ConversationsRepository(db.db);
  // the dataset admin pipeline of the chat (list, delete, reprice): owner-only changes, cache invalidated after a delete
  const datasets = createDatasetAdmin({ store, reprice, cache, isOwner: ownerCheck(accounts.access) });
  let runBus: RunEventBus = new LocalRunEventBus();
  if (config.redisUrl) {
    const bus = new RedisRunEventBus({ url: config.redisUrl, prefix: config.cache.redisPrefix, log: log.child({ component: 'run-bus' }) });
    await bus.connect();
    runBus = bus;
  }
  // the chat's synthetic data goes to a workspace of its own, owned by the user who asked
  const syntheticWorkspaces: SyntheticWorkspaces = {
    exists: async (ws) => (await repo.getWorkspace(ws)) !== null || (await store.stats({ workspace: ws })).events > 0,
    apps: async (ws) => (await analysis.breakdown({ workspace: ws, query: { dimension: 'app', granularity: null, filters: [], rank_by: 'calls', top: 200 } })).rows.map((r) => r.key).filter((k): k is string => k !== null && k !== '(other)'),
    create: async (ws, owner) => {
      await repo.ensureWorkspace(ws);
      await accounts.access.addOwner(ws, owner);
      knownWorkspaces.add(ws);
    },
  };
  // runs carry the process's instance id (the job runner's) and a heartbeat; a run whose process died is recorded failed
  const runs = new RunService({
    repo: conversations, bus: runBus, log: log.child({ component: 'runs' }),
    executor: opts.runExecutor ?? createSupervisor({ analysis, llm, generate: (req) => generate(req), catalog: () => catalog, datasets, workspaces: syntheticWorkspaces }),
    owner: jobs.owner, heartbeatIntervalMs: config.runs.heartbeatIntervalMs, staleAfterMs: config.runs.staleAfterMs,
  });
  // unfinished runs → failed (PGlite: all a previous process left; PostgreSQL: stale heartbeat only); starts the heartbeat
  await runs.recover(db.kind === 'pglite');

  const server = await buildServer({
    config, log, repo, store, ingest, ensureWorkspace, reprice, readiness, checkOverride, analysis, accounts, observability,
    jobs: { runner: jobs, startGenerate: startGenerateJob },
    chat: { conversations, runs },
    catalog: () => ({ version: catalog.version, prices_taken: catalog.pricesTaken, models: catalog.entriesFor('') }),
  });

  let closing: Promise<void> | null = null;
  const app: App = {
    config, log, db, repo, store, server, analysis, precompute: pre, llm, accounts, cache, observability, startupTasks, conversations, runs,
    catalog: () => catalog,
    ingest, importFile: importFromFile, generate, reprice, jobs, startGenerateJob,
    async listen() {
      const url = await server.listen({ host: config.host, port: config.port });
      // a serving process (not a CLI command) samples performance and runs startup tasks; timers are unref'd, close() clears them
      observability.start();
      if (config.startup.enabled) startupTasks.start();
      pre.start(); // NETRA_PRECOMPUTE_ENABLED=false: does nothing
      return url;
    },
    close() {
      closing ??= (async () => {
        await startupTasks.close();
        await pre.close(); // waits for a precompute step in progress (before the stores close)
        observability.close();
        await server.close();
        await runs.close(); // agent runs still going are recorded cancelled (issue 5)
        await runBus.close();
        await jobs.close(); // running jobs are cancelled and recorded as such
        await cache?.close();
        await store.close();
        await db.close();
      })();
      return closing;
    },
  };

  if (config.seedDemo) await seedDemo(app, log);
  return app;
}
