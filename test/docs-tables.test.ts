import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv, settingsList } from '../src/config.js';
import { ErrorCodes } from '../src/errors.js';
import { generatedBlock, readDoc, TABLES } from '../scripts/docs-tables.js';

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(ts|js)$/.test(name)) out.push(p);
  }
  return out;
}

describe('generated documentation tables', () => {
  for (const t of TABLES) {
    it(`${t.doc} (${t.name}) matches the code (npm run docs:tables rewrites it)`, () => {
      const block = generatedBlock(readDoc(t.doc), t.name);
      expect(block, `${t.doc} has no <!-- generated:${t.name} --> block`).not.toBeNull();
      expect(block).toBe(t.render());
    });
  }

  it('documents every error code of the registry, once', () => {
    const block = generatedBlock(readDoc('docs/OPERATIONS.md'), 'errors') ?? '';
    for (const e of Object.values(ErrorCodes)) {
      expect(
        block.split('\n').filter((l) => l.startsWith(`| \`${e.code}\` |`)),
        e.code,
      ).toHaveLength(1);
    }
  });

  it('every NETRA_E_ code written anywhere in src/ and web/ is in the registry', () => {
    const known = new Set<string>(Object.values(ErrorCodes).map((e) => e.code));
    const unknown: string[] = [];
    for (const f of [...files('src'), ...files('web')]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/NETRA_E_[A-Z_]+/g)) if (!known.has(m[0])) unknown.push(`${f}: ${m[0]}`);
    }
    expect(unknown).toEqual([]);
  });

  it('the settings table: one entry per variable, each variable reaches its field', () => {
    const all = settingsList();
    const vars = all.flatMap((s) => s.setting.env);
    expect(new Set(vars).size).toBe(vars.length);
    expect(all.length).toBeGreaterThan(90);
    // a variable set to a valid non-default value lands in the field the table names
    const cases: [string, string, unknown][] = [
      ['NETRA_PG_POOL_SIZE', '7', 7],
      ['NETRA_MEMORY_HEAP_CRITICAL_RATIO', '0.5', 0.5],
      ['NETRA_EVENT_LOOP_LAG_DEGRADED_MS', '321', 321],
      ['NETRA_WS_MAX_VIOLATIONS', '9', 9],
      ['CLICKHOUSE_TTL_DAYS', '30', 30],
      ['NETRA_PRECOMPUTE_GOALS', 'cost', ['cost']],
    ];
    for (const [name, value, expected] of cases) {
      const path = all.find((s) => s.setting.env.includes(name))!.path.split('.');
      let v: unknown = configFromEnv({ [name]: value });
      for (const k of path) v = (v as Record<string, unknown>)[k];
      expect(v, name).toEqual(expected);
    }
  });

  it('every NETRA_ variable the docs mention is a setting', () => {
    const vars = new Set(settingsList().flatMap((s) => s.setting.env));
    // switches of test and benchmark runs, not of Netra itself
    for (const v of ['NETRA_CHAOS_FIGURES']) vars.add(v);
    const docs = [
      'README.md',
      ...readdirSync('docs')
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const unknown: string[] = [];
    for (const d of docs) {
      for (const m of readFileSync(d, 'utf8').matchAll(/NETRA_(?!E_)[A-Z0-9_]*[A-Z0-9]\b(?!_\*)/g)) {
        const v = m[0];
        if (!vars.has(v) && ![...vars].some((x) => x.startsWith(`${v}_`))) unknown.push(`${d}: ${v}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
