/**
 * JSON text DuckDB can read: its JSON reader refuses a lone surrogate (an unpaired UTF-16 half, which JSON.stringify
 * writes as a `\udXXX` escape), so values holding one are repaired to U+FFFD, as a UTF-8 conversion would do.
 */

/** JSON.stringify writes a lone surrogate as a lowercase \udXXX escape; a false hit (an escaped backslash) only costs a rebuild. */
export const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/;

function wellFormed(s: string): string {
  return (s as string & { toWellFormed(): string }).toWellFormed();
}

/** A string, or a flat object's keys and string values, with every lone surrogate replaced by U+FFFD. */
export function repairedValue(v: unknown): unknown {
  if (typeof v === 'string') return wellFormed(v);
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[wellFormed(k)] = typeof x === 'string' ? wellFormed(x) : x;
    return out;
  }
  return v;
}
