/**
 * What the command line tells a user who typed something slightly wrong: "did you mean" for formats, models and
 * workspaces, a hint when a file's content does not look like its `--format`, and a port check before `serve` starts.
 */
import type { ImportFormat } from '../ingest/file-import.js';
import { openSync, readSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { NetraError } from '../errors.js';
import { didYouMean } from '../workload/did-you-mean.js';

export type ImportFormatName = ImportFormat;

/** A commander argument parser for one of `choices`, with a suggestion when the value is close to one. */
export function choiceArg<T extends string>(option: string, choices: readonly T[]) {
  return (v: string): T => {
    if ((choices as readonly string[]).includes(v)) return v as T;
    throw new InvalidArgumentError(`'${v}' is not a ${option}${didYouMean(v, choices)}; choose one of ${choices.join(', ')}.`);
  };
}

/** Throws NETRA_E_UNKNOWN_MODEL with the closest names when the catalog (with the workspace's overrides) cannot price `model`. */
export function checkModel(model: string, known: () => Iterable<string>, prices: (model: string) => boolean): void {
  if (prices(model)) return;
  throw new NetraError(
    'UNKNOWN_MODEL',
    `unknown model '${model}': not in the price catalog${didYouMean(model, known())}; the requests could not be priced (list: GET /api/v1/catalog, or add a price override)`,
    { field: 'model' },
  );
}

/** Throws NETRA_E_NOT_FOUND with the closest names when the workspace does not exist. */
export function checkWorkspace(workspace: string, exists: boolean, known: readonly string[]): void {
  if (exists) return;
  throw new NetraError(
    'NOT_FOUND',
    `unknown workspace '${workspace}'${didYouMean(workspace, known)}; known: ${known.slice(0, 20).join(', ') || '(none)'}`,
    { field: 'workspace' },
  );
}

/** The format a file's first line looks like, or null when it says nothing clear. */
export function sniffFormat(path: string): ImportFormatName | null {
  let text = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const first =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  if (/^\{/.test(first) && first.includes('"hash_ids"') && first.includes('"input_length"')) return 'mooncake';
  if (/^[[{]/.test(first)) return 'jsonl';
  if (/^"?timestamp"?\s*,\s*"?contexttokens"?\s*,\s*"?generatedtokens"?/i.test(first)) return 'azure-trace';
  if (first.includes(',')) return 'csv';
  return null;
}

/** A line for the user when no row of the file was read and its content looks like another format; null otherwise. */
export function formatHint(path: string, given: ImportFormatName): string | null {
  const looks = sniffFormat(path);
  if (looks === null || looks === given) return null;
  const extra = looks === 'azure-trace' ? ' --model <id>' : looks === 'mooncake' ? ' --model <id> --start <iso time>' : '';
  return `hint: ${path} looks like ${looks}, not ${given}; try --format ${looks}${extra}`;
}

/** Rejects with a clear NETRA_E_CONFIG when host:port cannot be listened on (in use, or not allowed); nothing else is opened before. */
export function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'is in use (another netra serve, or another program)'
          : err.code === 'EACCES'
            ? 'needs privileges this user does not have'
            : `cannot be used (${err.code ?? err.message})`;
      reject(
        new NetraError('CONFIG', `port ${port} on ${host} ${why}; stop that process or choose another port with NETRA_PORT`, {
          field: 'port',
        }),
      );
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
