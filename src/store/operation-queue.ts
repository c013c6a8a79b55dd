/**
 * The embedded store's operation queue: one operation at a time on its connection, in arrival order, except that
 * operations submitted as `urgent` (short interactive reads: a chat turn's names, a figure's breakdown, the stats)
 * start before the normal ones still waiting. An analysis issues its dozen queries at once; without the lane a
 * figure asked meanwhile waited behind all of them (seconds over 1M events), with it only behind the one running.
 *
 * Reordering operations that have not started is safe: none of them has completed, so none has been acknowledged to its
 * caller, and every read commits the pending appends itself before it runs. Writes are never urgent, so they keep
 * their order.
 */
export class OperationQueue {
  private readonly normal: (() => void)[] = [];
  private readonly urgent: (() => void)[] = [];
  private busy = false;

  /** Runs fn when every operation started before it has settled (urgent: before the normal ones still waiting). */
  run<T>(fn: () => Promise<T>, urgent = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        let p: Promise<T>;
        try {
          p = fn();
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(resolve, reject).finally(() => {
          this.busy = false;
          this.next();
        });
      };
      (urgent ? this.urgent : this.normal).push(start);
      if (!this.busy) this.next();
    });
  }

  /** Operations waiting to start. */
  get waiting(): number {
    return this.normal.length + this.urgent.length;
  }

  private next(): void {
    const start = this.urgent.shift() ?? this.normal.shift();
    if (!start) return;
    this.busy = true;
    start();
  }
}
