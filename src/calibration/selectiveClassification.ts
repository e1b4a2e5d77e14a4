// SPDX-License-Identifier: MIT
// Selective classification on labeled lines: what is left when results under a review threshold go
// to a human (coverage, and accuracy on the rest), and per label the lowest alert threshold whose
// alerts reach a target precision. A line "alerts" for label L at threshold t when the model's top
// label is L and its score is at least t.

export interface CoveragePoint {
  /** Review threshold: lines scoring below it go to review. */
  threshold: number;
  /** Lines scoring at least `threshold`. */
  covered: number;
  /** covered / all lines. */
  coverage: number;
  /** Share of covered lines whose top label is gold; null when none is covered. */
  accuracy: number | null;
}

/** Review thresholds of the `eval` table. */
export const COVERAGE_TABLE_THRESHOLDS = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99] as const;

/** Coverage and accuracy at each threshold; `scores` are top scores, `correct` whether the top label is gold. */
export function coverageAt(scores: readonly number[], correct: readonly boolean[], thresholds: readonly number[]): CoveragePoint[] {
  return thresholds.map((threshold) => {
    let covered = 0;
    let right = 0;
    scores.forEach((s, i) => {
      if (s >= threshold) {
        covered++;
        if (correct[i]) right++;
      }
    });
    return { threshold, covered, coverage: scores.length === 0 ? 0 : covered / scores.length, accuracy: covered === 0 ? null : right / covered };
  });
}

/** The whole curve: one point per distinct top score, highest threshold (least coverage) first. */
export function coverageCurve(scores: readonly number[], correct: readonly boolean[]): CoveragePoint[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const points: CoveragePoint[] = [];
  let right = 0;
  order.forEach((i, rank) => {
    if (correct[i]) right++;
    const next = order[rank + 1];
    // Ties share a threshold: emit once all lines at this score are counted.
    if (next === undefined || scores[next]! < scores[i]!) {
      points.push({ threshold: scores[i]!, covered: rank + 1, coverage: (rank + 1) / scores.length, accuracy: right / (rank + 1) });
    }
  });
  return points;
}

export interface PrecisionTarget {
  label: string;
  /** Wanted precision, in (0, 1]. */
  target: number;
}

export interface ThresholdFit extends PrecisionTarget {
  /** Lowest threshold whose alerts reach the target; null when no threshold does. */
  threshold: number | null;
  /** Precision and recall of the alerts at `threshold`; when unreachable, at the threshold of best precision. */
  precision: number;
  recall: number;
  /** Lines alerting at that threshold. */
  alerts: number;
  /** Lines whose gold label is this label. */
  support: number;
}

/**
 * The lowest threshold t such that, among lines with top label `labelIndex` and score ≥ t, the
 * share whose gold label is `labelIndex` is at least `target`. The lowest such t keeps the most
 * recall; precision need not rise with t, so every distinct score is tried.
 */
export function thresholdForPrecision(
  predicted: readonly number[],
  scores: readonly number[],
  gold: readonly number[],
  labelIndex: number,
  target: PrecisionTarget,
): ThresholdFit {
  const support = gold.filter((g) => g === labelIndex).length;
  const mine = predicted.map((p, i) => i).filter((i) => predicted[i] === labelIndex).sort((a, b) => scores[b]! - scores[a]!);
  let truePositives = 0;
  let reached: ThresholdFit | undefined;
  let best: ThresholdFit | undefined;
  mine.forEach((i, rank) => {
    if (gold[i] === labelIndex) truePositives++;
    const next = mine[rank + 1];
    if (next !== undefined && scores[next]! >= scores[i]!) return;
    const fit = { ...target, threshold: scores[i]!, precision: truePositives / (rank + 1), recall: support === 0 ? 0 : truePositives / support, alerts: rank + 1, support };
    if (fit.precision >= target.target) reached = fit;
    if (best === undefined || fit.precision > best.precision) best = fit;
  });
  if (reached) return reached;
  return { ...target, threshold: null, precision: best?.precision ?? 0, recall: best?.recall ?? 0, alerts: best?.alerts ?? 0, support };
}
