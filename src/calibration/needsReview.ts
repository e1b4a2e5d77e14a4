// SPDX-License-Identifier: MIT
// The "needs review" rule: a result goes to a human when its top score is below `minScore` or its
// lead over the runner-up score is below `minMargin`. The label itself is never changed.

export interface ReviewThresholds {
  /** Review when the top score is below this. */
  minScore?: number | undefined;
  /** Review when top score − second score is below this. */
  minMargin?: number | undefined;
}

/** Top score and its margin over the second best (the whole top score when there is one label). */
export function topMargin(probs: readonly number[]): { top: number; margin: number } {
  let top = -Infinity;
  let second = 0;
  for (const p of probs) {
    if (p > top) {
      second = Math.max(second, top);
      top = p;
    } else if (p > second) {
      second = p;
    }
  }
  return { top, margin: top - second };
}

export function needsReview(probs: readonly number[], thresholds: ReviewThresholds | undefined): boolean {
  if (thresholds === undefined || (thresholds.minScore === undefined && thresholds.minMargin === undefined)) return false;
  const { top, margin } = topMargin(probs);
  return (thresholds.minScore !== undefined && top < thresholds.minScore) || (thresholds.minMargin !== undefined && margin < thresholds.minMargin);
}
