/**
 * The what-if policy: what a team would change (routing, response caches, batch APIs, max_tokens caps), as a zod
 * schema with errors that name the field (`routing[0].target_model`). Pure; no I/O. Replayed by replay.ts and
 * exported as gateway configs by export/litellm.ts and export/portkey.ts.
 *
 * Shape (JSON):
 * {
 *   "name": "cheaper classification",                        // optional label
 *   "routing": [                                              // first matching rule wins
 *     { "match": { "app": "support", "model": "gpt-4o", "task": ["classification", "faq"], "max_prompt_tokens": 2000 },
 *       "target_model": "gpt-4o-mini" } ],
 *   "exact_cache":    { "enabled": true, "ttl_seconds": 3600 },
 *   "semantic_cache": { "enabled": true, "ttl_seconds": 3600, "threshold": 0.9 },
 *   "batch":          [ { "match": { "offline": true, "tags": { "latency_class": "offline" } }, "discount_from_catalog": true } ],
 *   "max_tokens_caps": [ { "match": { "app": "summarizer" }, "cap": 512 } ]
 * }
 *
 * A match is a conjunction; every field is optional and an empty match matches every event:
 * - app, model, task: one value or a list (any of). `model` matches any stored model id that resolves to the same
 *   catalog model (aliases, dated snapshots); `task` is `tags.task`;
 * - min_prompt_tokens / max_prompt_tokens: inclusive bounds on prompt_tokens;
 * - tags: every listed tag must equal the value;
 * - offline: true = only events with no end_user and no session_id (nobody is waiting on the answer).
 */
import { z } from 'zod';
import { NetraError, type FieldError } from '../errors.js';

const MAX_RULES = 100;
const MAX_TTL_SECONDS = 30 * 86_400;

const oneOrMany = z
  .union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1).max(1000)])
  .transform((v) => (typeof v === 'string' ? [v] : v));
const tokenBound = z.number().int('must be a whole number of tokens').nonnegative('must be >= 0');

export const PolicyMatchSchema = z
  .strictObject({
    app: oneOrMany.optional(),
    model: oneOrMany.optional(),
    task: oneOrMany.optional(),
    min_prompt_tokens: tokenBound.optional(),
    max_prompt_tokens: tokenBound.optional(),
    tags: z.record(z.string().min(1).max(200), z.string().max(2000)).optional(),
    offline: z.literal(true, 'must be true when given (omit it to match events with and without end users)').optional(),
  })
  .superRefine((m, ctx) => {
    if (m.min_prompt_tokens !== undefined && m.max_prompt_tokens !== undefined && m.min_prompt_tokens > m.max_prompt_tokens) {
      ctx.addIssue({ code: 'custom', path: ['min_prompt_tokens'], message: `must be <= max_prompt_tokens (${m.max_prompt_tokens})` });
    }
  });

const ttlSeconds = z.number().positive('must be > 0').max(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS} (30 days)`);

export const PolicySchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  routing: z
    .array(z.strictObject({ match: PolicyMatchSchema.default({}), target_model: z.string().min(1).max(200) }))
    .max(MAX_RULES)
    .default([]),
  exact_cache: z.strictObject({ enabled: z.boolean(), ttl_seconds: ttlSeconds.default(3600) }).optional(),
  semantic_cache: z
    .strictObject({
      enabled: z.boolean(),
      ttl_seconds: ttlSeconds.default(3600),
      /** minimum similarity (0..1] for a near-duplicate hit (see near-duplicates.ts); default: the measured threshold */
      threshold: z.number().gt(0, 'must be > 0').max(1, 'must be <= 1').optional(),
    })
    .optional(),
  /** provider prompt caching (prompt-cache-simulation.ts over the events' block chains); window: the cache lifetime */
  prompt_caching: z
    .strictObject({ enabled: z.boolean(), window_seconds: z.number().positive('must be > 0').max(86_400).default(300) })
    .optional(),
  batch: z
    .array(
      z.strictObject({
        match: PolicyMatchSchema.default({}),
        /** the discount is always the catalog's batch_discount of the model that serves the call */
        discount_from_catalog: z.literal(true, 'must be true: the batch discount comes from the price catalog').default(true),
      }),
    )
    .max(MAX_RULES)
    .default([]),
  max_tokens_caps: z
    .array(
      z.strictObject({
        match: PolicyMatchSchema.default({}),
        cap: z.number().int('must be a whole number of tokens').positive('must be > 0').max(10_000_000),
      }),
    )
    .max(MAX_RULES)
    .default([]),
});

export type PolicyInput = z.input<typeof PolicySchema>;
export type Policy = z.output<typeof PolicySchema>;
export type PolicyMatch = z.output<typeof PolicyMatchSchema>;

export interface PolicyCheck {
  /** true when a model id is known to the price catalog (or the workspace's overrides) */
  knownModel(model: string): boolean;
}

/** `routing[0].target_model` from a zod path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(policy)';
}

function issueErrors(err: z.ZodError): FieldError[] {
  return err.issues.flatMap((i): FieldError[] => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ field: fieldPath([...i.path, k]), message: 'unknown field' }));
    }
    const message = i.code === 'invalid_type' && /received undefined/.test(i.message) ? 'required' : i.message;
    return [{ field: fieldPath(i.path), message }];
  });
}

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; errors: FieldError[] };

/** Validates a raw policy; with `check`, also that every target model (and every matched model) is known. */
export function parsePolicy(raw: unknown, check?: PolicyCheck): PolicyParseResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: '(policy)', message: 'must be a JSON object' }] };
  }
  const parsed = PolicySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: issueErrors(parsed.error) };
  const policy = parsed.data;
  const errors: FieldError[] = [];
  if (check) {
    policy.routing.forEach((r, i) => {
      if (!check.knownModel(r.target_model)) {
        errors.push({
          field: `routing[${i}].target_model`,
          message: `unknown model '${r.target_model}': not in the price catalog (add a price override for the workspace to use it)`,
        });
      }
    });
  }
  return errors.length ? { ok: false, errors } : { ok: true, policy };
}

/** parsePolicy that throws NETRA_E_VALIDATION (field = the first bad field, details = every problem). */
export function validatePolicy(raw: unknown, check?: PolicyCheck): Policy {
  const r = parsePolicy(raw, check);
  if (r.ok) return r.policy;
  const shown = r.errors
    .slice(0, 5)
    .map((e) => `${e.field}: ${e.message}`)
    .join('; ');
  const more = r.errors.length > 5 ? ` (and ${r.errors.length - 5} more)` : '';
  throw new NetraError('VALIDATION', `invalid policy: ${shown}${more}`, { field: r.errors[0]!.field, details: r.errors });
}

/** True when the policy changes nothing (no rule, no cache enabled). */
export function isEmptyPolicy(p: Policy): boolean {
  return (
    p.routing.length === 0 &&
    p.batch.length === 0 &&
    p.max_tokens_caps.length === 0 &&
    !p.exact_cache?.enabled &&
    !p.semantic_cache?.enabled &&
    !p.prompt_caching?.enabled
  );
}
