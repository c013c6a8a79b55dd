/**
 * Group commit: writes submitted while the previous one is being committed are collected and committed together, in ONE
 * statement (its own transaction), and each submitter's promise settles after that commit. Under load a statement
 * carries many rows, so the per-statement cost of the database (a round trip on PostgreSQL; parse, plan and WAL flush on
 * PGlite, where statements run one at a time) is paid once per batch instead of once per write. Two windows:
 *  - `first-at-once` (default): the first write of a turn of the event loop to an idle committer goes out at once, alone;
 *    the writes that follow it in the same turn wait at most to the end of that turn. A write is in the database's queue
 *    before anything the same callback does next (a status change is recorded before a reader told of it can ask).
 *  - `turn`: a write to an idle committer waits to the end of the current turn (setImmediate: the I/O callbacks of that
 *    turn run first), so the writes of every frame read in the same turn go together, nothing alone. With 100 connections
 *    in a closed loop, `first-at-once` sent one turn alone and the other 99 in a second statement each round: twice the
 *    statements, and on PGlite the lone writes took about a quarter of the database time (docs/BENCHMARKS.md, "Group
 *    commit of the chat's writes"). The wait at low load is one turn of the event loop (microseconds).
 * Either way a write arriving while a statement is committing goes with the next one, at once when that one ends.
 *
 * A batch never holds two writes with the same key (the same thread, the same run): the second waits for the next batch,
 * so writes to one row keep their order and a statement never touches a row twice. When a batch statement fails, each of
 * its writes is retried alone, so one bad write fails only its own submitter and the valid ones still commit.
 */
export interface GroupCommitOptions<I> {
  /** most writes in one statement (1: every write alone) */
  maxRows: number;
  /** writes with the same key never share a batch */
  key?: (item: I) => string;
  /** statements in flight at once (1 on an embedded database, which runs one at a time anyway) */
  concurrency?: number;
  /** when a write to an idle committer goes (see above); default `first-at-once` */
  window?: 'first-at-once' | 'turn';
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private readonly concurrency: number;
  /** a write went out this turn of the event loop (`first-at-once`) */
  private hot = false;
  /** a flush is due at the end of this turn */
  private scheduled = false;
  /** keys of the writes being committed: a later write with one of them waits (order per row) */
  private readonly busy = new Set<string>();

  /**
   * `many` commits 2+ writes in one statement and returns one result per write, in order; `one` commits a single write
   * (the path used at low load and to retry the writes of a failed batch).
   */
  constructor(
    private readonly many: (items: I[]) => Promise<O[]>,
    private readonly one: (item: I) => Promise<O>,
    private readonly opts: GroupCommitOptions<I>,
  ) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
  }

  /** Resolves with the write's result once it is committed. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.opts.window !== 'turn' && !this.hot && this.inFlight < this.concurrency) {
        // the first write of this turn of the event loop goes at once
        this.hot = true;
        setImmediate(() => {
          this.hot = false;
        });
        this.flush();
      } else if (!this.scheduled && this.inFlight < this.concurrency) {
        // the writes of this turn (each frame read from a socket is its own callback) go together once the turn's I/O
        // callbacks have run. On PGlite a statement runs to its end within one callback, so without this window writes
        // from different sockets would never meet in a batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // every queued write waits for a key in flight
      const keys = this.opts.key ? batch.map((p) => this.opts.key!(p.item)) : [];
      for (const k of keys) this.busy.add(k);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        for (const k of keys) this.busy.delete(k);
        this.inFlight--;
        this.flush(); // what queued up meanwhile
      });
    }
  }

  /** The oldest writes up to maxRows, one per key and none whose key is in flight; the others keep their place. */
  private take(): Pending<I, O>[] {
    const max = Math.max(1, this.opts.maxRows);
    const key = this.opts.key;
    if (!key) return this.queue.splice(0, max);
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const keys = new Set<string>();
    for (const p of this.queue) {
      const k = key(p.item);
      if (batch.length < max && !keys.has(k) && !this.busy.has(k)) {
        keys.add(k);
        batch.push(p);
      } else rest.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private async commit(batch: Pending<I, O>[]): Promise<void> {
    if (batch.length === 1) return this.alone(batch[0]!);
    let results: O[];
    try {
      results = await this.many(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`group commit returned ${results.length} results for ${batch.length} writes`);
    } catch {
      // one failing write (a constraint, bad data) must not fail the others: each again, alone
      await Promise.all(batch.map((p) => this.alone(p)));
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  private async alone(p: Pending<I, O>): Promise<void> {
    try {
      p.resolve(await this.one(p.item));
    } catch (err) {
      p.reject(err);
    }
  }
}
