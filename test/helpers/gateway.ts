/**
 * A running app with the gateway pointed at a local fake provider, and a workspace with a gateway key and stored
 * provider secrets, for the gateway tests.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { WorkloadEvent } from '../../src/workload/event.js';
import { startTestApp, type TestApp } from './app.js';
import { startFakeProvider, type FakeProvider } from './provider-fake-server.js';

export interface GatewayWorkspace {
  name: string;
  key: string;
  openai: OpenAI;
  anthropic: Anthropic;
}

export interface GatewayHarness {
  t: TestApp;
  fake: FakeProvider;
  url: string;
  workspace(name: string, opts?: { scope?: string; secrets?: boolean }): Promise<GatewayWorkspace>;
  /** flushes the recorder and returns the workspace's stored events, oldest first */
  events(workspace: string): Promise<WorkloadEvent[]>;
  close(): Promise<void>;
}

export async function startGatewayHarness(
  gateway: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
): Promise<GatewayHarness> {
  const fake = await startFakeProvider();
  const t = await startTestApp({
    gateway: { openaiBaseUrl: fake.openaiBase, anthropicBaseUrl: fake.url, flushIntervalMs: 20, ...gateway },
    ...overrides,
  });
  const url = await t.app.listen();
  return {
    t,
    fake,
    url,
    async workspace(name, opts = {}) {
      const owner = t.app.accounts.identity.localOwnerId();
      if (!(await t.app.accounts.access.exists(name))) await t.app.accounts.access.createWorkspace(name, owner);
      const { key } = await t.app.accounts.access.createApiKey(name, { scope: opts.scope ?? 'gateway' }, owner);
      if (opts.secrets !== false) {
        await t.app.accounts.access.setProviderSecret(name, 'openai', `sk-upstream-${name}-0123456789`, owner);
        await t.app.accounts.access.setProviderSecret(name, 'anthropic', `sk-ant-upstream-${name}-0123456789`, owner);
      }
      return {
        name,
        key,
        openai: new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 }),
        anthropic: new Anthropic({ apiKey: key, baseURL: url, maxRetries: 0 }),
      };
    },
    async events(workspace) {
      await t.app.gateway!.recorder.flush();
      const evs = await t.app.store.listEvents({ workspace }, { limit: 1000 });
      return evs.sort((a, b) => a.timestamp - b.timestamp);
    },
    async close() {
      await t.close();
      await fake.close();
    },
  };
}
