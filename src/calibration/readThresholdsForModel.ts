// SPDX-License-Identifier: MIT
// `--thresholds` checked against the model file's GGUF header before llama.cpp loads anything:
// the labels are the checkpoint's id2label stored in the GGUF and the calibration is its
// `logtriage.calibration.*`, so a wrong thresholds file costs a header read, not a model load.
import { readModelMeta } from '../gguf/readModelMeta.js';
import { resolveModel } from '../hub/resolveModel.js';
import type { OpenOptions } from '../options.js';
import { checkThresholdsFile, loadThresholdsFile } from './thresholdsFile.js';

/**
 * The thresholds of the file at `path` by the model's label spelling, checked against the model
 * `model` names (path or pulled repo id, as open() takes) and the calibration open() will apply
 * with `calibration` ('none' ignores the model's).
 */
export async function readThresholdsForModel(path: string, model: string | undefined, calibration: OpenOptions['calibration']): Promise<Map<string, number>> {
  const file = await loadThresholdsFile(path);
  const meta = await readModelMeta(resolveModel(model));
  const applied = calibration === 'none' ? null : (meta.calibration?.calibration ?? null);
  return checkThresholdsFile(path, file, meta.labels, applied);
}
