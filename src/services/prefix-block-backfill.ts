/**
 * The backfill of block chains derived from prompt text (workload/prefix-blocks.ts) for events stored before ingest
 * derived them (a store from before the chain columns existed, or a ClickHouse table migrated in place): without a
 * chain, the prompt-caching analysis and the replay see such an event only through its shared `prefix_hash`, so
 * multi-turn conversations and shared documents among the old events stay invisible.
 *
 * Each workspace is backfilled by one background job (jobs/job-runner.ts: a row with progress and cancel, kind
 * `backfill`), page by page in (timestamp, event_id) order: read the events with a long enough prompt text and no chain,
 * derive each chain exactly as ingest does, write the page's chains in one statement, save the cursor. A job stopped
 * by a cancel, a restart or a crash resumes after the last saved page; writing a page twice is harmless (only rows
 * still without a chain are updated). Once a workspace has been walked to the end it is recorded complete and never
 * scanned again: every event stored since carries its chain from ingest.
 *
 * State: `<dataDir>/prefix-block-backfill.json` ({ workspace: { cursor, completed_at } }), written atomically after
 * every page. With a ClickHouse table several Netra processes share, each keeps its own file; the work is idempotent.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobContext, JobRunner } from '../jobs/job-runner.js';
import type { AnalyticsStore, DerivedChain, PromptCursor } from '../store/types.js';
import { textBlockChain } from '../workload/prefix-blocks.js';

export const BACKFILL_STATE_FILE = 'prefix-block-backfill.json';
/** Events read per page: prompt texts are up to 1 MB each, so a page stays well under a few hundred MB. */
export const BACKFILL_PAGE_ROWS = 256;
/** Longest run of chain derivation on the event loop before it yields to requests. */
const SLICE_MS = 20;

interface WorkspaceState {
  cursor: PromptCursor | null;
  completed_at: string | null;
}

export interface BackfillResult {
  workspace: string;
  /** events with a long enough prompt text and no chain, read this run */
  scanned: number;
  /** of those, events that got a chain (the others are under the providers' minimum cacheable length) */
  chained: number;
  /** the workspace has been walked to the end */
  completed: boolean;
  /** set when nothing was done: why */
  skipped?: string;
}

export interface BackfillRunOptions {
  /** walk the workspace again from its first event, even when it was completed before */
  restart?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface PrefixBlockBackfill {
  /** Backfills one workspace as a job, from its saved cursor; resolves with what the job did. */
  run(workspace: string, opts?: BackfillRunOptions): Promise<BackfillResult>;
  /**
   * For every workspace not yet complete: records it complete when nothing is left to derive, otherwise submits its job
   * without waiting for it (the startup task).
   */
  startPending(): Promise<{ completed: string[]; submitted: string[] }>;
}

export interface PrefixBlockBackfillDeps {
  store: Pick<AnalyticsStore, 'workspaces' | 'chainlessPrompts' | 'countChainlessPrompts' | 'setPrefixBlocks'>;
  jobs: Pick<JobRunner, 'submit'>;
  dataDir: string;
  /** creates the workspace row a job belongs to, when the store has events of a workspace the database does not list */
  ensureWorkspace(workspace: string): Promise<void>;
  /** the workspace's chains changed (the workspace-change path: cache, precompute, snapshot) */
  changed(workspace: string): Promise<void>;
  pageRows?: number;
}

export function createPrefixBlockBackfill(deps: PrefixBlockBackfillDeps): PrefixBlockBackfill {
  const pageRows = deps.pageRows ?? BACKFILL_PAGE_ROWS;
  const file = join(deps.dataDir, BACKFILL_STATE_FILE);
  // one job per workspace at a time in this process: a second request joins the running one
  const running = new Map<string, Promise<BackfillResult>>();
  // state writes are serialised: jobs of two workspaces may finish pages at the same time
  let writes: Promise<unknown> = Promise.resolve();

  const readState = async (): Promise<Record<string, WorkspaceState>> => {
    try {
      const v = JSON.parse(await readFile(file, 'utf8')) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, WorkspaceState>) : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  };
  const saveState = (workspace: string, s: WorkspaceState): Promise<void> => {
    const write = writes.then(async () => {
      const all = await readState();
      all[workspace] = s;
      await writeFile(`${file}.tmp`, JSON.stringify(all, null, 2));
      await rename(`${file}.tmp`, file);
    });
    writes = write.catch(() => undefined);
    return write;
  };

  const work = async (workspace: string, from: PromptCursor | null, ctx: JobContext, onProgress?: BackfillRunOptions['onProgress']) => {
    const total = await deps.store.countChainlessPrompts(workspace, from);
    let cursor = from;
    let scanned = 0;
    let chained = 0;
    try {
      for (;;) {
        ctx.signal.throwIfAborted();
        const page = await deps.store.chainlessPrompts(workspace, cursor, pageRows);
        const chains: DerivedChain[] = [];
        let slice = performance.now();
        for (const row of page) {
          const chain = textBlockChain(row.prompt_text, row.model);
          if (chain) chains.push({ event_id: row.event_id, hashes: chain.hashes, block_size: chain.block_size });
          if (performance.now() - slice > SLICE_MS) {
            await new Promise<void>((res) => setImmediate(res));
            ctx.signal.throwIfAborted();
            slice = performance.now();
          }
        }
        chained += await deps.store.setPrefixBlocks(workspace, chains);
        scanned += page.length;
        const last = page[page.length - 1];
        if (last) {
          cursor = { timestamp_us: last.timestamp_us, event_id: last.event_id };
          await saveState(workspace, { cursor, completed_at: null });
        }
        onProgress?.(scanned, Math.max(total, scanned));
        ctx.progress(total > 0 ? Math.min(1, scanned / total) : 1, { accepted: chained });
        if (page.length < pageRows) break;
      }
      await saveState(workspace, { cursor, completed_at: new Date().toISOString() });
      return { workspace, scanned, chained, completed: true };
    } finally {
      if (chained > 0) await deps.changed(workspace); // also after a cancel: the pages written so far are stored
    }
  };

  const submit = async (workspace: string, opts: BackfillRunOptions) => {
    const prior = (await readState())[workspace];
    if (prior?.completed_at && !opts.restart) {
      return {
        done: Promise.resolve({ workspace, scanned: 0, chained: 0, completed: true, skipped: `completed at ${prior.completed_at}` }),
      };
    }
    await deps.ensureWorkspace(workspace);
    const { done } = await deps.jobs.submit<BackfillResult>({
      workspace,
      kind: 'backfill',
      source: 'prefix_block_hashes',
      signal: opts.signal,
      work: (ctx) => work(workspace, opts.restart ? null : (prior?.cursor ?? null), ctx, opts.onProgress),
      summarize: (r) => ({ accepted: r.chained, result: { scanned: r.scanned, chained: r.chained, completed: r.completed } }),
    });
    return { done };
  };

  const run = (workspace: string, opts: BackfillRunOptions = {}): Promise<BackfillResult> => {
    const current = running.get(workspace);
    if (current) return current;
    const p = submit(workspace, opts).then((s) => s.done);
    const tracked = p.finally(() => running.delete(workspace));
    running.set(workspace, tracked);
    return tracked;
  };

  return {
    run,
    async startPending() {
      const state = await readState();
      const completed: string[] = [];
      const submitted: string[] = [];
      for (const w of await deps.store.workspaces()) {
        if (state[w.workspace]?.completed_at || running.has(w.workspace)) continue;
        if ((await deps.store.countChainlessPrompts(w.workspace, state[w.workspace]?.cursor ?? null)) === 0) {
          await saveState(w.workspace, { cursor: state[w.workspace]?.cursor ?? null, completed_at: new Date().toISOString() });
          completed.push(w.workspace);
          continue;
        }
        // not awaited: the job runs in the background with its own progress; a failure is on its job row
        run(w.workspace).catch(() => undefined);
        submitted.push(w.workspace);
      }
      return { completed, submitted };
    },
  };
}
