// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { applyFunction, sigmoid, softmax } from '../../src/engine/scores.js';

describe('scores', () => {
  it('softmax sums to 1, keeps the order, and stays finite for large logits', () => {
    const p = softmax([1, 2, 3]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[2]! / p[1]!).toBeCloseTo(Math.E, 12);
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]);
    expect(softmax([-1000, 0]).every(Number.isFinite)).toBe(true);
  });

  it('sigmoid is per logit', () => {
    const [half, threeQuarters] = sigmoid([0, Math.log(3)]);
    expect(half).toBe(0.5);
    expect(threeQuarters).toBeCloseTo(0.75, 12);
  });

  it("applyFunction follows HF's function_to_apply, and 'none' copies", () => {
    const logits = [0.5, -0.5];
    expect(applyFunction(logits, 'softmax')).toEqual(softmax(logits));
    expect(applyFunction(logits, 'sigmoid')).toEqual(sigmoid(logits));
    const none = applyFunction(logits, 'none');
    expect(none).toEqual(logits);
    expect(none).not.toBe(logits);
  });
});
