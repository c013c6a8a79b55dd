#!/usr/bin/env node
/**
 * Files stay under ~400 lines unless they say why at the top: a source file (src/, web/) longer than the limit must
 * carry, in its first 15 lines, a line containing "longer than ~400 lines" (or "Longer than ~400 lines") followed by
 * the reason. Prints every file over the limit without one and exits 1. `npm run lint` runs it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const LIMIT = 400;
const ROOTS = ['src', 'web'];
const EXT = /\.(ts|js|mjs)$/;
const REASON = /longer than ~?400 lines/i;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (EXT.test(name)) yield p;
  }
}

const over = [];
for (const root of ROOTS) {
  for (const f of files(root)) {
    const lines = readFileSync(f, 'utf8').split('\n');
    const n = lines.length - (lines.at(-1) === '' ? 1 : 0);
    if (n > LIMIT && !lines.slice(0, 15).some((l) => REASON.test(l))) over.push(`${f}: ${n} lines`);
  }
}
if (over.length > 0) {
  console.error(`files over ${LIMIT} lines without a reason at the top ("Longer than ~400 lines: <why>"):\n  ${over.join('\n  ')}`);
  process.exit(1);
}
console.log(`file size: every file under ${LIMIT} lines or with its reason at the top`);
