/**
 * The plan of a question (pure, deterministic): what is asked (a metric), by what (a dimension), about what (filters:
 * one app, model, user...), over when (a window from absolute dates or relative words, in the workspace's time zone,
 * UTC by default), at which granularity,
 * compared with what, how many (top N) and towards which target. Words that look like a name or a date but resolve
 * to nothing in the workspace are kept in `unparsed`, so the answer can say them back instead of dropping them.
 * The workspace's known names (apps, models, tasks) come from the caller; `now` anchors relative windows.
 */
import type { BreakdownDimension, BreakdownFilter, BreakdownMetric, Granularity } from '../optimize/ports/breakdown.js';
import { RECOMMENDATION_KINDS, type RecommendationKind } from '../optimize/recommendation.js';
import { extractEntities, type Target } from './triage.js';
import { DAY, numberOf, startOfMonth, windowOf, type PlanWindow } from './question-window.js';
import { escapeRegExp } from './regexp.js';

export { windowOf, type PlanWindow };

export interface KnownNames {
  apps: readonly string[];
  models: readonly string[];
  /** values of tags.task */
  tasks: readonly string[];
  providers?: readonly string[];
  environments?: readonly string[];
}

export type PlanIntent =
  | 'figure' // a metric, possibly broken down: "how much did X spend", "spend per day", "top 5 users by cost"
  | 'missing_data' // "what data is missing"
  | 'latency_cause' // "why is latency so high for code-chat"
  | 'task_model' // "which model should handle classification"
  | 'batch' // "what could go to a batch API"
  | 'kind' // "how much would prompt caching save": the recommendations of the kinds it names
  | 'switch' // "what would moving code-chat to gpt-4o-mini save": the replay of that one routing change
  | 'advice'; // everything else: ranked recommendations

export type Direction = 1 | -1;

export interface QuestionPlan {
  intent: PlanIntent;
  metric: BreakdownMetric;
  /** the metric was named (not defaulted) */
  metric_asked: boolean;
  dimension: BreakdownDimension | null;
  filters: BreakdownFilter[];
  window: PlanWindow | null;
  /** the IANA time zone the window and the time buckets are in (the workspace's; UTC by default) */
  time_zone: string;
  granularity: Granularity | null;
  /** "A vs B" between two names of one dimension, or "this week vs last week"; `claimed` is the direction a "why did X
   * go up?" takes for granted (1 up, -1 down), which the answer checks against the figures */
  comparison: { kind: 'values'; values: [string, string] } | { kind: 'periods'; previous: PlanWindow; claimed: Direction | null } | null;
  top: number | null;
  targets: Target[];
  /** the task a "which model for X" question is about (a tags.task value, or the word asked) */
  task: string | null;
  /** parts of the question understood as names or dates that match nothing */
  unparsed: string[];
  /** the question also asks what to change ("which app costs most and what should I change?"): a figure answer then
   * carries the recommendations on what it names or ranks first */
  advice_asked: boolean;
  /** the recommendation kinds the question names ("prompt caching", "retries"); empty when it names none */
  kinds: RecommendationKind[];
  /** "switch code-chat to gpt-4o-mini": the model the calls would move to (the calls: the plan's filters) */
  switch_to: string | null;
}

const UP = /\b(go(ne)? up|went up|increas\w*|ris(e|en|ing)|rose|jump\w*|spik\w*|grow\w*|grew|higher|more)\b/;
const DOWN = /\b(go(ne)? down|went down|drop\w*|fall(en|ing)?|fell|decreas\w*|lower|less)\b/;

/** The direction "why did X go up / drop?" takes for granted; null when it names none or both. */
function claimedDirection(lower: string): Direction | null {
  const up = UP.test(lower);
  const down = DOWN.test(lower);
  return up === down ? null : up ? 1 : -1;
}

// the words for each kind of change; "caching" alone names every cache
const KIND_RULES: [RegExp, RecommendationKind[]][] = [
  [
    /\bprompt[- ]cach\w*|\bprefix[- ]cach\w*|\bprovider(?:'s)? cach\w*|\bcach\w* (?:the |my |our )?(?:system )?prompts?\b/,
    ['prompt_caching'],
  ],
  [
    /\b(?:response|exact|result) cach\w*|\bcach\w* (?:of )?(?:identical|repeated|duplicate|exact)\b|\bidentical (?:prompts?|requests?|calls?)\b/,
    ['exact_cache', 'semantic_cache'],
  ],
  [/\bsemantic(?:ally)? cach\w*|\bnear[- ]duplicates?\b|\bparaphras\w*|\bsimilar (?:prompts?|questions?)\b/, ['semantic_cache']],
  [/\bmax[_ ]tokens\b|\boutput (?:length|tokens?) (?:caps?|limits?)\b|\bcap (?:the )?(?:output|completion)/, ['max_tokens']],
  [/\bretr(?:y|ies|ied)\b/, ['retry_waste']],
  [
    /\bcontext (?:growth|window\w*)\b|\bconversation history\b|\bhistory (?:grows?|growth)\b|\bsummari[sz]\w* (?:the )?(?:history|conversation)/,
    ['context_growth'],
  ],
  [/\brout(?:e|es|ing)\b|\bcheaper models?\b|\bdowngrad\w*|\bsmaller models?\b/, ['model_routing']],
];

/** The recommendation kinds a question names, in the catalogue's order; "caching" alone names the three caches. */
export function kindsOf(lower: string): RecommendationKind[] {
  const found = new Set<RecommendationKind>(KIND_RULES.flatMap(([re, kinds]) => (re.test(lower) ? kinds : [])));
  if (found.size === 0 && /\bcach(?:e|es|ing|ed)\b/.test(lower))
    for (const k of ['exact_cache', 'semantic_cache', 'prompt_caching'] as const) found.add(k);
  return RECOMMENDATION_KINDS.filter((k) => found.has(k));
}

const METRIC_RULES: [RegExp, BreakdownMetric][] = [
  [/\bcost per (call|request)\b|\baverage cost\b|\bcost of a (call|request)\b/, 'cost_per_call'],
  [/\bttft\b|\btime to first token\b/, 'ttft_p95'],
  [/\bp99\b/, 'latency_p99'],
  [/\bp50\b|\bmedian latency\b/, 'latency_p50'],
  [/\bp95\b|\blatenc\w*|\bslow\w*|\bresponse times?\b/, 'latency_p95'],
  [/\berror rate\b|\berrors?\b|\bfailures?\b|\bfailed\b/, 'error_rate'],
  [/\bprompt tokens\b|\binput tokens\b/, 'prompt_tokens'],
  [/\bcompletion tokens\b|\boutput tokens\b/, 'completion_tokens'],
  [/\btokens?\b/, 'tokens'],
  [/\bhow many (calls|requests)\b|\bcalls\b|\brequests\b|\bvolume\b|\btraffic\b/, 'calls'],
  [/\bspen[dt]\w*|\bcosts?\b|\bcostl\w*|\bmoney\b|\bbill\w*|\bexpensive\b|\$/, 'spend'],
];

const DIMENSION_RULES: [RegExp, BreakdownDimension][] = [
  [/\b(by|per|each|every|which|what|top \w+|across)\s+(end[- ]?users?|users?|customers?)\b|\busers? (spend|spent|cost)\b/, 'end_user'],
  [/\b(by|per|each|every|which|what|top \w+|across)\s+(apps?|applications?|services?|features?)\b/, 'app'],
  [/\b(by|per|each|every|which|what|top \w+|across)\s+models?\b/, 'model'],
  [/\b(by|per|each|every|which|what|top \w+|across)\s+providers?\b/, 'provider'],
  [/\b(by|per|each|every|which|what|top \w+|across)\s+sessions?\b/, 'session_id'],
  [/\b(by|per|each|every|which|what|top \w+|across)\s+(environments?|envs?)\b/, 'environment'],
  [/\b(by|per|each|every|which|what|top \w+|across)\s+(tasks?|task types?)\b/, { tag: 'task' }],
];

function metricOf(lower: string): { metric: BreakdownMetric; asked: boolean } {
  for (const [re, m] of METRIC_RULES) if (re.test(lower)) return { metric: m, asked: true };
  return { metric: 'spend', asked: false };
}

function dimensionOf(lower: string): BreakdownDimension | null {
  const tag = lower.match(/\b(?:by|per) tag ([a-z0-9_-]{1,64})\b/);
  if (tag) return { tag: tag[1]! };
  for (const [re, d] of DIMENSION_RULES) if (re.test(lower)) return d;
  return null;
}

function granularityOf(lower: string): Granularity | null {
  if (/\b(per|by|each|every)\s+hour\b|\bhourly\b|\bper-hour\b/.test(lower)) return 'hour';
  if (/\b(per|by|each|every)\s+day\b|\bdaily\b|\bday by day\b|\bper-day\b|\bover time\b|\btrend\b/.test(lower)) return 'day';
  if (/\b(per|by|each|every)\s+week\b|\bweekly\b|\bweek by week\b/.test(lower)) return 'week';
  return null;
}

function topOf(lower: string): number | null {
  const m =
    lower.match(/\btop\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty)\b/) ??
    lower.match(
      /\b(\d+|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty)\s+(?:most|biggest|largest|highest|costliest|slowest|busiest|heaviest)\b/,
    );
  const n = numberOf(m?.[1]);
  if (n !== null && n >= 1) return Math.min(n, 200);
  if (/\b(most expensive|biggest spender|largest|costliest|slowest|busiest|highest)\b/.test(lower) && !/\btop\b/.test(lower)) return null;
  return /\btop\b/.test(lower) ? 10 : null;
}

/**
 * Whole-token occurrences of known names, in the order the question names them (longer names are matched first, so
 * a name found is not matched again inside a longer one: gpt-4o inside gpt-4o-mini).
 */
function namesIn(lower: string, names: readonly string[]): string[] {
  const found: { name: string; at: number }[] = [];
  let rest = lower;
  for (const name of [...new Set(names)].sort((a, b) => b.length - a.length)) {
    const n = name.toLowerCase();
    if (n.length < 2) continue;
    const re = new RegExp(`(^|[^a-z0-9_.-])${escapeRegExp(n)}(?![a-z0-9_-])`);
    const m = re.exec(rest);
    if (m) {
      found.push({ name, at: m.index });
      rest = rest.slice(0, m.index) + m[1] + ' '.repeat(m[0].length - m[1]!.length) + rest.slice(m.index + m[0].length);
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.name);
}

// what people call a provider's models ("our Claude calls", "GPT models")
const PROVIDER_WORDS: Record<string, string> = { claude: 'anthropic', gpt: 'openai', chatgpt: 'openai', gemini: 'google', llama: 'meta' };

/**
 * The providers a question names: a provider the workspace has, by id, or any provider by the name of its model family
 * (one the workspace never called then gets the answer that nothing matches, not the whole workspace's figure).
 */
function providersIn(lower: string, providers: readonly string[]): string[] {
  const family = namesIn(lower, Object.keys(PROVIDER_WORDS)).map((w) => PROVIDER_WORDS[w]!);
  return [...new Set([...namesIn(lower, providers), ...family])];
}

/** "user u-17", "customer acme", "end user 42": the id after the word (a quoted id too). */
function userOf(text: string): string | null {
  const m = text.match(/\b(?:end[- ]?user|user|customer)(?:\s+id)?\s+["'`]?([A-Za-z0-9][A-Za-z0-9_.@:-]{0,127})["'`]?/i);
  if (!m) return null;
  const id = m[1]!;
  return /^(spend|spent|spends|cost|costs|has|have|had|is|was|did|does|do|in|on|the|a|an|of|with|by|per|that|who|which|and|or|to|for|ids?|data|fields?|counts?)$/i.test(
    id,
  )
    ? null
    : id;
}

const TASK_WORDS: [RegExp, string][] = [
  [/\bclassif\w*/, 'classification'],
  [/\bextract\w*/, 'extraction'],
  [/\bsummar\w*/, 'summarization'],
  [/\bembed\w*/, 'embedding'],
  [/\bfaqs?\b/, 'faq'],
  [/\bshort answers?\b/, 'short_answer'],
  [/\bcode review\w*/, 'code_review'],
  [/\b(code )?completion\b/, 'code_completion'],
  [/\btranslat\w*/, 'translation'],
  [/\bplanning\b/, 'planning'],
  [/\bdraft\w*/, 'drafting'],
  [/\beval\w*/, 'evaluation'],
];

function taskOf(lower: string, tasks: readonly string[]): string | null {
  for (const t of namesIn(
    lower,
    tasks.map((x) => x.replace(/_/g, ' ')),
  ))
    return t.replace(/ /g, '_');
  for (const t of namesIn(lower, tasks)) return t;
  for (const [re, t] of TASK_WORDS) if (re.test(lower)) return t;
  return null;
}

/** Tokens that look like names (hyphenated or with digits, or quoted) and that no known name explains. */
function unknownNames(text: string, understood: readonly string[]): string[] {
  const lower = text.toLowerCase();
  const seen = new Set(understood.map((s) => s.toLowerCase()));
  const out: string[] = [];
  const candidates = [
    ...[...text.matchAll(/["'`]([^"'`]{2,64})["'`]/g)].map((m) => m[1]!),
    ...[...lower.matchAll(/\b(?:app|application|service|model|for|of)\s+([a-z][a-z0-9]*(?:[-_.][a-z0-9]+)+)\b/g)].map((m) => m[1]!),
  ];
  for (const c of candidates) {
    const k = c.toLowerCase();
    if (seen.has(k) || [...seen].some((s) => s.includes(k) || k.includes(s))) continue;
    if (/^(p\d\d|ttft|gpt|\d+(\.\d+)?[a-z]*)$/.test(k)) continue;
    seen.add(k);
    out.push(c);
  }
  return out;
}

/** The period a window is compared with: last week for "this week", last month for "this month", else the one just
 * before, as long. */
function periodBefore(window: PlanWindow, timeZone: string): PlanWindow {
  const from = window.text.startsWith('this week')
    ? window.from - 7 * DAY
    : window.text.startsWith('this month')
      ? startOfMonth(window.from - 1, timeZone)
      : window.from - (window.to - window.from);
  return { from, to: window.from, text: 'the period before' };
}

const plan0WhereGo = (lower: string) =>
  /\bwhere\b.*\b(money|spend\w*|costs?|budget|dollars)\b.*\bgo(es|ing)?\b|\bwhat (is|are) (driving|eating)\b/.test(lower);

export function planQuestion(text: string, known: KnownNames, now: number, timeZone = 'UTC'): QuestionPlan {
  const lower = text.toLowerCase();
  const { metric, asked } = metricOf(lower);
  let dimension = dimensionOf(lower);
  const granularity = granularityOf(lower);
  let window = windowOf(text, now, timeZone);
  const filters: BreakdownFilter[] = [];
  const apps = namesIn(lower, known.apps);
  const user = userOf(text);
  let comparison: QuestionPlan['comparison'] = null;
  const versus = /\b(vs\.?|versus|compared? (to|with)|against)\b|\bcompare\b/.test(lower);
  const switchTo = versus ? null : switchTarget(lower, known.models);
  // the model moved to is not a filter: the calls that move are the ones the other names select
  const models = namesIn(lower, known.models).filter((m) => m !== switchTo);
  const latencyWhy =
    /\bwhy\b|\bwhat makes\b|\bwhere does\b.*\btime\b|\bexplain\b/.test(lower) &&
    /\blatenc\w*|\bslow\w*|\bp9[59]\b|\bttft\b|\btakes? (so )?long\b/.test(lower);
  // (a latency "why" is answered by where the time goes, not by what changed)
  const changed =
    !latencyWhy &&
    /\bwhy (did|has|have|is|are|was|were)\b.*\b(go(ne)? up|went up|go(ne)? down|went down|increas\w*|ris(e|en)|rose|jump\w*|spik\w*|grow\w*|grew|drop\w*|fall(en)?|fell|decreas\w*|higher|lower)\b|\bwhat (drove|caused|changed)\b/.test(
      lower,
    );
  const claimed = changed ? claimedDirection(lower) : null;
  if (versus && apps.length >= 2) {
    comparison = { kind: 'values', values: [apps[0]!, apps[1]!] };
    dimension = 'app';
  } else if (versus && models.length >= 2) {
    comparison = { kind: 'values', values: [models[0]!, models[1]!] };
    dimension = 'model';
  } else if (versus && window && /\b(this|last|previous)\s+(week|month)\b.*\b(vs\.?|versus|compared? (to|with)|against)\b/.test(lower)) {
    comparison = { kind: 'periods', previous: periodBefore(window, timeZone), claimed };
    if (changed) dimension ??= apps.length === 1 ? 'model' : 'app';
  } else if (changed) {
    // "why did spend go up yesterday?": the window against the one before it, by what moved (apps, or the named
    // app's models); without a window, the last 7 days
    window ??= windowOf('last 7 days', now, timeZone);
    if (window) comparison = { kind: 'periods', previous: periodBefore(window, timeZone), claimed };
    dimension ??= apps.length === 1 ? 'model' : 'app';
  }
  if (comparison?.kind !== 'values') {
    if (apps.length === 1 && dimension !== 'app') filters.push({ column: 'app', value: apps[0]! });
    if (models.length === 1 && dimension !== 'model') filters.push({ column: 'model', value: models[0]! });
  }
  if (user && dimension !== 'end_user') filters.push({ column: 'end_user', value: user });
  for (const p of providersIn(lower, known.providers ?? []))
    if (dimension !== 'provider' && !models.some((m) => m.includes(p))) filters.push({ column: 'provider', value: p });
  for (const e of namesIn(lower, known.environments ?? []))
    if (dimension !== 'environment' && e.length > 3) filters.push({ column: 'environment', value: e });
  // "where does my money go?": the answer is where, i.e. by app
  if (dimension === null && plan0WhereGo(lower)) dimension = 'app';
  const top = topOf(lower);
  if (top !== null && dimension === null)
    dimension = /\b(users?|customers?)\b/.test(lower) ? 'end_user' : /\bmodels?\b/.test(lower) ? 'model' : 'app';

  let intent: PlanIntent;
  const adviceAsked =
    /\b(reduce|cut|lower|save|saving|savings|optimi[sz]e|improve|recommend\w*|should i|what (can|should) (i|we) (do|change)|how (can|do) (i|we))\b/.test(
      lower,
    );
  const kinds = kindsOf(lower);
  const scenario = /\b(grows?|growth|doubles?|triples?|what happens if|what if)\b/.test(lower);
  const task = /\bwhich model\b|\bwhat model\b|\bbest model\b|\bmodel (should|for|to use)\b|\bcheaper model\b/.test(lower)
    ? taskOf(lower, known.tasks)
    : null;
  if (switchTo !== null) intent = 'switch';
  else if (/\b(missing|lacking)\b|\bwhat (data|fields?) (should|must|do) i send\b|\bwhat else should i send\b/.test(lower))
    intent = 'missing_data';
  else if (task !== null) intent = 'task_model';
  else if (/\bbatch\w*/.test(lower) && !/\bbatch-summari/.test(lower)) intent = 'batch';
  else if (latencyWhy) intent = 'latency_cause';
  else if (kinds.length > 0 && dimension === null && granularity === null && comparison === null) intent = 'kind';
  else if (adviceAsked && filters.length === 0 && granularity === null && dimension === null) intent = 'advice';
  else if (scenario || /\bshould (i|we) use\b|\bwhich model should\b/.test(lower)) intent = 'advice';
  else if (
    asked ||
    dimension !== null ||
    granularity !== null ||
    filters.length > 0 ||
    window !== null ||
    top !== null ||
    comparison !== null
  )
    intent = 'figure';
  else intent = 'advice';

  const understood = [...apps, ...models, ...(user ? [user] : []), ...known.tasks, ...known.apps, ...known.models];
  const targets = extractEntities(text).targets.filter((t) => !window?.text.includes(t.text.trim()));
  return {
    intent,
    metric,
    metric_asked: asked,
    dimension,
    filters,
    window,
    time_zone: timeZone,
    granularity,
    comparison,
    top,
    targets,
    task,
    unparsed: unknownNames(text, understood),
    advice_asked: adviceAsked,
    kinds,
    switch_to: switchTo,
  };
}

// a move, not a use: "how much do we spend using gpt-4o?" asks a figure
const SWITCH_VERB =
  /\b(switch\w*|mov(e|ed|es|ing)|rout(e|ed|es|ing)|migrat\w*|replac\w*|swap\w*|downgrad\w*|what if|instead|by using)\b|\bif (we|i|they|it|[a-z0-9_-]+) (used?|went)\b/;

/**
 * The model a "what if" moves calls to: "switch code-chat to gpt-4o-mini", "what if support-bot used gpt-4o-mini",
 * "replace gpt-4o with gpt-4o-mini", "using claude-haiku-4-5 for ops-agent"; null when the question moves nothing.
 */
function switchTarget(lower: string, models: readonly string[]): string | null {
  if (!SWITCH_VERB.test(lower)) return null;
  for (const m of [...models].sort((a, b) => b.length - a.length)) {
    const name = escapeRegExp(m.toLowerCase());
    if (new RegExp(`\\b(to|with|onto|using|use|used|uses)\\s+(the\\s+)?${name}(?![a-z0-9_-]|\\.\\d)`).test(lower)) return m;
  }
  return null;
}
