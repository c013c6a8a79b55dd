/**
 * What the HTTP layer needs from the rest of the app. app.ts builds it; tests build the same app with another config.
 */
import type { Config } from '../config.js';
import type { Repository } from '../db/repository.js';
import type { OtlpExporter } from '../ingest/otlp-export.js';
import type { IngestSource, IngestSummary } from '../ingest/pipeline.js';
import type { DependencyStatus } from '../observability/readiness.js';
import type { PricingService } from '../services/pricing-service.js';
import type { Logger } from '../logger.js';
import type { AnalyticsStore } from '../store/types.js';
import type { EventFilter } from '../store/event-filter.js';
import type { AnalysisService } from '../services/analysis-service.js';
import type { Accounts } from '../accounts/index.js';
import type { Observability } from '../observability/observability.js';
import type { JobRow } from '../db/repository.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { ConversationsRepository } from '../chat/conversations-repository.js';
import type { RunService } from '../chat/run-service.js';
import type { MemoryBudget } from './memory-budget.js';

export interface ServerDeps {
  config: Config;
  log: Logger;
  repo: Repository;
  store: AnalyticsStore;
  /** Validates, prices and stores items for one workspace through the one ingest path. */
  ingest(workspace: string, items: IngestSource): Promise<IngestSummary>;
  /**
   * A JSON events body through the ingest worker threads (ingest/json-ingest-pool.ts): the summary, or null when the
   * body is for the main thread's path (then `ingest` takes its parsed items). Absent: always the main thread.
   */
  ingestJsonBody?(workspace: string, body: Uint8Array, maxEvents: number): Promise<IngestSummary | null>;
  /** OTLP trace exports (HTTP and gRPC): spans → events, partial success, back-pressure */
  otlp: OtlpExporter;
  /** Creates the workspace row on first use. */
  ensureWorkspace(name: string): Promise<void>;
  /** Deletes a workspace's events by id or filter; the cache and the precompute of the workspace are told. */
  deleteEvents(workspace: string, filter: EventFilter): Promise<number>;
  /** the catalog listing, overrides (checked, stored, applied) and repricing */
  pricing: PricingService;
  analysis: AnalysisService;
  /** Per-dependency readiness. */
  readiness(): Promise<DependencyStatus[]>;
  /** metrics, memory health, startup task status, performance history (/metrics, /api/v1/system/performance) */
  observability?: Observability;
  /** accounts and security: identity, workspace access, API keys, provider secrets */
  accounts: Accounts;
  /** background jobs: GET/POST/DELETE /api/v1/jobs */
  jobs: {
    runner: JobRunner;
    /** validates the preset, queues a generation and returns its row at once */
    startGenerate(req: { workspace: string; preset: string; events: number; days?: number; seed?: number }): Promise<JobRow>;
  };
  /** the LLM gateway (src/gateway): /v1/* proxy endpoints and the workspace gateway policy; absent when disabled */
  gateway?: import('../gateway/index.js').Gateway;
  /** realized vs predicted savings of the gateway policy (GET /api/v1/workspaces/:workspace/gateway-savings); with the gateway */
  gatewaySavings?: import('../services/gateway-savings.js').GatewaySavingsService;
  /** the memory budget ingest requests reserve from before their body is read; absent: unbounded */
  bodyBudget?: MemoryBudget;
  /** conversations and agent runs: /api/v1/threads, /api/v1/runs; routes are absent without it */
  chat?: ChatDeps;
}

/** What the chat routes (and the WebSocket gateway) need. */
export interface ChatDeps {
  conversations: ConversationsRepository;
  runs: RunService;
}
