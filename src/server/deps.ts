/**
 * What the HTTP layer needs from the rest of the app. app.ts builds it; tests build the same app with another config.
 */
import type { Config } from '../config.js';
import type { Repository } from '../db/repository.js';
import type { IngestSource, IngestSummary } from '../ingest/pipeline.js';
import type { DependencyStatus } from '../observability/readiness.js';
import type { PricingService } from '../services/pricing-service.js';
import type { Logger } from '../logger.js';
import type { AnalyticsStore } from '../store/types.js';
import type { AnalysisService } from '../services/analysis-service.js';
import type { Accounts } from '../accounts/index.js';
import type { Observability } from '../observability/observability.js';
import type { JobRow } from '../db/repository.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { ConversationsRepository } from '../chat/conversations-repository.js';
import type { RunService } from '../chat/run-service.js';


export interface ServerDeps {
  config: Config;
  log: Logger;
  repo: Repository;
  store: AnalyticsStore;
  /** Validates, prices and stores items for one workspace through the one ingest path. */
  ingest(workspace: string, items: IngestSource): Promise<IngestSummary>;
  /** Creates the workspace row on first use. */
  ensureWorkspace(name: string): Promise<void>;
  /** the catalog listing, overrides (checked, stored, applied) and repricing */
  pricing: PricingService;
  analysis: AnalysisService;
  /** Per-dependency readiness. */
  readiness(): Promise<DependencyStatus[]>;
  /** metrics, memory health, startup task status, performance history (issue 3: /metrics, /api/v1/system/performance) */
  observability?: Observability;
  /** accounts and security (issue 3): identity, workspace access, API keys, provider secrets */
  accounts: Accounts;
  /** background jobs (issue 3): GET/POST/DELETE /api/v1/jobs */
  jobs: {
    runner: JobRunner;
    /** validates the preset, queues a generation and returns its row at once */
    startGenerate(req: { workspace: string; preset: string; events: number; days?: number; seed?: number }): Promise<JobRow>;
  };
  /** conversations and agent runs (issue 5): /api/v1/threads, /api/v1/runs; routes are absent without it */
  chat?: ChatDeps;
}

/** What the chat routes (and the WebSocket gateway) need. */
export interface ChatDeps {
  conversations: ConversationsRepository;
  runs: RunService;
}
