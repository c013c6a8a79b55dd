/**
 * The synthetic workload generator: a deterministic stream of WorkloadEvent batches in timestamp order for a
 * preset, plus the manifest of what was planted (see manifest.ts and docs/GENERATOR.md).
 *
 * Each arrival slot (arrivals.ts) is filled by the earliest follow-up that is ready (a retry, the next turn of a
 * session, the next step of an agent run) or else by a fresh request of the app the diurnal mix picks: a verbatim
 * re-send of a recent prompt, a paraphrase of one, or a new prompt (which may open a session or an agent run).
 * Memory is O(batch + per-app rings + open chains). Same options and seed ⇒ identical events. Pure, no I/O.
 * Longer than ~400 lines: the slot-filling loop and its follow-up queue share state that splitting would have to pass around.
 */
import { NetraError } from '../errors.js';
import type { Pricer, WorkloadEvent } from '../workload/event.js';
import { ArrivalClock } from './arrivals.js';
import { addParaphrase, FamilyRing, MAX_FAMILY_TEXTS, newEntry, textAt, textCount, type Family, type TextEntry } from './families.js';
import { ManifestBuilder, type Manifest } from './manifest.js';
import { defaultTierOf, MODEL_PROFILES, type LatencyProfile } from './models.js';
import { ReadyQueue } from './pending.js';
import { PRESETS, SIMPLE_TASKS, type AppSpec, type Preset } from './presets.js';
import { base32, cumulative, hashString64, hex64, mix32, recipeHash, Rng } from './random.js';
import { NEAR_DUPLICATE_JACCARD } from './similarity.js';
import { joinClauses, renderClauses, renderContinuation, renderText, topicsOf } from './text.js';

export type { Manifest } from './manifest.js';
export { PRESET_NAMES } from './presets.js';

export interface GenerateOptions {
  preset: string | Preset;
  events: number;
  days?: number;
  seed?: number;
  workspace?: string;
  /** end of the window (exclusive, epoch ms); default: today 00:00 UTC */
  end?: number;
  pricer: Pricer;
  /** quality tier of a model (1 small … 3 frontier); default: DEFAULT_TIERS in models.ts */
  tierOf?: (model: string) => number | null | undefined;
  batchSize?: number;
  exactCacheTtlSeconds?: number;
}

export interface Workload {
  readonly from: number;
  readonly to: number;
  /** The event stream (can be consumed once); its return value is the manifest. */
  batches(): Generator<WorkloadEvent[], Manifest, undefined>;
  /** The manifest; throws until the stream has been consumed to the end. */
  manifest(): Manifest;
}

const DAY = 86_400_000;
const PREFIX_WINDOW_MS = 300_000;
const PREFIX_MIN_TOKENS = 1024;
const RING_CAPACITY = 4096;
const MAX_OPEN_CHAINS = 8192;
const MAX_ATTEMPTS = 3;
/** at most one event per 20 ms on average, so strictly increasing millisecond timestamps always fit */
const MIN_MS_PER_EVENT = 20;

interface ModelState {
  model: string;
  provider: string;
  maxTokens: number | null;
  profile: LatencyProfile;
  group: number;
}
interface AppState {
  spec: AppSpec;
  index: number;
  models: ModelState[];
  modelCum: Float64Array;
  taskCum: Float64Array;
  stepTaskCum: Float64Array | null;
  sysCum: Float64Array | null;
  sysHash: string[];
  sysTokens: number[];
  /** latest ok call per (system prompt, model): index sys * models + model */
  prefixLastOk: Float64Array;
  ring: FamilyRing;
  users: (string | undefined)[];
  /** task names: the app's tasks, then its agent step tasks */
  taskNames: string[];
  topics: readonly string[];
  /** shared, frozen tag objects by taskIndex * topics + topicIndex */
  tags: (Record<string, string> | undefined)[];
}
interface Chain {
  kind: 'session' | 'agent';
  length: number;
  turn: number;
  session: string | null;
  trace: string | null;
  lastPrompt: number;
  lastCompletion: number;
}
interface Call {
  app: AppState;
  mi: number;
  sys: number;
  entry: TextEntry;
  text: string;
  task: number;
  topic: number;
  user: string | null;
  session: string | null;
  trace: string;
  attempt: number;
  chain: Chain | null;
}
interface Pending {
  ready: number;
  seq: number;
  call: Call | null;
  chain: Chain | null;
  app: AppState;
  mi: number;
  sys: number;
  task: number;
  topic: number;
  user: string | null;
}

function resolvePreset(p: string | Preset): Preset {
  if (typeof p !== 'string') return p;
  const preset = PRESETS[p];
  if (!preset) throw new NetraError('VALIDATION', `unknown preset '${p}' (known: ${Object.keys(PRESETS).join(', ')})`, { field: 'preset' });
  return preset;
}

export function generateWorkload(opts: GenerateOptions): Workload {
  const preset = resolvePreset(opts.preset);
  const days = opts.days ?? 7;
  const seed = opts.seed ?? 1;
  const workspace = opts.workspace ?? 'demo';
  const batchSize = opts.batchSize ?? 1000;
  const ttlMs = (opts.exactCacheTtlSeconds ?? 3600) * 1000;
  const to = opts.end ?? Math.floor(Date.now() / DAY) * DAY;
  const from = to - Math.round(days * DAY);
  const check = (ok: boolean, field: string, msg: string) => {
    if (!ok) throw new NetraError('VALIDATION', `${field} ${msg}`, { field });
  };
  check(Number.isInteger(opts.events) && opts.events >= 0, 'events', 'must be a whole number >= 0');
  check(Number.isFinite(days) && days > 0 && days <= 366, 'days', 'must be > 0 and <= 366');
  check(Number.isInteger(seed), 'seed', 'must be an integer');
  check(Number.isInteger(batchSize) && batchSize > 0, 'batchSize', 'must be a whole number > 0');
  check(ttlMs > 0, 'exactCacheTtlSeconds', 'must be > 0');
  check(Number.isFinite(to) && from >= Date.UTC(2000, 0, 1) && to <= Date.UTC(2100, 0, 1), 'end', 'must be between 2000 and 2100');
  check(
    opts.events <= (to - from) / MIN_MS_PER_EVENT,
    'events',
    `must be at most ${Math.floor((to - from) / MIN_MS_PER_EVENT)} for ${days} days (one per ${MIN_MS_PER_EVENT} ms); raise --days`,
  );

  const tierOf = (m: string): number | null => (opts.tierOf ? (opts.tierOf(m) ?? null) : defaultTierOf(m));
  const tiers: Record<string, number | null> = {};
  const latencyModels: Record<string, LatencyProfile> = {};
  const providers = new Map<string, string>();
  for (const a of preset.apps) {
    for (const m of a.models) {
      const profile = MODEL_PROFILES[m.model];
      const priced = opts.pricer.price(workspace, m.model, { prompt_tokens: 1000, completion_tokens: 100, cached_prompt_tokens: 0 });
      if (!profile || !priced)
        throw new NetraError(
          'UNKNOWN_MODEL',
          `preset '${preset.name}' uses model '${m.model}', which the ${profile ? 'price catalog' : 'generator'} does not know`,
          { field: 'model' },
        );
      tiers[m.model] = tierOf(m.model);
      latencyModels[m.model] = profile;
      providers.set(m.model, priced.provider);
    }
  }
  const builder = new ManifestBuilder({
    preset: preset.name,
    seed,
    workspace,
    events: opts.events,
    days,
    from,
    to,
    latency_models: latencyModels,
    params: {
      exact_cache_ttl_seconds: ttlMs / 1000,
      prefix_cache_window_seconds: PREFIX_WINDOW_MS / 1000,
      prefix_min_tokens: PREFIX_MIN_TOKENS,
      near_duplicate_jaccard: NEAR_DUPLICATE_JACCARD,
      simple_tasks: [...SIMPLE_TASKS],
      tiers,
    },
  });
  const apps: AppState[] = preset.apps.map((spec, index) => ({
    spec,
    index,
    models: spec.models.map((m) => ({
      model: m.model,
      provider: providers.get(m.model)!,
      maxTokens: m.max_tokens,
      profile: MODEL_PROFILES[m.model]!,
      group: builder.group(spec.app, m.model, m.max_tokens),
    })),
    modelCum: cumulative(spec.models.map((m) => m.weight)),
    taskCum: cumulative(spec.tasks.map((t) => t.weight)),
    stepTaskCum: spec.chain?.step_tasks ? cumulative(spec.chain.step_tasks.map((t) => t.weight)) : null,
    sysCum: spec.system_prompts.length ? cumulative(spec.system_prompts.map((s) => s.weight)) : null,
    sysHash: spec.system_prompts.map((_, k) => hex64(...hashString64(`${preset.name}/${spec.app}/system-prompt-v${k + 1}`))),
    sysTokens: spec.system_prompts.map((s) => s.value),
    prefixLastOk: new Float64Array(Math.max(1, spec.system_prompts.length) * spec.models.length).fill(-Infinity),
    ring: new FamilyRing(RING_CAPACITY),
    users: new Array<string | undefined>(spec.users),
    taskNames: [...new Set([...spec.tasks.map((t) => t.value), ...(spec.chain?.step_tasks ?? []).map((t) => t.value)])],
    topics: topicsOf(spec.domain),
    tags: [],
  }));

  const rng = new Rng(seed, 1);
  const clock = new ArrivalClock(preset, from, to, opts.events, new Rng(seed, 2));
  const scratch = new Rng(0);
  // ids and hashes differ per preset and seed, so several presets can share one workspace without clashing
  const presetHash = hashString64(preset.name)[0];
  const idTag = base32(presetHash & 0x3ff, 2).toLowerCase() + (seed >>> 0).toString(36);
  const refSalt = mix32(seed ^ presetHash);
  const pending = new ReadyQueue<Pending>();
  let openChains = 0;
  let done: Manifest | null = null;
  let started = false;

  const tagsFor = (a: AppState, task: number, topic: number): Record<string, string> => {
    const key = task * a.topics.length + topic;
    return (a.tags[key] ??= Object.freeze({
      task: a.taskNames[task]!,
      latency_class: a.spec.latency_class,
      topic: a.topics[topic]!,
    }) as Record<string, string>);
  };
  const userOf = (a: AppState): string | null => {
    if (a.spec.users === 0) return null;
    const u = rng.next();
    const k = Math.floor(u * u * a.spec.users);
    return (a.users[k] ??= `${a.spec.app}-user-${k + 1}`);
  };
  const refOf = (i: number) => base32(mix32(i ^ refSalt), 7);
  const ref2Of = (i: number) => base32(mix32(i ^ ~refSalt), 7, true);
  const taskIndex = (a: AppState, name: string) => a.taskNames.indexOf(name);
  const originalClauses = (a: AppState, f: Family) =>
    renderClauses(
      a.spec.domain,
      a.spec.text,
      a.taskNames[f.taskIndex]!,
      f.topicIndex,
      refOf(f.id),
      ref2Of(f.id),
      scratch.reseed(f.textSeed),
    );
  const originalText = (a: AppState, f: Family) =>
    renderText(a.spec.domain, a.spec.text, a.taskNames[f.taskIndex]!, f.topicIndex, refOf(f.id), ref2Of(f.id), scratch.reseed(f.textSeed));
  const pickSys = (a: AppState) => (a.sysCum ? rng.pickCumulative(a.sysCum) : -1);
  const sysTokens = (a: AppState, sys: number) => (sys >= 0 ? a.sysTokens[sys]! : 0);
  const userTokens = (a: AppState) =>
    Math.min(a.spec.prompt.max, Math.max(1, Math.round(rng.logNormal(a.spec.prompt.median, a.spec.prompt.sigma))));

  /** A fresh request at slot i: re-send, paraphrase, or a new prompt (maybe opening a chain). */
  const freshCall = (t: number, i: number): Call => {
    const a = apps[rng.pickCumulative(clock.appWeightsNow(t))]!;
    const s = a.spec;
    const r = rng.next();
    const trace = 'trc_' + idTag + '_' + i.toString(36);
    if (r < s.exact_duplicate_rate + s.near_duplicate_rate) {
      const f = a.ring.pickRecent(rng, t - ttlMs);
      if (f && r < s.exact_duplicate_rate) {
        const entry = textAt(f, rng.int(textCount(f)));
        if (t - entry.lastOk <= ttlMs) {
          const text = entry.text ?? originalText(a, f);
          return {
            app: a,
            mi: f.modelIndex,
            sys: f.systemIndex,
            entry,
            text,
            task: f.taskIndex,
            topic: f.topicIndex,
            user: userOf(a),
            session: null,
            trace,
            attempt: 1,
            chain: null,
          };
        }
      } else if (f && t - f.lastOk <= ttlMs && textCount(f) < MAX_FAMILY_TEXTS) {
        const clauses = originalClauses(a, f);
        const entry = addParaphrase(f, clauses, joinClauses(clauses), rng, recipeHash(a.index, f.id, textCount(f), refSalt));
        if (entry)
          return {
            app: a,
            mi: f.modelIndex,
            sys: f.systemIndex,
            entry,
            text: entry.text!,
            task: f.taskIndex,
            topic: f.topicIndex,
            user: userOf(a),
            session: null,
            trace,
            attempt: 1,
            chain: null,
          };
      }
    }
    const task = rng.pickCumulative(a.taskCum);
    const topic = rng.int(a.topics.length);
    const mi = rng.pickCumulative(a.modelCum);
    const sys = pickSys(a);
    const textSeed = rng.uint32();
    const fam: Family = {
      text: null,
      hash: recipeHash(a.index, i, 0, refSalt),
      promptTokens: sysTokens(a, sys) + userTokens(a),
      lastOk: -Infinity,
      similar: null,
      shingles: null,
      id: i,
      created: t,
      modelIndex: mi,
      taskIndex: task,
      topicIndex: topic,
      systemIndex: sys,
      systemTokens: sysTokens(a, sys),
      textSeed,
      paraphrases: null,
    };
    const text = originalText(a, fam);
    a.ring.add(fam);
    const user = userOf(a);
    let chain: Chain | null = null;
    const cs = s.chain;
    if (cs && openChains < MAX_OPEN_CHAINS && rng.chance(cs.share)) {
      const length = Math.min(cs.max_length, Math.max(2, Math.round(rng.logNormal(cs.length_median, 0.5))));
      chain = {
        kind: cs.kind,
        length,
        turn: 1,
        session: cs.kind === 'session' ? 'ses_' + idTag + '_' + i.toString(36) : null,
        trace: cs.kind === 'agent' ? trace : null,
        lastPrompt: 0,
        lastCompletion: 0,
      };
      openChains++;
      if (cs.kind === 'session') builder.chains.sessions++;
      else builder.chains.agent_runs++;
    }
    return { app: a, mi, sys, entry: fam, text, task, topic, user, session: chain?.session ?? null, trace, attempt: 1, chain };
  };

  /** The next call of a chain (a new user message or tool observation on top of the conversation so far). */
  const continuation = (p: Pending, i: number): Call => {
    const a = p.app;
    const c = p.chain!;
    const cs = a.spec.chain!;
    c.turn++;
    const task = c.kind === 'agent' && a.stepTaskCum ? taskIndex(a, cs.step_tasks![rng.pickCumulative(a.stepTaskCum)]!.value) : p.task;
    const added = Math.min(cs.added_tokens.max, Math.max(1, Math.round(rng.logNormal(cs.added_tokens.median, cs.added_tokens.sigma))));
    const prompt = Math.min(sysTokens(a, p.sys) + a.spec.prompt.max, c.lastPrompt + c.lastCompletion + added);
    const text = renderContinuation(a.spec.domain, c.kind, p.topic, refOf(i), ref2Of(i), rng);
    const entry = newEntry(text, recipeHash(a.index, i, 0xffffffff, refSalt), prompt);
    const trace = c.trace ?? 'trc_' + idTag + '_' + i.toString(36);
    return {
      app: a,
      mi: p.mi,
      sys: p.sys,
      entry,
      text,
      task,
      topic: p.topic,
      user: p.user,
      session: c.session,
      trace,
      attempt: 1,
      chain: c,
    };
  };

  /** Draws the outcome of a call at time t and builds the event. */
  const realize = (c: Call, t: number, i: number): WorkloadEvent => {
    const a = c.app;
    const s = a.spec;
    const m = a.models[c.mi]!;
    const prof = m.profile;
    const promptTokens = c.entry.promptTokens;
    const errorP = s.error_rate * (clock.inBurstNow ? 3 : 1) * (c.attempt > 1 ? 1.5 : 1);
    const isEmbedding = s.operation === 'embedding';
    let status: 'ok' | 'error' = 'ok';
    let http: number | null = null;
    let errorType: string | null = null;
    let completion = 0;
    let finish: string | null = null;
    let latency: number;
    let ttft: number | null = null;
    if (rng.next() < errorP) {
      status = 'error';
      const r = rng.next();
      if (r < (clock.inBurstNow ? 0.8 : 0.45))
        [http, errorType, latency] = [429, 'rate_limit_exceeded', Math.round(rng.logNormal(120, 0.5))];
      else if (r < (clock.inBurstNow ? 0.9 : 0.8))
        [http, errorType, latency] = [500, 'internal_server_error', Math.round(rng.logNormal(prof.ttft_ms * 4, 0.6))];
      else [http, errorType, latency] = [503, 'service_unavailable', Math.round(rng.logNormal(300, 0.5))];
    } else if (isEmbedding) {
      latency = Math.max(
        1,
        Math.round(prof.ttft_ms * Math.exp(prof.noise_sigma * rng.normal()) + promptTokens * prof.prefill_ms_per_token),
      );
    } else {
      completion = Math.max(1, Math.round(rng.logNormal(s.completion.median, s.completion.sigma)));
      if (m.maxTokens !== null && completion >= m.maxTokens) [completion, finish] = [m.maxTokens, 'length'];
      else finish = c.chain?.kind === 'agent' && c.chain.turn < c.chain.length ? 'tool_calls' : 'stop';
      ttft = Math.round(prof.ttft_ms * Math.exp(prof.noise_sigma * rng.normal()) + promptTokens * prof.prefill_ms_per_token);
      const tps = prof.tokens_per_second * Math.exp(0.8 * prof.noise_sigma * rng.normal());
      latency = ttft + Math.round((completion / tps) * 1000);
    }
    latency = Math.min(latency, 86_400_000);
    let cost = 0;
    let provider = m.provider;
    if (http !== 429) {
      const priced = opts.pricer.price(workspace, m.model, {
        prompt_tokens: promptTokens,
        completion_tokens: completion,
        cached_prompt_tokens: 0,
      });
      if (priced) {
        cost = priced.cost_usd;
        provider = priced.provider;
      }
    }
    const hasSys = c.sys >= 0;
    return {
      event_id: 'evt_' + idTag + '_' + base32(i, 7),
      timestamp: t,
      workspace,
      app: s.app,
      environment: 'production',
      end_user: c.user,
      session_id: c.session,
      trace_id: c.trace,
      span_id: 'spn_' + idTag + '_' + i.toString(36),
      provider,
      model: m.model,
      operation: s.operation,
      prompt_tokens: promptTokens,
      completion_tokens: completion,
      cached_prompt_tokens: 0,
      latency_ms: latency,
      ttft_ms: ttft,
      status,
      error_type: errorType,
      http_status: http,
      finish_reason: finish,
      max_tokens: m.maxTokens,
      temperature: s.temperature,
      stream: s.stream,
      cost_usd: cost,
      cost_source: http === 429 ? 'given' : 'catalog',
      token_source: 'reported',
      prompt_hash: c.entry.hash,
      prefix_hash: hasSys ? a.sysHash[c.sys]! : null,
      prefix_tokens: hasSys ? a.sysTokens[c.sys]! : null,
      // no block chain: the generator's prompts carry their shared prefix as prefix_hash/prefix_tokens
      prefix_block_hashes: null,
      prefix_block_size: null,
      prompt_text: c.text,
      response_text: null,
      quality_score: null,
      tags: tagsFor(a, c.task, c.topic),
    };
  };

  function* stream(): Generator<WorkloadEvent[], Manifest, undefined> {
    let batch: WorkloadEvent[] = [];
    for (let i = 0; i < opts.events; i++) {
      const t = clock.next(rng);
      const p = pending.popReady(t);
      const call = p ? (p.call ?? continuation(p, i)) : freshCall(t, i);
      const a = call.app;
      const e = realize(call, t, i);
      const entry = call.entry;
      const exact = t - entry.lastOk <= ttlMs;
      const near = !exact && entry.similar !== null && entry.similar.some((y) => t - y.lastOk <= ttlMs);
      const pk = call.sys >= 0 ? call.sys * a.models.length + call.mi : -1;
      const prefixCacheable = pk >= 0 && a.sysTokens[call.sys]! >= PREFIX_MIN_TOKENS && t - a.prefixLastOk[pk]! <= PREFIX_WINDOW_MS;
      builder.add(e, { exact, near, prefixCacheable, retry: call.attempt > 1 }, a.models[call.mi]!.group);
      const ch = call.chain;
      if (ch) {
        if (ch.kind === 'session') builder.chains.session_events++;
        else builder.chains.agent_events++;
      }
      if (e.status === 'ok') {
        entry.lastOk = t;
        if (pk >= 0) a.prefixLastOk[pk] = t;
        if (ch) {
          ch.lastPrompt = e.prompt_tokens;
          ch.lastCompletion = e.completion_tokens;
          if (ch.turn < ch.length) {
            const gap = rng.logNormal(a.spec.chain!.gap_seconds * 1000, 0.6);
            pending.push({
              ready: t + Math.round(gap),
              seq: 0,
              call: null,
              chain: ch,
              app: a,
              mi: call.mi,
              sys: call.sys,
              task: call.task,
              topic: call.topic,
              user: call.user,
            });
          } else openChains--;
        }
      } else if (call.attempt < MAX_ATTEMPTS && rng.chance(a.spec.retry_probability)) {
        const backoff = (e.http_status === 429 ? 1000 : 500) * 2 ** (call.attempt - 1) * (0.5 + rng.next());
        pending.push({
          ready: t + Math.round(backoff),
          seq: 0,
          call: { ...call, attempt: call.attempt + 1 },
          chain: ch,
          app: a,
          mi: call.mi,
          sys: call.sys,
          task: call.task,
          topic: call.topic,
          user: call.user,
        });
      } else if (ch) openChains--;
      batch.push(e);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
    done = builder.finish(clock.bursts);
    return done;
  }

  return {
    from,
    to,
    batches() {
      if (started) throw new NetraError('INTERNAL', 'a workload stream can be consumed only once; call generateWorkload again');
      started = true;
      return stream();
    },
    manifest() {
      if (!done) throw new NetraError('INTERNAL', 'the manifest is ready only after the whole stream has been consumed');
      return done;
    },
  };
}

/** Convenience for small workloads (tests, demos): every event in one array plus the manifest. */
export function generateAll(opts: GenerateOptions): { events: WorkloadEvent[]; manifest: Manifest } {
  const w = generateWorkload(opts);
  const events: WorkloadEvent[] = [];
  for (const b of w.batches()) for (const e of b) events.push(e);
  return { events, manifest: w.manifest() };
}
