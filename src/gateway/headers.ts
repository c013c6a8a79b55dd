/**
 * Which headers cross the proxy. Hop-by-hop headers (RFC 9110 §7.6.1, plus any the Connection header names) never do;
 * Netra's own x-netra-* headers and a virtual key stay here; the upstream is asked for identity encoding so usage can be
 * read from the bytes the client also receives.
 */
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function connectionTokens(v: string | string[] | undefined): Set<string> | null {
  if (!v || v === 'keep-alive' || v === 'close') return null; // the usual values name no extra header
  const s = new Set<string>();
  for (const part of [v].flat().join(',').split(',')) {
    const t = part.trim().toLowerCase();
    if (t) s.add(t);
  }
  return s;
}

export interface UpstreamAuth {
  /** header name → value set on the upstream request (the workspace's stored provider key); null: the client's own */
  set: Record<string, string> | null;
}

/** Headers for the upstream request: the client's, minus hop-by-hop, host, length, encoding, Netra's and replaced auth. */
export function upstreamRequestHeaders(h: IncomingHttpHeaders, auth: UpstreamAuth, bodyLength: number | null): Record<string, string> {
  const extra = connectionTokens(h.connection);
  const out: Record<string, string> = {};
  for (const name in h) {
    const v = h[name];
    if (v === undefined || HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    if (name === 'host' || name === 'content-length' || name === 'accept-encoding' || name.startsWith('x-netra-')) continue;
    if (auth.set && (name === 'authorization' || name === 'x-api-key')) continue;
    out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  if (auth.set) Object.assign(out, auth.set);
  out['accept-encoding'] = 'identity';
  if (bodyLength !== null) out['content-length'] = String(bodyLength);
  return out;
}

/** Response headers for the client: the upstream's minus hop-by-hop (and content-length when the body is rewritten). */
export function clientResponseHeaders(
  h: Record<string, string | string[] | undefined>,
  keepLength: boolean,
): Record<string, string | string[]> {
  const extra = connectionTokens(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in h) {
    const v = h[name];
    if (v === undefined || HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    if (!keepLength && name === 'content-length') continue;
    out[name] = v;
  }
  return out;
}

/** A header as one string (first value), or undefined. */
export function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}
