/**
 * Text is made valid at the door: every string of an event (fields, messages, tag keys and values) that holds a lone
 * UTF-16 surrogate or a NUL character gets each of them replaced by U+FFFD before the event is hashed or stored.
 *
 * Why repair rather than reject: such strings come from truncating tokenizers and byte-oriented SDKs far more often than
 * from attackers, and the rest of the row is good data. Why at all: a lone surrogate has no UTF-8 encoding, so stores
 * and JSON parsers downstream either refuse it or write something they cannot read back (one such tag made every
 * analysis of a workspace fail), and PostgreSQL refuses NUL in text. Valid strings pass untouched at the cost of one
 * native `isWellFormed` check and a NUL scan.
 */

type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/** `s` with lone surrogates and NUL characters replaced by U+FFFD (the same string when there is none). */
export function repairString(s: string): string {
  const w = s as WellFormedString;
  const fixed = w.isWellFormed() ? s : w.toWellFormed();
  return fixed.includes('\u0000') ? fixed.replaceAll('\u0000', '\ufffd') : fixed;
}

/** True when `s` would be changed by repairString. */
export function needsRepair(s: string): boolean {
  return !(s as WellFormedString).isWellFormed() || s.includes('\u0000');
}

/**
 * A copy of a parsed event input with every string repaired; the input itself when nothing needed it (the common case
 * allocates nothing). Nested values are the event's own: messages (role, content) and tags (keys and values).
 */
export function repairText<T extends object>(e: T): T {
  const src = e as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  // for-in over a parsed input (own data properties only) allocates no entry arrays: this runs for every event
  for (const k in src) {
    const v = src[k];
    const fixed =
      typeof v === 'string' ? (needsRepair(v) ? repairString(v) : v) : v === null || typeof v !== 'object' ? v : repairValue(k, v);
    if (fixed !== v) (out ??= { ...src })[k] = fixed;
  }
  return (out ?? e) as T;
}

function repairValue(key: string, v: unknown): unknown {
  if (typeof v === 'string') return needsRepair(v) ? repairString(v) : v;
  if (key === 'messages' && Array.isArray(v)) {
    let changed = false;
    const msgs = v.map((m: { role: string; content: string }) => {
      if (!needsRepair(m.role) && !needsRepair(m.content)) return m;
      changed = true;
      return { ...m, role: repairString(m.role), content: repairString(m.content) };
    });
    return changed ? msgs : v;
  }
  if (key === 'tags' && v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, string>);
    if (!entries.some(([tk, tv]) => needsRepair(tk) || needsRepair(tv))) return v;
    // a null-prototype-free plain object built from entries: a repaired key can never become __proto__
    const tags: Record<string, string> = {};
    for (const [tk, tv] of entries)
      Object.defineProperty(tags, repairString(tk), { value: repairString(tv), enumerable: true, writable: true, configurable: true });
    return tags;
  }
  return v;
}
