/**
 * What the HTTP layer needs from the rest of the app. app.ts builds it; tests build the same app with another config.
 */
import type { Config } from '../config.js';
import type { PriceOverrideRow, Repository } from '../db/repository.js';
import type { FieldError } from '../errors.js';
import type { IngestSource } from '../ingest/pipeline.js';
import type { OtlpExporter } from '../ingest/otlp-export.js';
import type { Logger } from '../logger.js';
import type { AnalyticsStore, RepriceResult } from '../store/types.js';
import type { AnalysisService } from '../services/analysis-service.js';
import type { Accounts } from '../accounts/index.js';
import type { Observability } from '../observability/observability.js';
import type { JobRow } from '../db/repository.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { ChatDeps } from './routes/chat.js';


export interface IngestSummary {
  accepted: number;
  rejected: number;
  duplicates: number;
  errors: FieldError[];
  /** total number of errors when `errors` was capped */
  errors_total?: number;
}

export interface DependencyStatus { name: string; ok: boolean; detail?: string; latency_ms: number }

export interface ServerDeps {
  config: Config;
  log: Logger;
  repo: Repository;
  store: AnalyticsStore;
  /** Validates, prices and stores items for one workspace through the one ingest path. */
  ingest(workspace: string, items: IngestSource): Promise<IngestSummary>;
  /** OTLP trace exports (HTTP and gRPC): spans → events, partial success, back-pressure */
  otlp: OtlpExporter;
  /** Creates the workspace row on first use. */
  ensureWorkspace(name: string): Promise<void>;
  /** Reloads a workspace's price overrides and recomputes catalog-priced costs of its stored events. */
  reprice(workspace: string): Promise<RepriceResult>;
  /** Throws a validation error when a price override would not make a valid catalog (e.g. unknown model without output price). */
  checkOverride(o: PriceOverrideRow): Promise<void>;
  /** Catalog listing for the API. */
  catalog(): { version: string; prices_taken: string; models: unknown[] };
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
