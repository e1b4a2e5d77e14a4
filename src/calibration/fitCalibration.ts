// SPDX-License-Identifier: MIT
// One calibration fit from raw logits and gold labels, with the checks that come before it (enough
// lines per label) and the figures before and after it on the same lines.
import { CalibrationError } from '../errors.js';
import { softmax } from '../engine/scores.js';
import { calibrateLogits } from './applyCalibration.js';
import { type Calibration, type CalibrationMethod } from '../gguf/calibrationKeys.js';
import type { CalibrationRecord } from '../gguf/calibrationKeys.js';
import { computeCalibrationMetrics, type CalibrationMetrics } from './calibrationMetrics.js';
import { fitTemperature } from './fitTemperature.js';
import { fitVectorScaling } from './fitVectorScaling.js';

/**
 * Fewest labeled lines per label. Vector scaling fits two parameters per label, and a common rule
 * for likelihood fits is at least ten outcomes per parameter (Peduzzi et al. 1996); temperature
 * scaling uses the same floor for each label present, so one label's handful of lines cannot
 * decide T alone.
 */
export const DEFAULT_MIN_LINES_PER_LABEL = 20;

export interface CalibrationFit {
  record: CalibrationRecord;
  before: CalibrationMetrics;
  after: CalibrationMetrics;
  /** Labeled lines per label, in label order. */
  linesPerLabel: number[];
  iterations: number;
}

/** Every label that must have `minLines` lines has them, or a CalibrationError lists those short. */
export function checkLinesPerLabel(gold: readonly number[], labels: readonly string[], method: CalibrationMethod, minLines: number): number[] {
  const counts = labels.map(() => 0);
  for (const g of gold) counts[g]!++;
  // Temperature scaling needs lines of the labels present only; vector scaling fits every label.
  const short = labels.filter((_, k) => (method === 'vector' || counts[k]! > 0) && counts[k]! < minLines);
  if (short.length > 0) {
    const list = short.map((l) => `${l} (${counts[labels.indexOf(l)]})`).join(', ');
    throw new CalibrationError(
      `Too few labeled lines to calibrate: ${method === 'vector' ? 'vector scaling needs every label' : 'each label present needs'} at least ${minLines} lines; short: ${list}`,
    );
  }
  return counts;
}

export function fitCalibration(
  logits: readonly (readonly number[])[],
  gold: readonly number[],
  labels: readonly string[],
  method: CalibrationMethod,
  minLinesPerLabel = DEFAULT_MIN_LINES_PER_LABEL,
): CalibrationFit {
  const linesPerLabel = checkLinesPerLabel(gold, labels, method, minLinesPerLabel);
  let calibration: Calibration;
  let iterations: number;
  if (method === 'temperature') {
    const fit = fitTemperature(logits, gold);
    calibration = { method, temperature: fit.temperature };
    iterations = fit.iterations;
  } else {
    const fit = fitVectorScaling(logits, gold, labels.length);
    calibration = { method, scale: fit.scale, bias: fit.bias };
    iterations = fit.iterations;
  }
  const before = computeCalibrationMetrics(logits.map((z) => softmax([...z])), gold);
  const after = computeCalibrationMetrics(logits.map((z) => softmax(calibrateLogits(z, calibration))), gold);
  return {
    record: { calibration, lines: logits.length, nllBefore: before.nll, nllAfter: after.nll, eceBefore: before.ece, eceAfter: after.ece },
    before,
    after,
    linesPerLabel,
    iterations,
  };
}
