/**
 * Encryption at rest for provider API keys: AES-256-GCM under NETRA_SECRET_KEY (32 bytes), a random 96-bit IV per value,
 * and the row's identity (workspace id + provider) as associated data, so a ciphertext copied to another row fails to open.
 * Format: `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { NetraError } from '../errors.js';

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new NetraError('CONFIG', 'the secret key must be 32 bytes', { field: 'auth.secretKey' });
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  /** Throws NETRA_E_INTERNAL when the value was tampered with or sealed under another key. */
  open(sealed: string, aad: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || iv === undefined || tag === undefined || ct === undefined)
      throw new NetraError('INTERNAL', 'stored secret has an unknown format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new NetraError('INTERNAL', 'stored secret cannot be decrypted (tampered, or NETRA_SECRET_KEY changed)');
    }
  }
}

/** Decodes NETRA_SECRET_KEY: 64 hex characters, or base64/base64url of 32 bytes. */
export function decodeSecretKey(s: string): Buffer {
  const t = s.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (buf.length !== 32) {
    throw new NetraError('CONFIG', 'NETRA_SECRET_KEY must be 32 bytes: 64 hex characters or base64 (e.g. `openssl rand -base64 32`)', {
      field: 'auth.secretKey',
    });
  }
  return buf;
}
