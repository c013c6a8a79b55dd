/**
 * The process's own health: event-loop lag (perf_hooks.monitorEventLoopDelay, measured per window), memory (heap
 * used/total/limit, rss, external) and a memory health status from both against configured thresholds:
 * critical when heap used / heap limit ≥ heapCriticalRatio or lag p99 ≥ eventLoopLagCriticalMs, degraded at the
 * degraded thresholds, healthy otherwise.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/** The memory this process may use: the cgroup limit when there is one (containers), else the machine's memory. */
export function memoryLimitBytes(): number {
  for (const f of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const v = readFileSync(f, 'utf8').trim();
      const n = Number(v);
      if (v !== 'max' && Number.isFinite(n) && n > 0 && n < totalmem() * 4) return n;
    } catch {
      /* not in a cgroup with a limit */
    }
  }
  return totalmem();
}

/** read once: the cgroup or machine limit does not change under a running process */
const MEMORY_LIMIT = memoryLimitBytes();

export type MemoryStatus = 'healthy' | 'degraded' | 'critical';

export interface MemoryThresholds {
  heapDegradedRatio: number;
  heapCriticalRatio: number;
  eventLoopLagDegradedMs: number;
  eventLoopLagCriticalMs: number;
  /** resident memory / the memory limit (cgroup or machine): native memory (DuckDB, buffers) counts, not the JS heap only */
  rssDegradedRatio?: number;
  rssCriticalRatio?: number;
}

export interface EventLoopLag {
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface MemoryFigures {
  heap_used_bytes: number;
  heap_total_bytes: number;
  /** V8's heap size limit (--max-old-space-size) */
  heap_limit_bytes: number;
  rss_bytes: number;
  external_bytes: number;
  /** heap used / heap limit */
  heap_used_ratio: number;
  /** the memory the process may use: its cgroup limit, else the machine's memory */
  memory_limit_bytes?: number;
  /** rss / memory limit */
  rss_ratio?: number;
}

export interface MemoryHealth {
  status: MemoryStatus;
  /** why it is not healthy (empty when healthy) */
  reasons: string[];
  memory: MemoryFigures;
  event_loop: EventLoopLag;
  thresholds: MemoryThresholds;
}

export function memoryFigures(): MemoryFigures {
  const m = process.memoryUsage();
  const limit = getHeapStatistics().heap_size_limit;
  return {
    heap_used_bytes: m.heapUsed,
    heap_total_bytes: m.heapTotal,
    heap_limit_bytes: limit,
    rss_bytes: m.rss,
    external_bytes: m.external,
    heap_used_ratio: limit > 0 ? m.heapUsed / limit : 0,
    memory_limit_bytes: MEMORY_LIMIT,
    rss_ratio: MEMORY_LIMIT > 0 ? m.rss / MEMORY_LIMIT : 0,
  };
}

/** Classifies memory and lag figures; pure, so thresholds are testable without filling the heap. */
export function classifyMemory(memory: MemoryFigures, lag: EventLoopLag, t: MemoryThresholds): Pick<MemoryHealth, 'status' | 'reasons'> {
  const reasons: string[] = [];
  let status: MemoryStatus = 'healthy';
  const raise = (s: MemoryStatus, why: string) => {
    reasons.push(why);
    if (s === 'critical' || status === 'healthy') status = s;
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  if (memory.heap_used_ratio >= t.heapCriticalRatio)
    raise('critical', `heap used is ${pct(memory.heap_used_ratio)} of the limit (critical at ${pct(t.heapCriticalRatio)})`);
  else if (memory.heap_used_ratio >= t.heapDegradedRatio)
    raise('degraded', `heap used is ${pct(memory.heap_used_ratio)} of the limit (degraded at ${pct(t.heapDegradedRatio)})`);
  const rss = memory.rss_ratio ?? 0;
  const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
  if (t.rssCriticalRatio !== undefined && rss >= t.rssCriticalRatio)
    raise('critical', `resident memory ${mib(memory.rss_bytes)} is ${pct(rss)} of the limit (critical at ${pct(t.rssCriticalRatio)})`);
  else if (t.rssDegradedRatio !== undefined && rss >= t.rssDegradedRatio)
    raise('degraded', `resident memory ${mib(memory.rss_bytes)} is ${pct(rss)} of the limit (degraded at ${pct(t.rssDegradedRatio)})`);
  if (lag.p99_ms >= t.eventLoopLagCriticalMs)
    raise('critical', `event-loop lag p99 is ${lag.p99_ms.toFixed(0)} ms (critical at ${t.eventLoopLagCriticalMs} ms)`);
  else if (lag.p99_ms >= t.eventLoopLagDegradedMs)
    raise('degraded', `event-loop lag p99 is ${lag.p99_ms.toFixed(0)} ms (degraded at ${t.eventLoopLagDegradedMs} ms)`);
  return { status, reasons };
}

/** Event-loop delay in windows: window() closes the current one and returns its figures. */
export class EventLoopMonitor {
  private readonly h: IntervalHistogram;
  private last: EventLoopLag | null = null;

  constructor(resolutionMs = 10) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.h.enable();
  }

  private read(): EventLoopLag {
    const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
    if (this.h.count === 0) return { mean_ms: 0, p50_ms: 0, p99_ms: 0, max_ms: 0 };
    return { mean_ms: ms(this.h.mean), p50_ms: ms(this.h.percentile(50)), p99_ms: ms(this.h.percentile(99)), max_ms: ms(this.h.max) };
  }

  /** Figures of the window since the last call, and starts a new window. */
  window(): EventLoopLag {
    this.last = this.read();
    this.h.reset();
    return this.last;
  }

  /** Forgets everything measured so far (start-up work such as demo seeding is not the server's steady state). */
  restart(): void {
    this.h.reset();
    this.last = null;
  }

  /** The last closed window (the open one before the first window() call). */
  current(): EventLoopLag {
    return this.last ?? this.read();
  }

  close(): void {
    this.h.disable();
  }
}
