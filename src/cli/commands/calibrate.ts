// SPDX-License-Identifier: MIT
// `logtriage calibrate <labeled.jsonl | labeled.csv> --model M [-o out.gguf] [--method temperature|vector]`:
// classifies the labeled lines with the model's raw scores, fits a calibration, and writes a copy
// of the model with it in `logtriage.calibration.*` (tensor bytes copied unchanged). Prints the
// figures before and after (a table, or JSON with --json) on stdout.
import type { Writable } from 'node:stream';
import type { OpenOptions } from '../../options.js';
import type { CalibrationMethod } from '../../gguf/calibrationKeys.js';
import { setCalibration } from '../../gguf/calibrationKeys.js';
import { fitCalibration, type CalibrationFit } from '../../calibration/fitCalibration.js';
import { formatCalibrationReport } from '../../calibration/formatCalibrationReport.js';
import { classifyLabeledRows, readRowsAndOpen, type LabeledRunFlags } from '../../evaluation/classifyLabeledRows.js';
import { resolveGoldLabels } from '../../evaluation/resolveGoldLabels.js';
import { copyGguf } from '../../gguf/copyGguf.js';
import { resolveModel } from '../../hub/index.js';
import { checkOutputFolder } from '../checkOutputFolder.js';
import { escapeTerminalText, terminalJson } from '../output/escapeTerminal.js';

export interface CalibrateCliOptions extends LabeledRunFlags {
  model?: string;
  output?: string;
  method: CalibrationMethod;
  minPerLabel: number;
  json?: boolean;
  /** From the model flags (modelFlags.ts CALIBRATE_FLAGS); the fit always starts from raw scores. */
  open: OpenOptions;
}

/** `model.gguf` → `model.calibrated.gguf`, beside it. */
export function defaultCalibratedPath(modelPath: string): string {
  return modelPath.toLowerCase().endsWith('.gguf') ? `${modelPath.slice(0, -5)}.calibrated.gguf` : `${modelPath}.calibrated.gguf`;
}

export async function calibrateCommand(file: string, options: CalibrateCliOptions, out: Writable = process.stdout): Promise<CalibrationFit> {
  const modelPath = resolveModel(options.model);
  const output = options.output ?? defaultCalibratedPath(modelPath);
  await checkOutputFolder(output, '--output');
  // The fit starts from the raw logits, so a model calibrated before is refitted, not stacked.
  const { rows, clf } = await readRowsAndOpen(file, modelPath, options, { ...options.open, calibration: 'none' });
  const labels = clf.labels;
  let fit: CalibrationFit;
  try {
    const gold = resolveGoldLabels(rows, labels, file);
    const results = await classifyLabeledRows(clf, rows);
    fit = fitCalibration(results.map((r) => r.logits), gold, labels, options.method, options.minPerLabel);
  } finally {
    await clf.dispose();
  }
  // copyGguf keeps the tensor bytes and writes a fresh content digest that covers the new keys.
  await copyGguf(modelPath, output, {
    editMetadata: (metadata) => setCalibration(metadata, fit.record),
  });
  out.write(
    options.json
      ? `${terminalJson({ output, labels, linesPerLabel: fit.linesPerLabel, iterations: fit.iterations, calibration: fit.record.calibration, before: fit.before, after: fit.after }, 2)}\n`
      : escapeTerminalText(formatCalibrationReport(fit, labels, output)),
  );
  return fit;
}
