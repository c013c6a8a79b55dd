/**
 * Triage (pure, deterministic): the request's category (the original's nine), entities (models from the price
 * catalog, metrics, time ranges, thresholds/targets), the goal, and the workspace's data sufficiency from its stats.
 * No I/O: the supervisor passes the catalog's model ids and the stats it fetched.
 */
import type { Goal } from '../optimize/ranking.js';
import { gatewayPolicyActionOf, type GatewayPolicyAction } from './gateway-policy-agent.js';
import type { SkippedKind } from '../optimize/recommendation.js';
import type { WorkspaceStats } from '../store/types.js';
import { escapeRegExp } from './regexp.js';

export const CATEGORIES = [
  'workload_analysis',
  'cost_optimization',
  'performance_optimization',
  'quality_optimization',
  'model_selection',
  'supply_catalog_management',
  'monitoring_reporting',
  'configuration_settings',
  'general_inquiry',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const MIN_REQUEST_CHARS = 3;
export const MAX_REQUEST_CHARS = 10_000;

export interface TimeRange {
  text: string;
  ms: number;
}
export interface Target {
  text: string;
  kind: 'multiplier' | 'percent' | 'absolute';
  value: number;
  unit?: string;
}

export interface Entities {
  models: string[];
  metrics: string[];
  time_ranges: TimeRange[];
  /** "3x", "50%", "$500", "200 ms" */
  targets: Target[];
}

export interface Triage {
  category: Category;
  /** keywords that chose the category */
  matched: string[];
  entities: Entities;
  goal: Goal;
  /** growth scenario ("usage grows 50%") as a factor (1.5), when asked */
  growth_factor: number | null;
  /** admin pipeline asked for: synthetic data generation, dataset administration, or the gateway policy */
  admin: 'synthetic_data' | 'dataset_admin' | 'gateway_policy' | null;
  /** the dataset action, when admin is 'dataset_admin' */
  dataset_action: DatasetAction | null;
  /** the gateway-policy action, when admin is 'gateway_policy' */
  gateway_action?: GatewayPolicyAction | null;
}

export type DatasetAction = 'list' | 'delete' | 'reprice';

/**
 * Dataset administration requests: "list my datasets", "what data do I have", "delete the rag-assistant dataset",
 * "reprice my events", "recompute costs with the new prices". Deletion is checked first (it needs a verb and an object).
 */
export function datasetActionOf(text: string): DatasetAction | null {
  const t = text.toLowerCase();
  if (/\b(delete|remove|drop|purge|erase|wipe)\b/.test(t) && /\b(data ?sets?|data|events?|apps?|workloads?|rows)\b/.test(t))
    return 'delete';
  if (/\bre-?pric(e|ed|ing)\b/.test(t) || /\b(recompute|re-?calculate|refresh)\b.*\b(costs?|prices?|pricing|spend)\b/.test(t))
    return 'reprice';
  if (
    /\b(list|show|see|view|what|which)\b.*\bdata ?sets?\b/.test(t) ||
    /\bmy data ?sets?\b/.test(t) ||
    /\bwhat data\b.*\b(do i|have|stored|is there)\b/.test(t) ||
    /\bwhich apps\b/.test(t)
  )
    return 'list';
  return null;
}

/** Category keyword rules, checked in order of specificity; the highest score wins, ties go to the earlier rule. */
const RULES: { category: Category; patterns: RegExp[] }[] = [
  {
    category: 'performance_optimization',
    patterns: [
      /\blatenc\w*/,
      /\bslow\w*/,
      /\bfast\w*/,
      /\bspeed\w*/,
      /\bp9[059]\b/,
      /\bp50\b/,
      /\bttft\b/,
      /\bthroughput\b/,
      /\btime to first token\b/,
      /\bresponse times?\b/,
    ],
  },
  {
    category: 'workload_analysis',
    patterns: [
      /\bwhere\b.*\b(money|spend|cost)/,
      /\bworkload\b/,
      /\busage\b/,
      /\bbreakdown\b/,
      /\banaly[sz]\w*/,
      /\b(where|what)\b.*\bgo(es)?\b/,
      /\btokens?\b/,
      /\btraffic\b/,
    ],
  },
  {
    category: 'cost_optimization',
    patterns: [
      /\bcosts?\b/,
      /\bcheap\w*/,
      /\bsav(e|ing|ings)\b/,
      /\bspend\w*/,
      /\bbudget\w*/,
      /\bbill\w*/,
      /\bmoney\b/,
      /\bexpens\w*/,
      /\breduce\b/,
      /\bcut\b/,
    ],
  },
  { category: 'quality_optimization', patterns: [/\bquality\b/, /\baccura\w*/, /\bhallucinat\w*/, /\beval\w*/, /\bcorrect\w*/] },
  {
    category: 'model_selection',
    patterns: [
      /\bwhich model\b/,
      /\bbest model\b/,
      /\bswitch\w* (to|model)/,
      /\bcompare models?\b/,
      /\bmodel selection\b/,
      /\broute\w*\b/,
      /\binstead of\b/,
    ],
  },
  {
    category: 'supply_catalog_management',
    patterns: [/\bprice catalog\b/, /\bcatalog\b/, /\bpricing\b/, /\bprice overrides?\b/, /\breprice\b/, /\brates?\b per\b/],
  },
  {
    category: 'monitoring_reporting',
    patterns: [
      /\bmonitor\w*/,
      /\breport\w*/,
      /\bdashboard\w*/,
      /\balert\w*/,
      /\btrend\w*/,
      /\bwhat happens\b/,
      /\bgrow\w*/,
      /\bforecast\w*/,
      /\bproject\w*/,
    ],
  },
  {
    category: 'configuration_settings',
    patterns: [
      /\bconfig\w*/,
      /\bsettings?\b/,
      /\bapi key\b/,
      /\bsetup\b/,
      /\bset up\b/,
      /\blitellm\b/,
      /\bportkey\b/,
      /\bgenerate\b.*\bevents?\b/,
      /\bsynthetic\b/,
    ],
  },
];

const METRICS: [RegExp, string][] = [
  [/\blatenc\w*|\bslow\w*|\bfast\w*/, 'latency'],
  [/\bp99\b/, 'p99'],
  [/\bp95\b/, 'p95'],
  [/\bp50\b/, 'p50'],
  [/\bttft\b|time to first token/, 'ttft'],
  [/\bcosts?\b|\bspend\w*|\bmoney\b|\bbill\w*|\bbudget\w*/, 'cost'],
  [/\btokens?\b/, 'tokens'],
  [/\berrors?\b|\bfailures?\b/, 'error_rate'],
  [/\bquality\b|\baccura\w*/, 'quality'],
  [/\bthroughput\b|\brequests? per\b/, 'throughput'],
  [/\bcache\w*/, 'cache_hit_rate'],
];

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
  month: 2_592_000_000,
  year: 31_536_000_000,
};

/** Refuses requests outside [3, 10,000] characters; returns the message to show, or null when acceptable. */
export function requestProblem(request: string): string | null {
  const n = request.trim().length;
  if (n < MIN_REQUEST_CHARS)
    return `Your request is too short (${n} characters); please ask a question of at least ${MIN_REQUEST_CHARS} characters, e.g. "Where does my money go?".`;
  if (request.length > MAX_REQUEST_CHARS)
    return `Your request is too long (${request.length.toLocaleString('en-US')} characters); the limit is ${MAX_REQUEST_CHARS.toLocaleString('en-US')}. Please shorten it or split it into several questions.`;
  return null;
}

/** Models named in the text, matched against catalog ids and aliases (longest names first, whole tokens only). */
export function extractModels(text: string, knownModels: readonly string[]): string[] {
  const lower = text.toLowerCase();
  const found: string[] = [];
  const names = [...new Set(knownModels.map((m) => m.toLowerCase()))].sort((a, b) => b.length - a.length);
  let rest = lower;
  for (const name of names) {
    const re = new RegExp(`(^|[^a-z0-9.\\-/])${escapeRegExp(name)}(?![a-z0-9\\-]|\\.\\d)`);
    if (re.test(rest)) {
      found.push(name);
      rest = rest.replace(re, '$1 ');
    }
  }
  return found;
}

export function extractEntities(text: string, knownModels: readonly string[] = []): Entities {
  const lower = text.toLowerCase();
  const metrics = METRICS.filter(([re]) => re.test(lower)).map(([, m]) => m);
  const time_ranges: TimeRange[] = [];
  for (const m of lower.matchAll(/\b(?:last|past|previous|next)\s+(\d+)?\s*(minute|hour|day|week|month|year)s?\b/g)) {
    const n = m[1] ? Number(m[1]) : 1;
    time_ranges.push({ text: m[0], ms: n * UNIT_MS[m[2]!]! });
  }
  for (const m of lower.matchAll(/\b(today|yesterday|this week|this month)\b/g)) {
    const ms = m[1] === 'today' || m[1] === 'yesterday' ? UNIT_MS.day! : m[1] === 'this week' ? UNIT_MS.week! : UNIT_MS.month!;
    time_ranges.push({ text: m[0], ms });
  }
  const targets: Target[] = [];
  for (const m of lower.matchAll(/(\d+(?:\.\d+)?)\s*(?:x|×|times)(?![a-z])/g))
    targets.push({ text: m[0], kind: 'multiplier', value: Number(m[1]) });
  for (const m of lower.matchAll(/(\d+(?:\.\d+)?)\s*(?:%|percent\b)/g)) targets.push({ text: m[0], kind: 'percent', value: Number(m[1]) });
  for (const m of lower.matchAll(/\$\s?(\d[\d,]*(?:\.\d+)?)(k)?/g))
    targets.push({ text: m[0], kind: 'absolute', value: Number(m[1]!.replace(/,/g, '')) * (m[2] ? 1000 : 1), unit: 'usd' });
  for (const m of lower.matchAll(/(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?)\b/g)) {
    const v = Number(m[1]);
    targets.push({ text: m[0], kind: 'absolute', value: m[2]!.startsWith('m') ? v : v * 1000, unit: 'ms' });
  }
  return { models: extractModels(text, knownModels), metrics, time_ranges, targets };
}

export function classify(text: string): { category: Category; matched: string[] } {
  const lower = text.toLowerCase();
  let best: { category: Category; matched: string[] } = { category: 'general_inquiry', matched: [] };
  for (const rule of RULES) {
    const matched = rule.patterns.flatMap((re) => {
      const m = lower.match(re);
      return m ? [m[0]] : [];
    });
    if (matched.length > best.matched.length) best = { category: rule.category, matched };
  }
  return best;
}

/**
 * How sure the keyword classification is: 'low' when no category keyword matched (general inquiry by default),
 * otherwise 'high' (ties between categories are settled by the rules' order of specificity, on purpose: "Reduce latency
 * by 3x" is a performance request although "reduce" is a cost word). Only a low-confidence triage may be refined by a
 * remote LLM (triage-refine.ts).
 */
export function classificationConfidence(text: string): 'high' | 'low' {
  return classify(text).matched.length === 0 ? 'low' : 'high';
}

/** The goal: latency words → latency, quality-preserving cost requests → balanced, cost words → cost, quality → quality. */
export function goalOf(text: string, category: Category): Goal {
  const lower = text.toLowerCase();
  const latency = /\blatenc\w*|\bslow\w*|\bfaster\b|\bspeed\w*|\bp9[59]\b|\bttft\b/.test(lower);
  const cost = /\bcosts?\b|\bcheap\w*|\bsav(e|ing|ings)\b|\bspend\w*|\bbudget\w*|\bmoney\b|\bbill\w*/.test(lower);
  const quality = /\bquality\b|\baccura\w*/.test(lower);
  if (latency && !cost) return 'latency';
  if (cost && quality) return 'balanced';
  if (cost) return 'cost';
  if (quality) return 'quality';
  if (category === 'performance_optimization') return 'latency';
  if (category === 'cost_optimization') return 'cost';
  return 'balanced';
}

/** "usage grows 50%" → 1.5; "traffic doubles" → 2; "3x more requests" → 3. */
export function growthFactorOf(text: string): number | null {
  const lower = text.toLowerCase();
  if (!/\b(grow|grows|growth|increase|increases|rise|rises|scale|scales|doubles?|triples?|more (usage|traffic|requests))\b/.test(lower))
    return null;
  const pct = lower.match(/(\d+(?:\.\d+)?)\s*(?:%|percent\b)/);
  if (pct) return 1 + Number(pct[1]) / 100;
  const mult = lower.match(/(\d+(?:\.\d+)?)\s*(?:x|×|times)(?![a-z])/);
  if (mult) return Number(mult[1]);
  if (/\bdoubles?\b/.test(lower)) return 2;
  if (/\btriples?\b/.test(lower)) return 3;
  return null;
}

export function triage(text: string, knownModels: readonly string[] = [], requestedGoal?: Goal): Triage {
  const synthetic = /\b(generate|create|synthesi[sz]e|seed)\b.*\b(synthetic|events|workload|data)\b/i.test(text);
  const gatewayAction = synthetic ? null : gatewayPolicyActionOf(text);
  const datasetAction = synthetic || gatewayAction ? null : datasetActionOf(text);
  const admin = synthetic ? 'synthetic_data' : gatewayAction ? 'gateway_policy' : datasetAction ? 'dataset_admin' : null;
  if (datasetAction || gatewayAction) {
    return {
      category:
        datasetAction === 'reprice'
          ? 'supply_catalog_management'
          : gatewayAction === 'savings'
            ? 'monitoring_reporting'
            : 'configuration_settings',
      matched: [datasetAction ? `dataset ${datasetAction}` : `gateway policy ${gatewayAction}`],
      entities: extractEntities(text, knownModels),
      goal: requestedGoal ?? 'balanced',
      growth_factor: null,
      admin,
      dataset_action: datasetAction,
      ...(gatewayAction ? { gateway_action: gatewayAction } : {}),
    };
  }
  const c = admin ? { category: 'configuration_settings' as const, matched: ['synthetic data'] } : classify(text);
  const growth = admin ? null : growthFactorOf(text);
  const category: Category = growth !== null && c.category !== 'performance_optimization' ? 'monitoring_reporting' : c.category;
  return {
    category,
    matched: c.matched,
    entities: extractEntities(text, knownModels),
    goal: requestedGoal ?? goalOf(text, category),
    growth_factor: growth,
    admin,
    dataset_action: null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Data sufficiency

export type SufficiencyLevel = 'sufficient' | 'partial' | 'insufficient';

export interface MissingData {
  field: string;
  /** what it disables */
  impact: string;
  /** exactly what to send */
  how: string;
}

export interface Sufficiency {
  level: SufficiencyLevel;
  events: number;
  missing: MissingData[];
}

const PROMPT_KINDS = new Set(['exact_cache', 'semantic_cache']);

/**
 * From the workspace's stats (and, when an analysis ran, the kinds it skipped): no events → insufficient;
 * no latency or no prompt text/hash → partial, naming what is missing; otherwise sufficient.
 */
export function assessSufficiency(stats: WorkspaceStats, skipped: readonly SkippedKind[] = []): Sufficiency {
  if (stats.events === 0) {
    return {
      level: 'insufficient',
      events: 0,
      missing: [
        {
          field: 'events',
          impact: 'no events in this workspace: no spend, latency or recommendation can be computed',
          how: 'POST /api/v1/events with a JSON array (or NDJSON/CSV) of calls: model, prompt_tokens, completion_tokens, latency_ms, timestamp, app, and prompt_hash or prompt_text; or `netra import <file>`, or generate a synthetic workload (`netra generate --preset chat-support`)',
        },
      ],
    };
  }
  const missing: MissingData[] = [];
  const latencySkipped = skipped.some((s) => s.kind === 'latency_slo');
  if (stats.latency_p50_ms === null || latencySkipped) {
    missing.push({
      field: 'latency_ms',
      impact: 'no latency: latency percentiles and latency recommendations skipped',
      how: 'send latency_ms (and ttft_ms for streaming) on each event',
    });
  }
  const prompt = skipped.filter((s) => PROMPT_KINDS.has(s.kind));
  if (prompt.length > 0) {
    missing.push({
      field: 'prompt_text',
      impact: `no prompt text: ${prompt.map((s) => s.kind.replace('_', '-')).join(' and ')} analysis skipped`,
      how: 'send prompt_hash or prompt_text (or messages) on each event',
    });
  }
  return { level: missing.length > 0 ? 'partial' : 'sufficient', events: stats.events, missing };
}
