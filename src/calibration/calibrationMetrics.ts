// SPDX-License-Identifier: MIT
// How well scores match outcomes on labeled lines: negative log-likelihood, the multi-class Brier
// score, and the expected calibration error over equal-width confidence bins with the per-bin
// figures a reliability diagram draws (Guo et al. 2017, section 2; 15 bins as there).

export const ECE_BINS = 15;

export interface ReliabilityBin {
  /** Confidence range (lower, upper]; the first bin also holds 0. */
  lower: number;
  upper: number;
  /** Lines whose top score falls in the range. */
  count: number;
  /** Mean top score of those lines (0 when empty). */
  confidence: number;
  /** Share of those lines whose top label is the gold label (0 when empty). */
  accuracy: number;
}

export interface CalibrationMetrics {
  lines: number;
  /** Mean −ln p(gold). */
  nll: number;
  /** Mean Σ_k (p_k − [k = gold])², from 0 (perfect) to 2. */
  brier: number;
  /** Σ_bins (count / lines) · |accuracy − confidence|. */
  ece: number;
  accuracy: number;
  bins: ReliabilityBin[];
}

/** The first index of the largest value (softmax output order). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Bin of a confidence in (0, 1]: ceil(c · bins) − 1, so a bin's upper edge belongs to it. */
export function binOf(confidence: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
}

/** Figures for `probs[i]` (a probability per label) against `gold[i]` (a label index). */
export function computeCalibrationMetrics(probs: readonly (readonly number[])[], gold: readonly number[], bins = ECE_BINS): CalibrationMetrics {
  if (probs.length !== gold.length) throw new RangeError(`probs has ${probs.length} rows but gold has ${gold.length}`);
  if (probs.length === 0) throw new RangeError('no rows to measure');
  const acc = Array.from({ length: bins }, () => ({ count: 0, confidence: 0, correct: 0 }));
  let nll = 0;
  let brier = 0;
  let correct = 0;
  probs.forEach((p, i) => {
    const g = gold[i]!;
    // A probability that underflowed to 0 costs as much as the smallest positive double.
    nll -= Math.log(Math.max(p[g]!, Number.MIN_VALUE));
    for (let k = 0; k < p.length; k++) brier += (p[k]! - (k === g ? 1 : 0)) ** 2;
    const top = argmax(p);
    const bin = acc[binOf(p[top]!, bins)]!;
    bin.count++;
    bin.confidence += p[top]!;
    if (top === g) {
      bin.correct++;
      correct++;
    }
  });
  const n = probs.length;
  const reliability = acc.map((b, i): ReliabilityBin => ({
    lower: i / bins,
    upper: (i + 1) / bins,
    count: b.count,
    confidence: b.count === 0 ? 0 : b.confidence / b.count,
    accuracy: b.count === 0 ? 0 : b.correct / b.count,
  }));
  const ece = reliability.reduce((sum, b) => sum + (b.count / n) * Math.abs(b.accuracy - b.confidence), 0);
  return { lines: n, nll: nll / n, brier: brier / n, ece, accuracy: correct / n, bins: reliability };
}
