/**
 * Rewrites the two generated tables of docs/EVENTS.md (event schema, OTel mapping) from src/workload/otel-mapping.ts.
 * Run: node --import tsx scripts/render-event-docs.ts (a test checks the page holds them verbatim).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEventSchemaMarkdown, renderOtelMappingMarkdown } from '../src/workload/otel-mapping.js';

const path = new URL('../docs/EVENTS.md', import.meta.url);
let doc = readFileSync(path, 'utf8');
const replaceTable = (header: string, table: string) => {
  const start = doc.indexOf(header);
  if (start < 0) throw new Error(`table starting with ${header} not found`);
  let end = doc.indexOf('\n\n', start);
  if (end < 0) end = doc.length;
  doc = doc.slice(0, start) + table + doc.slice(end);
};
replaceTable('| Field | Type | Required / default | Meaning |', renderEventSchemaMarkdown());
replaceTable('| Netra field | OpenTelemetry source (lookup order) | Notes |', renderOtelMappingMarkdown());
writeFileSync(path, doc);
