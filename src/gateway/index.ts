/**
 * The LLM gateway, assembled: credentials, workspace settings, recorder (queue + spool), exact cache and the proxy,
 * plus reading and changing a workspace's gateway policy. Built once by the composition root (src/app.ts).
 */
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Accounts } from '../accounts/index.js';
import { MemoryResponseCache, RedisResponseCache, type GatewayResponseCache } from '../cache/gateway-response-cache.js';
import type { Config } from '../config.js';
import type { GatewayPolicyRow, Repository } from '../db/repository.js';
import { GATEWAY_MODES, type GatewayMode } from '../db/schema.js';
import { NetraError } from '../errors.js';
import type { Logger } from '../logger.js';
import { validatePolicy } from '../optimize/policy.js';
import type { PriceCatalog } from '../workload/price-catalog.js';
import { GatewayCredentials } from './credentials.js';
import { GatewayProxy } from './proxy.js';
import { GatewayRecorder, type RecordSink } from './recorder.js';
import { policyVersion, settingsFromRow, WorkspaceSettingsCache } from './workspace-settings.js';

export { GATEWAY_ENDPOINTS, type GatewayEndpoint } from './endpoints.js';

export interface GatewayPolicyView {
  workspace: string;
  mode: GatewayMode;
  policy: Record<string, unknown>;
  record_text: boolean;
  /** short content hash of the policy document (events carry it as netra.policy_version); null when none is stored */
  policy_version: string | null;
  activated_at: string | null;
  updated_at: string | null;
}

export interface Gateway {
  readonly proxy: GatewayProxy;
  readonly recorder: GatewayRecorder;
  readonly credentials: GatewayCredentials;
  getPolicy(workspace: string): Promise<GatewayPolicyView>;
  /** Validates and stores `{ mode, policy, record_text }`; takes effect in this process at once. */
  setPolicy(workspace: string, input: unknown, by: string | null): Promise<GatewayPolicyView>;
  close(): Promise<void>;
}

export interface GatewayDeps {
  config: Config;
  log: Logger;
  repo: Repository;
  accounts: Accounts;
  catalog: () => PriceCatalog;
  sink: RecordSink;
  registry?: Registry;
  /** prefix for shared Redis keys (the store namespace) */
  redisPrefix: string;
}

function view(workspace: string, row: GatewayPolicyRow | null): GatewayPolicyView {
  return {
    workspace,
    mode: row?.mode ?? 'off',
    policy: row?.policy ?? {},
    record_text: row?.recordText ?? true,
    policy_version: row ? policyVersion(row.policy) : null,
    activated_at: row?.activatedAt.toISOString() ?? null,
    updated_at: row?.updatedAt.toISOString() ?? null,
  };
}

export async function createGateway(d: GatewayDeps): Promise<Gateway> {
  const g = d.config.gateway;
  const log = d.log.child({ component: 'gateway' });
  const recorder = new GatewayRecorder({
    sink: d.sink,
    spoolDir: g.spoolDir ?? join(d.config.dataDir, 'gateway-spool'),
    maxQueue: g.queueMaxEvents,
    batchSize: g.batchSize,
    flushIntervalMs: g.flushIntervalMs,
    spoolRetryMs: g.spoolRetryMs,
    spoolMaxBytes: g.spoolMaxBytes,
    log,
  });
  await recorder.start();
  let cache: GatewayResponseCache = new MemoryResponseCache(g.cacheMaxEntries);
  if (d.config.redisUrl) {
    const r = new RedisResponseCache({ url: d.config.redisUrl, prefix: `${d.redisPrefix}gateway:`, maxEntries: g.cacheMaxEntries, log });
    try {
      await r.connect();
      cache = r;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'gateway cache: redis unavailable; cache hits stay within this process');
      await r.close();
    }
  }
  const credentials = new GatewayCredentials({
    accounts: d.accounts,
    openaiBaseUrl: g.openaiBaseUrl,
    anthropicBaseUrl: g.anthropicBaseUrl,
    providers: g.providers,
    cacheMs: g.credentialCacheMs,
  });
  const settings = new WorkspaceSettingsCache((ws) => d.repo.gatewayPolicy(ws), g.credentialCacheMs);
  const proxy = new GatewayProxy({
    credentials,
    settings,
    recorder,
    cache,
    catalog: d.catalog,
    log,
    headersTimeoutMs: g.headersTimeoutMs,
    bodyTimeoutMs: g.bodyTimeoutMs,
    connectTimeoutMs: g.connectTimeoutMs,
    connectionsPerOrigin: g.connectionsPerOrigin,
    cacheMaxEntryBytes: g.cacheMaxEntryBytes,
  });

  if (d.registry) {
    const registers = [d.registry];
    const counter = (name: string, help: string, key: 'stored' | 'spooled' | 'replayed' | 'dropped' | 'rejected') =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(recorder.stats()[key]);
        },
      });
    counter('netra_gateway_events_recorded_total', 'Gateway calls stored in the analytics store', 'stored');
    counter(
      'netra_gateway_events_spooled_total',
      'Gateway calls written to the on-disk spool (store unavailable or queue full)',
      'spooled',
    );
    counter('netra_gateway_events_replayed_total', 'Gateway calls replayed from the spool into the store', 'replayed');
    counter('netra_gateway_events_dropped_total', 'Gateway calls lost (neither the store nor the spool took them)', 'dropped');
    counter('netra_gateway_events_rejected_total', 'Gateway calls refused by event validation', 'rejected');
    new Gauge({
      name: 'netra_gateway_queue_events',
      help: 'Gateway calls waiting to be stored',
      registers,
      collect() {
        this.set(recorder.stats().queued);
      },
    });
  }

  return {
    proxy,
    recorder,
    credentials,
    async getPolicy(workspace) {
      return view(workspace, await d.repo.gatewayPolicy(workspace));
    },
    async setPolicy(workspace, input, by) {
      const b = input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : null;
      if (!b) throw new NetraError('VALIDATION', 'body must be a JSON object { mode, policy, record_text }', { field: '(body)' });
      const before = await d.repo.gatewayPolicy(workspace);
      const mode = b.mode ?? before?.mode ?? 'off';
      if (!(GATEWAY_MODES as readonly unknown[]).includes(mode)) {
        throw new NetraError('VALIDATION', `mode must be one of ${GATEWAY_MODES.join(', ')}`, { field: 'mode' });
      }
      if (b.record_text !== undefined && typeof b.record_text !== 'boolean')
        throw new NetraError('VALIDATION', 'record_text must be true or false', { field: 'record_text' });
      const rawPolicy = b.policy ?? before?.policy ?? {};
      const catalog = d.catalog();
      let policy: Record<string, unknown>;
      try {
        policy = validatePolicy(rawPolicy, { knownModel: (m) => catalog.rates(workspace, m) !== null }) as unknown as Record<
          string,
          unknown
        >;
      } catch (err) {
        if (err instanceof NetraError && err.field)
          throw new NetraError('VALIDATION', err.message, { field: `policy.${err.field}`, details: err.details });
        throw err;
      }
      const row = await d.repo.setGatewayPolicy(
        workspace,
        { mode: mode as GatewayMode, policy, recordText: (b.record_text as boolean | undefined) ?? before?.recordText ?? true },
        by,
      );
      settings.set(workspace, settingsFromRow(row));
      log.info({ workspace, mode: row.mode }, 'gateway policy set');
      return view(workspace, row);
    },
    async close() {
      await proxy.close();
      await recorder.close();
      await cache.close();
    },
  };
}
