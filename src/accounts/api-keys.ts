/**
 * Workspace API keys: `nk_<prefix>_<secret>`. The prefix (12 hex characters) is the public handle stored in clear;
 * the whole key is stored as SHA-256. Keys carry 256 random bits, so a fast hash is enough (and argon2's ~50 ms per
 * request would be a denial-of-service lever); passwords, which are guessable, use argon2id instead.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^nk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  /** the full key, shown once */
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const key = `nk_${prefix}_${secret}`;
  return { key, prefix, hash: sha256(key) };
}

/** The prefix of a well-formed key, or null (then it is not an API key at all). */
export function apiKeyPrefix(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith('nk_');
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
