/**
 * The newest messages of recently active threads, remembered by this process so that opening a turn need not read them
 * again. Every turn hands its run the thread's newest messages; reading and decoding them was the largest part of opening a
 * turn (about half of its database work with 50 messages of history).
 *
 * An entry is the thread's history at one value of `threads.message_count`, which every statement that inserts a message
 * raises by one in the same statement. The turn's statement still reads the thread (ownership is checked there, as always)
 * and compares the count it sees with the entry's: equal, no message came since, and the remembered history is exactly
 * what the read would return; different (another process wrote, or a write here raced one), it reads the history as before
 * and the entry is replaced. So an entry is never wrong, only out of date, and an out-of-date entry is never used.
 *
 * An entry moves forward with a write of this process only when that write is the next one (its count is the entry's plus
 * one) and its message sorts after the remembered ones (created_at, then id, as the history read orders them).
 */
import { LRUCache } from 'lru-cache';
import type { messages } from '../db/schema.js';

type MessageRow = typeof messages.$inferSelect;

/** A message as the history read orders it: `createdUs` is created_at in microseconds since the epoch (the database's precision). */
export interface HistoryMessage {
  row: MessageRow;
  createdUs: number;
}

interface Entry {
  /** threads.message_count when `messages` was the thread's history */
  count: number;
  /** the thread's newest `cap` messages (all of them when it has fewer), oldest first */
  messages: readonly HistoryMessage[];
  cap: number;
}

export interface HistorySnapshot {
  count: number;
  /** oldest first, at most the limit asked for */
  messages: MessageRow[];
}

export class ThreadHistoryCache {
  private readonly entries: LRUCache<string, Entry>;

  /** `maxBytes`: bound on the remembered message text (the oldest-used threads are forgotten first). */
  constructor(maxBytes: number) {
    this.entries = new LRUCache<string, Entry>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (e) =>
        Math.max(
          1,
          e.messages.reduce((n, m) => n + m.row.content.length * 2 + 200, 64),
        ),
    });
  }

  /** The remembered history of the thread, when it holds the newest `limit` messages. */
  get(threadId: string, limit: number): HistorySnapshot | null {
    const e = this.entries.get(threadId);
    if (!e || limit > e.cap) return null;
    const from = Math.max(0, e.messages.length - limit);
    // copies: a caller changing a row it was given cannot change what is remembered
    return { count: e.count, messages: e.messages.slice(from).map((m) => ({ ...m.row })) };
  }

  /** The thread's newest `cap` messages (oldest first) were `history` when its message count was `count`. */
  set(threadId: string, count: number, cap: number, history: readonly HistoryMessage[]): void {
    const e = this.entries.get(threadId, { updateAgeOnGet: false });
    if (e && e.count > count) return; // what is remembered is newer
    this.entries.set(threadId, { count, cap, messages: history.slice(Math.max(0, history.length - cap)) });
  }

  /**
   * A message this process inserted, after which the thread's count was `count`: the entry moves forward when it was the
   * thread's history just before (count - 1) and the message sorts after its newest one; otherwise it stays as it was.
   */
  appended(threadId: string, count: number, m: HistoryMessage): void {
    const e = this.entries.get(threadId, { updateAgeOnGet: false });
    if (!e || e.count !== count - 1) return;
    const last = e.messages.at(-1);
    if (last && !sortsAfter(m, last)) return;
    const next = [...e.messages, m];
    this.entries.set(threadId, { count, cap: e.cap, messages: next.slice(Math.max(0, next.length - e.cap)) });
  }

  /** Forgets the thread (deleted). */
  drop(threadId: string): void {
    this.entries.delete(threadId);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The order of the history read: created_at, then id (uuids compare as their lower-case text does). */
function sortsAfter(a: HistoryMessage, b: HistoryMessage): boolean {
  return a.createdUs > b.createdUs || (a.createdUs === b.createdUs && a.row.id > b.row.id);
}
