// SPDX-License-Identifier: MIT
// fitHead: multinomial logistic regression with L2 and balanced weights on frozen features.
import { describe, expect, it } from 'vitest';
import { fitHead } from '../../src/adapt/fitHead.js';
import { seededRandom } from '../helpers/seededRandom.js';

/** n rows of d features around one centre per label, with a few dimensions 100x larger (as hidden states have). */
function blobs(n: number, d: number, K: number, spread: number, seed = 7): { x: Float32Array; gold: number[] } {
  const rnd = seededRandom(seed);
  const centres = Array.from({ length: K }, () => Array.from({ length: d }, () => rnd() * 2 - 1));
  const x = new Float32Array(n * d);
  const gold: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % K;
    gold.push(k);
    for (let j = 0; j < d; j++) x[i * d + j] = (centres[k]![j]! + spread * (rnd() * 2 - 1)) * (j < 2 ? 100 : 1) + (j < 2 ? 500 : 0);
  }
  return { x, gold };
}

function accuracy(x: Float32Array, gold: number[], weight: Float32Array, bias: Float32Array, K: number): number {
  const d = x.length / gold.length;
  let right = 0;
  gold.forEach((g, i) => {
    let best = 0;
    let bestValue = -Infinity;
    for (let k = 0; k < K; k++) {
      let v = bias[k]!;
      for (let j = 0; j < d; j++) v += weight[k * d + j]! * x[i * d + j]!;
      if (v > bestValue) [best, bestValue] = [k, v];
    }
    if (best === g) right++;
  });
  return right / gold.length;
}

describe('fitHead()', () => {
  it('separates labelled clusters in the raw feature space (standardisation folded back)', () => {
    const { x, gold } = blobs(200, 16, 4, 0.5);
    const fit = fitHead(x, gold, 4, { l2: 0.01 });
    expect(fit.converged).toBe(true);
    expect(fit.weight).toHaveLength(4 * 16);
    expect(fit.bias).toHaveLength(4);
    expect(accuracy(x, gold, fit.weight, fit.bias, 4)).toBe(1);
  });

  it('a larger L2 gives smaller weights and a higher loss', () => {
    const { x, gold } = blobs(120, 8, 3, 1.5);
    const norm = (w: Float32Array) => Math.sqrt(w.reduce((s, v) => s + v * v, 0));
    const small = fitHead(x, gold, 3, { l2: 0.001 });
    const large = fitHead(x, gold, 3, { l2: 1 });
    expect(norm(large.weight)).toBeLessThan(norm(small.weight));
    expect(large.loss).toBeGreaterThan(small.loss);
  });

  it('a warm start from the solution stops at once with the same head', () => {
    const { x, gold } = blobs(120, 8, 3, 1.5);
    const cold = fitHead(x, gold, 3, { l2: 0.05, gradientTolerance: 1e-9 });
    const warm = fitHead(x, gold, 3, { l2: 0.05, init: { weight: cold.weight, bias: cold.bias }, gradientTolerance: 1e-5 });
    expect(warm.iterations).toBeLessThanOrEqual(2);
    warm.weight.forEach((w, i) => expect(w).toBeCloseTo(cold.weight[i]!, 3));
  });

  it('weighs each label the same in total: a rare label is not drowned by a common one', () => {
    // 95 lines of label 0, 5 of label 1, overlapping clusters: without balancing, label 1 would be predicted almost never.
    const rnd = seededRandom(3);
    const d = 4;
    const gold = Array.from({ length: 100 }, (_, i) => (i < 95 ? 0 : 1));
    const x = Float32Array.from({ length: 100 * d }, (_, p) => (gold[Math.floor(p / d)] === 1 ? 0.8 : 0) + rnd() * 2 - 1);
    const fit = fitHead(x, gold, 2, { l2: 0.01 });
    let predictedRare = 0;
    let foundRare = 0;
    for (let i = 0; i < 100; i++) {
      let v = fit.bias[1]! - fit.bias[0]!;
      for (let j = 0; j < d; j++) v += (fit.weight[d + j]! - fit.weight[j]!) * x[i * d + j]!;
      if (v > 0) predictedRare++;
      if (v > 0 && gold[i] === 1) foundRare++;
    }
    // Unweighted, the rare label would be predicted less often than it occurs.
    expect(predictedRare).toBeGreaterThan(5);
    expect(foundRare).toBeGreaterThanOrEqual(3);
  });

  it('refuses a label with no row and a matrix that is not n rows', () => {
    expect(() => fitHead(new Float32Array(4), [0, 0], 2, { l2: 0.1 })).toThrow(/label 1 has no row/);
    expect(() => fitHead(new Float32Array(5), [0, 1], 2, { l2: 0.1 })).toThrow(RangeError);
  });
});
