// SPDX-License-Identifier: MIT
// What `eval` and `calibrate` share: read the labeled file, open the model with the engine flags,
// and classify the rows through the library in chunks.
import { LogClassifier, type ClassificationResult } from '../LogClassifier.js';
import type { OpenOptions } from '../options.js';
import { readLabeledRows, type LabeledFormat, type LabeledRow } from './readLabeledRows.js';

// Rows handed to the library per call: keeps the queue far below its admission limit.
const CHUNK_ROWS = 256;

/** The flags of a command that classifies a labeled file. */
export interface LabeledRunFlags {
  textField: string;
  labelField: string;
  format?: LabeledFormat;
  /** Longest row read (bytes); default DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
}

/** Reads every row (checking them all) before the model is opened. */
export async function readRowsAndOpen(file: string, modelPath: string, flags: LabeledRunFlags, open: OpenOptions): Promise<{ rows: LabeledRow[]; clf: LogClassifier }> {
  const rows = await readLabeledRows(file, { textField: flags.textField, labelField: flags.labelField, format: flags.format, maxLineBytes: flags.maxLineBytes });
  const clf = await LogClassifier.open(modelPath, open);
  return { rows, clf };
}

export async function classifyLabeledRows(clf: LogClassifier, rows: readonly LabeledRow[]): Promise<ClassificationResult[]> {
  let results: ClassificationResult[] = [];
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    results = results.concat(await clf.classifyMany(rows.slice(start, start + CHUNK_ROWS).map((r) => r.text)));
  }
  return results;
}
