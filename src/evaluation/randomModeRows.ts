// SPDX-License-Identifier: MIT
// Which rows of a labeled file `eval` scores apart: those `logtriage label --mode random` chose.
// They are a uniform sample of the log's templates, so their accuracy is unbiased over templates
// (each counts once, whatever its frequency in the log); rows chosen least-certain-first
// ('uncertain') over-represent hard lines and pull the figures down. Only a file that mixes the two gets the separate figures: a file of random rows only is
// already unbiased, and a file without modes is scored as before.
import type { LabeledRow } from './readLabeledRows.js';

/** The `mode` `logtriage label` records for its uniform sample. */
export const RANDOM_MODE = 'random';

/** Indices of the rows whose mode is 'random', when other rows are there too; else undefined. */
export function randomModeRows(rows: readonly Pick<LabeledRow, 'mode'>[]): number[] | undefined {
  const random = rows.flatMap((row, i) => (row.mode === RANDOM_MODE ? [i] : []));
  return random.length > 0 && random.length < rows.length ? random : undefined;
}
