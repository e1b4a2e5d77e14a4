// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { fitVectorScaling, solveCholesky } from '../../src/calibration/fitVectorScaling.js';
import { CalibrationError } from '../../src/errors.js';
import { softmax } from '../../src/engine/scores.js';
import { drawCategorical, normal, seededRandom } from '../helpers/seededRandom.js';

describe('solveCholesky()', () => {
  it('solves a symmetric positive definite system and refuses an indefinite one', () => {
    const a = [Float64Array.from([4, 2]), Float64Array.from([2, 3])];
    const x = solveCholesky(a, Float64Array.from([2, 1]))!;
    expect(x[0]).toBeCloseTo(0.5, 12);
    expect(x[1]).toBeCloseTo(0, 12);
    expect(solveCholesky([Float64Array.from([1, 2]), Float64Array.from([2, 1])], Float64Array.from([1, 1]))).toBeUndefined();
  });
});

describe('fitVectorScaling()', () => {
  it('recovers per-label scale and (centred) bias from labels drawn with them', () => {
    const random = seededRandom(3);
    const scale = [0.5, 1.5, 0.8, 1.2];
    const bias = [0.4, -0.3, 0.2, -0.3];
    const logits = Array.from({ length: 30_000 }, () => scale.map(() => 2 * normal(random)));
    const gold = logits.map((z) => drawCategorical(softmax(z.map((v, k) => scale[k]! * v + bias[k]!)), random));
    const fit = fitVectorScaling(logits, gold, 4);
    fit.scale.forEach((a, k) => expect(Math.abs(a / scale[k]! - 1)).toBeLessThan(0.05));
    fit.bias.forEach((b, k) => expect(Math.abs(b - bias[k]!)).toBeLessThan(0.05));
    expect(fit.bias.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    expect(fit.iterations).toBeLessThan(30);
  });

  it('refuses separable labels with a CalibrationError', () => {
    const logits = [[2, 0], [0, 3], [1, -1], [-2, 2], [3, 1], [0, 1]];
    const gold = [0, 1, 0, 1, 0, 1];
    expect(() => fitVectorScaling(logits, gold, 2)).toThrow(CalibrationError);
  });

  it('refuses a label that is never gold (its bias runs to −∞)', () => {
    const random = seededRandom(5);
    const logits = Array.from({ length: 500 }, () => [normal(random), normal(random), normal(random)]);
    const gold = logits.map((z) => drawCategorical(softmax([z[0]!, z[1]!]), random));
    expect(() => fitVectorScaling(logits, gold, 3)).toThrow(/never the gold label/);
  });
});
