/**
 * The LLM client the agents use: createLlmClient(options) builds the provider chain (configured remote providers, then
 * always the built-in model), a resilience stack per remote provider (resilience.ts), the response cache and the
 * metrics / fallback hooks. The client itself implements LlmProvider, plus completeStructured() and breakerState().
 * Streams fall back only before their first delta; a failure after output has started is thrown to the caller.
 * Longer than ~400 lines: complete, stream and structured calls each walk the same chain with the same fallback rules.
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
      const provider =
        cfg.type === 'anthropic'
          ? new AnthropicProvider(cfg, this.defaults, o.fetch)
          : new OpenAiCompatibleProvider(cfg, this.defaults, o.fetch);
      if (names.has(provider.name))
        throw new NetraError('CONFIG', `two LLM providers are named '${provider.name}'; give one a distinct name`, { field: 'providers' });
      names.add(provider.name);
      if (cfg.apiKey) this.secrets.push(cfg.apiKey);
      this.links.push({ provider, resilience: new ProviderResilience(provider.name, this.res) });
    }
    const builtinCfg = configs.find((c): c is { type: 'builtin'; name?: string } => c.type === 'builtin');
    this.links.push({ provider: new BuiltinProvider({ name: builtinCfg?.name }) });
    this.chain = this.links.map((l) => ({ name: l.provider.name, model: l.provider.model }));
    this.chainId = this.chain.map((c) => `${c.name}:${c.model}`);
    this.model = this.links[0]!.provider.model;
    this.cache =
      o.cache === false
        ? undefined
        : (o.cache ?? new MemoryLlmCache({ ttlMs: o.cacheTtlMs ?? 3_600_000, maxEntries: o.cacheMaxEntries ?? 1000 }));
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

  /**
   * Why a link was abandoned, safe to show to users: the failure (HTTP status and the start of the provider's error body,
   * timeout, network error, open breaker), how many requests this call made to it, and its kind. Redacted of API keys.
   */
  private describeFailure(
    err: unknown,
    attempts: number,
    lastAttemptError: unknown,
    breakerOpenNow = false,
  ): Omit<LlmFallbackEvent, 'from' | 'to'> {
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    const providerMessage = (e: LlmProviderError): string => {
      const m = redact(e.message.replace(`${e.provider}: `, ''), this.secrets);
      return e.failure === 'timeout' && !m.startsWith('timeout') ? `timeout: ${m}` : m;
    };
    if (err instanceof BrokenCircuitError) {
      const open = `circuit breaker open after ${this.res.breakerThreshold} consecutive failures`;
      if (lastAttemptError instanceof LlmProviderError) {
        // this call's own attempts failed and opened the breaker on the way
        return {
          reason: `${providerMessage(lastAttemptError)}${tries}; ${open}`,
          error_kind: 'breaker_open',
          attempts,
          ...status(lastAttemptError),
        };
      }
      return { reason: `${open}; not called`, error_kind: 'breaker_open', attempts };
    }
    if (err instanceof InvalidStructuredOutput) {
      return {
        reason: `invalid structured output after one repair request: ${redact(err.errors.slice(0, 3).join('; '), this.secrets)}`,
        error_kind: 'invalid_output',
        attempts,
      };
    }
    if (err instanceof LlmProviderError) {
      // this failure may be the one that opened the breaker: say so, the next calls will not reach the provider
      const opened = breakerOpenNow ? `; circuit breaker now open after ${this.res.breakerThreshold} consecutive failures` : '';
      return { reason: `${providerMessage(err)}${tries}${opened}`, error_kind: err.failure, attempts, ...status(err) };
    }
    return { reason: `${redact(err instanceof Error ? err.message : String(err), this.secrets)}${tries}`, error_kind: 'unknown', attempts };
  }

  /** What an attempt's failure was: its error, or a timeout when the attempt's own signal fired (the caller's did not). */
  private attemptError(provider: string, err: unknown, attemptSignal: AbortSignal, callerSignal: AbortSignal | undefined): unknown {
    if (attemptSignal.aborted && !callerSignal?.aborted)
      return new LlmProviderError(provider, 'timeout', `no answer within ${this.res.timeoutMs} ms`);
    return err;
  }

  /** Reports the hop from link i to link i+1 to the client-wide and the per-call listeners. */
  private fallback(
    i: number,
    err: unknown,
    started: number,
    attempts: number,
    lastAttemptError: unknown,
    onFallback: LlmRequest['onFallback'],
  ): void {
    const from = this.links[i]!.provider;
    const to = this.links[i + 1]!.provider;
    const e: LlmFallbackEvent = {
      from: from.name,
      to: to.name,
      ...this.describeFailure(err, attempts, lastAttemptError, this.links[i]!.resilience?.state() === 'open'),
    };
    if (!(err instanceof InvalidStructuredOutput)) this.emit(from.name, from.model, 'error', started);
    this.emit(from.name, from.model, 'fallback', started);
    this.o.log?.warn({ from: e.from, to: e.to, reason: e.reason, error_kind: e.error_kind }, 'llm provider failed; falling back');
    for (const listener of [this.o.onFallback, onFallback]) {
      try {
        listener?.(e);
      } catch {
        // a listener never breaks a call
      }
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
    const { result, link } = await this.completeFrom(0, req, started);
    if (link === 0) await this.cacheSet(key, result);
    return result;
  }

  /** Runs the chain from link `start` on; returns the answer and the index of the link that gave it. */
  private async completeFrom(start: number, req: LlmRequest, started = performance.now()): Promise<{ result: LlmResult; link: number }> {
    const { onFallback, ...providerReq } = req;
    for (let i = start; i < this.links.length; i++) {
      const { provider, resilience } = this.links[i]!;
      const linkStarted = performance.now();
      let attempts = 0;
      let lastAttemptError: unknown;
      try {
        const result = resilience
          ? await resilience.execute(
              async (signal) => {
                attempts++;
                try {
                  return await provider.complete({ ...providerReq, signal });
                } catch (err) {
                  lastAttemptError = this.attemptError(provider.name, err, signal, req.signal);
                  throw err;
                }
              },
              req.signal,
              {
                onRetry: () => this.emit(provider.name, provider.model, 'retry', linkStarted),
              },
            )
          : await provider.complete(providerReq);
        this.emit(provider.name, provider.model, 'ok', linkStarted);
        return { result: { ...result, latency_ms: performance.now() - started }, link: i };
      } catch (err) {
        if (req.signal?.aborted) throw abortError(req.signal);
        if (i === this.links.length - 1) {
          this.emit(provider.name, provider.model, 'error', linkStarted);
          throw err;
        }
        // a timeout surfaces as the resilience stack's own error; the attempt's abort error is not the reason
        this.fallback(i, err, linkStarted, resilience ? attempts : 1, lastAttemptError, onFallback);
      }
    }
    /* c8 ignore next */
    throw new NetraError('INTERNAL', 'empty LLM provider chain');
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmStreamChunk> {
    const started = performance.now();
    const { onFallback, ...providerReq } = req;
    const key = this.key(req);
    const hit = await this.cacheGet(key);
    if (hit) {
      this.emit(hit.provider, hit.model, 'cache_hit', started);
      yield { type: 'delta', text: hit.text };
      yield {
        type: 'done',
        usage: hit.usage,
        model: hit.model,
        provider: hit.provider,
        latency_ms: performance.now() - started,
        cached: true,
      };
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
      let attempts = 0;
      let lastAttemptError: unknown;
      try {
        // the connect phase, up to the first chunk, runs under retries / breaker / timeout and may fall back
        const open = async (attemptSignal?: AbortSignal): Promise<IteratorResult<LlmStreamChunk>> => {
          const onTimeout = (): void => ctrl.abort();
          attemptSignal?.addEventListener('abort', onTimeout, { once: true });
          attempts++;
          try {
            it = provider.stream({ ...providerReq, signal })[Symbol.asyncIterator]();
            return await it.next();
          } catch (err) {
            lastAttemptError = attemptSignal ? this.attemptError(provider.name, err, attemptSignal, req.signal) : err;
            throw err;
          } finally {
            attemptSignal?.removeEventListener('abort', onTimeout);
          }
        };
        first = resilience
          ? await resilience.execute((s) => open(s), req.signal, {
              onRetry: () => this.emit(provider.name, provider.model, 'retry', linkStarted),
            })
          : await open();
      } catch (err) {
        ctrl.abort();
        if (req.signal?.aborted) throw abortError(req.signal);
        if (i === this.links.length - 1) {
          this.emit(provider.name, provider.model, 'error', linkStarted);
          throw err;
        }
        this.fallback(i, err, linkStarted, resilience ? attempts : 1, lastAttemptError, onFallback);
        continue;
      }
      yield* this.pump(provider, it!, first, ctrl, { key: i === 0 ? key : undefined, started, linkStarted, signal: req.signal });
      return;
    }
  }

  /** Relays a connected stream with an idle timeout between chunks; records usage, metrics and the cache entry. */
  private async *pump(
    provider: LlmProvider,
    it: AsyncIterator<LlmStreamChunk>,
    first: IteratorResult<LlmStreamChunk>,
    ctrl: AbortController,
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
          await this.cacheSet(ctx.key, {
            text,
            usage: done.usage,
            model: done.model,
            provider: done.provider,
            latency_ms: done.latency_ms,
          });
          finished = true;
          yield done;
          return;
        }
        const idle = setTimeout(
          () => ctrl.abort(new LlmProviderError(provider.name, 'timeout', `stream idle for ${this.res.timeoutMs} ms`)),
          this.res.timeoutMs,
        );
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

  /**
   * One JSON value validated by `schema`. At each link of the chain: the answer, and when it does not validate, one repair
   * request quoting the errors to the same link. Still invalid: the next link is tried (a fallback hop with
   * error_kind `invalid_output`); transport failures fall back as in complete(). When the last link's answer is invalid
   * too, throws NETRA_E_LLM_INVALID_OUTPUT with the errors of the first link that answered invalidly.
   */
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
    const invalid: { provider: string; model: string; first_errors: string[]; errors: string[] }[] = [];
    let start = 0;
    for (;;) {
      const started = performance.now();
      const first = await this.completeFrom(start, base, started);
      const v1 = validateReply(schema, first.result.text);
      if (v1.ok) {
        if (first.link === 0) await this.cacheSet(key, first.result);
        return { data: v1.data, result: first.result, repaired: false };
      }
      const second = await this.completeFrom(first.link, {
        ...base,
        messages: repairMessages(base.messages, first.result.text, v1.errors),
      });
      const v2 = validateReply(schema, second.result.text);
      if (v2.ok) {
        if (second.link === 0) await this.cacheSet(key, second.result);
        return { data: v2.data, result: second.result, repaired: true };
      }
      invalid.push({ provider: second.result.provider, model: second.result.model, first_errors: v1.errors, errors: v2.errors });
      if (second.link === this.links.length - 1) break;
      this.fallback(second.link, new InvalidStructuredOutput(v2.errors), started, 2, undefined, req.onFallback);
      start = second.link + 1;
    }
    const f = invalid[0]!;
    const others = invalid.slice(1).map((x) => x.provider);
    throw new NetraError(
      'LLM_INVALID_OUTPUT',
      `${f.provider} (${f.model}) replied with output that does not match the expected schema, also after one repair request${others.length > 0 ? `; so did ${others.join(', ')}` : ''}`,
      {
        details: { ...f, tried: invalid.map((x) => ({ provider: x.provider, model: x.model, errors: x.errors })) },
      },
    );
  }
}

/** A link's structured answer that stayed invalid after the repair request (a reason to fall back, never thrown out). */
class InvalidStructuredOutput extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid structured output: ${errors.join('; ')}`);
    this.name = 'InvalidStructuredOutput';
  }
}

function status(e: LlmProviderError): { http_status?: number } {
  return e.httpStatus === undefined ? {} : { http_status: e.httpStatus };
}
