/**
 * Password hashing with argon2id (@node-rs/argon2), OWASP parameters: 19 MiB, 2 passes, 1 lane.
 * Passwords are low-entropy, so a slow, memory-hard hash is worth its ~50 ms per login.
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { NetraError } from '../errors.js';

const ARGON2ID = 2 as Algorithm; // Algorithm.Argon2id (a const enum, not importable as a value)
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

export function checkPasswordPolicy(password: unknown, field = 'password'): string {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN) {
    throw new NetraError('VALIDATION', `password must be at least ${PASSWORD_MIN} characters`, { field });
  }
  if (password.length > PASSWORD_MAX) throw new NetraError('VALIDATION', `password must be at most ${PASSWORD_MAX} characters`, { field });
  return password;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A hash of a random password, verified against when the e-mail is unknown so both cases take the same time. */
let dummyHash: Promise<string> | null = null;

export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored) {
    dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
