/**
 * Arrival times: a non-homogeneous Poisson process over [from, to) conditioned on exactly N arrivals, emitted in
 * increasing order in O(1) memory per arrival. Intensity is piecewise constant per minute: the sum over apps of
 * weight × hour-of-day curve × weekend factor, times planted bursts. Arrival positions are the order statistics
 * of N uniforms in cumulative-intensity space, drawn sequentially (x ← x + (1 − x)(1 − U^(1/remaining))), then
 * mapped through the inverse cumulative intensity. Timestamps are whole milliseconds, strictly increasing. Pure.
 */
import { CURVES, type Preset } from './presets.js';
import { cumulative, type Rng } from './random.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface Burst {
  start: number;
  end: number;
  multiplier: number;
}

function isWeekend(ms: number): boolean {
  const dow = (Math.floor(ms / DAY) + 4) % 7; // 1970-01-01 was a Thursday
  return dow === 0 || dow === 6;
}

export class ArrivalClock {
  readonly from: number;
  readonly to: number;
  readonly bursts: Burst[];
  /** cumulative intensity at the end of each minute bin */
  private readonly cum: Float64Array;
  private readonly inBurst: Uint8Array;
  /** cumulative app weights for each (weekend, hour-of-day): index (weekend * 24 + hour) */
  private readonly appCum: Float64Array[];
  private readonly total: number;
  private readonly n: number;
  private i = 0;
  private pos = 0;
  private bin = 0;
  private last = -Infinity;

  constructor(preset: Preset, from: number, to: number, events: number, rng: Rng) {
    this.from = from;
    this.to = to;
    this.n = events;
    const bins = Math.ceil((to - from) / MINUTE);
    this.appCum = [];
    const mixTotal = new Float64Array(48);
    for (let wk = 0; wk < 2; wk++) {
      for (let h = 0; h < 24; h++) {
        const weights = preset.apps.map((a) => a.weight * CURVES[a.curve][h]! * (wk ? a.weekend : 1));
        const c = cumulative(weights);
        this.appCum.push(c);
        mixTotal[wk * 24 + h] = c[c.length - 1]!;
      }
    }
    const base = new Float64Array(bins);
    for (let b = 0; b < bins; b++) {
      const t = from + b * MINUTE;
      base[b] = mixTotal[(isWeekend(t) ? 24 : 0) + new Date(t).getUTCHours()]!;
    }
    // Bursts: start minute drawn in proportion to traffic, log-normal length, multiplier around the preset's.
    this.bursts = [];
    this.inBurst = new Uint8Array(bins);
    const baseCum = cumulative(Array.from(base));
    const count = Math.floor(preset.bursts.per_day * ((to - from) / DAY) + rng.next());
    const mult = new Float64Array(bins).fill(1);
    for (let k = 0; k < count; k++) {
      const start = Math.min(bins - 1, binarySearch(baseCum, rng.next() * baseCum[bins - 1]!));
      const len = Math.max(2, Math.round(rng.logNormal(preset.bursts.minutes_median, 0.5)));
      const m = preset.bursts.multiplier * rng.logNormal(1, 0.2);
      const end = Math.min(bins, start + len);
      for (let b = start; b < end; b++) {
        mult[b] = Math.max(mult[b]!, m);
        this.inBurst[b] = 1;
      }
      this.bursts.push({ start: from + start * MINUTE, end: Math.min(to, from + end * MINUTE), multiplier: Math.round(m * 100) / 100 });
    }
    this.bursts.sort((a, b) => a.start - b.start);
    this.cum = new Float64Array(bins);
    let s = 0;
    for (let b = 0; b < bins; b++) {
      s += base[b]! * mult[b]!;
      this.cum[b] = s;
    }
    this.total = s;
  }

  /** Next arrival time (epoch ms). Call exactly `events` times. */
  next(rng: Rng): number {
    const remaining = this.n - this.i++;
    this.pos += (1 - this.pos) * -Math.expm1(Math.log(rng.nextOpen()) / remaining);
    const target = this.pos * this.total;
    const cum = this.cum;
    while (this.bin < cum.length - 1 && cum[this.bin]! < target) this.bin++;
    const lo = this.bin === 0 ? 0 : cum[this.bin - 1]!;
    const width = cum[this.bin]! - lo;
    const frac = width > 0 ? Math.min(1, Math.max(0, (target - lo) / width)) : 0;
    let t = Math.floor(this.from + (this.bin + frac) * MINUTE);
    if (t <= this.last) t = this.last + 1;
    if (t >= this.to) t = this.to - 1;
    this.last = t;
    return t;
  }

  /** Whether the last returned arrival fell inside a burst. */
  get inBurstNow(): boolean {
    return this.inBurst[this.bin] === 1;
  }

  /** Cumulative app weights for the current arrival's hour (for choosing the app of a fresh request). */
  appWeightsNow(t: number): Float64Array {
    return this.appCum[(isWeekend(t) ? 24 : 0) + Math.floor((t % DAY) / 3_600_000)]!;
  }
}

function binarySearch(cum: Float64Array, x: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
