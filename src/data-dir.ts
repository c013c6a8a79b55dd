/**
 * The data directory is private to the user running Netra: the directory and its sub-directories 0700, its files 0600
 * (the event store holds prompts and responses; pg/ the accounts; secrets/ the key material). Applied at start, so a
 * directory created under a permissive umask or by an older version is tightened too. A path outside the data directory
 * (NETRA_DUCKDB_PATH elsewhere) is the operator's to protect.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';

export function restrictDataDir(config: Pick<Config, 'dataDir'>): void {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  tighten(config.dataDir, 0);
}

function tighten(path: string, depth: number): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o077) !== 0)
      try {
        chmodSync(path, 0o700);
      } catch {
        /* not ours: left as is */
      }
    // the first two levels only: pg/ holds thousands of files and is itself 0700, which already closes it
    if (depth < 1) for (const name of readdirSync(path)) tighten(join(path, name), depth + 1);
    return;
  }
  if ((st.mode & 0o077) !== 0)
    try {
      chmodSync(path, 0o600);
    } catch {
      /* not ours */
    }
}
