/**
 * The window a question names (pure): absolute dates ("Dec 1 to Dec 3", "2026-12-01", "1 Dec") and relative words
 * ("last 3 days", "yesterday", "last week", "this month"), in the workspace's time zone (an IANA name, UTC by default:
 * calendar days, weeks from Monday and months start at that zone's midnight, DST included); relative windows count
 * back from `now`. Zone arithmetic is in zoned-time.ts.
 */
import { UTC, zonedDateParts, zonedMidnight } from '../workload/zoned-time.js';

export interface PlanWindow {
  from: number;
  to: number;
  /** the words that set it ("last 3 days", "Dec 1 to Dec 3") */
  text: string;
}

export const DAY = 86_400_000;
const HOUR = 3_600_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_RE =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
};

/** 00:00 of t's calendar day in the zone. */
export const startOfDay = (t: number, tz: string = UTC) => {
  const p = zonedDateParts(t, tz);
  return zonedMidnight(p.year, p.month, p.day, tz);
};
/** 00:00 of the calendar day `days` after t's (DST days are 23 or 25 hours long). */
const addDays = (t: number, days: number, tz: string) => {
  const p = zonedDateParts(t, tz);
  return zonedMidnight(p.year, p.month, p.day + days, tz);
};
/** Monday 00:00 of t's week in the zone. */
const startOfWeek = (t: number, tz: string = UTC) => addDays(t, -((zonedDateParts(t, tz).weekday + 6) % 7), tz);
/** 1st of t's month, 00:00 in the zone. */
export const startOfMonth = (t: number, tz: string = UTC) => {
  const p = zonedDateParts(t, tz);
  return zonedMidnight(p.year, p.month, 1, tz);
};
export const numberOf = (s: string | undefined): number | null =>
  s === undefined ? null : /^\d+$/.test(s) ? Number(s) : (NUMBER_WORDS[s] ?? null);

/** A calendar date (month, day, optional year) at or before `now` when no year is given: its 00:00 in the zone. */
function dateOf(month: number, day: number, year: number | null, now: number, tz: string): number | null {
  if (day < 1 || day > 31) return null;
  const y = year ?? zonedDateParts(now, tz).year;
  if (new Date(Date.UTC(y, month, day)).getUTCDate() !== day) return null;
  let t = zonedMidnight(y, month, day, tz);
  if (year === null && t > now) t = zonedMidnight(y - 1, month, day, tz);
  return t;
}

interface DateHit {
  t: number;
  /** 00:00 of the next day (not t + 24 h: DST days) */
  end: number;
  text: string;
  index: number;
}

/** Dates written "2026-12-01", "Dec 1", "December 1st, 2026", "1 Dec". */
function datesIn(lower: string, now: number, tz: string): DateHit[] {
  const hits: DateHit[] = [];
  const hit = (t: number, text: string, index: number): DateHit => ({ t, end: addDays(t, 1, tz), text, index });
  for (const m of lower.matchAll(/\b(\d{4})-(\d{2})-(\d{2})\b/g)) {
    const t = dateOf(Number(m[2]) - 1, Number(m[3]), Number(m[1]), now, tz);
    if (t !== null) hits.push(hit(t, m[0], m.index));
  }
  for (const m of lower.matchAll(new RegExp(`\\b${MONTH_RE}\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?\\b`, 'g'))) {
    const t = dateOf(MONTHS.indexOf(m[1]!.slice(0, 3)), Number(m[2]), m[3] ? Number(m[3]) : null, now, tz);
    if (t !== null) hits.push(hit(t, m[0], m.index));
  }
  for (const m of lower.matchAll(new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+${MONTH_RE}\\b(?:,?\\s+(\\d{4}))?`, 'g'))) {
    const t = dateOf(MONTHS.indexOf(m[2]!.slice(0, 3)), Number(m[1]), m[3] ? Number(m[3]) : null, now, tz);
    if (t !== null && !hits.some((h) => Math.abs(h.index - m.index) < 4)) hits.push(hit(t, m[0], m.index));
  }
  return hits.sort((a, b) => a.index - b.index);
}

/**
 * The window a question names, or null; relative words count back from `now` (calendar days, weeks from Monday and
 * months of the time zone `tz`, an IANA name; UTC by default).
 */
export function windowOf(text: string, now: number, tz: string = UTC): PlanWindow | null {
  const lower = text.toLowerCase();
  const dates = datesIn(lower, now, tz);
  if (dates.length >= 2) {
    const [a, b] = [dates[0]!, dates[1]!];
    const [first, last] = a.t <= b.t ? [a, b] : [b, a];
    return { from: first.t, to: last.end, text: lower.slice(a.index, b.index + b.text.length) };
  }
  if (dates.length === 1) return { from: dates[0]!.t, to: dates[0]!.end, text: dates[0]!.text };
  const rel = lower.match(
    /\b(?:last|past|previous)\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty)\s+(hour|day|week|month)s?\b/,
  );
  if (rel) {
    const n = numberOf(rel[1])!;
    const unit = rel[2]!;
    if (unit === 'hour') return { from: now - n * HOUR, to: now, text: rel[0] };
    if (unit === 'day') return { from: now - n * DAY, to: now, text: rel[0] };
    if (unit === 'week') return { from: now - n * 7 * DAY, to: now, text: rel[0] };
    const d = new Date(now);
    return {
      from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()),
      to: now,
      text: rel[0],
    };
  }
  const word = lower.match(
    /\b(today|yesterday|this week|last week|previous week|past week|this month|last month|previous month|past (?:24 hours|day|hour)|last (?:24 hours|hour))\b/,
  );
  if (!word) return null;
  const w = word[1]!;
  switch (w) {
    case 'today':
      return { from: startOfDay(now, tz), to: now, text: w };
    case 'yesterday':
      return { from: addDays(now, -1, tz), to: startOfDay(now, tz), text: w };
    case 'this week':
      return { from: startOfWeek(now, tz), to: now, text: w };
    case 'last week':
    case 'previous week': {
      const to = startOfWeek(now, tz);
      return { from: addDays(to, -7, tz), to, text: w };
    }
    case 'past week':
      return { from: now - 7 * DAY, to: now, text: w };
    case 'this month':
      return { from: startOfMonth(now, tz), to: now, text: w };
    case 'last month':
    case 'previous month': {
      const to = startOfMonth(now, tz);
      return { from: startOfMonth(to - 1, tz), to, text: w };
    }
    case 'past hour':
    case 'last hour':
      return { from: now - HOUR, to: now, text: w };
    default:
      return { from: now - DAY, to: now, text: w }; // past/last 24 hours, past day
  }
}
