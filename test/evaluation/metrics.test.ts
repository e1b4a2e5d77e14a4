// SPDX-License-Identifier: MIT
// computeMetrics() against values worked out by hand, scikit-learn's zero_division=0 rules included.
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../src/evaluation/metrics.js';

const LABELS = ['A', 'B', 'C', 'D', 'E'];
const [A, B, C, E] = [0, 1, 2, 4];

describe('computeMetrics()', () => {
  // Eight rows: C is gold but never predicted, E is predicted but never gold, D is neither.
  const gold = [A, A, A, B, B, C, C, A];
  const predicted = [A, A, B, B, E, A, B, A];
  const m = computeMetrics(LABELS, gold, predicted);

  it('counts the confusion matrix as [gold][predicted]', () => {
    expect(m.confusionMatrix).toEqual([
      [3, 1, 0, 0, 0],
      [0, 1, 0, 0, 1],
      [1, 1, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
    expect(m.rows).toBe(8);
    expect(m.correct).toBe(4);
    expect(m.accuracy).toBe(0.5);
  });

  it('gives per-class precision, recall, F1, support and prediction counts', () => {
    const byLabel = Object.fromEntries(m.perClass.map((c) => [c.label, c]));
    expect(byLabel.A).toEqual({ label: 'A', precision: 0.75, recall: 0.75, f1: 0.75, support: 4, predicted: 4 });
    expect(byLabel.B!.precision).toBeCloseTo(1 / 3, 12);
    expect(byLabel.B!.recall).toBe(0.5);
    expect(byLabel.B!.f1).toBeCloseTo(0.4, 12);
    // Never predicted: precision is 0/0, reported as 0.
    expect(byLabel.C).toEqual({ label: 'C', precision: 0, recall: 0, f1: 0, support: 2, predicted: 0 });
    // Never gold: recall is 0/0, reported as 0.
    expect(byLabel.E).toEqual({ label: 'E', precision: 0, recall: 0, f1: 0, support: 0, predicted: 1 });
    expect(byLabel.D).toEqual({ label: 'D', precision: 0, recall: 0, f1: 0, support: 0, predicted: 0 });
  });

  it('averages over the labels that are gold or predicted, as scikit-learn does by default', () => {
    expect(m.averagedLabels).toEqual(['A', 'B', 'C', 'E']);
    expect(m.macroAvg.precision).toBeCloseTo(13 / 48, 12);
    expect(m.macroAvg.recall).toBeCloseTo(0.3125, 12);
    expect(m.macroAvg.f1).toBeCloseTo(0.2875, 12);
    expect(m.weightedAvg.precision).toBeCloseTo(11 / 24, 12);
    expect(m.weightedAvg.recall).toBeCloseTo(0.5, 12);
    expect(m.weightedAvg.f1).toBeCloseTo(0.475, 12);
  });

  it('gives 1 everywhere for a perfect prediction', () => {
    const p = computeMetrics(['x', 'y'], [0, 1, 1], [0, 1, 1]);
    expect(p.accuracy).toBe(1);
    expect(p.macroAvg).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(p.weightedAvg).toEqual({ precision: 1, recall: 1, f1: 1 });
  });

  it('gives 0 rather than NaN when every row is wrong', () => {
    const w = computeMetrics(['x', 'y'], [0, 0], [1, 1]);
    expect(w.perClass.map((c) => [c.precision, c.recall, c.f1])).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(w.macroAvg).toEqual({ precision: 0, recall: 0, f1: 0 });
    expect(w.weightedAvg).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('gives zeros for no rows', () => {
    const empty = computeMetrics(['x', 'y'], [], []);
    expect(empty.accuracy).toBe(0);
    expect(empty.averagedLabels).toEqual([]);
    expect(empty.macroAvg).toEqual({ precision: 0, recall: 0, f1: 0 });
    expect(empty.weightedAvg).toEqual({ precision: 0, recall: 0, f1: 0 });
    expect(empty.confusionMatrix).toEqual([[0, 0], [0, 0]]);
  });

  it('refuses arrays of different lengths and indices outside the labels', () => {
    expect(() => computeMetrics(['x'], [0, 0], [0])).toThrow(/gold has 2 rows but predicted has 1/);
    expect(() => computeMetrics(['x', 'y'], [0, 2], [0, 1])).toThrow(/gold\[1\] is 2/);
    expect(() => computeMetrics(['x', 'y'], [0, 1], [-1, 1])).toThrow(/predicted\[0\] is -1/);
  });
});
