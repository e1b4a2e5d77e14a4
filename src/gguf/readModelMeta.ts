// SPDX-License-Identifier: MIT
// A logtriage model's facts from its GGUF header alone (labels, calibration, digest, tensor
// shapes): what open() plans from, and what a command checks before open() loads the weights.
import { existsSync } from 'node:fs';
import { ModelLoadError } from '../errors.js';
import { readGgufHeader } from './readGguf.js';
import type { GgufHeader } from './ggufTypes.js';
import { validateLogtriageModel, type LogtriageModelInfo } from './validateLogtriageModel.js';

/** Reads and validates the header of the GGUF at `path` (already resolved); a missing file is a ModelLoadError. */
export async function readModelHeader(path: string): Promise<{ header: GgufHeader; meta: LogtriageModelInfo }> {
  if (!existsSync(path)) throw new ModelLoadError(`Model file not found: ${path}`);
  const header = await readGgufHeader(path);
  return { header, meta: validateLogtriageModel(header) };
}

/** The validated logtriage facts of the GGUF at `path` (readModelHeader without the raw header). */
export async function readModelMeta(path: string): Promise<LogtriageModelInfo> {
  return (await readModelHeader(path)).meta;
}
