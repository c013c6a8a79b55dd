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
import type { Pricer, Usage, WorkloadEvent } from '../workload/event.js';
import { NULL_CODE, toEvents, type EventColumns } from '../workload/event-columns.js';
import { ColumnWriter } from './column-writer.js';
import { ArrivalClock } from './arrivals.js';
import {
  addParaphrase,
  FamilyRing,
  FamilyRecord,
  MAX_FAMILY_TEXTS,
  newEntry,
  textAt,
  textCount,
  type Family,
  type TextEntry,
} from './families.js';
import { ManifestBuilder, type Manifest, type ManifestRow } from './manifest.js';
import { defaultTierOf, MODEL_PROFILES, type LatencyProfile } from './models.js';
import { ReadyQueue } from './pending.js';
import { PRESETS, SIMPLE_TASKS, type AppSpec, type Preset } from './presets.js';
import { base32, cumulative, hashString64, hex64, mix32, recipeHash, Rng } from './random.js';
import { NEAR_DUPLICATE_JACCARD } from './similarity.js';
import { drawContinuation, joinClauses, renderClauses, renderDrawn, renderText, topicsOf, type DrawnClauses } from './text.js';

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
  /** The event stream (can be consumed once, by this or by columnBatches); its return value is the manifest. */
  batches(): Generator<WorkloadEvent[], Manifest, undefined>;
  /** The same stream as column batches (workload/event-columns.ts): no object per event. */
  columnBatches(): Generator<EventColumns, Manifest, undefined>;
  /** The manifest; throws until the stream has been consumed to the end. */
  manifest(): Manifest;
}

const DAY = 86_400_000;
const PREFIX_WINDOW_MS = 300_000;
const PREFIX_MIN_TOKENS = 1024;
const RING_CAPACITY = 4096;
const MAX_OPEN_CHAINS = 8192;
const MAX_ATTEMPTS = 3;
/** prompt-hash variant of a chain call's text (see TextEntry.hashVariant) */
const CHAIN_VARIANT = 0xffffffff;
/** at most one event per 20 ms on average, so strictly increasing millisecond timestamps always fit */
const MIN_MS_PER_EVENT = 20;

interface ModelState {
  model: string;
  modelCode: number;
  provider: string;
  /** the provider the pricer returned last for this model, and its code */
  lastProvider: string;
  lastProviderCode: number;
  maxTokens: number | null;
  profile: LatencyProfile;
  group: number;
}
interface AppState {
  spec: AppSpec;
  index: number;
  appCode: number;
  opCode: number;
  sysCode: number[];
  /** end-user dictionary code by user index; -1 until first used */
  userCodes: Int32Array;
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
  /** task names: the app's tasks, then its agent step tasks */
  taskNames: string[];
  topics: readonly string[];
  /** tag dictionary codes by taskIndex * topics + topicIndex; -1 until first used */
  tagCodes: Int32Array;
}
interface Chain {
  kind: 'session' | 'agent';
  length: number;
  turn: number;
  /** session / trace id keys (the index of the call that opened the chain); NaN when none */
  session: number;
  trace: number;
  lastPrompt: number;
  lastCompletion: number;
}
/** A chain call's text before it is rendered: its drawn clauses, and the call index its references come from. */
interface ChainText {
  drawn: DrawnClauses;
  id: number;
}
/**
 * What a call's prompt text is made from: the text itself (a paraphrase), a family original (rendered again from
 * its seed) or a chain call's drawn clauses. Batches render the text only when it is read.
 */
type PromptSource = string | Family | ChainText;
interface Call {
  app: AppState;
  mi: number;
  sys: number;
  entry: TextEntry;
  text: PromptSource;
  task: number;
  topic: number;
  /** end-user code, NULL_CODE when none */
  user: number;
  /** session id key, NaN when none */
  session: number;
  /** trace id key */
  trace: number;
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
  user: number;
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
  // ids and hashes differ per preset and seed, so several presets can share one workspace without clashing
  const presetHash = hashString64(preset.name)[0];
  const idTag = base32(presetHash & 0x3ff, 2).toLowerCase() + (seed >>> 0).toString(36);
  const refSalt = mix32(seed ^ presetHash);
  const cols = new ColumnWriter(batchSize, {
    event: 'evt_' + idTag + '_',
    trace: 'trc_' + idTag + '_',
    session: 'ses_' + idTag + '_',
    span: 'spn_' + idTag + '_',
  });
  const wsCode = cols.workspace.code(workspace);
  const envCode = cols.environment.code('production');
  const okCode = cols.status.code('ok');
  const errorCode = cols.status.code('error');
  const givenCode = cols.costSource.code('given');
  const catalogCode = cols.costSource.code('catalog');
  const reportedCode = cols.tokenSource.code('reported');
  const finishCodes = {
    length: cols.finishReason.code('length'),
    tool_calls: cols.finishReason.code('tool_calls'),
    stop: cols.finishReason.code('stop'),
  };
  const errorTypeCodes = {
    429: cols.errorType.code('rate_limit_exceeded'),
    500: cols.errorType.code('internal_server_error'),
    503: cols.errorType.code('service_unavailable'),
  };
  const apps: AppState[] = preset.apps.map((spec, index) => ({
    spec,
    index,
    appCode: cols.app.code(spec.app),
    opCode: cols.operation.code(spec.operation),
    sysCode: spec.system_prompts.map((_, k) =>
      cols.prefixHash.code(hex64(...hashString64(`${preset.name}/${spec.app}/system-prompt-v${k + 1}`))),
    ),
    userCodes: new Int32Array(spec.users).fill(-1),
    models: spec.models.map((m) => ({
      model: m.model,
      modelCode: cols.model.code(m.model),
      provider: providers.get(m.model)!,
      lastProvider: providers.get(m.model)!,
      lastProviderCode: cols.provider.code(providers.get(m.model)!),
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
    taskNames: [...new Set([...spec.tasks.map((t) => t.value), ...(spec.chain?.step_tasks ?? []).map((t) => t.value)])],
    topics: topicsOf(spec.domain),
    tagCodes: new Int32Array(0),
  }));
  for (const a of apps) a.tagCodes = new Int32Array(a.taskNames.length * a.topics.length).fill(-1);

  const rng = new Rng(seed, 1);
  const clock = new ArrivalClock(preset, from, to, opts.events, new Rng(seed, 2));
  const scratch = new Rng(0);
  const pending = new ReadyQueue<Pending>();
  let openChains = 0;
  let done: Manifest | null = null;
  let started = false;

  /** code of the shared, frozen tag object of (task, topic) */
  const tagsFor = (a: AppState, task: number, topic: number): number => {
    const key = task * a.topics.length + topic;
    let code = a.tagCodes[key]!;
    if (code < 0) {
      const tags = Object.freeze({ task: a.taskNames[task]!, latency_class: a.spec.latency_class, topic: a.topics[topic]! });
      a.tagCodes[key] = code = cols.tags.code(tags);
    }
    return code;
  };
  const userOf = (a: AppState): number => {
    if (a.spec.users === 0) return NULL_CODE;
    const u = rng.next();
    const k = Math.floor(u * u * a.spec.users);
    let code = a.userCodes[k]!;
    if (code < 0) a.userCodes[k] = code = cols.endUser.code(`${a.spec.app}-user-${k + 1}`);
    return code;
  };
  const refOf = (i: number) => base32(mix32(i ^ refSalt), 7);
  const ref2Of = (i: number) => base32(mix32(i ^ ~refSalt), 7, true);
  const taskIndex = (a: AppState, name: string) => a.taskNames.indexOf(name);
  /** A family original rendered by renderText or renderClauses (same arguments, same draws) from its seed. */
  const original = <T>(
    render: typeof renderClauses | typeof renderText,
    a: AppState,
    task: number,
    topic: number,
    id: number,
    seed: number,
    r: Rng,
  ): T => render(a.spec.domain, a.spec.text, a.taskNames[task]!, topic, refOf(id), ref2Of(id), r.reseed(seed)) as T;
  const originalClauses = (a: AppState, f: Family) =>
    original<string[]>(renderClauses, a, f.taskIndex, f.topicIndex, f.id, f.textSeed, scratch);
  /**
   * The current batch's rows as its lazy prompt_text and prompt_hash columns read them: the app index, the text (a
   * paraphrase), the drawn clauses of a chain call, or null for a family original, whose task, topic, id and seed
   * are copied here (its record is reused later); and the prompt hash's recipe. Most consumers of a generated stream
   * read neither, so neither string is made here.
   */
  let rows = newRows();
  function newRows() {
    return {
      apps: new Uint16Array(batchSize),
      texts: new Array<string | ChainText | null>(batchSize),
      tasks: new Uint16Array(batchSize),
      topics: new Uint16Array(batchSize),
      ids: new Float64Array(batchSize),
      seeds: new Uint32Array(batchSize),
      hashIds: new Float64Array(batchSize),
      hashVariants: new Uint32Array(batchSize),
    };
  }
  const textRng = new Rng(0);
  const newBatch = (): EventColumns => {
    const w = (rows = newRows());
    const text = (r: number): string => {
      const a = apps[w.apps[r]!]!;
      const s = w.texts[r]!;
      if (s === null) return original<string>(renderText, a, w.tasks[r]!, w.topics[r]!, w.ids[r]!, w.seeds[r]!, textRng);
      return typeof s === 'string' ? s : renderDrawn(s.drawn, refOf(s.id), ref2Of(s.id));
    };
    return cols.batch(
      { kind: 'lazy', at: text },
      { kind: 'lazy', at: (r) => recipeHash(w.apps[r]!, w.hashIds[r]!, w.hashVariants[r]!, refSalt) },
    );
  };
  const pickSys = (a: AppState) => (a.sysCum ? rng.pickCumulative(a.sysCum) : -1);
  const sysTokens = (a: AppState, sys: number) => (sys >= 0 ? a.sysTokens[sys]! : 0);
  const userTokens = (a: AppState) =>
    Math.min(a.spec.prompt.max, Math.max(1, Math.round(rng.logNormal(a.spec.prompt.median, a.spec.prompt.sigma))));

  /**
   * The first attempt of a call, in one Call object reused for every first attempt: a Call per event outlived too
   * many minor collections (retries keep theirs), so V8 moved its allocation to the old generation. A retry copies it.
   */
  const current: Call = {
    app: apps[0]!,
    mi: 0,
    sys: -1,
    entry: newEntry(null, 0, 0, 0),
    text: '',
    task: 0,
    topic: 0,
    user: NULL_CODE,
    session: Number.NaN,
    trace: 0,
    attempt: 1,
    chain: null,
  };
  const firstCall = (
    app: AppState,
    mi: number,
    sys: number,
    entry: TextEntry,
    text: PromptSource,
    task: number,
    topic: number,
    user: number,
    session: number,
    trace: number,
    chain: Chain | null,
  ): Call => {
    const c = current;
    c.app = app;
    c.mi = mi;
    c.sys = sys;
    c.entry = entry;
    c.text = text;
    c.task = task;
    c.topic = topic;
    c.user = user;
    c.session = session;
    c.trace = trace;
    c.attempt = 1;
    c.chain = chain;
    return c;
  };

  /** A fresh request at slot i: re-send, paraphrase, or a new prompt (maybe opening a chain). */
  const freshCall = (t: number, i: number): Call => {
    const a = apps[rng.pickCumulative(clock.appWeightsNow(t))]!;
    const s = a.spec;
    const r = rng.next();
    const trace = i;
    if (r < s.exact_duplicate_rate + s.near_duplicate_rate) {
      const f = a.ring.pickRecent(rng, t - ttlMs);
      if (f && r < s.exact_duplicate_rate) {
        const entry = textAt(f, rng.int(textCount(f)));
        if (t - entry.lastOk <= ttlMs) {
          const text = entry.text ?? f;
          return firstCall(a, f.modelIndex, f.systemIndex, entry, text, f.taskIndex, f.topicIndex, userOf(a), Number.NaN, trace, null);
        }
      } else if (f && t - f.lastOk <= ttlMs && textCount(f) < MAX_FAMILY_TEXTS) {
        const clauses = originalClauses(a, f);
        const entry = addParaphrase(f, clauses, joinClauses(clauses), rng);
        if (entry)
          return firstCall(
            a,
            f.modelIndex,
            f.systemIndex,
            entry,
            entry.text!,
            f.taskIndex,
            f.topicIndex,
            userOf(a),
            Number.NaN,
            trace,
            null,
          );
      }
    }
    const task = rng.pickCumulative(a.taskCum);
    const topic = rng.int(a.topics.length);
    const mi = rng.pickCumulative(a.modelCum);
    const sys = pickSys(a);
    const textSeed = rng.uint32();
    const fam = (a.ring.reusable() ?? new FamilyRecord()).reset(
      i,
      t,
      sysTokens(a, sys) + userTokens(a),
      mi,
      task,
      topic,
      sys,
      sysTokens(a, sys),
      textSeed,
    );
    const text = fam;
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
        session: cs.kind === 'session' ? i : Number.NaN,
        trace: cs.kind === 'agent' ? trace : Number.NaN,
        lastPrompt: 0,
        lastCompletion: 0,
      };
      openChains++;
      if (cs.kind === 'session') builder.chains.sessions++;
      else builder.chains.agent_runs++;
    }
    return firstCall(a, mi, sys, fam, text, task, topic, user, chain ? chain.session : Number.NaN, trace, chain);
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
    const text: ChainText = { drawn: drawContinuation(a.spec.domain, c.kind, p.topic, rng), id: i };
    const entry = newEntry(null, i, CHAIN_VARIANT, prompt);
    const trace = Number.isNaN(c.trace) ? i : c.trace;
    return firstCall(a, p.mi, p.sys, entry, text, task, p.topic, p.user, c.session, trace, c);
  };

  /** what realize() wrote, for the stream's bookkeeping and the manifest */
  const row: ManifestRow = {
    app: '',
    model: '',
    tags: {},
    cost: 0,
    hasUser: false,
    hasSession: false,
    error: false,
    http: null,
    truncated: false,
    completion: 0,
  };
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0, cached_prompt_tokens: 0 };

  /** Draws the outcome of a call at time t and writes the event into row r of the batch. */
  const realize = (c: Call, t: number, i: number, b: EventColumns, r: number): void => {
    const a = c.app;
    const s = a.spec;
    const m = a.models[c.mi]!;
    const prof = m.profile;
    const promptTokens = c.entry.promptTokens;
    const errorP = s.error_rate * (clock.inBurstNow ? 3 : 1) * (c.attempt > 1 ? 1.5 : 1);
    const isEmbedding = s.operation === 'embedding';
    let error = false;
    let http = 0;
    let completion = 0;
    let finish = NULL_CODE;
    let latency: number;
    let ttft = Number.NaN;
    if (rng.next() < errorP) {
      error = true;
      const r = rng.next();
      http = r < (clock.inBurstNow ? 0.8 : 0.45) ? 429 : r < (clock.inBurstNow ? 0.9 : 0.8) ? 500 : 503;
      latency = Math.round(
        http === 429 ? rng.logNormal(120, 0.5) : http === 500 ? rng.logNormal(prof.ttft_ms * 4, 0.6) : rng.logNormal(300, 0.5),
      );
    } else if (isEmbedding) {
      latency = Math.max(
        1,
        Math.round(prof.ttft_ms * Math.exp(prof.noise_sigma * rng.normal()) + promptTokens * prof.prefill_ms_per_token),
      );
    } else {
      completion = Math.max(1, Math.round(rng.logNormal(s.completion.median, s.completion.sigma)));
      if (m.maxTokens !== null && completion >= m.maxTokens) {
        completion = m.maxTokens;
        finish = finishCodes.length;
      } else finish = c.chain?.kind === 'agent' && c.chain.turn < c.chain.length ? finishCodes.tool_calls : finishCodes.stop;
      ttft = Math.round(prof.ttft_ms * Math.exp(prof.noise_sigma * rng.normal()) + promptTokens * prof.prefill_ms_per_token);
      const tps = prof.tokens_per_second * Math.exp(0.8 * prof.noise_sigma * rng.normal());
      latency = ttft + Math.round((completion / tps) * 1000);
    }
    latency = Math.min(latency, 86_400_000);
    let cost = 0;
    let providerCode = m.lastProviderCode;
    if (http !== 429) {
      usage.prompt_tokens = promptTokens;
      usage.completion_tokens = completion;
      usage.cached_prompt_tokens = 0;
      const priced = opts.pricer.price(workspace, m.model, usage);
      if (priced) {
        cost = priced.cost_usd;
        if (priced.provider !== m.lastProvider) {
          m.lastProvider = priced.provider;
          m.lastProviderCode = providerCode = cols.provider.code(priced.provider);
        }
      } else providerCode = cols.provider.code(m.provider);
    } else providerCode = cols.provider.code(m.provider);
    const hasSys = c.sys >= 0;
    const tagCode = tagsFor(a, c.task, c.topic);
    (b.event_id as { keys: Float64Array }).keys[r] = i;
    b.timestamp[r] = t;
    (b.workspace as { codes: Uint32Array }).codes[r] = wsCode;
    (b.app as { codes: Uint32Array }).codes[r] = a.appCode;
    (b.environment as { codes: Uint32Array }).codes[r] = envCode;
    (b.end_user as { codes: Uint32Array }).codes[r] = c.user;
    (b.session_id as { keys: Float64Array }).keys[r] = c.session;
    (b.trace_id as { keys: Float64Array }).keys[r] = c.trace;
    (b.span_id as { keys: Float64Array }).keys[r] = i;
    (b.provider as { codes: Uint32Array }).codes[r] = providerCode;
    (b.model as { codes: Uint32Array }).codes[r] = m.modelCode;
    (b.operation as { codes: Uint32Array }).codes[r] = a.opCode;
    b.prompt_tokens[r] = promptTokens;
    b.completion_tokens[r] = completion;
    b.latency_ms[r] = latency;
    b.ttft_ms[r] = ttft;
    (b.status as { codes: Uint32Array }).codes[r] = error ? errorCode : okCode;
    (b.error_type as { codes: Uint32Array }).codes[r] = error ? errorTypeCodes[http as 429 | 500 | 503] : NULL_CODE;
    b.http_status[r] = error ? http : Number.NaN;
    (b.finish_reason as { codes: Uint32Array }).codes[r] = finish;
    b.max_tokens[r] = m.maxTokens ?? Number.NaN;
    b.temperature[r] = s.temperature ?? Number.NaN;
    b.stream[r] = s.stream ? 1 : 0;
    b.cost_usd[r] = cost;
    (b.cost_source as { codes: Uint32Array }).codes[r] = http === 429 ? givenCode : catalogCode;
    (b.token_source as { codes: Uint32Array }).codes[r] = reportedCode;
    rows.hashIds[r] = c.entry.hashId;
    rows.hashVariants[r] = c.entry.hashVariant;
    // no block chain: the generator's prompts carry their shared prefix as prefix_hash/prefix_tokens
    (b.prefix_hash as { codes: Uint32Array }).codes[r] = hasSys ? a.sysCode[c.sys]! : NULL_CODE;
    b.prefix_tokens[r] = hasSys ? a.sysTokens[c.sys]! : Number.NaN;
    rows.apps[r] = a.index;
    const src = c.text;
    if (typeof src === 'string' || 'drawn' in src) rows.texts[r] = src;
    else {
      rows.texts[r] = null;
      rows.tasks[r] = src.taskIndex;
      rows.topics[r] = src.topicIndex;
      rows.ids[r] = src.id;
      rows.seeds[r] = src.textSeed;
    }
    (b.tags as { codes: Uint32Array }).codes[r] = tagCode;
    row.app = s.app;
    row.model = m.model;
    row.tags = cols.tags.values[tagCode]!;
    row.cost = cost;
    row.hasUser = c.user !== NULL_CODE;
    row.hasSession = !Number.isNaN(c.session);
    row.error = error;
    row.http = error ? http : null;
    row.truncated = finish === finishCodes.length;
    row.completion = completion;
  };

  function* stream(): Generator<EventColumns, Manifest, undefined> {
    let batch = newBatch();
    for (let i = 0; i < opts.events; i++) {
      const t = clock.next(rng);
      const p = pending.popReady(t);
      const call = p ? (p.call ?? continuation(p, i)) : freshCall(t, i);
      const a = call.app;
      realize(call, t, i, batch, batch.length++);
      const entry = call.entry;
      const exact = t - entry.lastOk <= ttlMs;
      const near = !exact && entry.similar !== null && entry.similar.some((y) => t - y.lastOk <= ttlMs);
      const pk = call.sys >= 0 ? call.sys * a.models.length + call.mi : -1;
      const prefixCacheable = pk >= 0 && a.sysTokens[call.sys]! >= PREFIX_MIN_TOKENS && t - a.prefixLastOk[pk]! <= PREFIX_WINDOW_MS;
      flags.exact = exact;
      flags.near = near;
      flags.prefixCacheable = prefixCacheable;
      flags.retry = call.attempt > 1;
      builder.add(row, flags, a.models[call.mi]!.group);
      const ch = call.chain;
      if (ch) {
        if (ch.kind === 'session') builder.chains.session_events++;
        else builder.chains.agent_events++;
      }
      if (!row.error) {
        entry.lastOk = t;
        if (pk >= 0) a.prefixLastOk[pk] = t;
        if (ch) {
          ch.lastPrompt = entry.promptTokens;
          ch.lastCompletion = row.completion;
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
        const backoff = (row.http === 429 ? 1000 : 500) * 2 ** (call.attempt - 1) * (0.5 + rng.next());
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
      if (batch.length === batchSize) {
        yield batch;
        batch = newBatch();
      }
    }
    if (batch.length) yield batch;
    done = builder.finish(clock.bursts);
    return done;
  }
  const flags = { exact: false, near: false, prefixCacheable: false, retry: false };

  const start = () => {
    if (started) throw new NetraError('INTERNAL', 'a workload stream can be consumed only once; call generateWorkload again');
    started = true;
    return stream();
  };
  function* objects(s: Generator<EventColumns, Manifest, undefined>): Generator<WorkloadEvent[], Manifest, undefined> {
    for (;;) {
      const r = s.next();
      if (r.done) return r.value;
      yield toEvents(r.value);
    }
  }

  return {
    from,
    to,
    batches: () => objects(start()),
    columnBatches: start,
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
