/**
 * Calendar arithmetic in an IANA time zone with the platform's Intl data (pure; no dependency). Used by the question
 * window ("yesterday" in the workspace's zone) and by the breakdown's local day/hour buckets.
 */

export const UTC = 'UTC';

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    if (formatters.size < 1000) formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA time zone name this runtime knows ("Europe/Paris", "UTC"). */
export function isTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export interface ZonedParts {
  year: number;
  /** 0-11 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

/** The wall-clock date and time of instant `t` in the zone. */
export function zonedDateParts(t: number, tz: string): ZonedParts {
  if (tz === UTC) {
    const d = new Date(t);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth(),
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  const out: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) out[p.type] = p.value;
  return {
    year: Number(out.year),
    month: Number(out.month) - 1,
    day: Number(out.day),
    hour: Number(out.hour),
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: WEEKDAYS.indexOf(out.weekday!),
  };
}

/** The zone's offset from UTC at instant `t`, in ms (Paris in winter: +3,600,000). */
export function zoneOffsetMs(t: number, tz: string): number {
  if (tz === UTC) return 0;
  const p = zonedDateParts(t, tz);
  const asUtc = Date.UTC(p.year, p.month, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/**
 * The instant of wall-clock time (year, month 0-11, day, hour, minute) in the zone; day and month may overflow
 * (day 0, day 32) as with Date.UTC. A wall time skipped by a DST jump resolves to the instant after the jump.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, tz: string): number {
  const wall = Date.UTC(year, month, day, hour, minute);
  if (tz === UTC) return wall;
  // the offset at the guess, then at the corrected instant (two steps settle every real zone)
  let t = wall - zoneOffsetMs(wall, tz);
  t = wall - zoneOffsetMs(t, tz);
  return t;
}

/** 00:00 of a calendar day in the zone. */
export const zonedMidnight = (year: number, month: number, day: number, tz: string): number => zonedTime(year, month, day, 0, 0, tz);

/**
 * The offset changes of the zone within [from, to): the offset in force at `from`, then each (instant, new offset).
 * Found day by day and narrowed to the minute; at most 2,000 years of days are looked at.
 */
export function offsetChanges(from: number, to: number, tz: string): { initial: number; changes: { at: number; offset: number }[] } {
  const initial = zoneOffsetMs(from, tz);
  const changes: { at: number; offset: number }[] = [];
  if (tz === UTC) return { initial, changes };
  const DAY = 86_400_000;
  let prevT = from;
  let prev = initial;
  for (let t = from + DAY; prevT < to; t += DAY) {
    const at = Math.min(t, to);
    const o = zoneOffsetMs(at, tz);
    if (o !== prev) {
      // the change lies in (prevT, at]: binary search to the minute
      let lo = prevT;
      let hi = at;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (zoneOffsetMs(mid, tz) === prev) lo = mid;
        else hi = mid;
      }
      changes.push({ at: Math.floor(hi / 60_000) * 60_000, offset: o });
      prev = o;
    }
    prevT = at;
    if (at === to) break;
  }
  return { initial, changes };
}
