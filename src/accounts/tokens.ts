/**
 * Access tokens: HS256 JWTs signed with jose, issuer and audience checked, short-lived (30 min by default).
 * Claims: `sub` (user id), `typ: 'access'`, optional `ws` (the token only works in that workspace).
 * Refresh tokens are opaque random strings (`nr_...`), stored as SHA-256 and rotated on every use (see service.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

export interface TokenSettings {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  accessTtlSec: number;
}

export interface AccessClaims {
  userId: string;
  workspace?: string;
}

export async function signAccessToken(s: TokenSettings, c: AccessClaims, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const jwt = new SignJWT({ typ: 'access', ...(c.workspace ? { ws: c.workspace } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(c.userId)
    .setIssuer(s.issuer)
    .setAudience(s.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + s.accessTtlSec)
    .setJti(randomUUID());
  return jwt.sign(s.secret);
}

/** The claims of a valid access token, or null for anything else (bad signature, expired, other issuer/audience, alg). */
export async function verifyAccessToken(s: TokenSettings, token: string): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, s.secret, {
      issuer: s.issuer,
      audience: s.audience,
      algorithms: ['HS256'],
      clockTolerance: 5,
    });
    if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
    if (payload.ws !== undefined && typeof payload.ws !== 'string') return null;
    return { userId: payload.sub, ...(typeof payload.ws === 'string' ? { workspace: payload.ws } : {}) };
  } catch {
    return null;
  }
}

export function generateRefreshToken(): string {
  return `nr_${randomBytes(32).toString('base64url')}`;
}
