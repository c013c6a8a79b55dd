// Longer than ~400 lines: since the formatter broke long lines at 140 columns; a split by responsibility is the next step.
/**
 * The request path of the gateway: authenticate (virtual key or pass-through), apply the workspace's policy (shadow:
 * note what it would do; enforce: exact cache, routing, max_tokens cap), forward to the upstream through pooled undici
 * connections, pass the response back as it arrives (SSE chunk by chunk), and hand one event per call to the recorder
 * after the response is done. Recording never delays or fails the response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import { sha256 } from '../accounts/api-keys.js';
import type { CachedResponse, GatewayResponseCache } from '../cache/gateway-response-cache.js';
import type { Logger } from '../logger.js';
import type { PriceCatalog } from '../workload/price-catalog.js';
import { callEvent, parseTagsHeader, type CallMeta, type CallOutcome } from './call-event.js';
import type { GatewayCredentials, GatewayCaller } from './credentials.js';
import { errorBody, GatewayError, upstreamPath, type GatewayEndpoint } from './endpoints.js';
import { clientResponseHeaders, headerValue, upstreamRequestHeaders } from './headers.js';
import { decide, type PolicyDecision } from './policy-engine.js';
import type { GatewayRecorder } from './recorder.js';
import { enforceSavingsTags, shadowSavingsTags, type HitKind, type PriceOf } from './savings-tags.js';
import { SemanticLookup } from './semantic-cache.js';
import { requestInfo, type RequestInfo } from './request-info.js';
import { emptyFacts, factsFromBody, StreamObserver, type ResponseFacts } from './response-observer.js';
import type { GatewaySettings, WorkspaceSettingsCache } from './workspace-settings.js';

export interface ProxyOptions {
  credentials: GatewayCredentials;
  settings: WorkspaceSettingsCache;
  recorder: GatewayRecorder;
  cache: GatewayResponseCache;
  catalog: () => PriceCatalog;
  log: Logger;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  connectTimeoutMs: number;
  connectionsPerOrigin: number;
  cacheMaxEntryBytes: number;
}

type Json = Record<string, unknown>;

interface Plan {
  ep: GatewayEndpoint;
  caller: GatewayCaller;
  info: RequestInfo;
  meta: CallMeta;
  settings: GatewaySettings;
  decision: PolicyDecision | null;
  sentModel: string | null;
  sentMaxTokens: number | null;
  policyTags: Record<string, string>;
  t0: number;
  startedAt: number;
}

const bounded = (v: string | undefined, max: number, field: string): string | null => {
  if (v === undefined || v === '') return null;
  if (v.length > max)
    throw new GatewayError('invalid_request', `${field} must be at most ${max} characters`, field, 'netra_invalid_header');
  return v;
};

function callMeta(req: IncomingMessage, body: Json | null): CallMeta {
  let tags: Record<string, string>;
  try {
    tags = parseTagsHeader(headerValue(req.headers, 'x-netra-tags'));
  } catch (err) {
    throw new GatewayError('invalid_request', `x-netra-tags: ${(err as Error).message}`, 'x-netra-tags', 'netra_invalid_header');
  }
  const user = typeof body?.user === 'string' ? body.user.slice(0, 256) : null;
  return {
    app: bounded(headerValue(req.headers, 'x-netra-app'), 200, 'x-netra-app') ?? 'default',
    endUser: bounded(headerValue(req.headers, 'x-netra-user'), 256, 'x-netra-user') ?? (user || null),
    sessionId: bounded(headerValue(req.headers, 'x-netra-session'), 256, 'x-netra-session'),
    traceId: null,
    environment: bounded(headerValue(req.headers, 'x-netra-environment'), 200, 'x-netra-environment'),
    tags,
  };
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function failureOf(err: unknown, clientGone: boolean): string {
  if (clientGone) return 'client_abort';
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return 'upstream_timeout';
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'upstream_cut';
  return 'upstream_unreachable';
}

export class GatewayProxy {
  private readonly agent: Agent;
  private readonly bases = new Map<string, { origin: string; path: string }>();
  private readonly semantic = new SemanticLookup();

  constructor(private readonly o: ProxyOptions) {
    this.agent = new Agent({
      connections: o.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      pipelining: 1,
      headersTimeout: o.headersTimeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
      connect: { timeout: o.connectTimeoutMs },
    });
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  /** Serves one call; never throws (every failure is answered in the caller's API shape, or ends the stream). */
  async handle(ep: GatewayEndpoint, req: IncomingMessage, res: ServerResponse, rawBody: Buffer | undefined, query: string): Promise<void> {
    const t0 = performance.now();
    const startedAt = Date.now();
    let plan: Plan | null = null;
    try {
      const caller = await this.o.credentials.resolve(ep.family, req.headers);
      let body: Json | null = null;
      if (ep.method === 'POST') {
        if (!rawBody || rawBody.length === 0)
          throw new GatewayError('invalid_request', 'the request body must be a JSON object', '(body)', 'netra_invalid_json');
        try {
          const parsed: unknown = JSON.parse(rawBody.toString('utf8'));
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Json;
        } catch (err) {
          throw new GatewayError('invalid_request', `malformed JSON body: ${(err as Error).message}`, '(body)', 'netra_invalid_json');
        }
        if (!body) throw new GatewayError('invalid_request', 'the request body must be a JSON object', '(body)', 'netra_invalid_json');
      }
      if (ep.operation === null || !body) {
        await this.forward(ep, caller, req, res, rawBody ?? null, query, null, null);
        return;
      }
      const meta = callMeta(req, body);
      const info = requestInfo(ep, body);
      const settingsOrPromise = this.o.settings.get(caller.workspace);
      const settings = settingsOrPromise instanceof Promise ? await settingsOrPromise : settingsOrPromise;
      plan = {
        ep,
        caller,
        info,
        meta,
        settings,
        decision: null,
        sentModel: info.model,
        sentMaxTokens: info.maxTokens,
        policyTags: {},
        t0,
        startedAt,
      };
      let rewritten = this.applyPolicy(plan, body, res);
      const strip = info.stream && (ep.shape === 'chat' || ep.shape === 'completion') && !info.clientWantsUsage;
      if (strip) {
        const so = body.stream_options && typeof body.stream_options === 'object' ? (body.stream_options as Json) : {};
        body.stream_options = { ...so, include_usage: true };
        rewritten = true;
      }
      const upstreamBody = rewritten ? Buffer.from(JSON.stringify(body)) : rawBody!;
      let cacheKey: string | null = null;
      const d = plan.decision;
      if (d && (d.cacheTtlSeconds || d.semantic) && !/no-cache|no-store/i.test(headerValue(req.headers, 'cache-control') ?? '')) {
        const scope = `${caller.workspace}\n${caller.provider}\n${caller.baseUrl}\n${ep.path}\n${strip}`;
        cacheKey = sha256(`${scope}\n${upstreamBody.toString('utf8')}`);
        // exact first, then (when enabled) the semantic cache: the replay's order
        let hit = d.cacheTtlSeconds ? await this.o.cache.get(cacheKey).catch(() => null) : null;
        let kind: 'hit' | 'semantic_hit' | 'miss' = hit ? 'hit' : 'miss';
        if (!hit && d.semantic && info.promptText) {
          const near = this.semantic.lookup(`${scope}\n${info.stream}`, d.semantic, {
            key: cacheKey,
            model: plan.sentModel ?? info.model ?? '',
            promptText: info.promptText,
            now: Date.now(),
          });
          hit = near ? await this.o.cache.get(near).catch(() => null) : null;
          if (hit) kind = 'semantic_hit';
        }
        if (settings.mode === 'enforce') {
          if (hit) return this.serveHit(plan, res, hit, kind === 'semantic_hit' ? 'semantic_hit' : 'hit');
          plan.policyTags['netra.cache'] = 'miss';
          res.setHeader('x-netra-cache', 'miss');
        } else {
          plan.policyTags['netra.would_cache'] = kind;
        }
      }
      await this.forward(
        ep,
        caller,
        req,
        res,
        upstreamBody,
        query,
        plan,
        cacheKey ? { key: cacheKey, ttlMs: Math.max(d?.cacheTtlSeconds ?? 0, d?.semantic?.ttlSeconds ?? 0) * 1000, strip } : null,
        strip,
      );
    } catch (err) {
      this.answerError(ep, res, err);
    }
  }

  /** Applies (enforce) or notes (shadow) routing and the max_tokens cap; returns whether the body changed. */
  private applyPolicy(plan: Plan, body: Json, res: ServerResponse): boolean {
    const { settings, info, meta } = plan;
    if (settings.mode === 'off' || !settings.policy || !info.model) return false;
    plan.policyTags['netra.policy'] = settings.mode;
    if (settings.version) plan.policyTags['netra.policy_version'] = settings.version;
    const catalog = this.o.catalog();
    const canonical = (m: string) => catalog.resolve(m)?.id ?? m;
    let promptTokens: number | null = null;
    plan.decision = decide(
      settings.policy,
      {
        app: meta.app,
        model: info.model,
        tags: meta.tags,
        endUser: meta.endUser,
        sessionId: meta.sessionId,
        maxTokens: info.maxTokens,
        promptTokens: () => (promptTokens ??= Math.ceil(info.promptText.length / 4)),
      },
      (a, b) => a === b || canonical(a) === canonical(b),
    );
    const d = plan.decision;
    if (settings.mode === 'shadow') {
      if (d.routeTo) plan.policyTags['netra.would_route'] = d.routeTo;
      if (d.cap !== null) plan.policyTags['netra.would_cap'] = String(d.cap);
      return false;
    }
    let changed = false;
    if (d.routeTo) {
      body.model = d.routeTo;
      plan.sentModel = d.routeTo;
      plan.policyTags['netra.routed_from'] = info.model;
      res.setHeader('x-netra-route', `${info.model}->${d.routeTo}`);
      changed = true;
    }
    if (d.cap !== null) {
      body[info.maxTokensField] = d.cap;
      plan.sentMaxTokens = d.cap;
      plan.policyTags['netra.capped_from'] = info.maxTokens === null ? 'none' : String(info.maxTokens);
      changed = true;
    }
    return changed;
  }

  private target(baseUrl: string): { origin: string; path: string } {
    let t = this.bases.get(baseUrl);
    if (!t) {
      const u = new URL(baseUrl);
      t = { origin: u.origin, path: u.pathname.replace(/\/+$/, '') };
      if (this.bases.size > 1000) this.bases.clear();
      this.bases.set(baseUrl, t);
    }
    return t;
  }

  private async forward(
    ep: GatewayEndpoint,
    caller: GatewayCaller,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | null,
    query: string,
    plan: Plan | null,
    cache: { key: string; ttlMs: number; strip: boolean } | null,
    strip = false,
  ): Promise<void> {
    const t = this.target(caller.baseUrl);
    const ac = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) ac.abort();
    };
    res.on('close', onClose);
    const outcome: CallOutcome = { startedAt: plan?.startedAt ?? Date.now(), latencyMs: 0, ttftMs: null, httpStatus: null, failure: null };
    const t0 = plan?.t0 ?? performance.now();
    let facts: ResponseFacts = emptyFacts();
    try {
      let up: Dispatcher.ResponseData;
      try {
        up = await this.agent.request({
          origin: t.origin,
          path: t.path + upstreamPath(ep) + query,
          method: ep.method,
          headers: upstreamRequestHeaders(req.headers, caller.auth, body ? body.length : null),
          body: body ?? undefined,
          signal: ac.signal,
        });
      } catch (err) {
        outcome.failure = failureOf(err, ac.signal.aborted);
        if (outcome.failure !== 'client_abort') {
          const timeout = outcome.failure === 'upstream_timeout';
          outcome.httpStatus = timeout ? 504 : 502;
          this.answerError(
            ep,
            res,
            new GatewayError(
              timeout ? 'timeout' : 'upstream',
              timeout
                ? `the ${caller.provider} upstream did not answer in time`
                : `the ${caller.provider} upstream could not be reached (${(err as { code?: string }).code ?? 'connection failed'})`,
              null,
              timeout ? 'netra_upstream_timeout' : 'netra_upstream_unreachable',
            ),
          );
        } else outcome.httpStatus = 499;
        return;
      }
      outcome.httpStatus = up.statusCode;
      const isSse = String(up.headers['content-type'] ?? '').includes('text/event-stream');
      const observer = isSse ? new StreamObserver(ep, strip) : null;
      res.writeHead(up.statusCode, clientResponseHeaders(up.headers, !(observer && strip)));
      if (isSse) res.flushHeaders();
      const keep = plan !== null && (!isSse || (cache !== null && up.statusCode === 200));
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const c of up.body) {
          const chunk = c as Buffer;
          outcome.ttftMs ??= performance.now() - t0;
          const out = observer?.push(chunk) ?? chunk;
          if (keep && size <= this.o.cacheMaxEntryBytes * 4) {
            chunks.push(out);
            size += out.length;
          }
          if (out.length > 0 && !res.write(out)) await drained(res);
          if (ac.signal.aborted) throw new Error('client closed the connection');
        }
        const rest = observer?.rest();
        if (rest && rest.length > 0) res.write(rest);
        if (observer && !observer.complete && up.statusCode < 400)
          throw Object.assign(new Error('upstream stream ended before its last event'), { code: 'UND_ERR_SOCKET' });
        res.end();
      } catch (err) {
        outcome.failure = failureOf(err, ac.signal.aborted);
        if (outcome.failure !== 'client_abort') {
          if (observer) res.write(this.streamError(ep, outcome.failure));
          this.o.log.warn(
            { provider: caller.provider, failure: outcome.failure, workspace: caller.workspace },
            'gateway: upstream response cut',
          );
        }
        res.destroy(); // never a clean end: the client sees the response as broken, not a short answer
      }
      if (!plan) return;
      facts = observer ? observer.facts : factsFromBody(ep, Buffer.concat(chunks));
      if (cache && outcome.failure === null && up.statusCode === 200 && size <= this.o.cacheMaxEntryBytes) {
        const entry: CachedResponse = {
          status: 200,
          headers: { 'content-type': String(up.headers['content-type'] ?? 'application/json') },
          chunks: isSse ? chunks.map((b) => b.toString('utf8')) : [Buffer.concat(chunks).toString('utf8')],
          stream: isSse,
          facts: {
            model: facts.model,
            promptTokens: facts.promptTokens,
            completionTokens: facts.completionTokens,
            cachedTokens: facts.cachedTokens,
            finishReason: facts.finishReason,
            text: facts.text,
          },
        };
        this.o.cache
          .set(cache.key, entry, cache.ttlMs)
          .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'gateway cache write failed'));
      }
    } finally {
      res.off('close', onClose);
      if (plan) {
        outcome.latencyMs = performance.now() - t0;
        if (!plan.info.stream) outcome.ttftMs = null;
        this.record(plan, facts, outcome, null);
      }
    }
  }

  private serveHit(plan: Plan, res: ServerResponse, hit: CachedResponse, kind: 'hit' | 'semantic_hit'): void {
    res.writeHead(hit.status, { ...hit.headers, 'x-netra-cache': kind === 'hit' ? 'hit' : 'semantic-hit' });
    let ttft: number | null = null;
    for (const c of hit.chunks) {
      res.write(c);
      ttft ??= performance.now() - plan.t0;
    }
    res.end();
    plan.policyTags['netra.cache'] = kind;
    const facts: ResponseFacts = { ...hit.facts, errorType: null };
    this.record(
      plan,
      facts,
      {
        startedAt: plan.startedAt,
        latencyMs: performance.now() - plan.t0,
        ttftMs: plan.info.stream ? ttft : null,
        httpStatus: hit.status,
        failure: null,
      },
      0,
    );
  }

  private record(plan: Plan, facts: ResponseFacts, outcome: CallOutcome, costUsd: number | null): void {
    try {
      const catalog = this.o.catalog();
      const ws = plan.caller.workspace;
      const model = facts.model ?? plan.sentModel ?? plan.info.model ?? 'unknown';
      const usage = {
        prompt_tokens: facts.promptTokens ?? 0,
        completion_tokens: facts.completionTokens ?? 0,
        cached_prompt_tokens: Math.min(facts.cachedTokens, facts.promptTokens ?? 0),
      };
      const d = plan.decision;
      const priceOf: PriceOf = (m, u) => catalog.price(ws, m, u)?.cost_usd ?? null;
      const hitKind = (v: string | undefined): HitKind => (v === 'hit' ? 'exact' : v === 'semantic_hit' ? 'semantic' : null);
      if (d && plan.settings.mode === 'shadow' && outcome.failure === null)
        Object.assign(plan.policyTags, shadowSavingsTags(d, model, usage, hitKind(plan.policyTags['netra.would_cache']), priceOf));
      if (d && plan.settings.mode === 'enforce' && plan.info.model && outcome.failure === null) {
        const hit = hitKind(plan.policyTags['netra.cache']);
        Object.assign(plan.policyTags, enforceSavingsTags(plan.info.model, model, d.routeTo !== null, hit, usage, priceOf));
      }
      this.o.recorder.record(
        ws,
        callEvent({
          provider: plan.caller.provider,
          operation: plan.ep.operation!,
          info: plan.info,
          sentModel: plan.sentModel,
          sentMaxTokens: plan.sentMaxTokens,
          facts,
          meta: plan.meta,
          outcome,
          recordText: plan.settings.recordText,
          policyTags: plan.policyTags,
          costUsd,
          priced: (m) => catalog.rates(ws, m) !== null,
        }),
      );
    } catch (err) {
      this.o.log.error({ err }, 'gateway: could not build the call event');
    }
  }

  private streamError(ep: GatewayEndpoint, failure: string): string {
    const message =
      failure === 'upstream_timeout'
        ? 'the upstream stalled mid-stream (timeout); the answer is incomplete'
        : 'the upstream cut the stream off; the answer is incomplete';
    return ep.family === 'anthropic'
      ? `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`
      : `data: ${JSON.stringify({ error: { message, type: 'api_error', param: null, code: `netra_${failure}` } })}\n\n`;
  }

  private answerError(ep: GatewayEndpoint, res: ServerResponse, err: unknown): void {
    const e =
      err instanceof GatewayError
        ? err
        : new GatewayError('internal', 'internal gateway error; see the server log', null, 'netra_internal');
    if (!(err instanceof GatewayError)) this.o.log.error({ err }, 'gateway: unexpected error');
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    res.writeHead(e.status, { 'content-type': 'application/json', 'x-netra-error': e.code });
    res.end(errorBody(ep.family, e));
  }
}
