// SPDX-License-Identifier: MIT
// Which labels an adapted head has and each row's gold index. Labels the model already has are
// matched as eval and calibrate match them (resolveGoldLabels: exact, then case-insensitively);
// then the head keeps the model's labels, in its order, and starts from its weights. A file with
// labels the model lacks needs `newLabels`: the head's labels are then the file's, in code-point
// order (the same whichever order the rows come in).
import { AdaptError, ValidationError } from '../errors.js';
import type { LabeledRow } from '../evaluation/readLabeledRows.js';
import { resolveGoldLabels } from '../evaluation/resolveGoldLabels.js';

export interface AdaptLabels {
  labels: string[];
  gold: number[];
  /** True when `labels` are the model's own (a warm start and a like-for-like comparison). */
  sameAsModel: boolean;
  /** Lines per label, in label order. */
  linesPerLabel: number[];
}

/**
 * Labels and gold indices for `rows`; every label needs `minPerLabel` lines. Errors (AdaptError):
 * labels the model lacks without `newLabels` (one unknown label is named with its row; a file none
 * of whose labels are the model's is said to be labeled for another model), a label short of lines
 * (named with its count; with the model's labels, one with no line at all counts too).
 */
export function adaptLabels(rows: readonly LabeledRow[], modelLabels: readonly string[], file: string, options: { newLabels: boolean; minPerLabel: number }): AdaptLabels {
  let labels: string[];
  let gold: number[];
  let sameAsModel: boolean;
  try {
    gold = resolveGoldLabels(rows, modelLabels, file);
    labels = [...modelLabels];
    sameAsModel = true;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const fileLabels = [...new Set(rows.map((r) => r.label.trim()))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (!options.newLabels) {
      const known = new Set(modelLabels.map((l) => l.trim().toLowerCase()));
      const foreign = fileLabels.filter((l) => !known.has(l.toLowerCase()));
      const listed = modelLabels.map((l) => JSON.stringify(l)).join(', ');
      if (foreign.length === fileLabels.length) {
        throw new AdaptError(
          `${file} looks labeled for another model: none of its labels (${fileLabels.map((l) => JSON.stringify(l)).join(', ')}) is a label of this model (${listed}); ` +
            'pass --new-labels to fit a head with the file\'s labels',
        );
      }
      throw new AdaptError(`${err.message.replace(/; valid labels: .*$/, '')} (labels of the model: ${listed}); pass --new-labels to fit a head with the file's labels`);
    }
    if (fileLabels.some((l) => l.length === 0)) throw new AdaptError(`${file}: a row has an empty label`);
    labels = fileLabels;
    const index = new Map(labels.map((l, i) => [l, i]));
    gold = rows.map((r) => index.get(r.label.trim())!);
    sameAsModel = false;
  }
  const linesPerLabel = labels.map(() => 0);
  for (const g of gold) linesPerLabel[g]!++;
  const short = labels.map((label, k) => ({ label, lines: linesPerLabel[k]! })).filter((l) => l.lines < options.minPerLabel);
  if (short.length > 0) {
    throw new AdaptError(
      `Too few labeled lines to fit a head: each label needs at least ${options.minPerLabel}; ` + short.map((s) => `${JSON.stringify(s.label)} has ${s.lines}`).join(', '),
    );
  }
  return { labels, gold, sameAsModel, linesPerLabel };
}
