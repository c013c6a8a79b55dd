/**
 * The running server's address in its data directory (`<dataDir>/server.json`: url, pid, start time), written once it
 * listens and removed when it closes, so the command line (`netra keys`, `netra token` …) finds it whatever its port.
 * A file left by a process that no longer runs is ignored.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ADDRESS_FILE = 'server.json';

export interface ServerAddress {
  url: string;
  pid: number;
  started_at: string;
}

export function writeServerAddress(dataDir: string, url: string): void {
  const a: ServerAddress = { url, pid: process.pid, started_at: new Date().toISOString() };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, ADDRESS_FILE), `${JSON.stringify(a)}\n`, { mode: 0o600 });
}

/** Removes the file if it is this process's. Never throws. */
export function removeServerAddress(dataDir: string): void {
  try {
    if (readServerAddress(dataDir)?.pid === process.pid) rmSync(join(dataDir, ADDRESS_FILE), { force: true });
  } catch {
    // nothing to remove
  }
}

/** The address of a server running on this data directory, or null (no file, unreadable, or its process is gone). */
export function readServerAddress(dataDir: string): ServerAddress | null {
  let a: Partial<ServerAddress>;
  try {
    a = JSON.parse(readFileSync(join(dataDir, ADDRESS_FILE), 'utf8')) as Partial<ServerAddress>;
  } catch {
    return null;
  }
  if (typeof a.url !== 'string' || !/^https?:\/\//.test(a.url) || typeof a.pid !== 'number') return null;
  try {
    process.kill(a.pid, 0); // signal 0: does the process exist
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  return { url: a.url, pid: a.pid, started_at: String(a.started_at ?? '') };
}
