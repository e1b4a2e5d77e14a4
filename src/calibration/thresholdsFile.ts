// SPDX-License-Identifier: MIT
// The alert-thresholds file `eval --thresholds-out` writes and `classify`/`serve --thresholds`
// read (docs/eval.md#alert-thresholds): per label, the lowest score at which a line whose top
// label it is raises an alert. Scores depend on the calibration, so the file records which one
// its thresholds were set on and is refused by a classifier that applies another.
import { readFile, writeFile } from 'node:fs/promises';
import { ValidationError } from '../errors.js';
import { parseOptions, THRESHOLDS_FILE_VERSION, thresholdsFileSchema, type ThresholdsFile } from '../options.js';
import type { Calibration } from '../gguf/calibrationKeys.js';
import type { ThresholdFit } from './selectiveClassification.js';

const calibrationName = (c: Calibration | null | undefined) => c?.method ?? 'none';

/** The file for the reachable targets of `fits`. */
export function thresholdsFileFrom(fits: readonly ThresholdFit[], calibration: Calibration | null): ThresholdsFile {
  const reachable = fits.filter((f) => f.threshold !== null);
  return {
    version: THRESHOLDS_FILE_VERSION,
    calibration: calibrationName(calibration),
    thresholds: Object.fromEntries(reachable.map((f) => [f.label, f.threshold!])),
    fitted: Object.fromEntries(fits.map((f) => [f.label, { targetPrecision: f.target, threshold: f.threshold, precision: f.precision, recall: f.recall, alerts: f.alerts, support: f.support }])),
  };
}

export async function writeThresholdsFile(path: string, file: ThresholdsFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** Reads a thresholds file and checks its shape (zod); the model is not needed yet. */
export async function loadThresholdsFile(path: string): Promise<ThresholdsFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ValidationError(`Cannot read thresholds file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseOptions(thresholdsFileSchema, json, `thresholds file ${path}`);
}

/**
 * Checks thresholds against a model's labels and the calibration applied to its scores; returns
 * them by the model's label spelling. `source` names them in messages ("Thresholds file x.json").
 */
export function checkThresholdsFile(source: string, file: ThresholdsFile, labels: readonly string[], calibration: Calibration | null): Map<string, number> {
  if (file.calibration !== calibrationName(calibration)) {
    throw new ValidationError(
      `${source} was set on scores with calibration '${file.calibration}', but this classifier applies '${calibrationName(calibration)}': rerun eval --thresholds-out with this model, or match its calibration`,
    );
  }
  const byLowerCase = new Map(labels.map((l) => [l.toLowerCase(), l]));
  const out = new Map<string, number>();
  for (const [name, threshold] of Object.entries(file.thresholds)) {
    const label = byLowerCase.get(name.toLowerCase());
    if (label === undefined) throw new ValidationError(`${source} names label '${name}', which this model does not have; its labels are: ${labels.join(', ')}`);
    out.set(label, threshold);
  }
  return out;
}

/** Whether a result raises an alert: its label has a threshold and its score reaches it. */
export function isAlert(thresholds: Readonly<Record<string, number>>, result: { label: string; score: number }): boolean {
  const threshold = Object.hasOwn(thresholds, result.label) ? thresholds[result.label] : undefined;
  return threshold !== undefined && result.score >= threshold;
}

/** `--target-precision Malicious=0.95,Error=0.9` → targets by the model's label spelling. */
export function parsePrecisionTargets(value: string, labels: readonly string[]): Array<{ label: string; target: number }> {
  const byLowerCase = new Map(labels.map((l) => [l.toLowerCase(), l]));
  const seen = new Set<string>();
  return value.split(',').map((part) => {
    const match = /^\s*(.+?)\s*=\s*([^=]+?)\s*$/u.exec(part);
    if (!match) throw new ValidationError(`--target-precision: expected LABEL=PRECISION pairs separated by commas, got '${part}'`);
    const label = byLowerCase.get(match[1]!.toLowerCase());
    if (label === undefined) throw new ValidationError(`--target-precision: unknown label '${match[1]}'; this model's labels are: ${labels.join(', ')}`);
    const target = Number(match[2]);
    if (!Number.isFinite(target) || target <= 0 || target > 1) throw new ValidationError(`--target-precision: expected a precision in (0, 1] for ${label}, got '${match[2]}'`);
    if (seen.has(label)) throw new ValidationError(`--target-precision: label ${label} is given twice`);
    seen.add(label);
    return { label, target };
  });
}
