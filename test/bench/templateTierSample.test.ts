// SPDX-License-Identifier: MIT
// The template scenario's tier-off sample (scripts/bench/templateTier.ts windowSample): windows of
// contiguous lines spread evenly, aligned to the window, so each window of one stream turn holds
// every system's run once; window 1 is the old single-line sample.
import { describe, expect, it } from 'vitest';
import { windowSample } from '../../scripts/bench/templateTier.js';

describe('windowSample()', () => {
  it('takes whole windows of contiguous lines, evenly spread and aligned', () => {
    const picked = windowSample(5120, 320, 160);
    expect(picked).toHaveLength(320);
    const starts = picked.filter((_, k) => k % 160 === 0);
    expect(starts).toEqual([0, 2560]);
    for (let k = 1; k < picked.length; k++) if (k % 160 !== 0) expect(picked[k]).toBe(picked[k - 1]! + 1);
  });

  it('rounds the count up to whole windows, without overlap, inside the stream', () => {
    for (const [length, count, window] of [[5120, 48, 160], [20000, 500, 160], [1000, 999, 160], [700, 300, 160]] as const) {
      const picked = windowSample(length, count, window);
      expect(picked.length % Math.min(window, length)).toBe(0);
      expect(picked.length).toBeGreaterThanOrEqual(Math.min(count, Math.floor(length / window) * window));
      expect(new Set(picked).size).toBe(picked.length);
      expect(Math.max(...picked)).toBeLessThan(length);
      for (let k = 1; k < picked.length; k++) expect(picked[k]).toBeGreaterThan(picked[k - 1]!);
    }
  });

  it('with window 1 is the single-line sample spread evenly', () => {
    expect(windowSample(100, 4, 1)).toEqual([0, 25, 50, 75]);
  });

  it('takes the whole stream when asked for as many lines', () => {
    expect(windowSample(10, 10, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
