/**
 * Per-model facts the generator needs: latency profile (time to first token, decode throughput, prefill cost)
 * and a default quality tier (1 = small/economy, 2 = mid, 3 = frontier), used only when the caller passes no
 * `tierOf` (normally the price catalog's tiers are passed in). Figures are plausible public-benchmark magnitudes,
 * not measurements; they only need to be self-consistent, because the manifest records them.
 */

export interface LatencyProfile {
  /** median time to first token for a short prompt, ms */
  ttft_ms: number;
  /** median decode throughput, completion tokens per second */
  tokens_per_second: number;
  /** extra time to first token per prompt token (prefill), ms */
  prefill_ms_per_token: number;
  /** log-space sigma of the multiplicative noise on TTFT and on throughput */
  noise_sigma: number;
}

const P = (ttft_ms: number, tokens_per_second: number, prefill_ms_per_token = 0.02, noise_sigma = 0.25): LatencyProfile => ({
  ttft_ms,
  tokens_per_second,
  prefill_ms_per_token,
  noise_sigma,
});

export const MODEL_PROFILES: Readonly<Record<string, LatencyProfile>> = {
  'gpt-4o': P(450, 85),
  'gpt-4o-mini': P(350, 120, 0.012),
  'gpt-4.1': P(500, 80),
  'gpt-4.1-mini': P(380, 110, 0.012),
  'gpt-4.1-nano': P(250, 180, 0.008),
  'gpt-5': P(2200, 70, 0.025, 0.35),
  'gpt-5-mini': P(1200, 110, 0.015, 0.35),
  'gpt-5-nano': P(700, 160, 0.01, 0.35),
  o3: P(4500, 60, 0.03, 0.45),
  'o4-mini': P(2500, 110, 0.015, 0.45),
  'claude-opus-4-1': P(1400, 40, 0.035),
  'claude-sonnet-4-5': P(900, 70, 0.025),
  'claude-haiku-4-5': P(450, 140, 0.01),
  'claude-3-haiku': P(400, 130, 0.01),
  'gemini-2.5-pro': P(1800, 90, 0.02, 0.35),
  'gemini-2.5-flash': P(600, 190, 0.01),
  'gemini-2.5-flash-lite': P(350, 260, 0.006),
  'gemini-2.0-flash': P(400, 210, 0.008),
  'mistral-large': P(550, 55, 0.02),
  'mistral-small': P(300, 130, 0.01),
  codestral: P(220, 150, 0.008, 0.2),
  'llama-3.3-70b': P(500, 75, 0.02),
  'llama-3.1-8b': P(180, 250, 0.005),
  'deepseek-chat': P(900, 45, 0.02, 0.35),
  'deepseek-reasoner': P(3500, 40, 0.03, 0.45),
  /** embeddings: no decode; latency = ttft (request overhead) + prefill */
  'text-embedding-3-small': P(60, 1, 0.004, 0.3),
};

/** Default quality tiers (the price catalog's tiers take precedence when passed as `tierOf`). */
export const DEFAULT_TIERS: Readonly<Record<string, 1 | 2 | 3>> = {
  'gpt-4o': 3,
  'gpt-4.1': 3,
  'gpt-5': 3,
  o3: 3,
  'claude-opus-4-1': 3,
  'claude-sonnet-4-5': 3,
  'gemini-2.5-pro': 3,
  'deepseek-reasoner': 3,
  'gpt-4.1-mini': 2,
  'gpt-5-mini': 2,
  'o4-mini': 2,
  'claude-haiku-4-5': 2,
  'gemini-2.5-flash': 2,
  'mistral-large': 2,
  codestral: 2,
  'llama-3.3-70b': 2,
  'deepseek-chat': 2,
  'gpt-4o-mini': 1,
  'gpt-4.1-nano': 1,
  'gpt-5-nano': 1,
  'claude-3-haiku': 1,
  'gemini-2.5-flash-lite': 1,
  'gemini-2.0-flash': 1,
  'mistral-small': 1,
  'llama-3.1-8b': 1,
  'text-embedding-3-small': 1,
};

/** The model ids the generator may emit (the price catalog must know all of them). */
export const GENERATOR_MODELS: readonly string[] = Object.keys(MODEL_PROFILES);

export function defaultTierOf(model: string): 1 | 2 | 3 | null {
  return DEFAULT_TIERS[model] ?? null;
}
