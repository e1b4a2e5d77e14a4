// SPDX-License-Identifier: MIT
// The two post-hoc calibrations logtriage fits (Guo et al. 2017, "On Calibration of Modern Neural
// Networks"): temperature scaling divides every logit by one T > 0, which keeps the argmax;
// vector scaling maps logit k to scale[k]·z[k] + bias[k], which may change it.

import type { Calibration } from '../gguf/calibrationKeys.js';

/** The logits softmax turns into calibrated scores; without a calibration, the logits themselves. */
export function calibrateLogits(logits: readonly number[], calibration: Calibration | null | undefined): number[] {
  if (calibration == null) return [...logits];
  if (calibration.method === 'temperature') return logits.map((z) => z / calibration.temperature);
  return logits.map((z, k) => calibration.scale[k]! * z + calibration.bias[k]!);
}

/** One line for people: "temperature T = 1.734" or "vector scaling (5 labels)". */
export function describeCalibration(calibration: Calibration | undefined): string {
  if (calibration === undefined) return 'none';
  if (calibration.method === 'temperature') return `temperature scaling, T = ${calibration.temperature.toPrecision(4)}`;
  const pairs = calibration.scale.map((a, k) => `${a.toPrecision(3)}·z${k}${calibration.bias[k]! < 0 ? '−' : '+'}${Math.abs(calibration.bias[k]!).toPrecision(3)}`);
  return `vector scaling (${pairs.join(', ')})`;
}
