// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { calibrateLogits } from '../../src/calibration/applyCalibration.js';
import { fitTemperature } from '../../src/calibration/fitTemperature.js';
import { CalibrationError } from '../../src/errors.js';
import { softmax } from '../../src/engine/scores.js';
import { drawCategorical, normal, seededRandom } from '../helpers/seededRandom.js';

function synthetic(lines: number, labels: number, temperature: number, seed: number): { logits: number[][]; gold: number[] } {
  const random = seededRandom(seed);
  const logits = Array.from({ length: lines }, () => Array.from({ length: labels }, () => 3 * normal(random)));
  const gold = logits.map((z) => drawCategorical(softmax(z.map((v) => v / temperature)), random));
  return { logits, gold };
}

describe('fitTemperature()', () => {
  it.each([0.5, 1, 2.5])('recovers T* = %s from labels drawn at T*', (truth) => {
    const { logits, gold } = synthetic(20_000, 4, truth, 7);
    const fit = fitTemperature(logits, gold);
    expect(Math.abs(fit.temperature / truth - 1)).toBeLessThan(0.05);
    expect(fit.iterations).toBeLessThan(50);
  });

  it('lands where the NLL derivative is zero', () => {
    const { logits, gold } = synthetic(2_000, 3, 1.7, 11);
    const { temperature, nll } = fitTemperature(logits, gold);
    const nllAt = (t: number) =>
      logits.reduce((s, z, i) => s - Math.log(softmax(calibrateLogits(z, { method: 'temperature', temperature: t }))[gold[i]!]!), 0) / logits.length;
    expect(nll).toBeCloseTo(nllAt(temperature), 12);
    expect(nllAt(temperature * 1.01)).toBeGreaterThan(nll);
    expect(nllAt(temperature * 0.99)).toBeGreaterThan(nll);
  });

  it('refuses separable labels (T → 0) with a CalibrationError', () => {
    const logits = [[2, 0], [0, 3], [1, -1], [-2, 2]];
    const gold = [0, 1, 0, 1];
    expect(() => fitTemperature(logits, gold)).toThrow(CalibrationError);
    expect(() => fitTemperature(logits, gold)).toThrow(/T → 0/);
  });

  it('refuses labels that run against the logits (T infinite or negative)', () => {
    const logits = [[2, 0], [0, 3], [1, -1], [-2, 2]];
    const gold = [1, 0, 1, 0];
    expect(() => fitTemperature(logits, gold)).toThrow(/infinite or negative/);
  });

  it('refuses mismatched input', () => {
    expect(() => fitTemperature([[1, 2]], [])).toThrow(RangeError);
  });
});
