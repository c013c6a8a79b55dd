/**
 * Imports from LiteLLM spend logs (JSON and CSV) and Langfuse observation pages, and format detection; fixtures in
 * test/fixtures/imports/ are written from the formats' documentation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../src/ingest/file-import.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/imports/${name}`, import.meta.url));

describe('imports from LiteLLM and Langfuse', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'netra-import-tools-'));
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const events = async (ws: string) =>
    new Map((await t.app.store.listEvents({ workspace: ws }, { limit: 100 })).map((e) => [e.event_id, e]));

  it('detects every format from the file, and says so when it cannot tell', async () => {
    expect(await detectFormat(fixture('litellm-spend-logs.json'))).toBe('litellm');
    expect(await detectFormat(fixture('litellm-spend-logs.csv'))).toBe('litellm');
    expect(await detectFormat(fixture('langfuse-observations.json'))).toBe('langfuse');
    expect(await detectFormat(fixture('../data/azure-llm-inference-2023-code.csv'))).toBe('azure-trace');
    const jsonl = join(dir, 'e.jsonl');
    writeFileSync(jsonl, '{"timestamp": "2026-11-20T10:00:00Z", "model": "gpt-4o"}\n');
    expect(await detectFormat(jsonl)).toBe('jsonl');
    const odd = join(dir, 'odd.json');
    writeFileSync(odd, '{"hello": "world"}');
    await expect(detectFormat(odd)).rejects.toMatchObject({
      code: 'NETRA_E_VALIDATION',
      message: expect.stringMatching(/cannot tell the format .*keys hello.*pass --format/),
    });
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some notes\n');
    await expect(detectFormat(text)).rejects.toMatchObject({ message: expect.stringMatching(/neither JSON nor a CSV header/) });
  });

  it('imports LiteLLM spend logs (JSON): tokens, cached tokens, cost as LiteLLM computed it, times, users, tags, failures', async () => {
    const r = await t.app.importFile(fixture('litellm-spend-logs.json'), { format: 'litellm', workspace: 'litellm' });
    expect(r).toMatchObject({ accepted: 3, rejected: 1 });
    expect(r.errors[0]).toMatchObject({ index: 3, field: 'timestamp' });
    const ev = await events('litellm');
    expect(ev.get('chatcmpl-9f1c2a')).toMatchObject({
      model: 'gpt-4o-mini-2024-07-18',
      provider: 'openai',
      operation: 'chat',
      prompt_tokens: 1150,
      completion_tokens: 60,
      cached_prompt_tokens: 1024,
      cost_usd: 0.0004125,
      cost_source: 'given',
      timestamp: Date.UTC(2026, 10, 20, 10, 0, 0, 120),
      latency_ms: 1500,
      ttft_ms: 350,
      end_user: 'customer-77',
      session_id: 'sess-1',
      status: 'ok',
      tags: { prod: 'true', support: 'true', api_key_alias: 'support-bot-key', team: 'support', team_id: 'team-abc' },
    });
    // spend 0 is not a given cost: priced from the catalog
    expect(ev.get('chatcmpl-9f1c2b')).toMatchObject({ operation: 'embedding', prompt_tokens: 300, cost_source: 'catalog', latency_ms: 80 });
    expect(ev.get('chatcmpl-9f1c2c')).toMatchObject({
      status: 'error',
      error_type: 'Timeout',
      http_status: 408,
      provider: 'anthropic',
      latency_ms: 30_000,
    });
  });

  it('imports a LiteLLM CSV export, with JSON columns, and reports a short row by line', async () => {
    const r = await t.app.importFile(fixture('litellm-spend-logs.csv'), { format: 'litellm', workspace: 'litellm-csv' });
    expect(r).toMatchObject({ accepted: 2, rejected: 1 });
    expect(r.errors[0]).toMatchObject({ line: 4, field: '(row)' });
    const ev = await events('litellm-csv');
    expect(ev.get('chatcmpl-csv-1')).toMatchObject({
      prompt_tokens: 1150,
      completion_tokens: 60,
      cached_prompt_tokens: 1024,
      cost_usd: 0.0004125,
      tags: { prod: 'true', team: 'support', team_id: 'team-abc' },
      ttft_ms: 350,
    });
    expect(ev.get('chatcmpl-csv-2')).toMatchObject({ status: 'error', error_type: 'Timeout', http_status: 408 });
  });

  it('imports Langfuse generations from observation pages; spans and events are not calls', async () => {
    const r = await t.app.importFile(fixture('langfuse-observations.json'), { format: 'langfuse', workspace: 'langfuse' });
    expect(r).toMatchObject({ accepted: 2, rejected: 0 });
    const ev = await events('langfuse');
    expect([...ev.keys()].sort()).toEqual(['obs-gen-1', 'obs-gen-2']);
    expect(ev.get('obs-gen-1')).toMatchObject({
      trace_id: 'trace-1',
      model: 'gpt-4o-2024-08-06',
      prompt_tokens: 900,
      completion_tokens: 40,
      cached_prompt_tokens: 512,
      cost_usd: 0.0023,
      cost_source: 'given',
      temperature: 0.3,
      max_tokens: 256,
      latency_ms: 2000,
      ttft_ms: 400,
      environment: 'production',
      response_text: 'It ships tomorrow.',
      token_source: 'reported',
      tags: { name: 'answer-question', feature: 'order-status' },
    });
    expect(ev.get('obs-gen-1')!.prompt_text).toBe('system: You are a support agent.\nuser: Where is my order?');
    // no usage and an error: tokens are not estimated for a failed call; its model has no cost given
    expect(ev.get('obs-gen-2')).toMatchObject({
      status: 'error',
      error_type: 'overloaded_error',
      environment: 'staging',
      prompt_text: 'Summarise: the parcel left the warehouse.',
    });
  });
});
