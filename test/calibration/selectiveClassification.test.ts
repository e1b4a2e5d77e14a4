// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { coverageAt, coverageCurve, thresholdForPrecision } from '../../src/calibration/selectiveClassification.js';

describe('coverageAt() / coverageCurve()', () => {
  const scores = [0.9, 0.8, 0.8, 0.6, 0.4];
  const correct = [true, true, false, true, false];

  it('counts the lines at or above each threshold and their accuracy', () => {
    expect(coverageAt(scores, correct, [0, 0.8, 0.95])).toEqual([
      { threshold: 0, covered: 5, coverage: 1, accuracy: 0.6 },
      { threshold: 0.8, covered: 3, coverage: 0.6, accuracy: 2 / 3 },
      { threshold: 0.95, covered: 0, coverage: 0, accuracy: null },
    ]);
  });

  it('gives one curve point per distinct score, ties together', () => {
    const curve = coverageCurve(scores, correct);
    expect(curve.map((p) => [p.threshold, p.covered, p.accuracy])).toEqual([
      [0.9, 1, 1],
      [0.8, 3, 2 / 3],
      [0.6, 4, 0.75],
      [0.4, 5, 0.6],
    ]);
  });
});

describe('thresholdForPrecision()', () => {
  // Label 1 predicted on rows 0-5 with scores 0.95 … 0.5; gold 1 on rows 0, 1, 3, 5 and row 6
  // (predicted 0), so support 5.
  const predicted = [1, 1, 1, 1, 1, 1, 0];
  const scores = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.99];
  const gold = [1, 1, 0, 1, 0, 1, 1];
  // Precision from the top: 1/1, 2/2, 2/3, 3/4, 3/5, 4/6.

  it('returns the lowest threshold reaching the target, with precision, recall and alerts there', () => {
    expect(thresholdForPrecision(predicted, scores, gold, 1, { label: 'B', target: 0.75 })).toEqual({
      label: 'B', target: 0.75, threshold: 0.7, precision: 0.75, recall: 3 / 5, alerts: 4, support: 5,
    });
    // 4/6 ≥ 0.66 at the lowest score: every prediction alerts.
    expect(thresholdForPrecision(predicted, scores, gold, 1, { label: 'B', target: 0.66 })).toMatchObject({ threshold: 0.5, recall: 4 / 5, alerts: 6 });
    expect(thresholdForPrecision(predicted, scores, gold, 1, { label: 'B', target: 1 })).toMatchObject({ threshold: 0.9, precision: 1, alerts: 2 });
  });

  it('reports an unreachable target with the best precision found', () => {
    const fit = thresholdForPrecision(predicted, scores, gold, 0, { label: 'A', target: 0.5 });
    expect(fit).toEqual({ label: 'A', target: 0.5, threshold: null, precision: 0, recall: 0, alerts: 1, support: 2 });
    expect(thresholdForPrecision([0, 0], [0.9, 0.8], [1, 1], 1, { label: 'B', target: 0.9 })).toMatchObject({ threshold: null, alerts: 0, support: 2 });
  });

  it('keeps tied scores together', () => {
    // Both 0.8 rows alert together: precision 1/2 there, never 1/1.
    expect(thresholdForPrecision([1, 1], [0.8, 0.8], [1, 0], 1, { label: 'B', target: 0.9 })).toMatchObject({ threshold: null, precision: 0.5 });
  });
});
