/**
 * One process at a time on a PGlite directory. PGlite (PostgreSQL in WASM, single user) has no lock of its own: a
 * second process opening the directory of a running server (a CLI command while `netra serve` runs) resumes from
 * files the server keeps changing, and the server's next start then found no valid checkpoint ("WAL file is from
 * different database system", PANIC): the accounts, keys and conversations were lost. So the directory carries a
 * lock file naming its owner's pid, created atomically (O_EXCL) before PGlite opens the directory and removed when it
 * closes. A lock whose process is gone (a crash, kill -9) is stale and taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NetraError } from '../errors.js';

export const PGLITE_LOCK_FILE = 'netra.lock';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const ownerOf = (file: string): number | null => {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // removed meanwhile, or half written: no live owner to protect
  }
};

/** directories this process holds: a second open in the same process is refused too (its pid matches the lock's) */
const held = new Set<string>();

/** Takes the directory's lock or throws naming the process that holds it; returns the release. */
export function lockPgliteDir(dir: string): () => void {
  const file = join(resolve(dir), PGLITE_LOCK_FILE);
  if (held.has(file)) throw new NetraError('STORE', `the accounts database (${dir}) is already open in this process`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      held.add(file);
      return () => {
        if (!held.delete(file)) return;
        if (ownerOf(file) === process.pid) unlinkSync(file);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = ownerOf(file);
    // a lock naming this process is one a previous life left (a restarted container reuses its pid)
    if (owner !== null && owner !== process.pid && alive(owner))
      throw new NetraError(
        'STORE',
        `the accounts database (${dir}) is in use by another Netra process (pid ${owner}, a running server?). Stop it, or point NETRA_DATA_DIR elsewhere; if no Netra process runs, remove ${file}.`,
      );
    try {
      unlinkSync(file);
    } catch {
      /* another process took it over first: the next attempt sees its pid */
    }
  }
  throw new NetraError('STORE', `could not lock the accounts database (${dir}): other processes keep taking ${file}`);
}
