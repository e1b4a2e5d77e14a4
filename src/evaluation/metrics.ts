// SPDX-License-Identifier: MIT
// Classification metrics from gold and predicted label indices, computed the way scikit-learn's
// classification_report / confusion_matrix do with zero_division=0: a ratio whose denominator is
// 0 is 0, and the macro and weighted averages cover the labels that occur in the gold labels or
// the predictions (sklearn's default `unique_labels(y_true, y_pred)`).

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose gold label is this one. */
  support: number;
  /** Rows predicted as this label. */
  predicted: number;
}

export interface AveragedMetrics {
  precision: number;
  recall: number;
  f1: number;
}

export interface EvaluationMetrics {
  /** Every label of the model, in label-id order; indexes `perClass` and both matrix axes. */
  labels: string[];
  rows: number;
  /** Rows whose prediction equals the gold label. */
  correct: number;
  accuracy: number;
  /** Labels that occur among the gold labels or the predictions; the averages cover these only. */
  averagedLabels: string[];
  macroAvg: AveragedMetrics;
  /** Averages weighted by support. */
  weightedAvg: AveragedMetrics;
  perClass: ClassMetrics[];
  /** `confusionMatrix[gold][predicted]`: rows with that gold label given that prediction. */
  confusionMatrix: number[][];
}

const ratio = (numerator: number, denominator: number): number => (denominator === 0 ? 0 : numerator / denominator);

function checkIndex(value: number, name: string, row: number, labelCount: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= labelCount) {
    throw new RangeError(`${name}[${row}] is ${value}, not a label index in 0..${labelCount - 1}`);
  }
}

export function computeMetrics(labels: readonly string[], gold: readonly number[], predicted: readonly number[]): EvaluationMetrics {
  if (gold.length !== predicted.length) {
    throw new RangeError(`gold has ${gold.length} rows but predicted has ${predicted.length}`);
  }
  const n = labels.length;
  const confusionMatrix = labels.map(() => new Array<number>(n).fill(0));
  gold.forEach((g, row) => {
    const p = predicted[row]!;
    checkIndex(g, 'gold', row, n);
    checkIndex(p, 'predicted', row, n);
    confusionMatrix[g]![p]!++;
  });

  const perClass = labels.map((label, k): ClassMetrics => {
    const truePositives = confusionMatrix[k]![k]!;
    const support = confusionMatrix[k]!.reduce((a, b) => a + b, 0);
    const predictedCount = confusionMatrix.reduce((a, row) => a + row[k]!, 0);
    const precision = ratio(truePositives, predictedCount);
    const recall = ratio(truePositives, support);
    // 2·tp / (2·tp + fp + fn) equals the harmonic mean of precision and recall when both are
    // defined, and is 0 (not NaN) when either is 0.
    const f1 = ratio(2 * truePositives, support + predictedCount);
    return { label, precision, recall, f1, support, predicted: predictedCount };
  });

  const averaged = perClass.filter((c) => c.support > 0 || c.predicted > 0);
  const rows = gold.length;
  const mean = (pick: (c: ClassMetrics) => number) => ratio(averaged.reduce((a, c) => a + pick(c), 0), averaged.length);
  const weightedMean = (pick: (c: ClassMetrics) => number) => ratio(averaged.reduce((a, c) => a + pick(c) * c.support, 0), rows);
  const correct = perClass.reduce((a, _, k) => a + confusionMatrix[k]![k]!, 0);

  return {
    labels: [...labels],
    rows,
    correct,
    accuracy: ratio(correct, rows),
    averagedLabels: averaged.map((c) => c.label),
    macroAvg: { precision: mean((c) => c.precision), recall: mean((c) => c.recall), f1: mean((c) => c.f1) },
    weightedAvg: {
      precision: weightedMean((c) => c.precision),
      recall: weightedMean((c) => c.recall),
      f1: weightedMean((c) => c.f1),
    },
    perClass,
    confusionMatrix,
  };
}
