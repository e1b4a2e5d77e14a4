// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { needsReview, topMargin } from '../../src/calibration/needsReview.js';

describe('needsReview()', () => {
  const probs = [0.5, 0.3, 0.2]; // top 0.5, margin 0.2

  it('flags a top score below minScore and keeps one at or above it', () => {
    expect(needsReview(probs, { minScore: 0.6 })).toBe(true);
    expect(needsReview(probs, { minScore: 0.5 })).toBe(false);
  });

  it('flags a margin below minMargin', () => {
    expect(topMargin(probs).margin).toBeCloseTo(0.2, 12);
    expect(needsReview(probs, { minMargin: 0.25 })).toBe(true);
    expect(needsReview(probs, { minMargin: 0.15 })).toBe(false);
  });

  it('flags when either rule fires, and never without thresholds', () => {
    expect(needsReview(probs, { minScore: 0.4, minMargin: 0.25 })).toBe(true);
    expect(needsReview(probs, { minScore: 0.6, minMargin: 0.1 })).toBe(true);
    expect(needsReview(probs, { minScore: 0.4, minMargin: 0.1 })).toBe(false);
    expect(needsReview(probs, undefined)).toBe(false);
    expect(needsReview(probs, {})).toBe(false);
  });

  it('takes ties for the top as margin 0 and a single label as margin = score', () => {
    expect(topMargin([0.4, 0.4, 0.2]).margin).toBe(0);
    expect(topMargin([1]).margin).toBe(1);
  });
});
