/**
 * Netra's price catalog: the schema of data/price-catalog.json, its validation, model-id resolution (aliases,
 * provider prefixes, dated snapshots) and per-workspace price overrides. Pure domain code: no I/O (the file is read
 * by workload/price-catalog-file.ts). Format, units and sources are described in docs/PRICING.md.
 */
import { z } from 'zod';
import { NetraError } from '../errors.js';
import { OPERATIONS, type Pricer, type Usage } from './event.js';
import { costOf, type ModelRates } from './pricing.js';

/** Highest accepted price per token: $1,000 per million tokens. Anything above is a per-million figure entered as per-token. */
export const MAX_PRICE_PER_TOKEN = 0.001;

const perToken = z.number().superRefine((v, ctx) => {
  if (v < 0) ctx.addIssue({ code: 'custom', message: `must be >= 0 (got ${v})` });
  else if (v > MAX_PRICE_PER_TOKEN) {
    ctx.addIssue({
      code: 'custom',
      message:
        `${v} USD per token is above ${MAX_PRICE_PER_TOKEN} USD per token ($1,000 per million tokens): ` +
        'looks like a per-million price entered as per-token; prices are USD per token (divide by 1,000,000)',
    });
  }
});
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const tokens = z.number().int().positive();

export const CatalogSourceSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  url: z.url(),
  license: z.string().min(1).optional(),
  prices_taken: isoDate,
});

export const CatalogModelSchema = z.strictObject({
  /** canonical id */
  id: z.string().min(1).max(200),
  /** who makes the model: openai, anthropic, google, mistral, meta, deepseek, ... */
  provider: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a lowercase provider name'),
  /** for open-weight models: the host whose prices are used (together, groq, ...) */
  hosted_by: z.string().min(1).optional(),
  family: z.string().min(1),
  /** other ids that mean this model: dated snapshots, provider-prefixed ids, host-specific ids */
  aliases: z.array(z.string().min(1).max(200)),
  /**
   * The model as the gateways name it, for deployable exports: LiteLLM's `litellm_params.model` ("provider/model",
   * https://docs.litellm.ai/docs/providers), and Portkey's provider slug (its gateway's VALID_PROVIDERS) with the model
   * sent in `override_params.model`. Absent on entries a gateway export cannot name (the export says so).
   */
  litellm_model: z
    .string()
    .regex(/^[a-z_]+\/\S+$/, 'must be "provider/model" as LiteLLM names it')
    .optional(),
  portkey_provider: z
    .string()
    .regex(/^[a-z0-9-]+$/, "must be a Portkey provider slug (e.g. 'openai', 'mistral-ai')")
    .optional(),
  portkey_model: z.string().min(1).max(200).optional(),
  input: perToken,
  output: perToken,
  /** cache-read price; equal to input when the provider gives no discount */
  cached_input: perToken,
  /** cache-write price, null when there is none */
  cache_write: perToken.nullable(),
  /** fraction off with the provider's batch API (0.5 = half price; 0 = no batch API) */
  batch_discount: z.number().min(0).max(1),
  context_window: tokens.nullable(),
  max_output: tokens.nullable(),
  /** 1 = small/economy, 2 = mid, 3 = frontier/premium */
  quality_tier: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  modes: z.array(z.enum(OPERATIONS)).min(1),
  /** provider prompt-caching minimum prompt size; null when the provider has no prompt caching */
  min_cacheable_prompt_tokens: tokens.nullable(),
  /** when the prices were taken, if different from the catalog's */
  prices_taken: isoDate.optional(),
  deprecation_date: isoDate.optional(),
  /** id of an entry of `sources` */
  source: z.string().min(1),
});

export const CatalogFileSchema = z.strictObject({
  schema_version: z.literal(1),
  catalog_version: z.string().min(1),
  prices_taken: isoDate,
  currency: z.literal('USD'),
  unit: z.literal('usd_per_token'),
  sources: z.array(CatalogSourceSchema).min(1),
  models: z.array(CatalogModelSchema).min(1),
});

export type CatalogFile = z.output<typeof CatalogFileSchema>;
export type CatalogSource = z.output<typeof CatalogSourceSchema>;
/** One model of the catalog; `prices_taken` is always filled in (the catalog's date when the model has none). */
export type CatalogEntry = Readonly<Omit<z.output<typeof CatalogModelSchema>, 'prices_taken'> & { prices_taken: string }>;

/**
 * A workspace's own price for a model (negotiated discount, fine-tune, self-hosted model). Fields left out fall back to
 * the catalog. For a model the catalog does not know, the override defines it and must give input and output.
 */
export interface PriceOverride {
  workspace: string;
  model: string;
  input?: number;
  output?: number;
  cached_input?: number;
  cache_write?: number | null;
  /** provider reported for a model unknown to the catalog (default 'unknown') */
  provider?: string;
}

const PriceOverrideSchema = z.strictObject({
  workspace: z.string().min(1).max(200),
  model: z.string().min(1).max(200),
  input: perToken.optional(),
  output: perToken.optional(),
  cached_input: perToken.optional(),
  cache_write: perToken.nullable().optional(),
  provider: z.string().min(1).max(200).optional(),
});

function describePath(path: readonly PropertyKey[], raw: unknown): { field: string; where: string } {
  const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(catalog)';
  if (path[0] === 'models' && typeof path[1] === 'number') {
    const models = (raw as { models?: unknown[] } | null)?.models;
    const id = (models?.[path[1]] as { id?: unknown } | undefined)?.id;
    const name = typeof id === 'string' ? `model '${id}'` : `model #${path[1]}`;
    const rest = path.slice(2).map(String).join('.');
    return { field, where: rest ? `${name} field '${rest}'` : name };
  }
  return { field, where: `field '${field}'` };
}

function catalogError(problems: { field: string; message: string }[]): NetraError {
  const shown = problems
    .slice(0, 5)
    .map((p) => p.message)
    .join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return new NetraError('CONFIG', `invalid price catalog: ${shown}${more}`, { field: problems[0]?.field, details: problems });
}

/** Checks that no two models claim the same id or alias, that sources exist, and that cache prices are coherent. */
function crossCheck(file: CatalogFile): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const owner = new Map<string, string>();
  const sources = new Set(file.sources.map((s) => s.id));
  file.models.forEach((m, i) => {
    const at = (f: string, message: string) =>
      problems.push({ field: `models[${i}].${f}`, message: `model '${m.id}' field '${f}': ${message}` });
    for (const [f, name] of [['id', m.id], ...m.aliases.map((a) => ['aliases', a] as const)] as const) {
      const key = normalizeModelId(name);
      const prev = owner.get(key);
      if (prev !== undefined && prev !== m.id) at(f, `'${name}' is already used by model '${prev}'`);
      owner.set(key, m.id);
    }
    if (!sources.has(m.source)) at('source', `'${m.source}' is not the id of an entry of sources`);
    if (m.cached_input > m.input) at('cached_input', `${m.cached_input} is above the input price ${m.input}`);
    if (m.min_cacheable_prompt_tokens === null && m.cached_input !== m.input) {
      at('cached_input', 'must equal input when min_cacheable_prompt_tokens is null (no prompt caching)');
    }
  });
  return problems;
}

/** Validates a parsed catalog file. Throws a NetraError (NETRA_E_CONFIG) naming the model and field. */
export function parseCatalog(json: unknown): PriceCatalog {
  const parsed = CatalogFileSchema.safeParse(json);
  if (!parsed.success) {
    throw catalogError(
      parsed.error.issues.map((i) => {
        const { field, where } = describePath(i.path, json);
        return { field, message: `${where}: ${i.message}` };
      }),
    );
  }
  const problems = crossCheck(parsed.data);
  if (problems.length) throw catalogError(problems);
  return new PriceCatalog(parsed.data, new Map());
}

/** Lower-case, trimmed: the form every lookup key takes. */
export function normalizeModelId(id: string): string {
  return id.trim().toLowerCase();
}

/** Cloud vendor prefixes such as Bedrock's `anthropic.` or cross-region `us.anthropic.`. */
const VENDOR_DOT_PREFIX = /^(?:[a-z]{2}\.)?(?:anthropic|meta|mistral|deepseek|openai|google)\./;
/** Snapshot suffixes stripped, one at a time, as a fallback. */
const SNAPSHOT_SUFFIXES = [/@(?:\d{8}|latest)$/, /-\d{4}-\d{2}-\d{2}$/, /-\d{8}$/, /-latest$/, /-v\d+(?::\d+)?$/];

/** Candidate lookup keys for a model id, most specific first. */
function candidateKeys(model: string): string[] {
  const key = normalizeModelId(model);
  const out = [key];
  const slash = key.lastIndexOf('/');
  const bases = slash >= 0 ? [key, key.slice(slash + 1)] : [key];
  for (const base of bases) {
    let k = base.replace(VENDOR_DOT_PREFIX, '');
    out.push(k);
    for (let changed = true; changed; ) {
      changed = false;
      for (const re of SNAPSHOT_SUFFIXES) {
        const next = k.replace(re, '');
        if (next !== k && next.length > 0) {
          k = next;
          out.push(k);
          changed = true;
        }
      }
    }
  }
  return out;
}

const RESOLVE_CACHE_LIMIT = 10_000;

/** An override after validation: the fields that replace catalog prices. */
type OverrideFields = Omit<PriceOverride, 'workspace' | 'model'>;

/** PriceCatalog.toData(): the catalog file and the overrides by workspace, then by model key. */
export interface PriceCatalogData {
  file: CatalogFile;
  overrides: [string, [string, OverrideFields][]][];
}

export class PriceCatalog implements Pricer {
  readonly schemaVersion: number;
  readonly version: string;
  readonly pricesTaken: string;
  readonly sources: readonly CatalogSource[];
  /** Every model of the catalog, in file order (for routing: cheaper models of adequate tier). */
  readonly entries: readonly CatalogEntry[];
  private readonly byKey = new Map<string, CatalogEntry>();
  private readonly resolved = new Map<string, CatalogEntry | null>();

  /** Use parseCatalog(); `overrides` maps workspace → (canonical id or normalised unknown id) → fields. */
  constructor(
    private readonly file: CatalogFile,
    private readonly overrides: ReadonlyMap<string, ReadonlyMap<string, OverrideFields>>,
  ) {
    this.schemaVersion = file.schema_version;
    this.version = file.catalog_version;
    this.pricesTaken = file.prices_taken;
    this.sources = file.sources;
    this.entries = file.models.map((m) =>
      Object.freeze({ ...m, aliases: [...m.aliases], prices_taken: m.prices_taken ?? file.prices_taken }),
    );
    for (const e of this.entries) {
      this.byKey.set(normalizeModelId(e.id), e);
      for (const a of e.aliases) this.byKey.set(normalizeModelId(a), e);
    }
  }

  /** The catalog entry a model id means (exact id, alias, any case, provider prefix, dated suffix), or null. */
  resolve(model: string): CatalogEntry | null {
    const hit = this.resolved.get(model);
    if (hit !== undefined) return hit;
    let found: CatalogEntry | null = null;
    for (const k of candidateKeys(model)) {
      const e = this.byKey.get(k);
      if (e) {
        found = e;
        break;
      }
    }
    if (this.resolved.size >= RESOLVE_CACHE_LIMIT) this.resolved.clear();
    this.resolved.set(model, found);
    return found;
  }

  /**
   * A new catalog with these overrides (replacing any this one has). Throws NETRA_E_VALIDATION naming the bad field:
   * `overrides[i].<field>`, or with `prefixOf` another prefix per override (an empty one names the field alone, for a
   * caller checking one override it was given among the stored ones).
   */
  /** The catalog as plain data (structured-clone safe), to rebuild an equal catalog in another thread (fromData). */
  toData(): PriceCatalogData {
    return { file: this.file, overrides: [...this.overrides].map(([ws, m]) => [ws, [...m]]) };
  }

  static fromData(data: PriceCatalogData): PriceCatalog {
    return new PriceCatalog(data.file, new Map(data.overrides.map(([ws, m]) => [ws, new Map(m)])));
  }

  withOverrides(overrides: readonly PriceOverride[], opts: { prefixOf?: (i: number) => string } = {}): PriceCatalog {
    const fieldOf = (i: number, sub: string) => {
      const prefix = opts.prefixOf ? opts.prefixOf(i) : `overrides[${i}]`;
      return prefix && sub ? `${prefix}.${sub}` : prefix || sub || 'model';
    };
    const byWs = new Map<string, Map<string, OverrideFields>>();
    const unknown: { workspace: string; key: string; i: number; model: string }[] = [];
    overrides.forEach((raw, i) => {
      const parsed = PriceOverrideSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = fieldOf(i, issue.path.map(String).join('.'));
        throw new NetraError('VALIDATION', `price override ${field}: ${issue.message}`, { field, details: parsed.error.issues });
      }
      const { workspace, model, ...fields } = parsed.data;
      const entry = this.resolve(model);
      const key = entry ? entry.id : normalizeModelId(model);
      const ws = byWs.get(workspace) ?? new Map<string, OverrideFields>();
      // several overrides of one (workspace, model) merge in order: later fields win
      ws.set(key, { ...ws.get(key), ...fields });
      byWs.set(workspace, ws);
      if (!entry) unknown.push({ workspace, key, i, model });
    });
    // a model unknown to the catalog must be fully defined once all its overrides are merged
    for (const { workspace, key, i, model } of unknown) {
      const o = byWs.get(workspace)!.get(key)!;
      if (o.input === undefined || o.output === undefined) {
        const field = fieldOf(i, o.input === undefined ? 'input' : 'output');
        throw new NetraError(
          'VALIDATION',
          `price override ${field}: model '${model}' is not in the price catalog, so the override must give both input and output (USD per token)`,
          { field },
        );
      }
    }
    return new PriceCatalog(this.file, byWs);
  }

  /** The overrides in force for a workspace, keyed by canonical id (or normalised id for models unknown to the catalog). */
  overridesFor(workspace: string): ReadonlyMap<string, Readonly<OverrideFields>> {
    return this.overrides.get(workspace) ?? new Map();
  }

  /** Per-token rates for a model in a workspace (override first, then catalog), or null when the model is unknown. */
  rates(workspace: string, model: string): ModelRates | null {
    const ws = this.overrides.get(workspace);
    const entry = this.resolve(model);
    if (entry) {
      const o = ws?.get(entry.id);
      return {
        model: entry.id,
        provider: entry.provider,
        input: o?.input ?? entry.input,
        output: o?.output ?? entry.output,
        cached_input: o?.cached_input ?? entry.cached_input,
        cache_write: o?.cache_write !== undefined ? o.cache_write : entry.cache_write,
      };
    }
    const key = normalizeModelId(model);
    const o = ws?.get(key);
    if (!o || o.input === undefined || o.output === undefined) return null;
    return {
      model: key,
      provider: o.provider ?? 'unknown',
      input: o.input,
      output: o.output,
      cached_input: o.cached_input ?? o.input,
      cache_write: o.cache_write ?? null,
    };
  }

  /** Rates for each model id (as stored in events) that can be priced: the argument store.reprice() takes. */
  rateMap(workspace: string, models: Iterable<string>): Map<string, ModelRates> {
    const out = new Map<string, ModelRates>();
    for (const m of models) {
      const r = this.rates(workspace, m);
      if (r) out.set(m, r);
    }
    return out;
  }

  /** Catalog entries with a workspace's overrides applied to their prices (for routing within that workspace). */
  entriesFor(workspace: string): CatalogEntry[] {
    const ws = this.overrides.get(workspace);
    if (!ws) return [...this.entries];
    return this.entries.map((e) => {
      const o = ws.get(e.id);
      if (!o) return e;
      const r = this.rates(workspace, e.id)!;
      return Object.freeze({ ...e, input: r.input, output: r.output, cached_input: r.cached_input, cache_write: r.cache_write });
    });
  }

  /** Pricer: cost in USD and the canonical provider, or null when the model is unknown. */
  price(workspace: string, model: string, usage: Usage): { cost_usd: number; provider: string } | null {
    const r = this.rates(workspace, model);
    return r ? { cost_usd: costOf(r, usage), provider: r.provider } : null;
  }
}
