// SPDX-License-Identifier: MIT
// A logtriage model's facts from its GGUF header alone (labels, calibration, digest...), for the
// checks a command makes before LogClassifier.open() loads the weights.
import { existsSync } from 'node:fs';
import { ModelLoadError } from '../errors.js';
import { readGgufHeader } from './readGguf.js';
import { validateLogtriageModel, type LogtriageModelInfo } from './validateLogtriageModel.js';

/** Reads and validates the header of the GGUF at `path` (already resolved); a missing file is a ModelLoadError, as in open(). */
export async function readModelMeta(path: string): Promise<LogtriageModelInfo> {
  if (!existsSync(path)) throw new ModelLoadError(`Model file not found: ${path}`);
  return validateLogtriageModel(await readGgufHeader(path));
}
