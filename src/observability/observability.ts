/**
 * The app's observability: the Prometheus metrics (metrics.ts), memory health (runtime-health.ts) and the performance
 * history behind GET /api/v1/system/performance: a snapshot of the same figures every `snapshotIntervalMs` (10 s),
 * kept in a ring buffer for `historyMs` (1 h). Each snapshot covers its window: request count and latency
 * percentiles, ingest counts and rate, store query latency by kind, cache hit rate, pool usage, event-loop lag, memory.
 *
 * Store query timings are read from the store's timing log (AnalyticsStore.queryTimings()); each entry is taken once,
 * recognised by object identity (the log hands out its own entries), so nothing in the store has to know about metrics.
 */
import type { QueryCache } from '../cache/query-cache.js';
import type { PgPoolStats } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { percentileOfSorted } from '../optimize/statistics.js';
import type { StoreQueryTiming } from '../optimize/store-health.js';
import { AppMetrics, type IngestCounts } from './metrics.js';
import {
  classifyMemory,
  EventLoopMonitor,
  memoryFigures,
  type EventLoopLag,
  type MemoryFigures,
  type MemoryHealth,
  type MemoryStatus,
  type MemoryThresholds,
} from './runtime-health.js';

export interface ObservabilityConfig extends MemoryThresholds {
  snapshotIntervalMs: number;
  historyMs: number;
}

export interface StartupTaskHealth {
  name: string;
  state: string;
  attempts: number;
  last_error?: string | null;
}

export interface PerformanceSnapshot {
  at: string;
  /** length of the window this snapshot covers */
  window_ms: number;
  http: {
    requests: number;
    server_errors: number;
    requests_per_s: number;
    latency_p50_ms: number | null;
    latency_p95_ms: number | null;
    latency_max_ms: number | null;
  };
  ingest: IngestCounts & { accepted_per_s: number };
  store_queries: { kind: string; count: number; p50_ms: number; p95_ms: number; max_ms: number }[];
  cache: {
    backend: string;
    hits: number;
    misses: number;
    hit_rate: number | null;
    hit_rate_since_start: number | null;
    entries: number | null;
  } | null;
  pg_pool: PgPoolStats | null;
  event_loop: EventLoopLag;
  memory: MemoryFigures;
  memory_status: MemoryStatus;
}

const MAX_WINDOW_SAMPLES = 50_000;

export class Observability {
  readonly metrics: AppMetrics;
  private readonly eventLoop = new EventLoopMonitor();
  private readonly seenTimings = new WeakSet<object>();
  private readonly history: PerformanceSnapshot[] = [];
  private readonly capacity: number;
  private timer: NodeJS.Timeout | null = null;
  private startupTasks: () => readonly StartupTaskHealth[] = () => [];
  private llmBreakers: () => { provider: string; state: string }[] = () => [];
  private wsFigures: (() => { connections: number; buffered_bytes: number }) | null = null;
  // the open window
  private windowStart = Date.now();
  private httpMs: number[] = [];
  private httpCount = 0;
  private http5xx = 0;
  private ingestWin: IngestCounts = { accepted: 0, rejected: 0, duplicates: 0 };
  private storeWin: StoreQueryTiming[] = [];
  private cacheAtWindowStart = { hits: 0, misses: 0 };

  constructor(
    private readonly cfg: ObservabilityConfig,
    private readonly sources: {
      storeTimings(): readonly StoreQueryTiming[];
      cache: QueryCache | null;
      pool: { stats(): PgPoolStats } | null;
      log?: Logger;
    },
  ) {
    this.capacity = Math.max(1, Math.ceil(cfg.historyMs / cfg.snapshotIntervalMs));
    this.metrics = new AppMetrics(
      {
        syncStoreTimings: () => this.syncStoreTimings(),
        cache: () => sources.cache?.stats() ?? null,
        pool: () => sources.pool?.stats() ?? null,
        eventLoop: () => this.eventLoop.current(),
        memory: memoryFigures,
        memoryStatus: () => this.memoryHealth().status,
        failedStartupTasks: () => this.startupTasks().filter((t) => t.state === 'failed').length,
        llmBreakers: () => this.llmBreakers(),
      },
      { pool: sources.pool !== null },
    );
  }

  /** Starts the snapshot timer (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.eventLoop.restart(); // boot-time lag (migrations, demo seeding) is not what readiness should report
    this.timer = setInterval(() => {
      try {
        this.sample();
      } catch (err) {
        this.sources.log?.warn({ err }, 'performance snapshot failed');
      }
    }, this.cfg.snapshotIntervalMs);
    this.timer.unref();
  }

  /** Where /health/ready and the metrics read startup task status from. */
  setStartupTasks(fn: () => readonly StartupTaskHealth[]): void {
    this.startupTasks = fn;
  }

  startupTaskStatus(): readonly StartupTaskHealth[] {
    return this.startupTasks();
  }

  recordHttp(method: string, route: string, status: number, ms: number): void {
    this.metrics.observeHttp(method, route, status, ms / 1000);
    this.httpCount++;
    if (status >= 500) this.http5xx++;
    if (this.httpMs.length < MAX_WINDOW_SAMPLES) this.httpMs.push(ms);
  }

  /** WebSocket connections and bytes queued to them (the memory manager's figures in /health/ready). */
  setWebSocketFigures(fn: () => { connections: number; buffered_bytes: number }): void {
    this.wsFigures = fn;
  }

  webSocketFigures(): { connections: number; buffered_bytes: number } | null {
    return this.wsFigures?.() ?? null;
  }

  /** The LLM client's breaker states, read at scrape time. */
  setLlmBreakers(fn: () => { provider: string; state: string }[]): void {
    this.llmBreakers = fn;
  }

  /** OTLP spans that were not model calls, by kind (counted, not stored) */
  recordOtlpSkipped(byKind: Readonly<Record<string, number | undefined>>): void {
    for (const [kind, n] of Object.entries(byKind)) this.metrics.observeOtlpSkipped(kind, n ?? 0);
  }

  recordIngest(source: string, c: IngestCounts): void {
    this.metrics.observeIngest(source, c);
    this.ingestWin.accepted += c.accepted;
    this.ingestWin.rejected += c.rejected;
    this.ingestWin.duplicates += c.duplicates;
  }

  private syncStoreTimings(): void {
    for (const t of this.sources.storeTimings()) {
      if (this.seenTimings.has(t)) continue;
      this.seenTimings.add(t);
      this.metrics.observeStoreQuery(t.kind, t.duration_ms);
      if (this.storeWin.length < MAX_WINDOW_SAMPLES) this.storeWin.push(t);
    }
  }

  memoryHealth(): MemoryHealth {
    const memory = memoryFigures();
    const event_loop = this.eventLoop.current();
    const thresholds: MemoryThresholds = {
      heapDegradedRatio: this.cfg.heapDegradedRatio,
      heapCriticalRatio: this.cfg.heapCriticalRatio,
      eventLoopLagDegradedMs: this.cfg.eventLoopLagDegradedMs,
      eventLoopLagCriticalMs: this.cfg.eventLoopLagCriticalMs,
      rssDegradedRatio: this.cfg.rssDegradedRatio,
      rssCriticalRatio: this.cfg.rssCriticalRatio,
    };
    return { ...classifyMemory(memory, event_loop, thresholds), memory, event_loop, thresholds };
  }

  /** The figures of the open window, without closing it. */
  snapshot(): PerformanceSnapshot {
    this.syncStoreTimings();
    return this.build(this.eventLoop.current());
  }

  /** Closes the window: stores its snapshot in the history and starts the next window. */
  sample(): PerformanceSnapshot {
    this.syncStoreTimings();
    const snap = this.build(this.eventLoop.window());
    this.history.push(snap);
    if (this.history.length > this.capacity) this.history.splice(0, this.history.length - this.capacity);
    this.windowStart = Date.now();
    this.httpMs = [];
    this.httpCount = 0;
    this.http5xx = 0;
    this.ingestWin = { accepted: 0, rejected: 0, duplicates: 0 };
    this.storeWin = [];
    const c = this.sources.cache?.stats();
    this.cacheAtWindowStart = { hits: c?.hits ?? 0, misses: c?.misses ?? 0 };
    return snap;
  }

  /** Stored snapshots, oldest first; those at or after `since` (epoch ms) when given. */
  snapshots(since?: number): PerformanceSnapshot[] {
    return since === undefined ? [...this.history] : this.history.filter((s) => Date.parse(s.at) >= since);
  }

  get intervalMs(): number {
    return this.cfg.snapshotIntervalMs;
  }

  get historyMs(): number {
    return this.cfg.historyMs;
  }

  private build(lag: EventLoopLag): PerformanceSnapshot {
    const now = Date.now();
    const windowMs = Math.max(1, now - this.windowStart);
    const perS = (n: number) => n / (windowMs / 1000);
    const sorted = [...this.httpMs].sort((a, b) => a - b);
    const byKind = new Map<string, number[]>();
    for (const t of this.storeWin) {
      const xs = byKind.get(t.kind) ?? [];
      xs.push(t.duration_ms);
      byKind.set(t.kind, xs);
    }
    const store_queries = [...byKind]
      .map(([kind, xs]) => {
        xs.sort((a, b) => a - b);
        return {
          kind,
          count: xs.length,
          p50_ms: percentileOfSorted(xs, 50) ?? 0,
          p95_ms: percentileOfSorted(xs, 95) ?? 0,
          max_ms: xs[xs.length - 1]!,
        };
      })
      .sort((a, b) => b.p95_ms - a.p95_ms);
    const cs = this.sources.cache?.stats() ?? null;
    const hits = cs ? cs.hits - this.cacheAtWindowStart.hits : 0;
    const misses = cs ? cs.misses - this.cacheAtWindowStart.misses : 0;
    const memory = memoryFigures();
    return {
      at: new Date(now).toISOString(),
      window_ms: windowMs,
      http: {
        requests: this.httpCount,
        server_errors: this.http5xx,
        requests_per_s: perS(this.httpCount),
        latency_p50_ms: percentileOfSorted(sorted, 50) ?? null,
        latency_p95_ms: percentileOfSorted(sorted, 95) ?? null,
        latency_max_ms: sorted.at(-1) ?? null,
      },
      ingest: { ...this.ingestWin, accepted_per_s: perS(this.ingestWin.accepted) },
      store_queries,
      cache: cs && {
        backend: cs.backend,
        hits,
        misses,
        hit_rate: hits + misses > 0 ? hits / (hits + misses) : null,
        hit_rate_since_start: cs.hit_rate,
        entries: cs.entries,
      },
      pg_pool: this.sources.pool?.stats() ?? null,
      event_loop: lag,
      memory,
      memory_status: this.memoryHealth().status,
    };
  }

  /** Stops the snapshot timer and the event-loop monitor. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.eventLoop.close();
  }
}
