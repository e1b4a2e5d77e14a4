// SPDX-License-Identifier: MIT
// Classifies labeled rows through the library in chunks, for `eval` and `calibrate`.
import type { ClassificationResult, LogClassifier } from '../classifier.js';
import type { LabeledRow } from './readLabeledRows.js';

// Rows handed to the library per call: keeps the queue far below its admission limit.
const CHUNK_ROWS = 256;

export async function classifyLabeledRows(clf: LogClassifier, rows: readonly LabeledRow[]): Promise<ClassificationResult[]> {
  let results: ClassificationResult[] = [];
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    results = results.concat(await clf.classifyMany(rows.slice(start, start + CHUNK_ROWS).map((r) => r.text)));
  }
  return results;
}
