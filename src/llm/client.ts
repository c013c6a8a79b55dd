/**
 * The LLM client the agents use: createLlmClient(options) builds the provider chain (configured remote providers, then
 * always the built-in model), a resilience stack per remote provider (resilience.ts), the response cache and the
 * metrics / fallback hooks. The client itself implements LlmProvider, plus completeStructured() and breakerState().
 * Streams fall back only before their first delta; a failure after output has started is thrown to the caller.
 */
import { BrokenCircuitError } from 'cockatiel';
import type { z } from 'zod';
import { NetraError } from '../errors.js';
import type { Logger } from '../logger.js';
import { AnthropicProvider, type AnthropicConfig } from './anthropic.js';
import { BuiltinProvider } from './builtin.js';
import type { FetchFn } from './http.js';
import { OpenAiCompatibleProvider, type OpenAiCompatibleConfig } from './openai-compatible.js';
import { LlmProviderError, abortError, redact } from './provider-error.js';
import { ProviderResilience, RESILIENCE_DEFAULTS, type ResilienceOptions } from './resilience.js';
import { MemoryLlmCache, llmCacheKey, type LlmResponseCache } from './response-cache.js';
import { jsonInstruction, repairMessages, validateReply } from './structured.js';
import type { BreakerStateName, LlmCallEvent, LlmFallbackEvent, LlmProvider, LlmRequest, LlmResult, LlmStreamChunk } from './types.js';

export type ProviderConfig = { type: 'builtin'; name?: string } | OpenAiCompatibleConfig | AnthropicConfig;

export interface LlmClientOptions extends Partial<ResilienceOptions> {
  /** the chain, in order; the built-in model is always appended as the last link. Default: built-in only */
  providers?: ProviderConfig[];
  /** default 1,024 */
  maxTokens?: number;
  /** default 0 */
  temperature?: number;
  /** a cache store (e.g. Redis-backed), false to disable; default an in-memory LRU */
  cache?: LlmResponseCache | false;
  /** default 3,600,000 (1 h) */
  cacheTtlMs?: number;
  /** in-memory cache bound; default 1,000 */
  cacheMaxEntries?: number;
  onFallback?: (e: LlmFallbackEvent) => void;
  onCall?: (e: LlmCallEvent) => void;
  log?: Logger;
  /** default global fetch */
  fetch?: FetchFn;
}

export interface StructuredResult<T> {
  data: T;
  result: LlmResult;
  /** true when the first reply failed validation and the repair reply passed */
  repaired: boolean;
}

export interface LlmClient extends LlmProvider {
  completeStructured<T>(schema: z.ZodType<T>, req: LlmRequest): Promise<StructuredResult<T>>;
  /** breaker state of a remote provider ('closed' for the built-in model); undefined for an unknown name */
  breakerState(provider: string): BreakerStateName | undefined;
  /** the chain as `{ name, model }`, last is the built-in model */
  readonly chain: ReadonlyArray<{ name: string; model: string }>;
}

interface Link {
  provider: LlmProvider;
  /** undefined for the built-in model, which cannot fail */
  resilience?: ProviderResilience;
}

export function createLlmClient(options: LlmClientOptions = {}): LlmClient {
  return new ResilientLlmClient(options);
}

class ResilientLlmClient implements LlmClient {
  readonly name = 'netra-llm';
  readonly model: string;
  readonly chain: ReadonlyArray<{ name: string; model: string }>;
  private readonly links: Link[];
  private readonly defaults: { maxTokens: number; temperature: number };
  private readonly res: ResilienceOptions;
  private readonly cache: LlmResponseCache | undefined;
  private readonly cacheTtlMs: number;
  private readonly secrets: string[];
  private readonly chainId: string[];

  constructor(private readonly o: LlmClientOptions) {
    this.defaults = { maxTokens: o.maxTokens ?? 1024, temperature: o.temperature ?? 0 };
    this.res = {
      maxRetries: o.maxRetries ?? RESILIENCE_DEFAULTS.maxRetries,
      baseDelayMs: o.baseDelayMs ?? RESILIENCE_DEFAULTS.baseDelayMs,
      maxDelayMs: o.maxDelayMs ?? RESILIENCE_DEFAULTS.maxDelayMs,
      backoffExponent: o.backoffExponent ?? RESILIENCE_DEFAULTS.backoffExponent,
      jitter: o.jitter ?? RESILIENCE_DEFAULTS.jitter,
      timeoutMs: o.timeoutMs ?? RESILIENCE_DEFAULTS.timeoutMs,
      breakerThreshold: o.breakerThreshold ?? RESILIENCE_DEFAULTS.breakerThreshold,
      halfOpenAfterMs: o.halfOpenAfterMs ?? RESILIENCE_DEFAULTS.halfOpenAfterMs,
      random: o.random ?? Math.random,
    };
    const configs = o.providers ?? [];
    const names = new Set<string>();
    this.links = [];
    this.secrets = [];
    for (const cfg of configs) {
      if (cfg.type === 'builtin') continue;
      const provider = cfg.type === 'anthropic' ? new AnthropicProvider(cfg, this.defaults, o.fetch) : new OpenAiCompatibleProvider(cfg, this.defaults, o.fetch);
      if (names.has(provider.name)) throw new NetraError('CONFIG', `two LLM providers are named '${provider.name}'; give one a distinct name`, { field: 'providers' });
      names.add(provider.name);
      if (cfg.apiKey) this.secrets.push(cfg.apiKey);
      this.links.push({ provider, resilience: new ProviderResilience(provider.name, this.res) });
    }
    const builtinCfg = configs.find((c): c is { type: 'builtin'; name?: string } => c.type === 'builtin');
    this.links.push({ provider: new BuiltinProvider({ name: builtinCfg?.name }) });
    this.chain = this.links.map((l) => ({ name: l.provider.name, model: l.provider.model }));
    this.chainId = this.chain.map((c) => `${c.name}:${c.model}`);
    this.model = this.links[0]!.provider.model;
    this.cache = o.cache === false ? undefined : o.cache ?? new MemoryLlmCache({ ttlMs: o.cacheTtlMs ?? 3_600_000, maxEntries: o.cacheMaxEntries ?? 1000 });
    this.cacheTtlMs = o.cacheTtlMs ?? 3_600_000;
  }

  breakerState(provider: string): BreakerStateName | undefined {
    const link = this.links.find((l) => l.provider.name === provider);
    if (!link) return undefined;
    return link.resilience ? link.resilience.state() : 'closed';
  }

  private emit(provider: string, model: string, outcome: LlmCallEvent['outcome'], started: number): void {
    try {
      this.o.onCall?.({ provider, model, outcome, latency_ms: performance.now() - started });
    } catch {
      // a metrics hook never breaks a call
    }
  }

  private key(req: LlmRequest): string | undefined {
    return this.cache && req.cache !== false ? llmCacheKey(this.chainId, req, this.defaults) : undefined;
  }

  private async cacheGet(key: string | undefined): Promise<LlmResult | undefined> {
    if (!key || !this.cache) return undefined;
    try {
      return await this.cache.get(key);
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message }, 'llm cache read failed; calling the provider');
      return undefined;
    }
  }

  private async cacheSet(key: string | undefined, value: LlmResult): Promise<void> {
    if (!key || !this.cache) return;
    try {
      await this.cache.set(key, { ...value, cached: undefined }, this.cacheTtlMs);
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message }, 'llm cache write failed');
    }
  }

  /** Why a link was abandoned, safe to show to users. */
  private reasonOf(err: unknown): string {
    if (err instanceof BrokenCircuitError) return `circuit open after ${this.res.breakerThreshold} consecutive failures`;
    if (err instanceof LlmProviderError) return redact(err.message.replace(`${err.provider}: `, ''), this.secrets);
    return redact(err instanceof Error ? err.message : String(err), this.secrets);
  }

  /** Reports the hop from link i to link i+1. */
  private fallback(i: number, err: unknown, started: number): void {
    const from = this.links[i]!.provider;
    const to = this.links[i + 1]!.provider;
    const reason = this.reasonOf(err);
    this.emit(from.name, from.model, 'error', started);
    this.emit(from.name, from.model, 'fallback', started);
    this.o.log?.warn({ from: from.name, to: to.name, reason }, 'llm provider failed; falling back');
    try {
      this.o.onFallback?.({ from: from.name, to: to.name, reason });
    } catch {
      // a listener never breaks a call
    }
  }

  async complete(req: LlmRequest): Promise<LlmResult> {
    const started = performance.now();
    const key = this.key(req);
    const hit = await this.cacheGet(key);
    if (hit) {
      this.emit(hit.provider, hit.model, 'cache_hit', started);
      return { ...hit, cached: true, latency_ms: performance.now() - started };
    }
    for (let i = 0; i < this.links.length; i++) {
      const { provider, resilience } = this.links[i]!;
      const linkStarted = performance.now();
      try {
        const result = resilience
          ? await resilience.execute((signal) => provider.complete({ ...req, signal }), req.signal, {
            onRetry: () => this.emit(provider.name, provider.model, 'retry', linkStarted),
          })
          : await provider.complete(req);
        this.emit(provider.name, provider.model, 'ok', linkStarted);
        const out = { ...result, latency_ms: performance.now() - started };
        if (i === 0) await this.cacheSet(key, out);
        return out;
      } catch (err) {
        if (req.signal?.aborted) throw abortError(req.signal);
        if (i === this.links.length - 1) {
          this.emit(provider.name, provider.model, 'error', linkStarted);
          throw err;
        }
        this.fallback(i, err, linkStarted);
      }
    }
    /* c8 ignore next */
    throw new NetraError('INTERNAL', 'empty LLM provider chain');
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmStreamChunk> {
    const started = performance.now();
    const key = this.key(req);
    const hit = await this.cacheGet(key);
    if (hit) {
      this.emit(hit.provider, hit.model, 'cache_hit', started);
      yield { type: 'delta', text: hit.text };
      yield { type: 'done', usage: hit.usage, model: hit.model, provider: hit.provider, latency_ms: performance.now() - started, cached: true };
      return;
    }
    for (let i = 0; i < this.links.length; i++) {
      const { provider, resilience } = this.links[i]!;
      const linkStarted = performance.now();
      // the provider's signal: lives for the whole stream, fires on caller abort, connect timeout or idle timeout
      const ctrl = new AbortController();
      const signal = req.signal ? AbortSignal.any([req.signal, ctrl.signal]) : ctrl.signal;
      let it: AsyncIterator<LlmStreamChunk> | undefined;
      let first: IteratorResult<LlmStreamChunk>;
      try {
        // the connect phase, up to the first chunk, runs under retries / breaker / timeout and may fall back
        const open = async (attemptSignal?: AbortSignal): Promise<IteratorResult<LlmStreamChunk>> => {
          const onTimeout = (): void => ctrl.abort();
          attemptSignal?.addEventListener('abort', onTimeout, { once: true });
          try {
            it = provider.stream({ ...req, signal })[Symbol.asyncIterator]();
            return await it.next();
          } finally {
            attemptSignal?.removeEventListener('abort', onTimeout);
          }
        };
        first = resilience
          ? await resilience.execute((s) => open(s), req.signal, { onRetry: () => this.emit(provider.name, provider.model, 'retry', linkStarted) })
          : await open();
      } catch (err) {
        ctrl.abort();
        if (req.signal?.aborted) throw abortError(req.signal);
        if (i === this.links.length - 1) {
          this.emit(provider.name, provider.model, 'error', linkStarted);
          throw err;
        }
        this.fallback(i, err, linkStarted);
        continue;
      }
      yield* this.pump(provider, it!, first, ctrl, { key: i === 0 ? key : undefined, started, linkStarted, signal: req.signal });
      return;
    }
  }

  /** Relays a connected stream with an idle timeout between chunks; records usage, metrics and the cache entry. */
  private async *pump(
    provider: LlmProvider, it: AsyncIterator<LlmStreamChunk>, first: IteratorResult<LlmStreamChunk>, ctrl: AbortController,
    ctx: { key: string | undefined; started: number; linkStarted: number; signal: AbortSignal | undefined },
  ): AsyncGenerator<LlmStreamChunk> {
    let text = '';
    let next = first;
    let finished = false;
    try {
      for (;;) {
        if (next.done) throw new LlmProviderError(provider.name, 'protocol', 'stream ended without a final usage chunk');
        const chunk = next.value;
        if (chunk.type === 'delta') {
          text += chunk.text;
          yield chunk;
        } else {
          const done = { ...chunk, latency_ms: performance.now() - ctx.started };
          this.emit(provider.name, provider.model, 'ok', ctx.linkStarted);
          await this.cacheSet(ctx.key, { text, usage: done.usage, model: done.model, provider: done.provider, latency_ms: done.latency_ms });
          finished = true;
          yield done;
          return;
        }
        const idle = setTimeout(() => ctrl.abort(new LlmProviderError(provider.name, 'timeout', `stream idle for ${this.res.timeoutMs} ms`)), this.res.timeoutMs);
        try {
          next = await it.next();
        } finally {
          clearTimeout(idle);
        }
      }
    } catch (err) {
      if (ctx.signal?.aborted) throw abortError(ctx.signal);
      this.emit(provider.name, provider.model, 'error', ctx.linkStarted);
      throw err;
    } finally {
      if (!finished) {
        ctrl.abort();
        await it.return?.().catch(() => undefined);
      }
    }
  }

  async completeStructured<T>(schema: z.ZodType<T>, req: LlmRequest): Promise<StructuredResult<T>> {
    const base: LlmRequest = {
      ...req,
      system: [req.system, jsonInstruction(schema)].filter((s): s is string => !!s).join('\n\n'),
      responseFormat: 'json',
      cache: false,
    };
    const key = req.cache === false ? undefined : this.key({ ...base, cache: true });
    const hit = await this.cacheGet(key);
    if (hit) {
      const v = validateReply(schema, hit.text);
      if (v.ok) {
        this.emit(hit.provider, hit.model, 'cache_hit', performance.now());
        return { data: v.data, result: { ...hit, cached: true }, repaired: false };
      }
    }
    const primary = this.links[0]!.provider.name;
    const first = await this.complete(base);
    const v1 = validateReply(schema, first.text);
    if (v1.ok) {
      if (first.provider === primary) await this.cacheSet(key, first);
      return { data: v1.data, result: first, repaired: false };
    }
    const second = await this.complete({ ...base, messages: repairMessages(base.messages, first.text, v1.errors) });
    const v2 = validateReply(schema, second.text);
    if (v2.ok) {
      if (second.provider === primary) await this.cacheSet(key, second);
      return { data: v2.data, result: second, repaired: true };
    }
    throw new NetraError('LLM_INVALID_OUTPUT', `${second.provider} (${second.model}) replied with output that does not match the expected schema, also after one repair request`, {
      details: { provider: second.provider, model: second.model, first_errors: v1.errors, errors: v2.errors },
    });
  }
}
