/**
 * The memory budget for request bodies being parsed and stored. Every ingest request reserves its worst case at the
 * door, before a byte of its body is read: a JSON body its declared length × JSON_EXPANSION (parsed objects take
 * several times their text), an NDJSON stream the two batches the pipeline holds (batch byte cap × 2) plus a read chunk,
 * an OTLP export its body × OTLP_*_EXPANSION (at most the whole budget: such a request runs when nothing else holds it).
 * When the reservation does not fit, the request is refused at once with 503 NETRA_E_OVERLOADED and Retry-After,
 * instead of growing the process's memory with every concurrent large request. The reservation is released when the
 * response ends or the client goes away.
 */
import { memoryLimitBytes } from '../observability/runtime-health.js';

/** parsed JSON objects and strings take about this many times their body's bytes */
export const JSON_EXPANSION = 4;
/**
 * An OTLP export at its peak (the decoded request, the spans' attribute maps and event inputs, all alive at once), in
 * times its body's bytes, measured on 5,120 GenAI spans: OTLP/JSON 6.2, protobuf 18.3 (a denser encoding of the same
 * objects). Rounded up.
 */
export const OTLP_JSON_EXPANSION = 8;
export const OTLP_PROTOBUF_EXPANSION = 20;

export class MemoryBudget {
  private used = 0;
  refused = 0;

  constructor(readonly limitBytes: number) {}

  get inUseBytes(): number {
    return this.used;
  }

  /** A release function when `bytes` fit in what is left, else null. */
  tryAcquire(bytes: number): (() => void) | null {
    if (this.used + bytes > this.limitBytes) {
      this.refused++;
      return null;
    }
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    };
  }
}

/** The default budget: a quarter of the memory limit, at most 2 GiB, at least 64 MiB. */
export function defaultBodyBudgetBytes(): number {
  return Math.max(64 << 20, Math.min(2 << 30, Math.floor(memoryLimitBytes() / 4)));
}
