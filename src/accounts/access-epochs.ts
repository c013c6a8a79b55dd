/**
 * Access epochs: a counter per credential subject (`user:<id>`, `key:<prefix>`) bumped whenever what the subject may do
 * changes (API key revoked; user deactivated, re-activated, admin flag or password changed; a membership added, changed
 * or removed). Holders of long-lived decisions (open WebSockets) remember the epoch their decision was taken at and
 * re-check only when it moved: one Map lookup per message instead of a database read.
 *
 * Changes made in this process are announced to listeners at once and handed to `publish` (the Redis run-event bus
 * when REDIS_URL is set) so other processes bump the same subject; changes received from there are applied without being
 * published again.
 */

export type AccessChange = { kind: 'user'; userId: string; reason: string } | { kind: 'api_key'; prefix: string; reason: string };

export type AccessListener = (subject: string, change: AccessChange) => void;

export function subjectOf(c: AccessChange): string {
  return c.kind === 'user' ? `user:${c.userId}` : `key:${c.prefix}`;
}

export class AccessEpochs {
  private readonly epochs = new Map<string, number>();
  private readonly listeners = new Set<AccessListener>();
  private publisher: ((c: AccessChange) => void) | null = null;

  /** The subject's current epoch (0 until its first change). */
  epoch(subject: string): number {
    return this.epochs.get(subject) ?? 0;
  }

  /** A change made in this process: bump, notify listeners, tell other processes. */
  changed(c: AccessChange): void {
    this.apply(c);
    this.publisher?.(c);
  }

  /** A change announced by another process: bump and notify, never re-published. */
  applyRemote(c: AccessChange): void {
    this.apply(c);
  }

  /** Where local changes are sent for other processes (one publisher; the last call wins). */
  setPublisher(p: ((c: AccessChange) => void) | null): void {
    this.publisher = p;
  }

  onChange(l: AccessListener): () => void {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  }

  private apply(c: AccessChange): void {
    const subject = subjectOf(c);
    this.epochs.set(subject, this.epoch(subject) + 1);
    for (const l of [...this.listeners]) l(subject, c);
  }
}

/** Parses an access change received from another process; null for anything malformed. */
export function parseAccessChange(v: unknown): AccessChange | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const reason = typeof o.reason === 'string' ? o.reason.slice(0, 200) : 'access changed';
  if (o.kind === 'user' && typeof o.userId === 'string' && o.userId.length <= 100) return { kind: 'user', userId: o.userId, reason };
  if (o.kind === 'api_key' && typeof o.prefix === 'string' && o.prefix.length <= 40) return { kind: 'api_key', prefix: o.prefix, reason };
  return null;
}
