/**
 * Prometheus metrics (prom-client), one registry per app. Instruments fed as things happen: HTTP latency, ingested
 * events. Instruments read from their sources at scrape time (collect()): store query durations (new entries of the
 * store's query-timing log), query cache counters, PostgreSQL pool gauges, event-loop lag, memory, memory health,
 * failed startup tasks. WebSocket and LLM metrics arrive with the features that produce them.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueryCacheStats } from '../cache/query-cache.js';
import type { PgPoolStats } from '../db/pool.js';
import type { EventLoopLag, MemoryFigures, MemoryStatus } from './runtime-health.js';

export interface MetricSources {
  /** feeds store query timings recorded since the last call into observeStoreQuery() */
  syncStoreTimings(): void;
  cache(): QueryCacheStats | null;
  pool(): PgPoolStats | null;
  eventLoop(): EventLoopLag;
  memory(): MemoryFigures;
  memoryStatus(): MemoryStatus;
  /** how many startup tasks' last attempt failed */
  failedStartupTasks(): number;
  /** breaker state of each LLM provider in the chain */
  llmBreakers(): { provider: string; state: string }[];
}

export interface IngestCounts {
  accepted: number;
  rejected: number;
  duplicates: number;
}

export const MEMORY_STATUSES: readonly MemoryStatus[] = ['healthy', 'degraded', 'critical'];

export class AppMetrics {
  readonly registry = new Registry();
  private readonly http: Histogram<'method' | 'route' | 'status'>;
  private readonly ingest: Counter<'source' | 'outcome'>;
  private readonly storeQuery: Histogram<'kind'>;
  private readonly llmCalls: Counter<'provider' | 'outcome'>;
  private readonly otlpSkipped: Counter<'kind'>;
  private readonly llmLatency: Histogram<'provider'>;
  // chat WebSocket: the gateway sets the connection count source and counts messages
  private wsConnectionCount: () => number = () => 0;
  /** messages counted since the last scrape, by direction then type: a plain increment per message (the hot path), folded
   * into netra_ws_messages_total when it is collected. Types are a closed set (protocol types, `invalid`, `rate_limited`). */
  private readonly wsPending = { in: new Map<string, number>(), out: new Map<string, number>() };

  constructor(src: MetricSources, opts: { pool: boolean }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service: 'netra' });
    this.http = new Histogram({
      name: 'netra_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.ingest = new Counter({
      name: 'netra_ingest_events_total',
      help: 'Ingested events by source (http, file, generate) and outcome (accepted, rejected, duplicate)',
      labelNames: ['source', 'outcome'],
      registers,
    });

    this.storeQuery = new Histogram({
      name: 'netra_store_query_duration_seconds',
      help: 'Analytics store query duration by query kind',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
      collect() {
        src.syncStoreTimings();
      },
    });

    const wsCount = () => this.wsConnectionCount();
    new Gauge({
      name: 'netra_ws_connections',
      help: 'Open chat WebSocket connections',
      registers,
      collect() {
        this.set(wsCount());
      },
    });
    const wsPending = this.wsPending;
    new Counter({
      name: 'netra_ws_messages_total',
      help: 'Chat WebSocket messages by direction (in, out) and type (unknown types count as invalid)',
      labelNames: ['direction', 'type'],
      registers,
      collect() {
        for (const direction of ['in', 'out'] as const) {
          for (const [type, n] of wsPending[direction]) {
            if (n > 0) {
              this.inc({ direction, type }, n);
              wsPending[direction].set(type, 0);
            }
          }
        }
      },
    });

    this.otlpSkipped = new Counter({
      name: 'netra_otlp_spans_skipped_total',
      help: 'OTLP spans received that are not model calls and were counted, not stored, by kind (workflow, tool, chain, not_genai, ...)',
      labelNames: ['kind'],
      registers,
    });
    this.llmCalls = new Counter({
      name: 'netra_llm_calls_total',
      help: 'LLM calls by provider and outcome (ok, error, retry, fallback, cache_hit)',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.llmLatency = new Histogram({
      name: 'netra_llm_call_duration_seconds',
      help: 'Latency of successful LLM calls by provider',
      labelNames: ['provider'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    new Gauge({
      name: 'netra_llm_breaker_open',
      help: 'Circuit breaker per LLM provider: 0 closed, 0.5 half-open, 1 open or isolated',
      labelNames: ['provider'],
      registers,
      collect() {
        for (const { provider, state } of src.llmBreakers())
          this.set({ provider }, state === 'closed' ? 0 : state === 'half_open' ? 0.5 : 1);
      },
    });

    const cacheSeen = { hit: 0, miss: 0, invalidations: 0, errors: 0 };
    const cacheDelta = (c: Counter<string>, key: keyof typeof cacheSeen, now: number, labels?: Record<string, string>) => {
      if (now > cacheSeen[key]) {
        if (labels) c.inc(labels, now - cacheSeen[key]);
        else c.inc(now - cacheSeen[key]);
      }
      cacheSeen[key] = Math.max(cacheSeen[key], now);
    };
    const lookups = new Counter({
      name: 'netra_query_cache_lookups_total',
      help: 'Analytics query cache lookups by result (hit, miss)',
      labelNames: ['result'],
      registers,
      collect() {
        const s = src.cache();
        if (!s) return;
        cacheDelta(lookups, 'hit', s.hits, { result: 'hit' });
        cacheDelta(lookups, 'miss', s.misses, { result: 'miss' });
      },
    });
    const invalidations = new Counter({
      name: 'netra_query_cache_invalidations_total',
      help: 'Workspace invalidations of the query cache (one per ingest that stored events)',
      registers,
      collect() {
        const s = src.cache();
        if (s) cacheDelta(invalidations, 'invalidations', s.invalidations);
      },
    });
    const cacheErrors = new Counter({
      name: 'netra_query_cache_errors_total',
      help: 'Query cache backend failures (the value was computed without the cache)',
      registers,
      collect() {
        const s = src.cache();
        if (s) cacheDelta(cacheErrors, 'errors', s.errors);
      },
    });
    new Gauge({
      name: 'netra_query_cache_hit_ratio',
      help: 'Query cache hits / lookups since start (NaN before the first lookup)',
      registers,
      collect() {
        const s = src.cache();
        this.set(s?.hit_rate ?? Number.NaN);
      },
    });
    new Gauge({
      name: 'netra_query_cache_entries',
      help: 'Entries held by the in-memory query cache (absent for Redis)',
      labelNames: ['backend'],
      registers,
      collect() {
        const s = src.cache();
        if (s && s.entries !== null) this.set({ backend: s.backend }, s.entries);
      },
    });

    if (opts.pool) this.poolMetrics(src, registers);

    new Gauge({
      name: 'netra_event_loop_lag_seconds',
      help: 'Event-loop delay over the last sampling window (monitorEventLoopDelay)',
      labelNames: ['stat'],
      registers,
      collect() {
        const l = src.eventLoop();
        this.set({ stat: 'mean' }, l.mean_ms / 1000);
        this.set({ stat: 'p50' }, l.p50_ms / 1000);
        this.set({ stat: 'p99' }, l.p99_ms / 1000);
        this.set({ stat: 'max' }, l.max_ms / 1000);
      },
    });
    new Gauge({
      name: 'netra_process_memory_bytes',
      help: 'Process memory by type (heap_used, heap_total, heap_limit, rss, external)',
      labelNames: ['type'],
      registers,
      collect() {
        const m = src.memory();
        this.set({ type: 'heap_used' }, m.heap_used_bytes);
        this.set({ type: 'heap_total' }, m.heap_total_bytes);
        this.set({ type: 'heap_limit' }, m.heap_limit_bytes);
        this.set({ type: 'rss' }, m.rss_bytes);
        this.set({ type: 'external' }, m.external_bytes);
      },
    });
    new Gauge({
      name: 'netra_memory_health',
      help: 'Memory health: 1 for the current status (healthy, degraded, critical), 0 for the others',
      labelNames: ['status'],
      registers,
      collect() {
        const s = src.memoryStatus();
        for (const x of MEMORY_STATUSES) this.set({ status: x }, x === s ? 1 : 0);
      },
    });
    new Gauge({
      name: 'netra_startup_tasks_failed',
      help: 'Startup tasks whose last attempt failed (health is degraded while > 0)',
      registers,
      collect() {
        this.set(src.failedStartupTasks());
      },
    });
  }

  private poolMetrics(src: MetricSources, registers: Registry[]): void {
    new Gauge({
      name: 'netra_pg_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, in_use) and checkouts waiting',
      labelNames: ['state'],
      registers,
      collect() {
        const s = src.pool();
        if (!s) return;
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'in_use' }, s.in_use);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
    new Gauge({
      name: 'netra_pg_pool_max_connections',
      help: 'PostgreSQL pool size + overflow',
      registers,
      collect() {
        const s = src.pool();
        if (s) this.set(s.max);
      },
    });
    new Gauge({
      name: 'netra_pg_pool_saturation_ratio',
      help: 'PostgreSQL connections in use / max (a warning is logged above the configured ratio)',
      registers,
      collect() {
        const s = src.pool();
        if (s) this.set(s.saturation);
      },
    });
    const seen = { timeouts: 0, pre_ping_failures: 0 };
    const timeouts = new Counter({
      name: 'netra_pg_pool_timeouts_total',
      help: 'Checkouts that found no free PostgreSQL connection within the pool timeout',
      registers,
      collect() {
        const s = src.pool();
        if (s && s.timeouts > seen.timeouts) {
          timeouts.inc(s.timeouts - seen.timeouts);
          seen.timeouts = s.timeouts;
        }
      },
    });
    const prePing = new Counter({
      name: 'netra_pg_pool_pre_ping_failures_total',
      help: 'PostgreSQL connections found dead by the pre-ping and replaced',
      registers,
      collect() {
        const s = src.pool();
        if (s && s.pre_ping_failures > seen.pre_ping_failures) {
          prePing.inc(s.pre_ping_failures - seen.pre_ping_failures);
          seen.pre_ping_failures = s.pre_ping_failures;
        }
      },
    });
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  observeStoreQuery(kind: string, ms: number): void {
    this.storeQuery.observe({ kind }, ms / 1000);
  }

  /** LLM calls by provider and outcome (ok, error, retry, fallback, cache_hit) and their latency. */
  /** Where netra_ws_connections reads the open connection count (the WebSocket gateway). */
  setWsConnections(fn: () => number): void {
    this.wsConnectionCount = fn;
  }

  observeWsMessage(direction: 'in' | 'out', type: string): void {
    const m = this.wsPending[direction];
    m.set(type, (m.get(type) ?? 0) + 1);
  }

  observeLlmCall(e: { provider: string; outcome: string; latency_ms: number }): void {
    this.llmCalls.inc({ provider: e.provider, outcome: e.outcome });
    if (e.outcome === 'ok') this.llmLatency.observe({ provider: e.provider }, e.latency_ms / 1000);
  }

  observeOtlpSkipped(kind: string, n: number): void {
    if (n > 0) this.otlpSkipped.inc({ kind }, n);
  }

  observeIngest(source: string, c: IngestCounts): void {
    if (c.accepted > 0) this.ingest.inc({ source, outcome: 'accepted' }, c.accepted);
    if (c.rejected > 0) this.ingest.inc({ source, outcome: 'rejected' }, c.rejected);
    if (c.duplicates > 0) this.ingest.inc({ source, outcome: 'duplicate' }, c.duplicates);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
