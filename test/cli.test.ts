/**
 * The `netra` command as a user runs it: separate processes on a temporary data directory.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPriceCatalog } from '../src/workload/price-catalog-file.js';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../bin/netra.js');
const AZURE = resolve(__dirname, 'fixtures/data/azure-llm-inference-2023-code.csv');

describe('netra CLI', () => {
  let dir: string;
  const netra = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, [BIN, ...args], {
        env: { ...process.env, NETRA_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', NETRA_LOG_LEVEL: 'warn' },
        maxBuffer: 64 << 20,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netra-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports the real Azure trace exactly and stats report the sums and the catalog spend', async () => {
    const imp = await netra('import', AZURE, '--format', 'azure-trace', '--model', 'gpt-4o-mini', '--workspace', 'azure', '--json');
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ imported: 8819, rejected: 0, errors: [] });

    const stats = await netra('stats', '--workspace', 'azure', '--json');
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect(s.events).toBe(8819);
    expect(s.prompt_tokens).toBe(18_059_974);
    expect(s.completion_tokens).toBe(245_896);
    // spend the catalog implies, computed independently from the raw file
    const rates = loadPriceCatalog().rates('azure', 'gpt-4o-mini')!;
    let expected = 0;
    for (const line of readFileSync(AZURE, 'utf8').trim().split('\n').slice(1)) {
      const [, p, c] = line.split(',');
      expected += Number(p) * rates.input + Number(c) * rates.output;
    }
    expect(s.spend_usd).toBeCloseTo(expected, 6);
    expect(s.by_model).toHaveLength(1);

    const again = await netra('import', AZURE, '--format', 'azure-trace', '--model', 'gpt-4o-mini', '--workspace', 'azure', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, duplicates: 8819 });
  }, 120_000);

  it('analyzes, simulates and exports gateway configs for the imported trace', async () => {
    const a = await netra('analyze', '--workspace', 'azure', '--goal', 'cost', '--json');
    expect(a.code).toBe(0);
    const analysis = JSON.parse(a.stdout);
    // the API's shape: the top list, more, findings, minor items grouped
    expect(Object.keys(analysis).sort()).toEqual([
      'findings',
      'minor',
      'more_recommendations',
      'performance',
      'recommendations',
      'skipped',
      'summary',
    ]);
    expect(analysis.summary.events).toBe(8819);
    expect(analysis.recommendations.length).toBeLessThanOrEqual(10);
    expect(analysis.summary.projected_savings.basis.length).toBeGreaterThan(10);
    const md = await netra('analyze', '--workspace', 'azure', '--md');
    expect(md.stdout).toMatch(/^# /m);

    const policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({ name: 'nano', routing: [{ match: { model: 'gpt-4o-mini' }, target_model: 'gpt-4.1-nano' }] }),
    );
    const sim = await netra('simulate', policyFile, '--workspace', 'azure', '--json');
    expect(sim.code).toBe(0);
    const r = JSON.parse(sim.stdout);
    expect(r.baseline.events).toBe(8819);
    expect(r.projected.spend_usd).toBeLessThan(r.baseline.spend_usd);

    writeFileSync(policyFile, JSON.stringify({ routing: [{ target_model: 'gpt-99' }] }));
    const bad = await netra('simulate', policyFile, '--workspace', 'azure');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/routing\[0\]\.target_model/);

    const out = join(dir, 'portkey.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        routing: [{ match: { model: 'gpt-4o-mini' }, target_model: 'gpt-4.1-nano' }],
        exact_cache: { enabled: true, ttl_seconds: 600 },
      }),
    );
    const pk = await netra('export-config', '--format', 'portkey', '--policy', policyFile, '--workspace', 'azure', '--out', out);
    expect(pk.code).toBe(0);
    const cfg = JSON.parse(readFileSync(out, 'utf8'));
    expect(cfg.cache).toEqual({ mode: 'simple', max_age: 600 });
    const ll = await netra('export-config', '--format', 'litellm', '--policy', policyFile, '--workspace', 'azure');
    expect(ll.stdout).toMatch(/^model_list:/m);
    expect(ll.stdout).toMatch(/gpt-4.1-nano/);
  }, 120_000);

  it('sets the gateway policy of a workspace: the recommended one in shadow, a file in enforce', async () => {
    const rec = await netra('gateway', 'policy', 'set', '--mode', 'shadow', '--workspace', 'azure', '--goal', 'cost', '--json');
    expect(rec.code).toBe(0);
    expect(JSON.parse(rec.stdout)).toMatchObject({ workspace: 'azure', mode: 'shadow', record_text: true });
    const policyFile = join(dir, 'gateway-policy.json');
    writeFileSync(policyFile, JSON.stringify({ exact_cache: { enabled: true, ttl_seconds: 60 } }));
    const set = await netra(
      'gateway',
      'policy',
      'set',
      '--mode',
      'enforce',
      '--policy',
      policyFile,
      '--record-text',
      'false',
      '--workspace',
      'azure',
      '--json',
    );
    expect(set.code).toBe(0);
    const shown = JSON.parse((await netra('gateway', 'policy', 'show', '--workspace', 'azure')).stdout);
    expect(shown).toMatchObject({ mode: 'enforce', record_text: false, policy: { exact_cache: { enabled: true, ttl_seconds: 60 } } });
    const bad = await netra('gateway', 'policy', 'set', '--mode', 'sometimes', '--workspace', 'azure');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/sometimes/);
    // what the policy saved: no gateway call recorded under it yet, said in JSON and in words
    const saved = await netra('gateway', 'savings', '--workspace', 'azure', '--json');
    expect(saved.code).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({
      workspace: 'azure',
      mode: 'enforce',
      policy_version: shown.policy_version,
      by_mode: [],
    });
    const text = await netra('gateway', 'savings', '--workspace', 'azure');
    expect(text.stdout).toContain(`Gateway policy of azure: enforce (version ${shown.policy_version}`);
    expect(text.stdout).toMatch(/No gateway call in the window was recorded under the current policy/);
  }, 120_000);

  it('reports bad rows with line and field and keeps the good ones', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ timestamp: '2026-11-01T00:00:00Z', model: 'gpt-4o', prompt_tokens: 10, completion_tokens: 5 }),
        '{not json',
        JSON.stringify({ timestamp: '2026-11-01T00:00:01Z', model: 'gpt-4o', prompt_tokens: -3 }),
        JSON.stringify({ timestamp: 'soon', model: 'gpt-4o' }),
        JSON.stringify({ timestamp: '2026-11-01T00:00:02Z', model: 'made-up-model' }),
        JSON.stringify({ timestamp: '2026-11-01T00:00:03Z', model: 'gpt-4o', prompt_tokens: 7 }),
      ].join('\n'),
    );
    const r = await netra('import', file, '--format', 'jsonl', '--workspace', 'bad', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.imported).toBe(3); // the unknown model is stored, flagged unknown_model
    expect(out.rejected).toBe(3);
    expect(out.errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [2, '(json)'],
      [3, 'prompt_tokens'],
      [4, 'timestamp'],
    ]);
  }, 60_000);

  it('imports a Mooncake trace (format detected) with --model and --start, and asks for --start when it is missing', async () => {
    const trace = resolve(__dirname, 'fixtures/imports/mooncake-trace.jsonl');
    const noStart = await netra('import', trace, '--model', 'gpt-4o-mini', '--workspace', 'mc', '--json');
    expect(noStart.code).not.toBe(0);
    expect(noStart.stderr).toMatch(/--start/);
    const imp = await netra('import', trace, '--model', 'gpt-4o-mini', '--start', '2026-11-02T08:00:00Z', '--workspace', 'mc', '--json');
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ imported: 15, rejected: 0 });
    const stats = JSON.parse((await netra('stats', '--workspace', 'mc', '--json')).stdout);
    expect(stats.prompt_tokens).toBe(50_710);
  }, 180_000);

  it('backfills block chains: nothing to derive for generated events (prompts under 1,024 tokens), then the workspace is done', async () => {
    await netra('generate', '--preset', 'rag-assistant', '--events', '300', '--workspace', 'bf', '--json');
    const first = await netra('backfill', '--workspace', 'bf', '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual([{ workspace: 'bf', scanned: 0, chained: 0, completed: true }]);
    const again = await netra('backfill', '--workspace', 'bf');
    expect(again.stdout).toMatch(/^bf: nothing to do \(completed at .*; --restart walks it again\)/);
    const unknown = await netra('backfill', '--workspace', 'no-such-workspace');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/NETRA_E_NOT_FOUND: unknown workspace 'no-such-workspace'/);
  }, 180_000);

  it('explains a missing model for the Azure format and a bad format', async () => {
    const noModel = await netra('import', AZURE, '--format', 'azure-trace', '--json');
    expect(noModel.code).not.toBe(0);
    expect(noModel.stderr).toMatch(/model/);
    const badFormat = await netra('import', AZURE, '--format', 'xml');
    expect(badFormat.code).not.toBe(0);
    expect(badFormat.stderr).toMatch(/'xml' is not a format; choose one of jsonl, /);
  }, 60_000);

  it('generates deterministic workloads to a file and prints the manifest', async () => {
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    const g1 = await netra('generate', '--preset', 'rag-assistant', '--events', '2000', '--days', '2', '--seed', '5', '--out', a, '--json');
    const g2 = await netra('generate', '--preset', 'rag-assistant', '--events', '2000', '--days', '2', '--seed', '5', '--out', b, '--json');
    expect(g1.code).toBe(0);
    expect(g2.code).toBe(0);
    const m = JSON.parse(g1.stdout);
    expect(m.events).toBe(2000);
    expect(m.shares.exact_duplicate_share).toBeGreaterThan(0);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    expect(readFileSync(a, 'utf8').trim().split('\n')).toHaveLength(2000);
    const unknown = await netra('generate', '--preset', 'nope', '--events', '10');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown preset 'nope'.*chat-support/);
  }, 120_000);
});
