// SPDX-License-Identifier: MIT
// The two orders of `logtriage label --mode`, on hand-made margins: uncertain = smallest top-2
// margin first, round-robin over predicted labels; random = a seeded permutation.
import { describe, expect, it } from 'vitest';
import { seededShuffle, topMargin, uncertainOrder, type LinePrediction } from '../../src/label/LabelSession.js';

const p = (label: string, margin: number): LinePrediction => ({ label, scores: {}, margin });

describe('label order', () => {
  it('topMargin is the top score less the second', () => {
    expect(topMargin({ a: 0.5, b: 0.2, c: 0.3 })).toBeCloseTo(0.2);
    expect(topMargin({ a: 1 })).toBe(1);
  });

  it('uncertain: each round takes every label its next least certain line, those by margin', () => {
    // A: 0.5, 0.1, 0.3; B: 0.2, 0.05; C: 0.9
    const order = uncertainOrder([p('A', 0.5), p('B', 0.2), p('A', 0.1), p('C', 0.9), p('A', 0.3), p('B', 0.05)]);
    // round 0: B 0.05, A 0.1, C 0.9; round 1: B 0.2, A 0.3; round 2: A 0.5
    expect(order).toEqual([5, 2, 3, 1, 4, 0]);
    // ties keep line order
    expect(uncertainOrder([p('A', 0.1), p('A', 0.1), p('B', 0.1)])).toEqual([0, 2, 1]);
    expect(uncertainOrder([])).toEqual([]);
  });

  it('random: a permutation, the same for the same seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = seededShuffle(items, 1);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(seededShuffle(items, 1)).toEqual(a);
    expect(seededShuffle(items, 2)).not.toEqual(a);
    expect(a).not.toEqual(items);
  });
});
