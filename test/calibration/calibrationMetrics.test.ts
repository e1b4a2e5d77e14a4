// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { binOf, computeCalibrationMetrics, ECE_BINS } from '../../src/calibration/calibrationMetrics.js';

describe('computeCalibrationMetrics()', () => {
  it('matches hand-computed NLL, Brier, accuracy and ECE', () => {
    const probs = [
      [0.9, 0.1],
      [0.6, 0.4],
      [0.3, 0.7],
      [0.2, 0.8],
    ];
    const gold = [0, 1, 1, 1];
    const m = computeCalibrationMetrics(probs, gold, 10);
    expect(m.nll).toBeCloseTo(-(Math.log(0.9) + Math.log(0.4) + Math.log(0.7) + Math.log(0.8)) / 4, 12);
    // Brier: Σ_k (p_k − y_k)² per row = 2·(1 − p_gold)² for two labels.
    expect(m.brier).toBeCloseTo((2 * 0.01 + 2 * 0.36 + 2 * 0.09 + 2 * 0.04) / 4, 12);
    expect(m.accuracy).toBe(0.75);
    // Confidences 0.9 (bin 8, right), 0.6 (bin 5, wrong), 0.7 (bin 6, right), 0.8 (bin 7, right).
    expect(m.bins.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
    expect(m.ece).toBeCloseTo((0.6 + 0.3 + 0.2 + 0.1) / 4, 12);
  });

  it('uses 15 bins by default and puts a bin edge in the bin below it', () => {
    const m = computeCalibrationMetrics([[1, 0]], [0]);
    expect(m.bins).toHaveLength(ECE_BINS);
    expect(m.bins[14]!.count).toBe(1);
    expect(binOf(1 / 15, 15)).toBe(0);
    expect(binOf(1 / 15 + 1e-9, 15)).toBe(1);
    expect(binOf(0, 15)).toBe(0);
    expect(m.ece).toBe(0);
  });

  it('refuses mismatched or empty input', () => {
    expect(() => computeCalibrationMetrics([[1, 0]], [])).toThrow(RangeError);
    expect(() => computeCalibrationMetrics([], [])).toThrow(RangeError);
  });
});
