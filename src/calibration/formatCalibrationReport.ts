// SPDX-License-Identifier: MIT
// The terminal report of `logtriage calibrate`: the fitted parameters and NLL, Brier, ECE and
// accuracy before and after on the labeled lines.
import { describeCalibration } from './applyCalibration.js';
import type { CalibrationMetrics } from './calibrationMetrics.js';
import type { CalibrationFit } from './fitCalibration.js';

export function formatCalibrationRows(before: CalibrationMetrics, after: CalibrationMetrics): string[] {
  const row = (name: string, a: number, b: number) => `${name.padEnd(14)}${a.toFixed(4).padStart(10)}${b.toFixed(4).padStart(10)}`;
  return [
    `${''.padEnd(14)}${'before'.padStart(10)}${'after'.padStart(10)}`,
    row('NLL', before.nll, after.nll),
    row('Brier', before.brier, after.brier),
    row(`ECE (${before.bins.length} bins)`, before.ece, after.ece),
    row('accuracy', before.accuracy, after.accuracy),
  ];
}

export function formatCalibrationReport(fit: CalibrationFit, labels: readonly string[], output: string): string {
  const perLabel = labels.map((l, k) => `${l} ${fit.linesPerLabel[k]}`).join(', ');
  return [
    `calibration: ${describeCalibration(fit.record.calibration)}`,
    `fitted on ${fit.record.lines} labeled lines (${perLabel}) in ${fit.iterations} iterations`,
    '',
    ...formatCalibrationRows(fit.before, fit.after),
    '',
    `written to ${output}`,
    '',
  ].join('\n');
}
