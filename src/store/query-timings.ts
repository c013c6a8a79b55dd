/**
 * A bounded log of recent store query durations by kind, for the store-health part of the performance analysis
 * and for metrics. Shared by every store implementation.
 */
import type { StoreQueryTiming } from '../optimize/store-health.js';

export class QueryTimingLog {
  private readonly buf: StoreQueryTiming[] = [];
  private next = 0;

  constructor(private readonly capacity = 2000) {}

  record(kind: string, duration_ms: number): void {
    const t = { kind, duration_ms };
    if (this.buf.length < this.capacity) this.buf.push(t);
    else this.buf[this.next] = t;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Runs fn and records how long it took under `kind` (failures too). */
  async time<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.record(kind, performance.now() - t0);
    }
  }

  recent(): StoreQueryTiming[] {
    return [...this.buf];
  }
}
