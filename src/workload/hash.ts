import { createHash } from 'node:crypto';

/** Hex SHA-256 of a string: used for prompt and prefix hashes (stable across processes and stores). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
