/**
 * Workloads coming in: synthetic generation (into the store or a JSONL file) and import from a file, each a persisted
 * background job with progress and cancel, and the preset check that refuses an unknown preset before a job is queued.
 * Events reach the store through the appender the composition root gives (store append + workspace-change path).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { generateWorkload, PRESET_NAMES, type Manifest } from '../corpus/generator.js';
import type { JobRow } from '../db/repository.js';
import { NetraError } from '../errors.js';
import { importFile, type ImportOptions } from '../ingest/file-import.js';
import type { Ingestor, IngestSummary } from '../ingest/pipeline.js';
import type { JobContext, JobRunner, JobSpec } from '../jobs/job-runner.js';
import type { IngestCounts } from '../observability/metrics.js';
import type { AppendResult } from '../store/types.js';
import type { WorkloadEvent } from '../workload/event.js';
import { toEvents, type EventColumns } from '../workload/event-columns.js';
import type { PriceCatalog } from '../workload/price-catalog.js';

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

export type ImportRequest = Omit<ImportOptions, 'workspace'> & { workspace: string };

export interface WorkloadsService {
  /** Generates through a job and resolves with the planted-truth manifest once it is done. */
  generate(req: GenerateRequest, onProgress?: (done: number, total: number) => void): Promise<Manifest>;
  /** Queues a generation as a background job and returns its row at once (POST /api/v1/jobs). */
  startGenerateJob(req: Omit<GenerateRequest, 'out' | 'signal' | 'end'>): Promise<JobRow>;
  /** Imports a file through the one ingest path, as a job. */
  importFile(path: string, opts: ImportRequest, onProgress?: (bytes: number, total: number) => void): Promise<IngestSummary>;
}

export interface WorkloadsDeps {
  jobs: Pick<JobRunner, 'submit'>;
  /** creates the workspace row (owned by the local owner) on first use */
  ensureWorkspace(name: string): Promise<void>;
  /** generated events are priced and their models' tiers read from it */
  catalog(): PriceCatalog;
  /** stores generated events and reports the change of their workspace */
  append(events: readonly WorkloadEvent[]): Promise<AppendResult>;
  /** the same for a column batch (no object per event) */
  appendColumns(batch: EventColumns): Promise<AppendResult>;
  ingestor: Ingestor;
  recordIngest(source: 'generate' | 'file', c: IngestCounts): void;
}

/** Throws NETRA_E_VALIDATION for a preset the generator does not have. */
export function checkPreset(preset: string): void {
  if (!PRESET_NAMES.includes(preset)) {
    throw new NetraError('VALIDATION', `unknown preset '${preset}'; choose one of ${PRESET_NAMES.join(', ')}`, { field: 'preset' });
  }
}

export function createWorkloadsService(deps: WorkloadsDeps): WorkloadsService {
  const submitJob = async <T>(spec: JobSpec<T>) => {
    await deps.ensureWorkspace(spec.workspace);
    return deps.jobs.submit(spec);
  };

  /** Generates batch by batch into the store (or a JSONL file), checking the job's signal between batches. */
  const generateWork = async (req: GenerateRequest, ctx: JobContext, onProgress?: (done: number, total: number) => void) => {
    const catalog = deps.catalog();
    const gen = generateWorkload({
      preset: req.preset,
      events: req.events,
      days: req.days ?? 7,
      seed: req.seed ?? 1,
      workspace: req.workspace,
      end: req.end,
      pricer: catalog,
      tierOf: (m: string) => catalog.resolve(m)?.quality_tier ?? 2,
      // column batches into the store: one insert statement per batch, so fewer, larger ones
      batchSize: req.out ? 1000 : 8192,
    });
    const file = req.out ? createWriteStream(req.out) : null;
    let done = 0;
    let accepted = 0;
    let duplicates = 0;
    try {
      for (const batch of gen.columnBatches()) {
        // the store's append may complete without a macrotask turn: yield so requests (status, cancel) are served meanwhile
        await new Promise<void>((res) => setImmediate(res));
        ctx.signal.throwIfAborted();
        if (file) {
          if (
            !file.write(
              `${toEvents(batch)
                .map((e) => JSON.stringify(e))
                .join('\n')}\n`,
            )
          )
            await once(file, 'drain');
          accepted += batch.length;
        } else {
          const r = await deps.appendColumns(batch);
          accepted += r.inserted;
          duplicates += r.duplicates;
          deps.recordIngest('generate', { accepted: r.inserted, rejected: 0, duplicates: r.duplicates });
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

  const generateSpec = (
    req: GenerateRequest,
    onProgress?: (done: number, total: number) => void,
  ): JobSpec<Awaited<ReturnType<typeof generateWork>>> => ({
    workspace: req.workspace,
    kind: 'generate',
    source: req.preset,
    format: req.out ? 'jsonl' : undefined,
    signal: req.signal,
    work: (ctx) => generateWork(req, ctx, onProgress),
    summarize: (r) => ({ accepted: r.accepted, duplicates: r.duplicates, result: { manifest: r.manifest } as Record<string, unknown> }),
  });

  return {
    async generate(req, onProgress) {
      checkPreset(req.preset);
      const { done } = await submitJob(generateSpec(req, onProgress));
      return (await done).manifest;
    },
    async startGenerateJob(req) {
      checkPreset(req.preset);
      return (await submitJob(generateSpec(req))).job;
    },
    async importFile(path, o, onProgress) {
      const { done } = await submitJob({
        workspace: o.workspace,
        kind: 'import',
        source: path,
        format: o.format,
        signal: o.signal,
        work: async (ctx) => {
          const r = await importFile(path, { ...o, signal: ctx.signal }, deps.ingestor, (p) => {
            onProgress?.(p.bytesRead, p.totalBytes);
            ctx.progress(p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 0, {
              accepted: p.accepted,
              rejected: p.rejected,
              duplicates: p.duplicates,
            });
          });
          deps.recordIngest('file', r);
          return r;
        },
        summarize: (r) => ({ accepted: r.accepted, rejected: r.rejected, duplicates: r.duplicates, errors: r.errors.slice(0, 100) }),
      });
      return done;
    },
  };
}
