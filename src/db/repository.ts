/**
 * Relational repository: workspaces, price overrides and import jobs (with their owner and heartbeat). Every call names its
 * workspace, except the job runner's bookkeeping by owner (heartbeat, stale sweep), which spans the processes' jobs.
 */
import { and, desc, eq, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { gatewayPolicies, importJobs, priceOverrides, workspaces, type GatewayMode, type JobStatus } from './schema.js';

export interface Workspace {
  id: string;
  name: string;
  createdAt: Date;
}

/** A workspace's gateway policy: the mode, the replay's policy document, whether text is recorded, when it took effect. */
export interface GatewayPolicyRow {
  workspace: string;
  mode: GatewayMode;
  policy: Record<string, unknown>;
  recordText: boolean;
  activatedAt: Date;
  updatedAt: Date;
}

export interface PriceOverrideRow {
  workspace: string;
  model: string;
  input: number | null;
  output: number | null;
  cached_input: number | null;
  cache_write: number | null;
}

export interface JobRow {
  id: string;
  workspace: string;
  kind: string;
  source: string;
  format: string | null;
  status: JobStatus;
  accepted: number;
  rejected: number;
  duplicates: number;
  progress: number;
  errors: unknown[];
  result: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** instance id of the process whose runner holds the job; null for rows no runner created */
  owner: string | null;
  heartbeatAt: Date | null;
}

/** A job row the stale sweep marked failed. */
export interface StaleJob {
  id: string;
  owner: string | null;
}

const UNFINISHED_JOB: JobStatus[] = ['queued', 'running'];

export class Repository {
  constructor(private readonly db: Database) {}

  async ensureWorkspace(name: string): Promise<{ workspace: Workspace; created: boolean }> {
    const inserted = await this.db.insert(workspaces).values({ name }).onConflictDoNothing().returning();
    if (inserted[0]) return { workspace: inserted[0], created: true };
    const found = await this.getWorkspace(name);
    if (!found) throw new Error(`workspace ${name} vanished during creation`);
    return { workspace: found, created: false };
  }

  async getWorkspace(name: string): Promise<Workspace | null> {
    const rows = await this.db.select().from(workspaces).where(eq(workspaces.name, name)).limit(1);
    return rows[0] ?? null;
  }

  /** The workspace's time zone (IANA name; UTC when the workspace does not exist yet). */
  async getWorkspaceTimeZone(name: string): Promise<string> {
    const rows = await this.db.select({ tz: workspaces.timeZone }).from(workspaces).where(eq(workspaces.name, name)).limit(1);
    return rows[0]?.tz ?? 'UTC';
  }

  /** Sets the workspace's time zone (the caller validates the name); creates the workspace when it does not exist. */
  async setWorkspaceTimeZone(name: string, timeZone: string): Promise<void> {
    await this.db.insert(workspaces).values({ name, timeZone }).onConflictDoUpdate({ target: workspaces.name, set: { timeZone } });
  }

  async listWorkspaces(): Promise<Workspace[]> {
    return this.db.select().from(workspaces).orderBy(workspaces.name);
  }

  async deleteWorkspace(name: string): Promise<boolean> {
    const rows = await this.db.delete(workspaces).where(eq(workspaces.name, name)).returning({ id: workspaces.id });
    return rows.length > 0;
  }

  async listPriceOverrides(workspace?: string): Promise<PriceOverrideRow[]> {
    const q = this.db
      .select({
        workspace: workspaces.name,
        model: priceOverrides.model,
        input: priceOverrides.input,
        output: priceOverrides.output,
        cached_input: priceOverrides.cachedInput,
        cache_write: priceOverrides.cacheWrite,
      })
      .from(priceOverrides)
      .innerJoin(workspaces, eq(workspaces.id, priceOverrides.workspaceId));
    return workspace
      ? q.where(eq(workspaces.name, workspace)).orderBy(priceOverrides.model)
      : q.orderBy(workspaces.name, priceOverrides.model);
  }

  async upsertPriceOverride(o: PriceOverrideRow): Promise<void> {
    const { workspace } = await this.ensureWorkspace(o.workspace);
    const values = { input: o.input, output: o.output, cachedInput: o.cached_input, cacheWrite: o.cache_write, updatedAt: new Date() };
    await this.db
      .insert(priceOverrides)
      .values({ workspaceId: workspace.id, model: o.model, ...values })
      .onConflictDoUpdate({ target: [priceOverrides.workspaceId, priceOverrides.model], set: values });
  }

  async deletePriceOverride(workspace: string, model: string): Promise<boolean> {
    const ws = await this.getWorkspace(workspace);
    if (!ws) return false;
    const rows = await this.db
      .delete(priceOverrides)
      .where(and(eq(priceOverrides.workspaceId, ws.id), eq(priceOverrides.model, model)))
      .returning({ model: priceOverrides.model });
    return rows.length > 0;
  }

  /** With `owner`, the row is stamped with it and a first heartbeat (database clock). */
  async createJob(j: {
    workspace: string;
    kind: string;
    source: string;
    format?: string | null;
    status?: JobStatus;
    owner?: string;
  }): Promise<JobRow> {
    const { workspace } = await this.ensureWorkspace(j.workspace);
    const rows = await this.db
      .insert(importJobs)
      .values({
        workspaceId: workspace.id,
        kind: j.kind,
        source: j.source,
        format: j.format ?? null,
        status: j.status ?? 'running',
        ...(j.owner !== undefined ? { owner: j.owner, heartbeatAt: sql`now()` } : {}),
      })
      .returning();
    return { ...rows[0]!, workspace: j.workspace } as JobRow;
  }

  /** Returns false when no row was changed: no such job, or (with `whileStatus`) its status is no longer one of those. */
  async updateJob(
    id: string,
    patch: Partial<Pick<JobRow, 'status' | 'accepted' | 'rejected' | 'duplicates' | 'progress' | 'errors' | 'result'>> & {
      finished?: boolean;
    },
    opts: { whileStatus?: readonly JobStatus[] } = {},
  ): Promise<boolean> {
    const { finished, ...rest } = patch;
    const where = opts.whileStatus ? and(eq(importJobs.id, id), inArray(importJobs.status, [...opts.whileStatus])) : eq(importJobs.id, id);
    const rows = await this.db
      .update(importJobs)
      .set({ ...rest, updatedAt: new Date(), ...(finished ? { finishedAt: new Date() } : {}) })
      .where(where)
      .returning({ id: importJobs.id });
    return rows.length > 0;
  }

  /**
   * Start-up with a database only this process opens (PGlite): every job left queued or running can never finish; marks
   * them failed with `message`.
   */
  async failUnfinishedJobs(message: string): Promise<number> {
    const now = new Date();
    const rows = await this.db
      .update(importJobs)
      .set({ status: 'failed', errors: [{ message }], updatedAt: now, finishedAt: now })
      .where(inArray(importJobs.status, UNFINISHED_JOB))
      .returning({ id: importJobs.id });
    return rows.length;
  }

  /** Refreshes the heartbeat (database clock) of `owner`'s queued and running jobs; returns how many rows it touched. */
  async heartbeatJobs(owner: string): Promise<number> {
    const rows = await this.db
      .update(importJobs)
      .set({ heartbeatAt: sql`now()` })
      .where(and(eq(importJobs.owner, owner), inArray(importJobs.status, UNFINISHED_JOB)))
      .returning({ id: importJobs.id });
    return rows.length;
  }

  /**
   * Marks failed with `message` the queued/running jobs of other owners whose last heartbeat (or, for a row that never had
   * one, its last update) is more than `staleAfterMs` old by the database clock, so processes' clocks need not agree.
   * `exceptOwner`'s rows are never touched (the caller's own jobs are alive whatever its heartbeat says).
   */
  async failStaleJobs(o: { staleAfterMs: number; exceptOwner: string; message: string }): Promise<StaleJob[]> {
    const cutoff = sql`now() - (${o.staleAfterMs}::double precision * interval '1 millisecond')`;
    return this.db
      .update(importJobs)
      .set({ status: 'failed', errors: [{ message: o.message }], updatedAt: sql`now()`, finishedAt: sql`now()` })
      .where(
        and(
          inArray(importJobs.status, UNFINISHED_JOB),
          or(isNull(importJobs.owner), ne(importJobs.owner, o.exceptOwner)),
          or(lt(importJobs.heartbeatAt, cutoff), and(isNull(importJobs.heartbeatAt), lt(importJobs.updatedAt, cutoff))),
        ),
      )
      .returning({ id: importJobs.id, owner: importJobs.owner });
  }

  async getJob(workspace: string, id: string): Promise<JobRow | null> {
    const rows = await this.jobQuery()
      .where(and(eq(workspaces.name, workspace), eq(importJobs.id, id)))
      .limit(1);
    return rows[0] ?? null;
  }

  async listJobs(workspace: string, limit = 50): Promise<JobRow[]> {
    return this.jobQuery().where(eq(workspaces.name, workspace)).orderBy(desc(importJobs.createdAt)).limit(limit);
  }

  private jobQuery() {
    return this.db
      .select({
        id: importJobs.id,
        workspace: workspaces.name,
        kind: importJobs.kind,
        source: importJobs.source,
        format: importJobs.format,
        status: importJobs.status,
        accepted: importJobs.accepted,
        rejected: importJobs.rejected,
        duplicates: importJobs.duplicates,
        progress: importJobs.progress,
        errors: importJobs.errors,
        result: importJobs.result,
        createdAt: importJobs.createdAt,
        updatedAt: importJobs.updatedAt,
        finishedAt: importJobs.finishedAt,
        owner: importJobs.owner,
        heartbeatAt: importJobs.heartbeatAt,
      })
      .from(importJobs)
      .innerJoin(workspaces, eq(workspaces.id, importJobs.workspaceId));
  }

  async gatewayPolicy(workspace: string): Promise<GatewayPolicyRow | null> {
    const rows = await this.db
      .select({
        workspace: workspaces.name,
        mode: gatewayPolicies.mode,
        policy: gatewayPolicies.policy,
        recordText: gatewayPolicies.recordText,
        activatedAt: gatewayPolicies.activatedAt,
        updatedAt: gatewayPolicies.updatedAt,
      })
      .from(gatewayPolicies)
      .innerJoin(workspaces, eq(workspaces.id, gatewayPolicies.workspaceId))
      .where(eq(workspaces.name, workspace))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Stores the workspace's gateway policy; `activatedAt` moves only when the mode or the policy changes. */
  async setGatewayPolicy(
    workspace: string,
    p: { mode: GatewayMode; policy: Record<string, unknown>; recordText: boolean },
    by: string | null,
  ): Promise<GatewayPolicyRow> {
    const { workspace: ws } = await this.ensureWorkspace(workspace);
    const before = await this.gatewayPolicy(workspace);
    const now = new Date();
    const changed = !before || before.mode !== p.mode || JSON.stringify(before.policy) !== JSON.stringify(p.policy);
    const activatedAt = changed ? now : before.activatedAt;
    const values = { mode: p.mode, policy: p.policy, recordText: p.recordText, activatedAt, updatedAt: now, updatedBy: by };
    await this.db
      .insert(gatewayPolicies)
      .values({ workspaceId: ws.id, ...values })
      .onConflictDoUpdate({ target: gatewayPolicies.workspaceId, set: values });
    return { workspace, mode: p.mode, policy: p.policy, recordText: p.recordText, activatedAt, updatedAt: now };
  }
}
