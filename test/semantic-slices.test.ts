import { describe, expect, it } from 'vitest';
import { SEMANTIC_SAMPLE_SLICES, semanticSampleSlices, warmedRanges } from '../src/optimize/recommend/semantic-cache.js';

const H = 3_600_000;

describe('semantic-cache sampling ranges', () => {
  it('spreads the slices evenly and sizes them to hold about maxEvents', () => {
    const scope = { from: 0, to: 168 * H };
    const { slices, sliceLen } = semanticSampleSlices(scope, 1_000_000, 50_000, H);
    expect(slices).toHaveLength(SEMANTIC_SAMPLE_SLICES);
    expect(sliceLen).toBe(Math.floor((168 * H * 50_000) / 1_000_000 / SEMANTIC_SAMPLE_SLICES));
    expect(slices.map((s) => s.from)).toEqual([0, 28, 56, 84, 112, 140].map((h) => h * H));
    for (const s of slices) expect(s.to - s.from).toBe(sliceLen);
  });

  it('puts one TTL of warm-up before each slice, within the scope, and merges ranges that would overlap', () => {
    const scope = { from: 0, to: 10 * H };
    expect(
      warmedRanges(
        scope,
        [
          { from: 0, to: H },
          { from: 5 * H, to: 6 * H },
        ],
        H,
      ),
    ).toEqual([
      { from: 0, to: H },
      { from: 4 * H, to: 6 * H },
    ]);
    // a warm-up reaching into the previous slice: one range, so no event is streamed twice or out of time order
    expect(
      warmedRanges(
        scope,
        [
          { from: H, to: 3 * H },
          { from: 3.5 * H, to: 4 * H },
        ],
        H,
      ),
    ).toEqual([{ from: 0, to: 4 * H }]);
  });
});
