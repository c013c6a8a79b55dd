/**
 * A binary min-heap of follow-up calls (retries, next session turns, next agent steps) keyed by the time they
 * become ready; ties broken by insertion order so the generator stays deterministic. Pure.
 */

export interface Ready {
  ready: number;
  seq: number;
}

export class ReadyQueue<T extends Ready> {
  private readonly heap: T[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    item.seq = this.seq++;
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** The earliest item if it is ready at `t`, removed from the queue; otherwise undefined. */
  popReady(t: number): T | undefined {
    const h = this.heap;
    if (h.length === 0 || h[0]!.ready > t) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Ready, b: Ready): boolean {
  return a.ready < b.ready || (a.ready === b.ready && a.seq < b.seq);
}
