// Longer than ~400 lines: data: the workload presets of the generator, one block each.
/**
 * Workload presets: the shape of five typical LLM workloads (apps, model mix, token sizes, arrival curves,
 * duplicates, errors, sessions, agent chains). Pure data plus the types that describe it.
 * Token sizes are log-normal (median, log-space sigma); `ide-complete` is calibrated on the Azure LLM inference
 * trace 2023 (code): context median 1,469 tokens, generated median 13 tokens, log-sigma 0.85.
 */
import type { TextDomain, TextKind } from './text.js';

export type LatencyClass = 'interactive' | 'offline';

/** Hour-of-day intensity (UTC), 24 values, peak = 1. */
export const CURVES = {
  /** office hours, lunch dip */
  business: [
    0.12, 0.1, 0.09, 0.09, 0.1, 0.14, 0.25, 0.45, 0.75, 0.95, 1, 1, 0.88, 0.95, 1, 0.98, 0.9, 0.75, 0.55, 0.42, 0.35, 0.28, 0.2, 0.15,
  ],
  /** consumer traffic, evening peak */
  consumer: [
    0.35, 0.25, 0.18, 0.14, 0.12, 0.13, 0.2, 0.32, 0.45, 0.55, 0.6, 0.65, 0.7, 0.68, 0.65, 0.65, 0.7, 0.8, 0.92, 1, 1, 0.9, 0.7, 0.5,
  ],
  /** scheduled jobs, 00:00–05:00 UTC */
  nightly: [
    0.7, 1, 1, 1, 0.9, 0.6, 0.15, 0.04, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.04, 0.05, 0.1, 0.3,
  ],
} as const satisfies Record<string, readonly number[]>;
export type CurveName = keyof typeof CURVES;

/** Task classes a tier-1/2 model handles as well as a frontier one: tier-3 traffic of these classes is routable. */
export const SIMPLE_TASKS: readonly string[] = ['classification', 'extraction', 'faq', 'short_answer', 'tool_selection'];

export interface Weighted<T> {
  value: T;
  weight: number;
}

export interface ModelChoice {
  model: string;
  weight: number;
  /** max_tokens the app configures for this model (null: not sent, e.g. embeddings) */
  max_tokens: number | null;
}

export interface LogNormalSpec {
  median: number;
  sigma: number;
  /** hard cap (context window of the app) */
  max: number;
}

export interface ChainSpec {
  /** 'session': a user's multi-turn conversation; 'agent': one agent run (steps share a trace) */
  kind: 'session' | 'agent';
  /** share of fresh (non-duplicate) requests that open a chain */
  share: number;
  /** median number of calls in a chain (including the first); geometric-like tail */
  length_median: number;
  max_length: number;
  /** median gap before the next call, seconds (think time or tool time) */
  gap_seconds: number;
  /** tokens appended to the context per step besides the previous completion (new user message or tool output) */
  added_tokens: LogNormalSpec;
  /** tasks of the follow-up calls (agent steps); sessions keep the first call's task */
  step_tasks?: Weighted<string>[];
}

export interface AppSpec {
  app: string;
  /** relative share of fresh arrivals at the curve's peak */
  weight: number;
  curve: CurveName;
  /** intensity multiplier on Saturday and Sunday (UTC) */
  weekend: number;
  latency_class: LatencyClass;
  operation: 'chat' | 'embedding';
  domain: TextDomain;
  text: TextKind;
  tasks: Weighted<string>[];
  models: ModelChoice[];
  /** system-prompt variants in use (the cacheable prefix); empty: no shared prefix */
  system_prompts: Weighted<number>[];
  /** user part of the prompt (the system prompt is added on top) */
  prompt: LogNormalSpec;
  /** completion tokens before the max_tokens cap; median 0 for embeddings */
  completion: LogNormalSpec;
  /** end-user pool size (0: no end user, e.g. pipelines) */
  users: number;
  chain: ChainSpec | null;
  /** share of fresh arrivals that re-send a recent prompt verbatim */
  exact_duplicate_rate: number;
  /** share of fresh arrivals that paraphrase a recent prompt */
  near_duplicate_rate: number;
  /** base failure probability of a call (tripled inside bursts, where rate limits bite) */
  error_rate: number;
  /** probability that a failed call is retried (at most 3 attempts in all) */
  retry_probability: number;
  temperature: number | null;
  stream: boolean;
}

export interface Preset {
  name: string;
  description: string;
  apps: AppSpec[];
  bursts: { per_day: number; minutes_median: number; multiplier: number };
}

const w = <T>(value: T, weight: number): Weighted<T> => ({ value, weight });
const m = (model: string, weight: number, max_tokens: number | null): ModelChoice => ({ model, weight, max_tokens });
const ln = (median: number, sigma: number, max: number): LogNormalSpec => ({ median, sigma, max });
const NO_COMPLETION = ln(0, 0, 0);

const chatSupport: Preset = {
  name: 'chat-support',
  description: 'Customer-support chatbot with a ticket router and a reply drafter for human agents.',
  bursts: { per_day: 1.5, minutes_median: 20, multiplier: 4 },
  apps: [
    {
      app: 'support-bot',
      weight: 65,
      curve: 'business',
      weekend: 0.6,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'support',
      text: 'prompt',
      tasks: [w('faq', 0.4), w('troubleshooting', 0.35), w('account_change', 0.25)],
      models: [m('gpt-4o', 0.45, 1024), m('claude-sonnet-4-5', 0.2, 1024), m('gpt-4o-mini', 0.35, 1024)],
      system_prompts: [w(1850, 0.8), w(1650, 0.2)],
      prompt: ln(160, 0.6, 4000),
      completion: ln(170, 0.55, 4000),
      users: 6000,
      chain: { kind: 'session', share: 0.35, length_median: 3, max_length: 10, gap_seconds: 40, added_tokens: ln(45, 0.5, 800) },
      exact_duplicate_rate: 0.1,
      near_duplicate_rate: 0.07,
      error_rate: 0.012,
      retry_probability: 0.9,
      temperature: 0.3,
      stream: true,
    },
    {
      app: 'ticket-router',
      weight: 20,
      curve: 'business',
      weekend: 0.6,
      latency_class: 'offline',
      operation: 'chat',
      domain: 'support',
      text: 'prompt',
      tasks: [w('classification', 1)],
      models: [m('gpt-4.1', 1, 4096)],
      system_prompts: [w(1300, 1)],
      prompt: ln(220, 0.5, 4000),
      completion: ln(9, 0.35, 200),
      users: 0,
      chain: null,
      exact_duplicate_rate: 0.04,
      near_duplicate_rate: 0.03,
      error_rate: 0.01,
      retry_probability: 0.95,
      temperature: 0,
      stream: false,
    },
    {
      app: 'reply-drafter',
      weight: 15,
      curve: 'business',
      weekend: 0.3,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'support',
      text: 'prompt',
      tasks: [w('drafting', 1)],
      models: [m('gpt-4.1-mini', 0.7, 2048), m('claude-haiku-4-5', 0.3, 2048)],
      system_prompts: [w(2400, 1)],
      prompt: ln(900, 0.5, 12000),
      completion: ln(260, 0.45, 4000),
      users: 180,
      chain: null,
      exact_duplicate_rate: 0.02,
      near_duplicate_rate: 0.02,
      error_rate: 0.01,
      retry_probability: 0.9,
      temperature: 0.7,
      stream: true,
    },
  ],
};

const ragAssistant: Preset = {
  name: 'rag-assistant',
  description: 'Internal documentation Q&A over retrieved passages, its query embeddings and a nightly re-indexing job.',
  bursts: { per_day: 1, minutes_median: 25, multiplier: 3.5 },
  apps: [
    {
      app: 'docs-qa',
      weight: 50,
      curve: 'business',
      weekend: 0.4,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'docs',
      text: 'prompt',
      tasks: [w('short_answer', 0.45), w('synthesis', 0.35), w('comparison', 0.2)],
      models: [m('claude-sonnet-4-5', 0.4, 2048), m('gpt-4.1', 0.3, 2048), m('gemini-2.5-flash', 0.3, 2048)],
      system_prompts: [w(950, 0.5), w(1400, 0.5)],
      prompt: ln(3200, 0.45, 32000),
      completion: ln(280, 0.6, 8000),
      users: 3000,
      chain: { kind: 'session', share: 0.3, length_median: 2.5, max_length: 8, gap_seconds: 60, added_tokens: ln(2200, 0.5, 16000) },
      exact_duplicate_rate: 0.08,
      near_duplicate_rate: 0.1,
      error_rate: 0.01,
      retry_probability: 0.9,
      temperature: 0.2,
      stream: true,
    },
    {
      app: 'query-embed',
      weight: 35,
      curve: 'business',
      weekend: 0.4,
      latency_class: 'interactive',
      operation: 'embedding',
      domain: 'docs',
      text: 'query',
      tasks: [w('embedding', 1)],
      models: [m('text-embedding-3-small', 1, null)],
      system_prompts: [],
      prompt: ln(28, 0.4, 400),
      completion: NO_COMPLETION,
      users: 3000,
      chain: null,
      exact_duplicate_rate: 0.15,
      near_duplicate_rate: 0.08,
      error_rate: 0.004,
      retry_probability: 0.95,
      temperature: null,
      stream: false,
    },
    {
      app: 'doc-indexer',
      weight: 15,
      curve: 'nightly',
      weekend: 1,
      latency_class: 'offline',
      operation: 'embedding',
      domain: 'docs',
      text: 'chunk',
      tasks: [w('indexing', 1)],
      models: [m('text-embedding-3-small', 1, null)],
      system_prompts: [],
      prompt: ln(700, 0.35, 8191),
      completion: NO_COMPLETION,
      users: 0,
      chain: null,
      exact_duplicate_rate: 0.3,
      near_duplicate_rate: 0.1,
      error_rate: 0.006,
      retry_probability: 1,
      temperature: null,
      stream: false,
    },
  ],
};

const codingAssistant: Preset = {
  name: 'coding-assistant',
  description: 'IDE code completion, a coding chat with long sessions, and an automated pull-request reviewer.',
  bursts: { per_day: 1, minutes_median: 15, multiplier: 3 },
  apps: [
    {
      app: 'ide-complete',
      weight: 60,
      curve: 'business',
      weekend: 0.25,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'code',
      text: 'prompt',
      tasks: [w('code_completion', 1)],
      models: [m('codestral', 0.6, 256), m('gpt-4.1-mini', 0.4, 256)],
      system_prompts: [],
      prompt: ln(1469, 1.0, 16000),
      completion: ln(13, 0.85, 2000),
      users: 800,
      chain: null,
      exact_duplicate_rate: 0.05,
      near_duplicate_rate: 0.05,
      error_rate: 0.008,
      retry_probability: 0.8,
      temperature: 0.2,
      stream: true,
    },
    {
      app: 'code-chat',
      weight: 28,
      curve: 'business',
      weekend: 0.25,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'code',
      text: 'prompt',
      tasks: [w('refactor', 0.3), w('debugging', 0.3), w('explanation', 0.25), w('short_answer', 0.15)],
      models: [m('claude-sonnet-4-5', 0.5, 4096), m('gpt-5', 0.3, 16384), m('o4-mini', 0.2, 16384)],
      system_prompts: [w(3200, 1)],
      prompt: ln(2500, 0.6, 100000),
      completion: ln(450, 0.65, 16000),
      users: 800,
      chain: { kind: 'session', share: 0.55, length_median: 4, max_length: 14, gap_seconds: 75, added_tokens: ln(300, 0.8, 20000) },
      exact_duplicate_rate: 0.02,
      near_duplicate_rate: 0.03,
      error_rate: 0.015,
      retry_probability: 0.9,
      temperature: 0.2,
      stream: true,
    },
    {
      app: 'pr-review',
      weight: 12,
      curve: 'business',
      weekend: 0.15,
      latency_class: 'offline',
      operation: 'chat',
      domain: 'code',
      text: 'prompt',
      tasks: [w('code_review', 1)],
      models: [m('gpt-4.1', 0.6, 4096), m('o3', 0.4, 8192)],
      system_prompts: [w(2100, 1)],
      prompt: ln(6000, 0.7, 120000),
      completion: ln(600, 0.5, 8000),
      users: 0,
      chain: null,
      exact_duplicate_rate: 0.03,
      near_duplicate_rate: 0.06,
      error_rate: 0.01,
      retry_probability: 1,
      temperature: 0,
      stream: false,
    },
  ],
};

const batchSummarization: Preset = {
  name: 'batch-summarization',
  description: 'Nightly document digests and invoice extraction, plus on-demand executive briefs.',
  bursts: { per_day: 0.5, minutes_median: 40, multiplier: 3 },
  apps: [
    {
      app: 'nightly-digest',
      weight: 65,
      curve: 'nightly',
      weekend: 1,
      latency_class: 'offline',
      operation: 'chat',
      domain: 'reports',
      text: 'prompt',
      tasks: [w('summarization', 1)],
      models: [m('gpt-4o-mini', 0.5, 1024), m('claude-haiku-4-5', 0.2, 1024), m('gpt-4.1', 0.3, 4096)],
      system_prompts: [w(1100, 1)],
      prompt: ln(5000, 0.6, 120000),
      completion: ln(380, 0.35, 4000),
      users: 0,
      chain: null,
      exact_duplicate_rate: 0.08,
      near_duplicate_rate: 0.1,
      error_rate: 0.008,
      retry_probability: 1,
      temperature: 0.3,
      stream: false,
    },
    {
      app: 'invoice-extract',
      weight: 25,
      curve: 'nightly',
      weekend: 1,
      latency_class: 'offline',
      operation: 'chat',
      domain: 'reports',
      text: 'prompt',
      tasks: [w('extraction', 1)],
      models: [m('gpt-4o', 0.7, 2048), m('gemini-2.5-flash', 0.3, 2048)],
      system_prompts: [w(1500, 1)],
      prompt: ln(1800, 0.4, 30000),
      completion: ln(160, 0.3, 2000),
      users: 0,
      chain: null,
      exact_duplicate_rate: 0.05,
      near_duplicate_rate: 0.03,
      error_rate: 0.01,
      retry_probability: 1,
      temperature: 0,
      stream: false,
    },
    {
      app: 'exec-brief',
      weight: 10,
      curve: 'business',
      weekend: 0.2,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'reports',
      text: 'prompt',
      tasks: [w('summarization', 0.6), w('short_answer', 0.4)],
      models: [m('gpt-5', 0.6, 8192), m('claude-opus-4-1', 0.4, 4096)],
      system_prompts: [w(800, 1)],
      prompt: ln(9000, 0.5, 120000),
      completion: ln(700, 0.4, 8000),
      users: 60,
      chain: { kind: 'session', share: 0.25, length_median: 2, max_length: 5, gap_seconds: 120, added_tokens: ln(80, 0.5, 2000) },
      exact_duplicate_rate: 0.03,
      near_duplicate_rate: 0.04,
      error_rate: 0.01,
      retry_probability: 0.9,
      temperature: 0.4,
      stream: true,
    },
  ],
};

const agentToolUse: Preset = {
  name: 'agent-tool-use',
  description: 'An operations agent that plans, calls tools and reads their output; an alert classifier; nightly evals.',
  bursts: { per_day: 2, minutes_median: 10, multiplier: 5 },
  apps: [
    {
      app: 'ops-agent',
      weight: 55,
      curve: 'business',
      weekend: 0.5,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'ops',
      text: 'prompt',
      tasks: [w('planning', 1)],
      models: [m('claude-sonnet-4-5', 0.5, 4096), m('gpt-5', 0.3, 8192), m('gpt-4.1', 0.2, 4096)],
      system_prompts: [w(4200, 1)],
      prompt: ln(600, 0.6, 100000),
      completion: ln(140, 0.7, 8000),
      users: 400,
      chain: {
        kind: 'agent',
        share: 0.85,
        length_median: 4,
        max_length: 9,
        gap_seconds: 3,
        added_tokens: ln(450, 0.9, 30000),
        step_tasks: [w('extraction', 0.5), w('tool_selection', 0.3), w('synthesis', 0.2)],
      },
      exact_duplicate_rate: 0.03,
      near_duplicate_rate: 0.03,
      error_rate: 0.025,
      retry_probability: 0.95,
      temperature: 0,
      stream: false,
    },
    {
      app: 'triage-classifier',
      weight: 30,
      curve: 'business',
      weekend: 0.5,
      latency_class: 'interactive',
      operation: 'chat',
      domain: 'ops',
      text: 'prompt',
      tasks: [w('classification', 1)],
      models: [m('gpt-4.1-nano', 0.7, 512), m('claude-3-haiku', 0.3, 512)],
      system_prompts: [w(1100, 1)],
      prompt: ln(300, 0.5, 8000),
      completion: ln(6, 0.4, 100),
      users: 0,
      chain: null,
      exact_duplicate_rate: 0.12,
      near_duplicate_rate: 0.1,
      error_rate: 0.01,
      retry_probability: 0.95,
      temperature: 0,
      stream: false,
    },
    {
      app: 'nightly-eval',
      weight: 15,
      curve: 'nightly',
      weekend: 1,
      latency_class: 'offline',
      operation: 'chat',
      domain: 'ops',
      text: 'prompt',
      tasks: [w('evaluation', 1)],
      models: [m('o4-mini', 0.5, 16384), m('deepseek-reasoner', 0.5, 16384)],
      system_prompts: [w(1800, 1)],
      prompt: ln(2200, 0.5, 60000),
      completion: ln(900, 0.6, 16000),
      users: 0,
      chain: null,
      exact_duplicate_rate: 0.02,
      near_duplicate_rate: 0.02,
      error_rate: 0.02,
      retry_probability: 1,
      temperature: 0,
      stream: false,
    },
  ],
};

export const PRESETS: Readonly<Record<string, Preset>> = {
  'chat-support': chatSupport,
  'rag-assistant': ragAssistant,
  'coding-assistant': codingAssistant,
  'batch-summarization': batchSummarization,
  'agent-tool-use': agentToolUse,
};

export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);
