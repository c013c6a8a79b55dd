/**
 * Pair similarity of two prompts for the near-duplicate detectors, measured on the part of the prompts that varies.
 * Pure; no I/O (the template registry is in-memory state of one analysis pass).
 *
 * Why: prompts of one app usually share a system prompt, a template or a preamble, and only the question changes.
 * Over the whole text, twenty different FAQ questions under one 60-word preamble have a content-word Jaccard of about
 * 0.9 and would all be "rewordings" of each other. So the leading blocks (lines, and sentences within a line; see
 * `PromptFeatures.blocks`) that two prompts share are left out of the comparison when they are a template: a leading
 * run of blocks that TEMPLATE_MIN_CONTINUATIONS distinct continuations have followed, in prompts of the same model
 * seen by this pass (`TemplateRegistry`). Distinct questions under one preamble then do not match; rewordings under
 * it still do.
 * Why learned and leading-only rather than "whatever two prompts share": pairwise, a shared system prompt and a long
 * request with one edited sentence look the same, and stripping every shared block made the edited sentence the whole
 * comparison: measured on the generator's planted near-duplicates (test/planted-cache.test.ts) 8-16% of the
 * near-duplicate dollars were lost, and 1 of the 999 GPTCache pairs (a shared code listing after a reworded
 * sentence). A template is what many different prompts start with; an edited request's sentences are only shared
 * within its family, and what follows a stripped template is still compared in full.
 */
import { hashString, jaccardSorted, type PromptFeatures } from './prompt-features.js';

/** A leading run of blocks is a template once this many distinct next blocks have followed it. */
export const TEMPLATE_MIN_CONTINUATIONS = 3;
/** Bound on the leading runs a registry tracks (about 100 bytes each); beyond it, new runs are not learned. */
const REGISTRY_MAX_RUNS = 200_000;

/** Largest one-place edit (words per side) treated as a different question; measured best at 2 (bench). */
const SINGLE_EDIT_MAX = 2;

/** Prompts with fewer content words than this only match when their word sequences are identical. */
export const MIN_CONTENT_WORDS = 3;

/** What two prompts are compared on: their words, content words and content-word set, template removed. */
export interface ComparedPart {
  tokens: ArrayLike<number>;
  content: ArrayLike<number>;
  shingles: ArrayLike<number>;
}

/**
 * Leading runs of blocks and the distinct blocks seen after each, per model (or any scope string). `observe` each
 * prompt once before comparing it; `templateBlocks` says how many leading blocks of a prompt are a known template.
 */
export interface TemplateRegistry {
  observe(scope: string, f: PromptFeatures): void;
  /** The number of leading blocks of `f`, at most `max`, that form a template (0: none). */
  templateBlocks(scope: string, f: PromptFeatures, max: number): number;
  /** Tracked leading runs (memory checks). */
  size(): number;
}

function mix(h: number, x: number): number {
  return (Math.imul(h ^ x, 0x9e3779b1) ^ (h >>> 15)) >>> 0;
}

/**
 * Leading runs live in an open-addressing table of typed arrays (run hash -> up to TEMPLATE_MIN_CONTINUATIONS next
 * blocks): a Map of uint32 keys to arrays was a third of the semantic pass (keys above 2^30 are heap numbers in V8,
 * and each run held an array), measured on 87k prompts.
 */
export function createTemplateRegistry(): TemplateRegistry {
  const K = TEMPLATE_MIN_CONTINUATIONS;
  let cap = 1 << 12;
  let keys = new Uint32Array(cap);
  let counts = new Uint8Array(cap); // continuations seen (0: empty slot; a run always has at least one)
  let nexts = new Uint32Array(cap * K);
  let size = 0;
  const salts = new Map<string, number>();
  const salt = (scope: string, f: PromptFeatures): number => {
    let s = salts.get(scope);
    if (s === undefined) {
      s = hashString(scope);
      if (salts.size < 10_000) salts.set(scope, s);
    }
    return mix(s, f.headHash);
  };
  /** The slot holding run `h`, or the empty slot where it would go. */
  const slotOf = (h: number): number => {
    const m = cap - 1;
    let i = (h ^ (h >>> 16)) & m;
    while (counts[i] !== 0 && keys[i] !== h) i = (i + 1) & m;
    return i;
  };
  const grow = (): void => {
    const oldKeys = keys;
    const oldCounts = counts;
    const oldNexts = nexts;
    cap *= 2;
    keys = new Uint32Array(cap);
    counts = new Uint8Array(cap);
    nexts = new Uint32Array(cap * K);
    for (let j = 0; j < oldKeys.length; j++) {
      if (oldCounts[j] === 0) continue;
      const i = slotOf(oldKeys[j]!);
      keys[i] = oldKeys[j]!;
      counts[i] = oldCounts[j]!;
      for (let c = 0; c < K; c++) nexts[i * K + c] = oldNexts[j * K + c]!;
    }
  };
  return {
    observe(scope, f) {
      let h = salt(scope, f);
      for (let k = 0; k + 1 < f.blocks.length; k++) {
        h = mix(h, f.blocks[k]!);
        const next = f.blocks[k + 1]!;
        let i = slotOf(h);
        const n = counts[i]!;
        if (n === 0) {
          if (size >= REGISTRY_MAX_RUNS) return;
          if ((size + 1) * 2 > cap) {
            grow();
            i = slotOf(h);
          }
          size++;
          keys[i] = h;
          nexts[i * K] = next;
          counts[i] = 1;
          continue;
        }
        if (n >= K) continue;
        let known = false;
        for (let c = 0; c < n; c++) if (nexts[i * K + c] === next) known = true;
        if (!known) {
          nexts[i * K + n] = next;
          counts[i] = n + 1;
        }
      }
    },
    templateBlocks(scope, f, max) {
      let h = salt(scope, f);
      let n = 0;
      for (let k = 0; k + 1 < f.blocks.length && k < max; k++) {
        h = mix(h, f.blocks[k]!);
        const seen = counts[slotOf(h)]!;
        if (seen === 0) break;
        if (seen >= K) n = k + 1;
      }
      return n;
    },
    size: () => size,
  };
}

function sortedUnique(xs: ArrayLike<number>): number[] {
  const a = Array.from(xs).sort((x, y) => x - y);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[n - 1]) a[n++] = a[i]!;
  a.length = n;
  return a;
}

const NO_TOKENS: number[] = [];

/** `f` from block `fromBlock` on; without its tokens when the caller compares content words only. */
function rest(f: PromptFeatures, fromBlock: number, withTokens: boolean): ComparedPart {
  const content = f.content.slice(f.blockContentStarts[fromBlock]!);
  const tokens = withTokens ? f.tokens.slice(f.blockTokenStarts[fromBlock]!) : NO_TOKENS;
  return { tokens, content, shingles: sortedUnique(content) };
}

/**
 * The parts of `a` and `b` to compare: both without the leading blocks they share that the registry knows as a
 * template (of `scope`); null when nothing is stripped (compare the whole). Each keeps at least its last block.
 */
export function varyingParts(
  a: PromptFeatures,
  b: PromptFeatures,
  templates: TemplateRegistry | undefined,
  scope: string,
  withTokens = true,
): [ComparedPart, ComparedPart] | null {
  if (templates === undefined || a.blocks.length < 2 || b.blocks.length < 2 || a.headHash !== b.headHash) return null;
  const keep = Math.min(a.blocks.length, b.blocks.length) - 1;
  let p = 0;
  while (p < keep && a.blocks[p] === b.blocks[p]) p++;
  if (p === 0) return null;
  const t = templates.templateBlocks(scope, a, p);
  return t === 0 ? null : [rest(a, t, withTokens), rest(b, t, withTokens)];
}

/** Content-word Jaccard of the varying parts (the long-prompt matcher's score: no slot or single-edit gates). */
export function varyingJaccard(a: PromptFeatures, b: PromptFeatures, templates?: TemplateRegistry, scope = ''): number {
  const v = varyingParts(a, b, templates, scope, false);
  return v === null ? jaccardSorted(a.shingles, b.shingles) : jaccardSorted(v[0].shingles, v[1].shingles);
}

/**
 * True when the content-word sequences differ by one contiguous edit of at most `max` words on each side
 * (a = P X S, b = P Y S, 0 < |X| + |Y|, |X|, |Y| <= max): an inserted qualifier ("share your audio dataset") or a
 * swapped slot ("selects a schema field" vs "selects a column"). Rewordings differ in more than one place.
 */
export function isSingleSmallEdit(a: ArrayLike<number>, b: ArrayLike<number>, max: number): boolean {
  const na = a.length;
  const nb = b.length;
  let p = 0;
  while (p < na && p < nb && a[p] === b[p]) p++;
  let q = 0;
  while (q < na - p && q < nb - p && a[na - 1 - q] === b[nb - 1 - q]) q++;
  const x = na - p - q;
  const y = nb - p - q;
  return x + y > 0 && x <= max && y <= max;
}

/**
 * Similarity used by the near-duplicate detector, in [0, 1]: exact Jaccard of the content-word sets of the varying
 * parts (a shared template removed when `templates` knows it, see above), forced to 0 when a precision gate says the prompts ask about
 * different things:
 * - different heads (long prompts: context before the compared window differs) or different identifier tokens;
 * - a template slot swap: same length, the words differ at only one or two aligned positions
 *   ("number of rows" vs "number of columns", "Load audio data" vs "Load tabular data");
 * - too few content words to judge (then only identical word sequences count).
 */
export function nearDuplicateSimilarity(a: PromptFeatures, b: PromptFeatures, templates?: TemplateRegistry, scope = ''): number {
  if (a.headHash !== b.headHash || a.entityHash !== b.entityHash) return 0;
  const v = varyingParts(a, b, templates, scope);
  const pa: ComparedPart = v === null ? a : v[0];
  const pb: ComparedPart = v === null ? b : v[1];
  const ta = pa.tokens;
  const tb = pb.tokens;
  if (ta.length === tb.length) {
    let diff = 0;
    for (let i = 0; i < ta.length && diff < 3; i++) if (ta[i] !== tb[i]) diff++;
    if (diff === 0) return 1;
    if (diff <= 2) return 0;
  }
  if (pa.shingles.length < MIN_CONTENT_WORDS || pb.shingles.length < MIN_CONTENT_WORDS) return 0;
  if (isSingleSmallEdit(pa.content, pb.content, SINGLE_EDIT_MAX)) return 0;
  return jaccardSorted(pa.shingles, pb.shingles);
}
