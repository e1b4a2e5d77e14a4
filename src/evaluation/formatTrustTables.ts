// SPDX-License-Identifier: MIT
// The terminal tables `eval` prints after the metrics: calibration figures, accuracy and coverage
// as the review threshold rises, and the thresholds found for --target-precision.
import type { CalibrationMetrics } from '../calibration/calibrationMetrics.js';
import type { CoveragePoint, ThresholdFit } from '../calibration/selectiveClassification.js';

const fixed = (x: number) => x.toFixed(3);

export function formatCalibrationFigures(m: CalibrationMetrics, calibration: string): string {
  return `\nCalibration (scores: ${calibration}): NLL ${m.nll.toFixed(4)}, Brier ${m.brier.toFixed(4)}, ECE (${m.bins.length} bins) ${m.ece.toFixed(4)}\n`;
}

export function formatCoverageTable(points: readonly CoveragePoint[]): string {
  const out = ['', 'Review threshold (lines scoring below it go to review)', `${'threshold'.padStart(10)}${'coverage'.padStart(10)}${'lines'.padStart(8)}${'accuracy'.padStart(10)}`];
  for (const p of points) {
    out.push(`${fixed(p.threshold).padStart(10)}${fixed(p.coverage).padStart(10)}${String(p.covered).padStart(8)}${(p.accuracy === null ? '-' : fixed(p.accuracy)).padStart(10)}`);
  }
  return `${out.join('\n')}\n`;
}

export function formatThresholdFits(fits: readonly ThresholdFit[]): string {
  const width = Math.max(5, ...fits.map((f) => f.label.length));
  const out = ['', 'Alert thresholds for target precision (alert: top label with score >= threshold)'];
  out.push(`${'label'.padStart(width)}${'target'.padStart(8)}${'threshold'.padStart(11)}${'precision'.padStart(11)}${'recall'.padStart(8)}${'alerts'.padStart(8)}`);
  for (const f of fits) {
    const reached = f.threshold === null ? `unreachable (best precision ${fixed(f.precision)} at recall ${fixed(f.recall)})` : '';
    out.push(
      f.threshold === null
        ? `${f.label.padStart(width)}${fixed(f.target).padStart(8)}  ${reached}`
        : `${f.label.padStart(width)}${fixed(f.target).padStart(8)}${fixed(f.threshold).padStart(11)}${fixed(f.precision).padStart(11)}${fixed(f.recall).padStart(8)}${String(f.alerts).padStart(8)}`,
    );
  }
  return `${out.join('\n')}\n`;
}
