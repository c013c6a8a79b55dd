/**
 * Prompt text for synthetic events: clause templates with slots filled from small per-domain pools, and
 * paraphrases (synonym swaps, filler words, clause reordering, case and punctuation changes).
 *
 * Every generated prompt carries a unique reference (ticket, commit, incident...) so that two unrelated prompts
 * never share a text; clause templates have several independent slots so unrelated prompts stay far apart in
 * word-3-shingle Jaccard while a paraphrase (a few bounded edits) stays ≥ 0.5 close to its original.
 * Clauses are pre-rendered per domain and topic on first use (fixed seed); a prompt is a few concatenations. Pure, no I/O.
 */
import { Rng } from './random.js';
import type { DomainSpec, TextDomain } from './text-pools.js';
import { DOMAIN_SPECS, TASK_ASKS, SYNONYMS, FILLERS_START, FILLERS_INNER, FILLERS_END } from './text-pools.js';

export type { DomainSpec, TextDomain };

/** prompt: a full request; query: a short search query; chunk: a document chunk to embed */
export type TextKind = 'prompt' | 'query' | 'chunk';

/** A template part: literal text, a pool to draw from, or a marker for the topic / the unique reference. */
type Part = string | readonly string[] | typeof TOPIC | typeof REF | typeof REF2;
const TOPIC = 0;
const REF = 1;
const REF2 = 2;
type Template = readonly Part[];

function parse(src: string, pools: Readonly<Record<string, readonly string[]>>): Template {
  const parts: Part[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{', i);
    if (open < 0) {
      parts.push(src.slice(i));
      break;
    }
    if (open > i) parts.push(src.slice(i, open));
    const close = src.indexOf('}', open);
    const key = src.slice(open + 1, close);
    if (key === 'o') parts.push(TOPIC);
    else if (key === 'r') parts.push(REF);
    else if (key === 's') parts.push(REF2);
    else {
      const pool = pools[key];
      if (!pool) throw new Error(`text template '${src}': unknown slot {${key}}`);
      parts.push(pool);
    }
    i = close + 1;
  }
  return parts;
}

/**
 * A pre-rendered clause around up to two unique references: pre {r} mid {s} post, or pre {s} mid {r} post
 * (`swapped`); mid/post null when the clause has fewer references.
 */
interface Piece {
  pre: string;
  mid: string | null;
  post: string | null;
  swapped: boolean;
}

const REF_MARK = '\u0001';
const REF2_MARK = '\u0002';

function toPiece(text: string): Piece {
  // indexOf rather than a loop over text[i]: the banks run this once per clause (tens of thousands per domain, in
  // code that never gets optimised), and a filled clause is a concatenation that a native search flattens once
  const r = text.indexOf(REF_MARK);
  const s = text.indexOf(REF2_MARK);
  if ((r >= 0 && text.indexOf(REF_MARK, r + 1) >= 0) || (s >= 0 && text.indexOf(REF2_MARK, s + 1) >= 0))
    throw new Error(`text template needs at most one {r} and one {s}: ${text}`);
  if (r < 0 && s < 0) return { pre: text, mid: null, post: null, swapped: false };
  if (r < 0 || s < 0) {
    const at = r < 0 ? s : r;
    return { pre: text.slice(0, at), mid: text.slice(at + 1), post: null, swapped: r < 0 };
  }
  const first = Math.min(r, s);
  const second = Math.max(r, s);
  return { pre: text.slice(0, first), mid: text.slice(first + 1, second), post: text.slice(second + 1), swapped: s < r };
}

function fill(t: Template, rng: Rng, topic: string): string {
  let s = '';
  for (const part of t) {
    if (typeof part === 'string') s += part;
    else if (part === TOPIC) s += topic;
    else if (part === REF) s += REF_MARK;
    else if (part === REF2) s += REF2_MARK;
    else s += part[Math.floor(rng.next() * part.length)]!;
  }
  return s;
}

/**
 * Clauses of a domain pre-rendered per topic with their pool slots filled (a fixed seed: the same on every run),
 * so that rendering a prompt is a handful of concatenations. Built on first use.
 */
interface Bank {
  readonly topics: readonly string[];
  openers: Piece[][];
  bodies: Piece[][];
  refs: Piece[];
  queries: Piece[][];
  chunks: Piece[][];
  followups: Piece[][];
  steps: Piece[][];
}

const VARIANTS = { bodies: 1024, queries: 512, chunks: 2048, followups: 256, steps: 256 };

/** Each list is rendered on first use only (a preset touches a few of them). */
function buildBank(domain: TextDomain): Bank {
  const spec = DOMAIN_SPECS[domain];
  const compile = (list: readonly string[]) => list.map((src) => parse(src, spec.pools));
  const perTopic = (list: readonly string[], n: number | null, stream: number): Piece[][] => {
    const rng = new Rng(0x7e47 + stream, domain.length);
    const templates = compile(list);
    return spec.topics.map((topic) =>
      n === null
        ? templates.map((t) => toPiece(fill(t, rng, topic)))
        : Array.from({ length: n }, () => toPiece(fill(templates[Math.floor(rng.next() * templates.length)]!, rng, topic))),
    );
  };
  const lazy = <T>(make: () => T) => {
    let v: T | undefined;
    return () => (v ??= make());
  };
  const openers = lazy(() => perTopic(spec.openers, null, 1));
  const bodies = lazy(() => perTopic(spec.bodies, VARIANTS.bodies, 2));
  const refs = lazy(() => compile(spec.refs).map((t) => toPiece(fill(t, new Rng(0x7e47, 3), ''))));
  const queries = lazy(() => perTopic(spec.queries, VARIANTS.queries, 4));
  const chunks = lazy(() => perTopic(spec.chunks, VARIANTS.chunks, 5));
  const followups = lazy(() => perTopic(spec.followups, VARIANTS.followups, 6));
  const steps = lazy(() => perTopic(spec.steps, VARIANTS.steps, 7));
  return {
    topics: spec.topics,
    get openers() {
      return openers();
    },
    get bodies() {
      return bodies();
    },
    get refs() {
      return refs();
    },
    get queries() {
      return queries();
    },
    get chunks() {
      return chunks();
    },
    get followups() {
      return followups();
    },
    get steps() {
      return steps();
    },
  };
}

const BANKS: Partial<Record<TextDomain, Bank>> = {};
const bank = (d: TextDomain): Bank => (BANKS[d] ??= buildBank(d));

const ASKS: Record<string, Piece[]> = {};
for (const [task, list] of Object.entries(TASK_ASKS)) ASKS[task] = list.map((s) => toPiece(s));
const GENERIC_ASK: Piece[] = [toPiece('Please help with this.')];

function pick<T>(list: readonly T[], rng: Rng): T {
  return list[Math.floor(rng.next() * list.length)]!;
}

function cat(p: Piece, r: string, s: string): string {
  if (p.mid === null) return p.pre;
  // no [x, y] destructuring: this runs several times per generated event
  if (p.swapped) return p.post === null ? p.pre + s + p.mid : p.pre + s + p.mid + r + p.post;
  return p.post === null ? p.pre + r + p.mid : p.pre + r + p.mid + s + p.post;
}

export function topicsOf(domain: TextDomain): readonly string[] {
  return DOMAIN_SPECS[domain].topics;
}

/**
 * Clauses of a new prompt (`ref` and `ref2` are unique per prompt); its text is joinClauses(clauses), which
 * renderText builds directly with the same draws. prompt: opener, three bodies, reference, request;
 * query: one clause; chunk: two document clauses.
 */
export function renderClauses(
  domain: TextDomain,
  kind: TextKind,
  task: string,
  topic: number,
  ref: string,
  ref2: string,
  rng: Rng,
): string[] {
  const b = bank(domain);
  if (kind === 'query') return [cat(pick(b.queries[topic]!, rng), ref, ref2)];
  if (kind === 'chunk') {
    const list = b.chunks[topic]!;
    return [cat(pick(list, rng), ref, ref2), cat(pick(list, rng), ref2, ref)];
  }
  const bodies = b.bodies[topic]!;
  return [
    cat(pick(b.openers[topic]!, rng), ref, ref2),
    cat(pick(bodies, rng), ref, ref2),
    cat(pick(bodies, rng), ref, ref2),
    cat(pick(bodies, rng), ref, ref2),
    cat(pick(b.refs, rng), ref, ref2),
    cat(pick(ASKS[task] ?? GENERIC_ASK, rng), ref, ref2),
  ];
}

/** The text of a new prompt: the same draws and result as joinClauses(renderClauses(...)), with fewer allocations. */
export function renderText(domain: TextDomain, kind: TextKind, task: string, topic: number, ref: string, ref2: string, rng: Rng): string {
  const b = bank(domain);
  if (kind === 'query') return cat(pick(b.queries[topic]!, rng), ref, ref2);
  if (kind === 'chunk') {
    const list = b.chunks[topic]!;
    return cat(pick(list, rng), ref, ref2) + ' ' + cat(pick(list, rng), ref2, ref);
  }
  const bodies = b.bodies[topic]!;
  return (
    cat(pick(b.openers[topic]!, rng), ref, ref2) +
    ' ' +
    cat(pick(bodies, rng), ref, ref2) +
    ' ' +
    cat(pick(bodies, rng), ref, ref2) +
    ' ' +
    cat(pick(bodies, rng), ref, ref2) +
    ' ' +
    cat(pick(b.refs, rng), ref, ref2) +
    ' ' +
    cat(pick(ASKS[task] ?? GENERIC_ASK, rng), ref, ref2)
  );
}

export function joinClauses(clauses: readonly string[]): string {
  let s = clauses[0] ?? '';
  for (let i = 1; i < clauses.length; i++) s += ' ' + clauses[i]!;
  return s;
}

/** The clauses of a text drawn but not yet joined: rendered with its references by renderDrawn. */
export type DrawnClauses = readonly Piece[];

/**
 * The newest message of a chain call: a user's follow-up (session) or a tool observation (agent), each followed
 * by two more detail clauses of the topic. Only the draws happen here; renderDrawn makes the text when it is read.
 */
export function drawContinuation(domain: TextDomain, chain: 'session' | 'agent', topic: number, rng: Rng): DrawnClauses {
  const b = bank(domain);
  const head = chain === 'session' ? pick(b.followups[topic]!, rng) : pick(b.steps[topic]!, rng);
  const bodies = b.bodies[topic]!;
  return [head, pick(bodies, rng), pick(bodies, rng)];
}

/** The text of drawn clauses with their references filled in, joined by spaces. */
export function renderDrawn(d: DrawnClauses, ref: string, ref2: string): string {
  let s = cat(d[0]!, ref, ref2);
  for (let i = 1; i < d.length; i++) s += ' ' + cat(d[i]!, ref, ref2);
  return s;
}

function swapSynonym(clause: string, rng: Rng): string {
  const w = clause.split(' ');
  const start = Math.floor(rng.next() * w.length);
  for (let k = 0; k < w.length; k++) {
    const i = (start + k) % w.length;
    const alt = SYNONYMS[w[i]!.toLowerCase()];
    if (alt) {
      w[i] = alt;
      return w.join(' ');
    }
  }
  return clause;
}

function insertFiller(clause: string, rng: Rng): string {
  const w = clause.split(' ');
  const at = 1 + Math.floor(rng.next() * Math.max(1, w.length - 1));
  w.splice(at, 0, pick(FILLERS_INNER, rng));
  return w.join(' ');
}

/** Case and punctuation variants: change the text (and its hash) but not its words. */
function surface(text: string, variant: number): string {
  switch (variant) {
    case 0:
      return text.toLowerCase();
    case 1: {
      const last = text.charCodeAt(text.length - 1);
      return last === 46 || last === 63 ? text.slice(0, -1) + '!' : text + '!';
    }
    case 2:
      return text.endsWith('.') ? text.slice(0, -1) : text + '?';
    default:
      return text.charAt(0).toLowerCase() + text.slice(1) + '..';
  }
}

/**
 * A paraphrase of a prompt given as clauses. `strength` 2: one to three edits among synonym swaps, an inner
 * filler word and swapping the two body clauses, plus maybe a case/punctuation change; 1: one synonym swap;
 * 0 (light): a leading or trailing filler phrase and a case/punctuation change only (for short texts).
 */
export function paraphrase(clauses: readonly string[], rng: Rng, strength: 0 | 1 | 2): string {
  const c = clauses.slice();
  if (strength === 0) {
    const text = rng.chance(0.5) ? pick(FILLERS_START, rng) + ' ' + joinClauses(c) : joinClauses(c) + ' ' + pick(FILLERS_END, rng);
    return surface(text, Math.floor(rng.next() * 4));
  }
  const edits = strength === 1 ? 1 : 1 + Math.floor(rng.next() * 3);
  for (let e = 0; e < edits; e++) {
    const op = strength === 1 ? 0 : Math.floor(rng.next() * 4);
    const at = Math.floor(rng.next() * c.length);
    if (op <= 1) c[at] = swapSynonym(c[at]!, rng);
    else if (op === 2) c[at] = insertFiller(c[at]!, rng);
    else if (c.length >= 4) [c[1], c[2]] = [c[2]!, c[1]!];
    else c[at] = swapSynonym(c[at]!, rng);
  }
  const text = joinClauses(c);
  return rng.chance(0.5) ? surface(text, Math.floor(rng.next() * 4)) : text;
}
