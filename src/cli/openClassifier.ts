// SPDX-License-Identifier: MIT
// The model of `classify`, `serve` and `worker`: `--thresholds` read here and handed to open(),
// which checks it against the GGUF header before the weights load (one header read).
import { ValidationError } from '../errors.js';
import { LogClassifier } from '../LogClassifier.js';
import type { OpenOptions } from '../options.js';
import { loadThresholdsFile } from '../calibration/thresholdsFile.js';

export async function openClassifier(model: string | undefined, options: OpenOptions, thresholdsPath: string | undefined): Promise<LogClassifier> {
  if (thresholdsPath === undefined) return LogClassifier.open(model, options);
  const alertThresholds = await loadThresholdsFile(thresholdsPath);
  try {
    return await LogClassifier.open(model, { ...options, alertThresholds });
  } catch (err) {
    // open() names its option; the user gave a file.
    if (err instanceof ValidationError && err.message.startsWith('alertThresholds ')) {
      throw new ValidationError(`Thresholds file ${thresholdsPath} ${err.message.slice('alertThresholds '.length)}`, { cause: err });
    }
    throw err;
  }
}
