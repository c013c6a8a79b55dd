/**
 * The documentation tables generated from code: the error registry (src/errors.ts), the settings table
 * (src/config.ts), the event schema and its OpenTelemetry mapping (src/workload/otel-mapping.ts), each written between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in its doc.
 * `npm run docs:tables` rewrites them; test/docs-tables.test.ts fails when a doc differs from what this renders.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { settingsList, shownDefault } from '../src/config.js';
import { ErrorCodes, type ErrorSpec } from '../src/errors.js';
import { renderEventSchemaMarkdown, renderOtelMappingMarkdown } from '../src/workload/otel-mapping.js';

export interface GeneratedTable {
  /** path from the repository root */
  doc: string;
  name: string;
  render(): string;
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderErrorTable(): string {
  const rows = Object.values(ErrorCodes as Record<string, ErrorSpec>).map(
    (e) => `| \`${e.code}\` | ${e.status} | ${e.wsClose ?? ''} | ${cell(e.doc)} |`,
  );
  return ['| code | HTTP status | WebSocket close | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Every setting (docs/OPERATIONS.md), or only those marked for the README. */
export function renderConfigTable(only: 'all' | 'readme'): string {
  const rows = settingsList()
    .filter(({ setting: s }) => only === 'all' || s.readme)
    .map(({ path, setting: s }) =>
      only === 'all'
        ? `| ${s.env.map((e) => `\`${e}\``).join(', ')} | \`${path}\` | ${cell(shownDefault(s))} | ${cell(s.doc)} |`
        : `| ${s.env.map((e) => `\`${e}\``).join(', ')} | ${cell(shownDefault(s))} | ${cell(s.doc)} |`,
    );
  const head =
    only === 'all'
      ? ['| variable | setting | default | meaning |', '| --- | --- | --- | --- |']
      : ['| variable | default | meaning |', '| --- | --- | --- |'];
  return [...head, ...rows].join('\n');
}

export const TABLES: GeneratedTable[] = [
  { doc: 'docs/OPERATIONS.md', name: 'errors', render: renderErrorTable },
  { doc: 'docs/OPERATIONS.md', name: 'config', render: () => renderConfigTable('all') },
  { doc: 'README.md', name: 'config', render: () => renderConfigTable('readme') },
  { doc: 'docs/EVENTS.md', name: 'event-schema', render: renderEventSchemaMarkdown },
  { doc: 'docs/EVENTS.md', name: 'otel-mapping', render: renderOtelMappingMarkdown },
];

const root = fileURLToPath(new URL('..', import.meta.url));

/** The text between the markers of `name` in `text`; null when the markers are missing. */
export function generatedBlock(text: string, name: string): string | null {
  const start = `<!-- generated:${name} -->\n`;
  const end = `\n<!-- /generated:${name} -->`;
  const i = text.indexOf(start);
  if (i < 0) return null;
  const j = text.indexOf(end, i + start.length - 1);
  return j < 0 ? null : text.slice(i + start.length, Math.max(j, i + start.length));
}

export function readDoc(doc: string): string {
  return readFileSync(root + doc, 'utf8');
}

function writeTables(): void {
  for (const t of TABLES) {
    const text = readDoc(t.doc);
    const old = generatedBlock(text, t.name);
    if (old === null) throw new Error(`${t.doc} has no <!-- generated:${t.name} --> block`);
    const start = `<!-- generated:${t.name} -->\n`;
    const i = text.indexOf(start) + start.length;
    writeFileSync(root + t.doc, `${text.slice(0, i)}${t.render()}${old === '' ? '\n' : ''}${text.slice(i + old.length)}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) writeTables();
