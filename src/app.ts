// Longer than ~400 lines: the composition root wires every adapter, service and transport in one place.
/**
 * The composition root: one validated config → adapters (relational db, analytics store, price catalog)
 * → services (ingest, generate, reprice) → transport (Fastify). Tests build the same app with another config.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createOtlpExporter } from './ingest/otlp-export.js';
import { type OtlpGrpcServer, startOtlpGrpcServer } from './server/otlp-grpc.js';
import type { FastifyInstance } from 'fastify';
import { describeConfig, maskUrl, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { openDatabase, type DbHandle } from './db/client.js';
import { Repository } from './db/repository.js';
import { preparedStatements } from './db/prepared.js';
import type { AnalyticsStore, RepriceResult } from './store/types.js';
import type { EventFilter } from './store/event-filter.js';
import { loadPriceCatalog } from './workload/price-catalog-file.js';
import type { PriceCatalog } from './workload/price-catalog.js';
import type { SyntheticWorkspaces } from './agents/synthetic-data.js';
import { createIngestor, type Ingestor, type IngestSource, type IngestSummary } from './ingest/pipeline.js';
import { JsonIngestPool, jsonBodyIngest } from './ingest/json-ingest-pool.js';
import type { Manifest } from './corpus/generator.js';
import { buildServer } from './server/http.js';
import { MemoryBudget, defaultBodyBudgetBytes } from './server/memory-budget.js';
import { removeServerAddress, writeServerAddress } from './server/address-file.js';
import { createAnalysisService, type AnalysisService } from './services/analysis-service.js';
import { createAnalysisPrecompute, type AnalysisPrecompute } from './services/analysis-precompute.js';
import type { DependencyStatus } from './observability/readiness.js';
import { createWorkspaceChanges, type ChangeReason, type WorkspaceChanges } from './services/workspace-changes.js';
import { createPricingService, type PricingService } from './services/pricing-service.js';
import { createWorkloadsService, type GenerateRequest, type ImportRequest, type WorkloadsService } from './services/workloads-service.js';
import { createAccounts, type Accounts } from './accounts/index.js';
import { createQueryCache, type QueryCache } from './cache/index.js';
import { RedisQueryCache } from './cache/redis-query-cache.js';
import { Observability } from './observability/observability.js';
import { ReadinessProbes } from './observability/readiness.js';
import { createLlmClient, type LlmClient } from './llm/client.js';
import { StartupTaskScheduler } from './jobs/startup-tasks.js';
import { cacheWarmUpTask, prefixBlockBackfillTask, repriceAfterCatalogChangeTask, storeMaintenanceTask } from './jobs/maintenance-tasks.js';
import { createPrefixBlockBackfill, type PrefixBlockBackfill } from './services/prefix-block-backfill.js';
import type { WorkloadEvent } from './workload/event.js';
import { JobRunner } from './jobs/job-runner.js';
import type { JobRow } from './db/repository.js';
import { ConversationsRepository } from './chat/conversations-repository.js';
import { RunService } from './chat/run-service.js';
import { LocalRunEventBus, RedisRunEventBus, type RunEventBus } from './chat/run-event-bus.js';
import { createSupervisor } from './agents/index.js';
import { createDatasetAdmin, ownerCheck } from './services/dataset-admin.js';
import type { RunExecutor } from './agents/types.js';
import { createGateway, type Gateway } from './gateway/index.js';
import { createGatewayPolicyAdmin, createGatewaySavingsService, type GatewaySavingsService } from './services/gateway-savings.js';
import { restrictDataDir } from './data-dir.js';
import { workspacesOf } from './workload/event-columns.js';
import { llmProviders, openAnalyticsStore, seedDemo, storeNamespace, storeOpenError } from './bootstrap.js';

export type { GenerateRequest };

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly db: DbHandle;
  readonly repo: Repository;
  readonly store: AnalyticsStore;
  /** the catalog with every workspace's overrides applied */
  catalog(): PriceCatalog;
  /** JSON ingest bodies encoded by the worker threads / handed back to the main thread (null: no workers) */
  ingestWorkerCounts(): { encoded: number; declined: number } | null;
  ingest(workspace: string, items: IngestSource): Promise<IngestSummary>;
  importFile(path: string, opts: ImportRequest, onProgress?: (bytes: number, total: number) => void): Promise<IngestSummary>;
  generate(req: GenerateRequest, onProgress?: (done: number, total: number) => void): Promise<Manifest>;
  reprice(workspace: string): Promise<RepriceResult>;
  /** Deletes a workspace's events matching the filter (through the workspace-change path: cache, precompute, snapshot). */
  deleteEvents(workspace: string, filter: EventFilter): Promise<number>;
  /** generation and file import as jobs (src/services/workloads-service.ts) */
  readonly workloads: WorkloadsService;
  /** catalog, overrides, reprice (src/services/pricing-service.ts) */
  readonly pricing: PricingService;
  /** the one path every change of a workspace's data goes through (cache, precompute, snapshot, other processes) */
  readonly changes: WorkspaceChanges;
  /** background jobs: queue, progress, cancel; `generate`/`importFile` run through it too */
  readonly jobs: JobRunner;
  /** block chains for events stored before ingest derived them, a job per workspace (services/prefix-block-backfill.ts) */
  readonly backfill: PrefixBlockBackfill;
  /** Queues a generation as a background job and returns its row at once (POST /api/v1/jobs). */
  startGenerateJob(req: Omit<GenerateRequest, 'out' | 'signal' | 'end'>): Promise<JobRow>;
  /** analysis, what-if replay and recommended policy over the store */
  readonly analysis: AnalysisService;
  /** computes what a chat turn asks for after events land */
  readonly precompute: AnalysisPrecompute;
  /** users, sessions, workspace access, API keys, provider secrets */
  readonly accounts: Accounts;
  /** analytics query cache (memory, or Redis with REDIS_URL); null when NETRA_CACHE_ENABLED=false */
  readonly cache: QueryCache | null;
  /** metrics, memory health, performance history */
  readonly observability: Observability;
  /** the LLM client (built-in model unless NETRA_LLM_PROVIDERS names remote ones) */
  readonly llm: LlmClient;
  /** chat threads, messages, runs and run events */
  readonly conversations: ConversationsRepository;
  /** starts, streams, stops and resumes agent runs */
  readonly runs: RunService;
  /** the LLM gateway (src/gateway): null when NETRA_GATEWAY_ENABLED=false */
  readonly gateway: Gateway | null;
  /** realized vs predicted savings of the gateway policy: null when the gateway is disabled */
  readonly gatewaySavings: GatewaySavingsService | null;
  /** background maintenance after boot */
  readonly startupTasks: StartupTaskScheduler;
  readonly server: FastifyInstance;
  /** the OTLP/gRPC receiver's port once listening (null when NETRA_OTLP_GRPC_PORT=0 or before listen) */
  otlpGrpcPort(): number | null;
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
  /** the agents that execute chat runs (default: the supervisor of src/agents) */
  runExecutor?: RunExecutor;
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log = createLogger(opts.quiet && config.logLevel === 'info' ? 'warn' : config.logLevel, opts.logDestination);
  log.info({ config: describeConfig(config) }, 'effective configuration');
  const llmProviderConfigs = llmProviders(config); // validated before anything is opened

  // the data directory holds events, accounts and key material: owner only (0700), whatever the umask
  restrictDataDir(config);
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
  restrictDataDir(config); // files the stores created (events.duckdb, pg/): 0600 / 0700
  // accounts: creates the local owner on first start and adopts workspaces that have no member
  let accounts: Accounts;
  try {
    accounts = await createAccounts(config, db.db, log);
  } catch (err) {
    await store.close();
    await db.close();
    throw err;
  }

  // -- query cache and observability: every append into a workspace invalidates its cached results
  const cache: QueryCache | null = config.cache.enabled
    ? await createQueryCache(
        { ...config.cache, ...config.redis, redisPrefix: `${config.cache.redisPrefix}${storeNamespace(config)}:` },
        config.redisUrl,
        log,
      )
    : null;
  const observability = new Observability(config.observability, {
    storeTimings: () => store.queryTimings(),
    cache,
    pool: db.pool ?? null,
    log,
  });
  // every change of a workspace's data (ingest, generation, delete, reprice, override) goes through this one path
  const changes = createWorkspaceChanges({ cache, log });
  const appendAndNotify = (reason: ChangeReason) => async (events: readonly WorkloadEvent[]) => {
    const r = await store.append(events);
    if (r.inserted > 0) for (const ws of new Set(events.map((e) => e.workspace))) await changes.changed(ws, reason);
    return r;
  };

  const pricing = await createPricingService({ repo, store, changes, base: loadPriceCatalog() });
  const deleteEvents = async (workspace: string, filter: EventFilter) => {
    const deleted = await store.deleteEvents(workspace, filter);
    if (deleted > 0) await changes.changed(workspace, 'delete');
    log.info({ workspace, deleted, filter: { ...filter, ids: filter.ids ? `${filter.ids.length} ids` : undefined } }, 'events deleted');
    return deleted;
  };
  const knownWorkspaces = new Set<string>();
  const ensureWorkspace = async (name: string) => {
    if (knownWorkspaces.has(name)) return;
    const { created } = await repo.ensureWorkspace(name);
    // workspaces the app creates itself (CLI import/generate, seeding) belong to the local owner
    if (created) await accounts.access.addOwner(name, accounts.identity.localOwnerId());
    knownWorkspaces.add(name);
  };
  const ingestor: Ingestor = createIngestor({
    store: { append: appendAndNotify('ingest') },
    pricer: { price: (ws, m, u) => pricing.catalog().price(ws, m, u) },
    newId: randomUUID,
    logger: log,
    maxBatchBytes: config.ingest.maxBatchBytes,
  });

  const ingest = async (workspace: string, items: IngestSource) => {
    await ensureWorkspace(workspace);
    const r = await ingestor.ingest(workspace, items);
    observability.recordIngest('api', r);
    return r;
  };
  // JSON bodies parsed, validated, priced and encoded in worker threads when the store takes encoded batches
  const jsonPool = store.appendEncoded
    ? new JsonIngestPool({ threads: config.ingest.workerThreads, catalog: () => pricing.catalog(), log })
    : null;
  const ingestJsonBody = jsonPool
    ? jsonBodyIngest({
        pool: jsonPool,
        store,
        minBodyBytes: config.ingest.workerMinBodyBytes,
        ensureWorkspace,
        changed: (ws) => changes.changed(ws, 'ingest'),
        record: (r) => observability.recordIngest('api', r),
      })
    : undefined;
  const reprice = (workspace: string) => pricing.reprice(workspace);

  // -- background jobs: every generation and file import is a persisted job with progress and cancel
  const jobs = new JobRunner({
    repo,
    dbKind: db.kind,
    concurrency: config.jobs.concurrency,
    progressIntervalMs: config.jobs.progressIntervalMs,
    heartbeatIntervalMs: config.jobs.heartbeatIntervalMs,
    staleAfterMs: config.jobs.staleAfterMs,
    log: log.child({ component: 'jobs' }),
  });
  await jobs.recover(); // orphaned queued/running jobs → failed (PGlite: all of them; PostgreSQL: stale heartbeat only); starts the heartbeat
  const workloads = createWorkloadsService({
    jobs,
    ensureWorkspace,
    catalog: () => pricing.catalog(),
    append: appendAndNotify('generate'),
    appendColumns: async (batch) => {
      const r = await store.appendColumns(batch);
      if (r.inserted > 0) for (const ws of workspacesOf(batch)) await changes.changed(ws, 'generate');
      return r;
    },
    ingestor,
    recordIngest: (source, c) => observability.recordIngest(source, c),
  });

  const backfill = createPrefixBlockBackfill({
    store,
    jobs,
    dataDir: config.dataDir,
    ensureWorkspace,
    changed: (ws) => changes.changed(ws, 'backfill'),
  });

  const probes = new ReadinessProbes(
    [
      { name: `relational (${db.kind})`, required: true, check: () => db.ping() },
      {
        name: `analytics (${store.engine})`,
        required: true,
        graceMs: config.health.storeProbeGraceMs,
        check: async () => {
          const h = await store.health();
          if (!h.ok) throw new Error(h.detail ?? 'unhealthy');
        },
      },
      ...(cache instanceof RedisQueryCache ? [{ name: 'cache (redis)', required: config.redis.required, check: () => cache.ping() }] : []),
    ],
    { intervalMs: config.health.probeIntervalMs, timeoutMs: config.health.probeTimeoutMs },
  );
  const readiness = (): Promise<DependencyStatus[]> => probes.status();

  const analysis = createAnalysisService({ store, catalog: () => pricing.catalog(), cache });
  const precompute = createAnalysisPrecompute(
    { analysis, store, cache, log: log.child({ component: 'precompute' }) },
    { ...config.precompute, startupWorkspaces: config.startup.warmWorkspaces },
  );
  const pre = precompute;
  pre.registerMetrics(observability.metrics.registry);
  changes.attach({ precompute: pre });

  // -- startup tasks: maintenance 60 s after boot; failures make /health/ready 'degraded', never block start-up
  const startupTasks = new StartupTaskScheduler(
    [
      storeMaintenanceTask(store),
      repriceAfterCatalogChangeTask({ dataDir: config.dataDir, store, catalogVersion: () => pricing.baseVersion, reprice }),
      prefixBlockBackfillTask(backfill),
      cacheWarmUpTask({
        store,
        workspaces: config.startup.warmWorkspaces,
        analyze: async (workspace) => {
          const r = await pre.run(workspace); // the precompute's computation; a failure fails the task (degraded health)
          if (r.outcome === 'failed') throw new Error(r.reason);
          return r;
        },
      }),
    ],
    { ...config.startup, log: log.child({ component: 'startup-tasks' }) },
  );
  observability.setStartupTasks(() => startupTasks.status());

  // -- the LLM layer (src/llm): remote providers from config, always ending at the built-in model; calls and breaker
  // states go to /metrics. The agents (chat) use it; nothing calls a remote provider unless one is configured.
  const llm = createLlmClient({
    providers: llmProviderConfigs,
    timeoutMs: config.llm.timeoutMs,
    maxRetries: config.llm.maxRetries,
    baseDelayMs: config.llm.baseDelayMs,
    maxDelayMs: config.llm.maxDelayMs,
    backoffExponent: config.llm.backoffExponent,
    breakerThreshold: config.llm.breakerThreshold,
    halfOpenAfterMs: config.llm.halfOpenAfterMs,
    cacheTtlMs: config.llm.cacheTtlMs,
    cacheMaxEntries: config.llm.cacheMaxEntries,
    maxTokens: config.llm.maxTokens,
    temperature: config.llm.temperature,
    jitter: config.llm.jitter,
    log,
    onCall: (e) => observability.metrics.observeLlmCall(e),
  });
  observability.setLlmBreakers(() => llm.chain.map(({ name }) => ({ provider: name, state: llm.breakerState(name) ?? 'closed' })));

  // -- conversations: every run event is numbered and persisted before it is published
  // With REDIS_URL the run-event bus spans processes: a client of one process follows and stops runs executing in another.
  // the chat's hot writes are group-committed: one statement per kind for all turns arriving meanwhile (a few in flight on
  // PostgreSQL, whose pool runs them in parallel; one on PGlite, which runs one statement at a time anyway)
  const conversations = new ConversationsRepository(db.db, {
    groupCommitMaxRows: config.runs.groupCommitMaxRows,
    groupCommitConcurrency: db.kind === 'postgres' ? 4 : 1,
    // the batch statements are prepared (PGlite: once for its one session; PostgreSQL: once per pooled connection), not
    // planned per batch
    statements: preparedStatements(db),
  });
  // the dataset admin pipeline of the chat (list, delete, reprice): owner-only changes through the workspace-change path
  const datasets = createDatasetAdmin({ store, reprice, changes, isOwner: ownerCheck(accounts.access) });
  let runBus: RunEventBus = new LocalRunEventBus();
  if (config.redisUrl) {
    const bus = new RedisRunEventBus({
      url: config.redisUrl,
      prefix: config.cache.redisPrefix,
      log: log.child({ component: 'run-bus' }),
      ...config.redis,
    });
    await bus.connect();
    runBus = bus;
  }
  // rights changes reach open sockets of every process: local ones at once, others through the bus
  accounts.epochs.setPublisher((c) => runBus.publishAccessChange(c));
  runBus.onAccessChange((c) => accounts.epochs.applyRemote(c));
  changes.attach({ bus: runBus }); // other processes drop their snapshot of a workspace changed here
  // the chat's synthetic data goes to a workspace of its own, owned by the user who asked
  const syntheticWorkspaces: SyntheticWorkspaces = {
    exists: async (ws) => (await repo.getWorkspace(ws)) !== null || (await store.stats({ workspace: ws })).events > 0,
    apps: async (ws) =>
      (
        await analysis.breakdown({ workspace: ws, query: { dimension: 'app', granularity: null, filters: [], rank_by: 'calls', top: 200 } })
      ).rows
        .map((r) => r.key)
        .filter((k): k is string => k !== null && k !== '(other)'),
    create: async (ws, owner) => {
      await repo.ensureWorkspace(ws);
      await accounts.access.addOwner(ws, owner);
      knownWorkspaces.add(ws);
    },
  };
  // -- the LLM gateway: proxied calls are recorded through the same ingest path (a bounded queue, a spool when the store
  // is unavailable)
  const gateway = config.gateway.enabled
    ? await createGateway({
        config,
        log,
        repo,
        accounts,
        catalog: () => pricing.catalog(),
        registry: observability.metrics.registry,
        // cache hits are shared by the processes that share the relational database (its workspaces), never beyond
        redisPrefix: `${config.cache.redisPrefix}${createHash('sha256')
          .update(maskUrl(config.databaseUrl) ?? `pglite|${hostname()}|${config.dataDir}`)
          .digest('hex')
          .slice(0, 12)}:`,
        sink: async (workspace, events) => {
          const r = await ingestor.ingest(
            workspace,
            events.map((raw, index) => ({ index, raw })),
          );
          observability.recordIngest('gateway', r);
          return r;
        },
      })
    : null;
  // realized vs predicted savings of the gateway policy (the API, the dashboard and the chat share it)
  const gatewaySavings = gateway ? createGatewaySavingsService({ store, analysis, policy: (ws) => gateway.getPolicy(ws) }) : null;
  const gatewayPolicy =
    gateway && gatewaySavings
      ? createGatewayPolicyAdmin({ gateway, savings: gatewaySavings, analysis, mayManage: ownerCheck(accounts.access) })
      : undefined;
  // runs carry the process's instance id (the job runner's) and a heartbeat; a run whose process died is recorded failed
  const runs = new RunService({
    repo: conversations,
    bus: runBus,
    log: log.child({ component: 'runs' }),
    executor:
      opts.runExecutor ??
      createSupervisor({
        analysis,
        llm,
        generate: (req) => workloads.generate(req),
        catalog: () => pricing.catalog(),
        datasets,
        gatewayPolicy,
        workspaces: syntheticWorkspaces,
        log: log.child({ component: 'agents' }),
        timeZone: (workspace) => repo.getWorkspaceTimeZone(workspace),
      }),
    owner: jobs.owner,
    heartbeatIntervalMs: config.runs.heartbeatIntervalMs,
    staleAfterMs: config.runs.staleAfterMs,
  });
  // unfinished runs → failed (PGlite: all a previous process left; PostgreSQL: stale heartbeat only); starts the heartbeat
  await runs.recover(db.kind === 'pglite');

  const otlp = createOtlpExporter({
    ingest: async (workspace, items) => {
      await ensureWorkspace(workspace);
      const r = await ingestor.ingest(workspace, items);
      observability.recordIngest('otlp', r);
      return r;
    },
    maxSpansPerRequest: config.otlp.maxSpansPerRequest,
    maxConcurrent: config.otlp.maxConcurrentExports,
    onSkipped: (byKind) => observability.recordOtlpSkipped(byKind),
  });
  let grpcServer: OtlpGrpcServer | null = null;

  const server = await buildServer({
    gateway: gateway ?? undefined,
    gatewaySavings: gatewaySavings ?? undefined,
    bodyBudget: new MemoryBudget(config.ingest.memoryBudgetBytes || defaultBodyBudgetBytes()),
    config,
    log,
    repo,
    store,
    ingest,
    ingestJsonBody,
    otlp,
    ensureWorkspace,
    deleteEvents,
    pricing,
    readiness,
    analysis,
    accounts,
    observability,
    jobs: { runner: jobs, startGenerate: (req) => workloads.startGenerateJob(req) },
    chat: { conversations, runs },
  });

  let closing: Promise<void> | null = null;
  const app: App = {
    config,
    log,
    db,
    repo,
    store,
    server,
    analysis,
    gateway,
    gatewaySavings,
    precompute: pre,
    llm,
    accounts,
    cache,
    observability,
    startupTasks,
    conversations,
    runs,
    catalog: () => pricing.catalog(),
    ingestWorkerCounts: () => (jsonPool ? { ...jsonPool.counts } : null),
    ingest,
    reprice,
    deleteEvents,
    jobs,
    workloads,
    backfill,
    pricing,
    changes,
    importFile: (path, o, onProgress) => workloads.importFile(path, o, onProgress),
    generate: (req, onProgress) => workloads.generate(req, onProgress),
    startGenerateJob: (req) => workloads.startGenerateJob(req),
    otlpGrpcPort: () => grpcServer?.port ?? null,
    async listen() {
      const url = await server.listen({ host: config.host, port: config.port });
      try {
        writeServerAddress(config.dataDir, url); // the command line finds this server whatever its port
      } catch (err) {
        log.warn(
          { err: (err as Error).message },
          'could not write the server address into the data directory; the CLI will use NETRA_HOST/NETRA_PORT',
        );
      }
      if (config.otlp.grpcPort > 0 && !grpcServer) {
        grpcServer = await startOtlpGrpcServer(
          { otlp, accounts, log, defaultWorkspace: config.defaultWorkspace, maxMessageBytes: config.otlp.maxBodyBytes },
          config.otlp.grpcHost ?? config.host,
          config.otlp.grpcPort,
        );
      }
      // a serving process (not a CLI command) samples performance and runs startup tasks; timers are unref'd, close() clears them
      observability.start();
      probes.start();
      jsonPool?.start();
      if (config.startup.enabled) startupTasks.start();
      pre.start(); // NETRA_PRECOMPUTE_ENABLED=false: does nothing
      return url;
    },
    close() {
      closing ??= (async () => {
        await startupTasks.close();
        await pre.close(); // waits for a precompute step in progress (before the stores close)
        observability.close();
        probes.stop();
        await grpcServer?.close(); // OTLP/gRPC: calls in progress finish (their events are stored) before the stores close
        await server.close();
        await jsonPool?.close();
        removeServerAddress(config.dataDir);
        await gateway?.close(); // flushes recorded calls into the store (or the spool) before it closes
        await runs.close(); // agent runs still going are recorded cancelled
        await runBus.close();
        await jobs.close(); // running jobs are cancelled and recorded as such
        await cache?.close();
        await store.close();
        await db.close();
      })();
      return closing;
    },
  };

  if (config.seedDemo) {
    await seedDemo({
      config,
      repo,
      log,
      generate: (req) => workloads.generate(req),
      addLocalOwner: (ws) => accounts.access.addOwner(ws, accounts.identity.localOwnerId()),
    });
  }
  return app;
}
