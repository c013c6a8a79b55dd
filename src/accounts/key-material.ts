/**
 * The server's own secrets: the JWT signing secret and the 32-byte key that encrypts stored provider keys.
 * Taken from config (NETRA_JWT_SECRET / NETRA_SECRET_KEY) when set; otherwise generated once into
 * <dataDir>/secrets/ with 0600 permissions, so restarts keep tokens valid and stored secrets readable.
 * Also remembers the local owner's user id there, so `netra token` can sign a token while the server holds the database.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { NetraError } from '../errors.js';
import { decodeSecretKey } from './secret-box.js';

export interface KeyMaterial {
  jwtSecret: Uint8Array;
  secretKey: Buffer;
  /** which secrets were generated (not configured); with several processes on one database they must be configured */
  generated: { jwtSecret: boolean; secretKey: boolean };
}

export function secretsDir(dataDir: string): string {
  return join(dataDir, 'secrets');
}

export function loadKeyMaterial(config: Pick<Config, 'dataDir' | 'auth'>): KeyMaterial {
  const dir = secretsDir(config.dataDir);
  const jwt = config.auth.jwtSecret ?? readOrCreate(dir, 'jwt-secret', () => randomBytes(48).toString('base64url'));
  const key = config.auth.secretKey ?? readOrCreate(dir, 'secret-key', () => randomBytes(32).toString('base64'));
  if (Buffer.byteLength(jwt) < 32)
    throw new NetraError('CONFIG', 'the JWT secret must be at least 32 characters', { field: 'auth.jwtSecret' });
  return {
    jwtSecret: new TextEncoder().encode(jwt),
    secretKey: decodeSecretKey(key),
    generated: { jwtSecret: !config.auth.jwtSecret, secretKey: !config.auth.secretKey },
  };
}

/** The local owner's user id, remembered at first start; null before that. */
export function readLocalOwnerId(dataDir: string): string | null {
  const file = join(secretsDir(dataDir), 'local-owner');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || null : null;
}

export function writeLocalOwnerId(dataDir: string, id: string): void {
  if (readLocalOwnerId(dataDir) === id) return;
  writeSecretFile(secretsDir(dataDir), 'local-owner', id);
}

function readOrCreate(dir: string, name: string, make: () => string): string {
  const file = join(dir, name);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) chmodSync(file, 0o600); // tighten a copy restored with loose permissions
    const v = readFileSync(file, 'utf8').trim();
    if (v) return v;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, make() + '\n', { mode: 0o600, flag: 'wx' }); // exclusive: two processes starting at once agree
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

function writeSecretFile(dir: string, name: string, value: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  writeFileSync(file, value + '\n', { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above is ignored when the file already existed
}
