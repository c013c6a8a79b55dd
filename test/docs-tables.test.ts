import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
      expect(block.split('\n').filter((l) => l.startsWith(`| \`${e.code}\` |`)), e.code).toHaveLength(1);
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
});
