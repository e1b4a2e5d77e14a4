// SPDX-License-Identifier: MIT
// `logtriage verify [model]`: recomputes the model's content digest (docs/model-format.md#integrity).
// The verdict goes to stdout; a mismatch is an IntegrityError (exit 1) naming the first tensor or
// metadata key that differs, and a file without a digest is 'unverifiable' (exit 3).
import { existsSync } from 'node:fs';
import { IntegrityError, ModelLoadError } from '../../errors.js';
import { verifyModel } from '../../gguf/verifyModel.js';
import { resolveModel } from '../../hub/index.js';
import { byteProgressBar } from '../output/progressBar.js';
import { escapeTerminalText, terminalJson } from '../output/escapeTerminal.js';

export interface VerifyCommandOptions {
  model?: string;
  json: boolean;
  quiet: boolean;
}

export interface VerifyIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function verifyCommand(options: VerifyCommandOptions, io: VerifyIo = process): Promise<void> {
  const path = resolveModel(options.model);
  if (!existsSync(path)) throw new ModelLoadError(`Model file not found: ${path}`);
  const bar = !options.quiet && !options.json && io.stderr.isTTY === true ? byteProgressBar({ stream: io.stderr, verb: 'verifying' }) : undefined;
  const started = performance.now();
  const result = await verifyModel(path, bar ? { onProgress: bar.update } : {}).finally(() => bar?.stop());
  const seconds = (performance.now() - started) / 1000;
  if (options.json) io.stdout.write(`${terminalJson({ ...result, seconds: Number(seconds.toFixed(3)) })}\n`);
  if (result.status !== 'verified') throw new IntegrityError(result.status, result.message);
  if (!options.json) {
    const mb = result.bytes / 1e6;
    io.stdout.write(
      escapeTerminalText(`verified ${path}: ${result.tensors} tensors and ${result.keys} metadata keys match the digest (${mb.toFixed(1)} MB in ${seconds.toFixed(2)} s, ${(mb / seconds).toFixed(0)} MB/s)\n`),
    );
  }
}
