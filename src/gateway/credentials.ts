/**
 * Who is calling the gateway, for which workspace, and what goes upstream:
 *   virtual key   the client's API key is a Netra key allowed to use the gateway (scope `gateway` or `admin`), sent
 *                 as `Authorization: Bearer` (OpenAI clients) or `x-api-key` (Anthropic clients); the workspace's stored
 *                 provider secret (and its base URL, if it has one) is used upstream;
 *   pass-through  the client sends its own provider key as usual and names the workspace with `x-netra-key: <netra key>`.
 * Authenticated keys and decrypted secrets are kept for `credentialCacheMs` (a revoked key stops working within it),
 * keyed by a hash of the key: a key is never logged, returned or kept in clear outside the request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import { sha256 } from '../accounts/api-keys.js';
import type { Accounts, Principal } from '../accounts/index.js';
import { scopeAllows } from '../accounts/roles.js';
import { GatewayError, type ApiFamily } from './endpoints.js';
import { headerValue, type UpstreamAuth } from './headers.js';

export interface GatewayCaller {
  workspace: string;
  /** the Netra key's public prefix (for logs) */
  keyPrefix: string;
  /** provider name (openai, anthropic, or a configured OpenAI-compatible one) */
  provider: string;
  /** upstream base URL without a trailing slash */
  baseUrl: string;
  auth: UpstreamAuth;
  mode: 'virtual' | 'pass-through';
}

export interface CredentialOptions {
  accounts: Accounts;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  /** more OpenAI-compatible upstreams by name */
  providers: Readonly<Record<string, string>>;
  cacheMs: number;
}

type KeyPrincipal = Extract<Principal, { kind: 'api_key' }>;
type StoredSecret = { key: string; baseUrl: string | null } | null;

function bearer(h: IncomingHttpHeaders): string | null {
  const v = headerValue(h, 'authorization');
  const m = v ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
  return m?.[1] ?? null;
}

export class GatewayCredentials {
  private readonly keys: LRUCache<string, KeyPrincipal>;
  private readonly secrets: LRUCache<string, { v: StoredSecret }>;

  constructor(private readonly o: CredentialOptions) {
    const ttl = Math.max(1, o.cacheMs);
    this.keys = new LRUCache({ max: 10_000, ttl });
    this.secrets = new LRUCache({ max: 10_000, ttl });
  }

  async resolve(family: ApiFamily, h: IncomingHttpHeaders): Promise<GatewayCaller> {
    const provider = this.provider(family, h);
    const passKey = headerValue(h, 'x-netra-key');
    if (passKey !== undefined) {
      const p = await this.authenticate(passKey, 'x-netra-key');
      const base =
        provider === 'anthropic' ? this.o.anthropicBaseUrl : provider === 'openai' ? this.o.openaiBaseUrl : this.o.providers[provider]!;
      return {
        workspace: p.workspace,
        keyPrefix: p.prefix,
        provider,
        baseUrl: base.replace(/\/+$/, ''),
        auth: { set: null },
        mode: 'pass-through',
      };
    }
    const field = family === 'anthropic' && headerValue(h, 'x-api-key') !== undefined ? 'x-api-key' : 'authorization';
    const key = family === 'anthropic' ? (headerValue(h, 'x-api-key') ?? bearer(h)) : bearer(h);
    if (!key) {
      throw new GatewayError(
        'authentication',
        family === 'anthropic'
          ? 'missing API key: send a Netra gateway key as x-api-key, or your Anthropic key with x-netra-key: <netra key>'
          : 'missing API key: send a Netra gateway key as Authorization: Bearer, or your OpenAI key with x-netra-key: <netra key>',
        field,
        'netra_missing_key',
      );
    }
    if (!key.startsWith('nk_')) {
      throw new GatewayError(
        'authentication',
        `the ${field} is not a Netra key; to use your own provider key, also send x-netra-key: <netra key>`,
        field,
        'netra_invalid_key',
      );
    }
    const p = await this.authenticate(key, field);
    const secret = await this.secret(p.workspace, provider);
    if (!secret) {
      throw new GatewayError(
        'authentication',
        `workspace ${p.workspace} has no stored ${provider} provider secret for the gateway to use; store one (PUT /api/v1/workspaces/${p.workspace}/provider-secrets/${provider}) or send your own key with x-netra-key`,
        'provider',
        'netra_no_provider_secret',
      );
    }
    const base =
      secret.baseUrl ??
      (provider === 'anthropic' ? this.o.anthropicBaseUrl : provider === 'openai' ? this.o.openaiBaseUrl : this.o.providers[provider]!);
    const auth: Record<string, string> = family === 'anthropic' ? { 'x-api-key': secret.key } : { authorization: `Bearer ${secret.key}` };
    return {
      workspace: p.workspace,
      keyPrefix: p.prefix,
      provider,
      baseUrl: base.replace(/\/+$/, ''),
      auth: { set: auth },
      mode: 'virtual',
    };
  }

  /** Forgets cached keys and secrets (after a secret changes or a key is revoked in this process). */
  clear(): void {
    this.keys.clear();
    this.secrets.clear();
  }

  private provider(family: ApiFamily, h: IncomingHttpHeaders): string {
    const named = headerValue(h, 'x-netra-provider');
    if (named === undefined || named === '') return family;
    if (family === 'anthropic') {
      if (named === 'anthropic') return named;
      throw new GatewayError(
        'invalid_request',
        `x-netra-provider '${named.slice(0, 64)}' cannot serve the Anthropic Messages API; only anthropic can`,
        'x-netra-provider',
        'netra_unknown_provider',
      );
    }
    if (named === 'openai' || Object.hasOwn(this.o.providers, named)) return named;
    const known = ['openai', ...Object.keys(this.o.providers)].join(', ');
    throw new GatewayError(
      'invalid_request',
      `unknown provider '${named.slice(0, 64)}' in x-netra-provider; configured: ${known} (NETRA_GATEWAY_PROVIDERS)`,
      'x-netra-provider',
      'netra_unknown_provider',
    );
  }

  private async authenticate(key: string, field: string): Promise<KeyPrincipal> {
    const id = sha256(key);
    const cached = this.keys.get(id);
    if (cached) return cached;
    const p = key.startsWith('nk_') ? await this.o.accounts.identity.authenticate(key) : null;
    if (p?.kind !== 'api_key') {
      throw new GatewayError(
        'authentication',
        `the Netra key in ${field} is not valid (revoked, mistyped, or not issued here)`,
        field,
        'netra_invalid_key',
      );
    }
    if (!scopeAllows(p.scope, 'gateway')) {
      throw new GatewayError(
        'permission',
        `the Netra key in ${field} has scope '${p.scope}'; the gateway needs a key with scope gateway (or admin)`,
        field,
        'netra_key_scope',
      );
    }
    this.keys.set(id, p);
    return p;
  }

  private async secret(workspace: string, provider: string): Promise<StoredSecret> {
    const id = `${workspace}\u0000${provider}`;
    const cached = this.secrets.get(id);
    if (cached) return cached.v;
    const v = await this.o.accounts.access.providerCredential(workspace, provider);
    this.secrets.set(id, { v });
    return v;
  }
}
