// SPDX-License-Identifier: MIT
// `logtriage convert <hf-dir> -o model.gguf --type ...`
import { convertCheckpoint, type ConvertType } from '../../convert/index.js';

export interface ConvertCommandOptions {
  output: string;
  type: ConvertType;
  threads?: number;
  quiet?: boolean;
}

export async function convertCommand(hfDir: string, options: ConvertCommandOptions): Promise<void> {
  const started = Date.now();
  let lastReport = 0;
  const showProgress = !options.quiet && process.stderr.isTTY;
  const result = await convertCheckpoint(hfDir, options.output, {
    type: options.type,
    threads: options.threads,
    onProgress: (p) => {
      if (!showProgress || Date.now() - lastReport < 200) return;
      lastReport = Date.now();
      const pct = p.bytesTotal > 0 ? ((100 * p.bytesDone) / p.bytesTotal).toFixed(0) : '?';
      process.stderr.write(`\r${p.phase} ${pct}% ${p.tensor ?? ''}`.padEnd(72));
    },
  });
  if (showProgress) process.stderr.write('\r'.padEnd(73) + '\r');
  if (!options.quiet) {
    process.stderr.write(
      `wrote ${result.outPath} (${options.type}, ${(result.bytes / 1e6).toFixed(1)} MB, labels: ${result.labels.join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }
}
